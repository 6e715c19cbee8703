"""Dockerfile rules every service image follows, checked by parsing the files (no Docker engine
needed): a pinned base image, a non-root USER, a HEALTHCHECK, no ADD of a remote address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# A pinned image names an exact release (x.y.z) or a digest; `latest` and bare majors float.
PINNED = re.compile(r"^[\w./-]+(:[\w.-]*\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
REMOTE = re.compile(r"^(https?|ftp|git)://|^git@", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def parse(text: str) -> list[Instruction]:
    """Instructions with their first line number; continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, arguments = " ".join(p for p in pending if p).partition(" ")
        instructions.append(Instruction(start, keyword.upper(), arguments.strip()))
        pending = []
    return instructions


def check_dockerfile(root: Path, path: Path) -> list[str]:
    instructions = parse((root / path).read_text(encoding="utf-8"))
    problems: list[str] = []
    stages: set[str] = set()
    last_stage_start = 0
    for index, instruction in enumerate(instructions):
        where = f"{path}:{instruction.line}"
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            image = words[0]
            if image.lower() not in stages and not (
                PINNED.match(image) and (":" in image or "@" in image)
            ):
                problems.append(f"{where}: base image {image!r} is not pinned (x.y.z or digest)")
            if ":latest" in image:
                problems.append(f"{where}: base image {image!r} uses the floating tag latest")
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2].lower())
            last_stage_start = index
        if instruction.keyword == "ADD":
            sources = [w for w in instruction.arguments.split() if not w.startswith("--")][:-1]
            remote = [s for s in sources if REMOTE.match(s.strip('",[]'))]
            if remote:
                problems.append(f"{where}: ADD of a remote address {remote[0]!r} (download in RUN)")
    final = instructions[last_stage_start:]
    users = [i for i in final if i.keyword == "USER"]
    if not users:
        problems.append(f"{path}: the image runs as root (no USER in the final stage)")
    elif users[-1].arguments.split(":")[0] in ("root", "0"):
        problems.append(f"{path}:{users[-1].line}: USER {users[-1].arguments} is root")
    healthchecks = [i for i in instructions if i.keyword == "HEALTHCHECK"]
    if not healthchecks or healthchecks[-1].arguments.upper().startswith("NONE"):
        problems.append(f"{path}: no HEALTHCHECK")
    return problems


def check(root: Path) -> tuple[list[str], str]:
    files = sorted(path.relative_to(root) for path in root.glob("services/*/Dockerfile"))
    problems = [p for path in files for p in check_dockerfile(root, path)]
    if not files:
        problems.append("services/*/Dockerfile: none found")
    return problems, f"{len(files)} Dockerfiles"

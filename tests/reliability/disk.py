"""A FerretDB of its own on a small filesystem made for the test (a size-limited tmpfs), which
the test fills up and frees again while work flows. Needs root (mount)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy.local.services import REPO

FERRETDB = Path(os.environ.get("STACK_CACHE_DIR", REPO / ".cache")) / "bin" / "ferretdb"


def can_mount() -> bool:
    """Root, the stack's FerretDB build, and a tmpfs mount that works here (not in every
    container)."""
    if os.geteuid() != 0 or shutil.which("mount") is None or not FERRETDB.exists():
        return False
    with tempfile.TemporaryDirectory() as folder:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder], capture_output=True
        )
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", folder], check=False)
    return True


@dataclass
class SmallDisk:
    mount_point: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def filler(self) -> Path:
        return self.mount_point / "filler"

    def used_bytes(self) -> int:
        return shutil.disk_usage(self.mount_point).used

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.mount_point).free

    def fill(self) -> int:
        """Write until the filesystem refuses (ENOSPC); the bytes written."""
        written = 0
        chunk = b"\0" * (1 << 20)
        with contextlib.suppress(OSError), self.filler.open("ab") as out:
            try:
                while True:
                    out.write(chunk)
                    out.flush()
                    written += len(chunk)
            except OSError:
                pass
            with contextlib.suppress(OSError):  # the last partial megabyte
                for _ in range(1 << 10):
                    out.write(chunk[:1024])
                    out.flush()
                    written += 1024
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(folder: Path, port: int, size: str = "256m") -> Iterator[SmallDisk]:
    """Mount a tmpfs of `size` at `folder`, run FerretDB on it; unmount afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    log = (folder.parent / "ferretdb-small-disk.log").open("ab")
    process = subprocess.Popen(
        [str(FERRETDB), "-listen-addr", f"127.0.0.1:{port}", "-sqlite-dir", str(folder / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder.parent,
    )
    log.close()
    try:
        _wait_port(port, process)
        yield SmallDisk(folder, port, process)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        subprocess.run(["umount", str(folder)], check=False)


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"FerretDB on the small disk exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"FerretDB on the small disk did not listen on {port}")

"""The reliability table: one row per fault, and the line a script can read."""

from __future__ import annotations

from tests.reliability.harness import RunResult

COLUMNS = f"{'fault':<26} {'phase':<8} {'lost':>4} {'dup':>4} {'recover s':>9} {'run s':>6}  result"


def row(result: RunResult) -> str:
    counts = result.counts
    recover = f"{result.recover_seconds:.1f}" if result.recover_seconds is not None else "-"
    verdict = "survived" if result.survived else "FAILED"
    details = [result.note] if result.note else []
    if result.dms_resends:
        details.append(f"dms resends {result.dms_resends}")
    if not result.survived:
        if result.error:
            details.append(result.error)
        if counts:
            details.append(counts.summary())
        if result.parked:
            details.append(f"parked {result.parked}")
        if not result.ready_at_end:
            details.append("not all five ready at the end")
        if any(result.lag.values()):
            details.append(f"lag {result.lag}")
    return (
        f"{result.fault:<26} {result.phase:<8} {counts.lost if counts else '?':>4} "
        f"{counts.duplicated if counts else '?':>4} {recover:>9} {result.run_seconds:>6.0f}  "
        f"{verdict}" + (f" ({'; '.join(details)})" if details else "")
    )


def summary(results: list[RunResult]) -> str:
    survived = sum(r.survived for r in results)
    lost = sum(r.counts.lost for r in results if r.counts)
    duplicated = sum(r.counts.duplicated for r in results if r.counts)
    return (
        f"reliability: {survived}/{len(results)} faults survived; "
        f"lost {lost}; duplicated {duplicated}"
    )

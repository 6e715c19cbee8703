"""The scheduler benchmark's phases: time with a read (or a write) in flight, counted once when
the calls overlap."""

import asyncio

from benchmarks.scheduler import BusyTime


async def test_calls_in_flight_together_count_once_and_one_after_the_other_add_up():
    busy = BusyTime()

    assert await asyncio.gather(
        busy.of(asyncio.sleep(0.2, "people")), busy.of(asyncio.sleep(0.2, "timers"))
    ) == ["people", "timers"]
    together = busy.seconds
    await busy.of(asyncio.sleep(0.2))
    await busy.of(asyncio.sleep(0.2))

    assert 0.19 <= together < 0.39  # counted twice, it would be 0.4
    assert busy.seconds - together >= 0.39

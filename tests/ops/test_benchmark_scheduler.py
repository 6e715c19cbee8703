"""The scheduler benchmark's phases (time with a read or a write in flight, counted once when
the calls overlap) and the rounds its history can serve."""

import asyncio

import pytest

from benchmarks import scheduler
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


async def test_the_benchmark_refuses_rounds_its_history_has_too_few_returning_customers_for(
    capsys,
):
    with pytest.raises(SystemExit):
        # No dispatch round: without the check, the run would fail at once, not benchmark.
        await scheduler.main(["--plans", "3000", "--history", "50000", "--dispatch-rounds", "0"])
    assert "--plans 3,000 needs --history 150,000 or more" in capsys.readouterr().err
    # The largest rounds a history of 50,000 serves: a third of each are returning customers.
    assert scheduler._history_number(scheduler.PLAN_ROUNDS * 1000 - 1) < 50_000

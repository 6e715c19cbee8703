"""Paced passes (`batches.Pace`): under load a subscriber's passes start at least an interval
apart; after a quiet spell, or with a full batch in hand, the next one starts at once."""

from aftersales_runtime.batches import BatchSettings, Pace


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_passes_that_come_faster_than_the_interval_wait_out_its_rest() -> None:
    time = FakeTime()
    pace = Pace(0.5, 100, clock=time.clock, sleep=time.sleep)

    await pace.wait(10)  # the first pass: nothing to wait for
    time.now += 0.1  # it took 0.1 s, and records were there again at once
    await pace.wait(10)
    time.now += 0.7  # a pass longer than the interval
    await pace.wait(10)

    assert time.slept == [0.4]  # only the second waited, for the rest of the interval


async def test_each_pass_of_a_steady_stream_waits_from_the_start_of_the_one_before() -> None:
    time = FakeTime()
    pace = Pace(0.5, 100, clock=time.clock, sleep=time.sleep)

    await pace.wait(10)
    for _ in range(3):
        time.now += 0.1  # each pass takes 0.1 s, and records are always there
        await pace.wait(10)

    assert time.slept == [0.4, 0.4, 0.4]


async def test_a_pass_after_a_quiet_spell_starts_at_once() -> None:
    time = FakeTime()
    pace = Pace(0.5, 100, clock=time.clock, sleep=time.sleep)

    await pace.wait(10)
    time.now += 3.0  # nothing came for three seconds
    await pace.wait(10)
    time.now += 0.2
    await pace.wait(10)  # a burst begins: from here on, paced

    assert time.slept == [0.3]


async def test_an_interval_of_zero_never_waits() -> None:
    time = FakeTime()
    default = BatchSettings()
    pace = Pace(
        default.batch_min_interval_ms / 1000,
        default.batch_max_records,
        clock=time.clock,
        sleep=time.sleep,
    )

    for _ in range(5):
        await pace.wait(10)
        time.now += 0.01

    assert time.slept == []


async def test_a_full_batch_starts_at_once_so_a_subscriber_behind_is_never_slowed() -> None:
    time = FakeTime()
    pace = Pace(0.5, 100, clock=time.clock, sleep=time.sleep)

    await pace.wait(100)
    time.now += 0.05
    await pace.wait(100)  # full again: a backlog, no wait
    time.now += 0.05
    await pace.wait(99)  # caught up: paced again

    assert time.slept == [0.45]

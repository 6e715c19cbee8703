"""The pipeline benchmark's batch figures, read from a service's `/metrics` as FastStream's
Prometheus middleware writes them: a batch's records counted as received, the handler timed
once per batch."""

import asyncio

from aftersales_runtime.service import Runtime
from aftersales_runtime.settings import ServiceSettings
from faststream.kafka import TestKafkaBroker
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.commands import batches_in, print_batches


async def test_a_batch_subscriber_s_batches_and_records_are_read_per_topic(monkeypatch, capsys):
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", "b1.")
    runtime = Runtime("batches-test", ServiceSettings())
    handled = []

    @runtime.broker.subscriber("b1.test.batched", group_id="batches-test", batch=True)
    async def consume(bodies: list[dict]) -> None:
        await asyncio.sleep(0.06)  # a batch's handling, timed once
        handled.append(len(bodies))

    async def read() -> dict:
        exposition = (await runtime.metrics.exposition())[0].decode()
        return batches_in("svc", text_string_to_metric_families(exposition))

    async with TestKafkaBroker(runtime.broker) as broker:
        before = await read()
        await broker.publish_batch({"n": 1}, {"n": 2}, {"n": 3}, topic="b1.test.batched")
        await broker.publish_batch({"n": 4}, topic="b1.test.batched")
        after = await read()

    assert handled == [3, 1]
    records, batches, seconds = after[("svc", "b1.test.batched")]
    assert (records, batches) == (4, 2)
    assert 0.1 <= seconds < 5  # the handler's time is in it: two batches of 0.06 s
    print_batches("closing", before, after, ("test.batched", "test.other"))
    assert capsys.readouterr().out == (
        f"    batches during closing: svc on test.batched 2 of 2 records, "
        f"{1000 * seconds / 2:,.0f} ms each\n"
    )

"""Poison on every internal topic (issue 18, item 4), on the real stack with the five services as
processes: a malformed and an oversized message on each topic a service consumes is parked on the
dead-letter topic with its reason, by every service that reads it, while the flow goes on; and a
message parked because of a broken setting is processed when it is replayed after the fix."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from aftersales_contracts.topics import CONTACT_DUE, DEAD_LETTER, INTERNAL_TOPICS
from aiokafka import AIOKafkaProducer

from deploy.local.services import REPO
from tests.reliability.harness import Options, RunResult, drive, settle
from tests.reliability.pipeline import SUBSCRIPTIONS, Pipeline, isolated_pipeline
from tests.reliability.workload import DEALERS, make_workload

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(900)]

# Oversized: a megabyte of JSON, near the broker's limit (message.max.bytes 1 MiB). As large as
# the broker takes (1,048,400 bytes) is the test below: its dead-letter copy, with its headers,
# is over 1 MiB, which the dead-letter topic takes (runtime: DEAD_LETTER_MAX_BYTES).
OVERSIZED_BYTES = 1_040_000
LARGEST_ACCEPTED_BYTES = 1_048_400
POISON_KEY = DEALERS[0].encode()  # the partition of a dealer whose real events follow
READERS = {
    topic: sorted(s for s, subscribed in SUBSCRIPTIONS.items() if topic in subscribed)
    for topic in INTERNAL_TOPICS
    if any(topic in subscribed for subscribed in SUBSCRIPTIONS.values())
}


def oversized(topic: str, size: int) -> bytes:
    """A JSON object of `size` bytes that no event schema allows (an unknown, huge field)."""
    head = json.dumps({"event_id": f"poison-big-{topic}", "dealer_id": DEALERS[0], "padding": ""})
    return head[:-2].encode() + b"x" * (size - len(head)) + b'"}'


def poison(topic: str) -> dict[str, bytes]:
    malformed = b'{"event_id": "poison-' + topic.encode() + b'", "dealer_id": "dealer-sz-001", '
    return {"malformed": malformed, "oversized": oversized(topic, OVERSIZED_BYTES)}


async def publish_poison(pipeline: Pipeline) -> dict[bytes, tuple[str, str]]:
    """Both kinds on every internal topic a service reads; what was sent, by value."""
    sent = {}
    producer = AIOKafkaProducer(**pipeline.kafka, enable_idempotence=True)
    await producer.start()
    try:
        for topic in READERS:
            for kind, value in poison(topic).items():
                await producer.send_and_wait(pipeline.topic(topic), value, key=POISON_KEY)
                sent[value] = (topic, kind)
    finally:
        await producer.stop()
    return sent


async def test_poison_on_every_internal_topic_is_parked_with_its_reason_and_the_flow_goes_on(
    stack, tmp_path
):
    workload = make_workload(9)
    async with isolated_pipeline(stack, tmp_path) as pipeline:
        sent = await publish_poison(pipeline)
        result = RunResult("poison", "-")
        await drive(pipeline, workload, None, Options(timeout=120), result)
        parked = await pipeline.read_topic(pipeline.topic(DEAD_LETTER))

    print(f"flow after the poison: {result.counts.summary() if result.counts else '-'}")
    found = Counter()
    for record in parked:
        headers = {k: v.decode() for k, v in record.headers}
        topic, kind = sent.get(record.value, ("?", "not sent by this test"))
        found[(headers["dlq-service"], topic, kind)] += 1
        print(
            f"parked: {headers['dlq-service']:<10} {topic:<28} {kind:<9} "
            f"{len(record.value):>8} bytes  {headers['dlq-error-type']}: "
            f"{headers['dlq-error'][:70]!r}"
        )
        assert headers["dlq-topic"] == pipeline.topic(topic)
        assert headers["dlq-error-type"] == "ValidationError", headers["dlq-error"][:300]
        assert headers["dlq-error"], "parked without a reason"
    wanted = Counter(
        (service, topic, kind)
        for topic, services in READERS.items()
        for service in services
        for kind in ("malformed", "oversized")
    )
    assert found == wanted, f"missing: {wanted - found}; unexpected: {found - wanted}"
    assert result.counts is not None
    assert result.counts.complete(), result.counts.summary()
    assert result.ready_at_end


async def test_a_message_as_large_as_the_broker_accepts_is_parked_too(stack, tmp_path):
    async with isolated_pipeline(stack, tmp_path) as pipeline:
        value = oversized(CONTACT_DUE, LARGEST_ACCEPTED_BYTES)
        producer = AIOKafkaProducer(**pipeline.kafka, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(pipeline.topic(CONTACT_DUE), value, key=POISON_KEY)
        finally:
            await producer.stop()
        parked: list = []
        readers = READERS[CONTACT_DUE]  # each service reading the topic parks its own copy
        for _ in range(20):
            await asyncio.sleep(1)
            parked = await pipeline.read_topic(pipeline.topic(DEAD_LETTER))
            if len(parked) >= len(readers):
                break
        lag = await pipeline.lag()
    print(f"parked {len(parked)}; contact's lag {lag['contact']}")
    assert [dict(r.headers)["dlq-error-type"] for r in parked] == [b"ValidationError"] * len(
        readers
    )
    assert sorted(dict(r.headers)["dlq-service"].decode() for r in parked) == readers
    assert all(r.value == value for r in parked)


def broken_dealers_file(path, broken: bool):
    """The shared dealers file, with a grading override for the first dealer that breaks the
    complaints service's rules (low_score_below must be at most 11) when `broken`."""
    dealers = json.loads((REPO / "deploy/local/dealers.json").read_text())
    if broken:
        grading = {"low_score_below": 99}
        dealers["dealers"][DEALERS[0]]["settings"] = {"complaints": {"grading": grading}}
    path.write_text(json.dumps(dealers, ensure_ascii=False))


async def test_results_parked_by_a_broken_setting_are_processed_when_replayed_after_the_fix(
    stack, tmp_path
):
    workload = make_workload(9)
    dealers_file = tmp_path / "dealers.json"
    broken_dealers_file(dealers_file, broken=True)
    env = {"AFTERSALES_DEALERS_FILE": str(dealers_file)}
    async with isolated_pipeline(stack, tmp_path, extra_env=env) as pipeline:
        result = RunResult("broken setting", "-")
        await drive(pipeline, workload, None, Options(timeout=30), result)
        broken_tickets = sum(o.opens_ticket for o in workload.orders if o.dealer == DEALERS[0])
        assert result.counts is not None
        assert result.counts.stages["tickets"].lost == broken_tickets, result.counts.summary()
        parked = await pipeline.read_topic(pipeline.topic(DEAD_LETTER))
        assert {dict(r.headers)["dlq-service"] for r in parked} == {b"complaints"}
        print(f"before the fix: {result.counts.summary()}; parked {len(parked)}")

        # The fix: the setting corrected, complaints restarted, its parked messages replayed.
        broken_dealers_file(dealers_file, broken=False)
        await asyncio.to_thread(pipeline.fleet["complaints"].stop)
        await pipeline.restart("complaints")
        replay = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "aftersales_runtime.deadletter",
                "replay",
                "--service",
                "complaints",
                "--bootstrap",
                pipeline.bootstrap,
                "--topic-prefix",
                pipeline.topic_prefix,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **pipeline.stack.kafka_env()},
        )
        print(replay.stdout.strip())
        after = RunResult("after the fix", "-")
        await settle(pipeline, workload, Options(timeout=120), after)
        print(f"after the fix and the replay: {after.counts.summary() if after.counts else '-'}")
        assert after.counts is not None
        assert after.counts.complete(), after.counts.summary()

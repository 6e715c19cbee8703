"""A DMS team integrates from the docs alone, in any language: publish with kcat (a C client),
consume with Python and validate with the contract model."""

import asyncio
import shutil
import subprocess
from importlib import resources

import pytest
from aftersales_contracts.dms import DmsWorkOrderClosed
from aftersales_contracts.topics import DMS_WORKORDER_CLOSED
from aftersales_runtime.service import ensure_topics
from aiokafka import AIOKafkaConsumer

pytestmark = pytest.mark.stack


def kcat_security(options: dict) -> list[str]:
    """librdkafka's names for the same credentials (`-X property=value`)."""
    if "sasl_mechanism" not in options:
        return []
    return [
        f"-Xsecurity.protocol={options['security_protocol']}",
        f"-Xsasl.mechanisms={options['sasl_mechanism']}",
        f"-Xsasl.username={options['sasl_plain_username']}",
        f"-Xsasl.password={options['sasl_plain_password']}",
    ]


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (make install)")
async def test_dms_example_published_with_kcat_validates_against_the_contract(stack, isolation):
    topic = isolation.topic(DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [topic])
    example = resources.files("aftersales_contracts") / "examples" / "workorder-maintenance.json"
    payload = example.read_bytes()
    expected = DmsWorkOrderClosed.model_validate_json(payload)

    subprocess.run(
        [
            "kcat",
            "-P",
            "-b",
            stack.kafka_bootstrap_servers,
            *kcat_security(stack.kafka_options()),
            "-t",
            topic,
            "-k",
            expected.dealer_id,
            "-H",
            "source=kcat",
        ],
        input=payload.replace(b"\n", b" "),
        check=True,
        timeout=30,
    )

    consumer = AIOKafkaConsumer(
        topic,
        **stack.kafka_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()

    received = DmsWorkOrderClosed.model_validate_json(record.value)
    assert received == expected
    assert record.key == expected.dealer_id.encode()
    assert dict(record.headers)["source"] == b"kcat"

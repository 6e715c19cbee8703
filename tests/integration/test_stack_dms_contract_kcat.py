"""A DMS team integrates from the docs alone, in any language: publish with kcat (a C client) or
Kafka's own Java console producer, consume with Python and validate with the contract model."""

import asyncio
import re
import shutil
import subprocess
from importlib import resources

import pytest
from aftersales_contracts.dms import DmsWorkOrderClosed
from aftersales_contracts.topics import DMS_WORKORDER_CLOSED
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import stack_state_dir
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


def librdkafka_version() -> tuple[int, ...]:
    found = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", subprocess.getoutput("kcat -V"))
    return tuple(int(n) for n in found.groups()) if found else (0,)


def publish_with_kcat(stack, topic: str, key: str, payload: bytes) -> None:
    options = stack.kafka_options()
    if shutil.which("kcat") is None:
        pytest.skip("kcat is not installed (make install)")
    if "sasl_mechanism" in options and librdkafka_version() < (2, 6, 1):
        # librdkafka before 2.6.1 builds a SCRAM proof that Kafka 4 rejects (its nonce twice:
        # librdkafka PR 4895); Debian 12 ships 2.0.2. The Java client below covers this machine.
        pytest.skip(f"kcat's librdkafka {librdkafka_version()} cannot do SCRAM with Kafka 4")
    subprocess.run(
        [
            *("kcat", "-P", "-b", stack.kafka_bootstrap_servers, *kcat_security(options)),
            *("-t", topic, "-k", key, "-H", "source=kcat"),
        ],
        input=payload.replace(b"\n", b" "),
        check=True,
        timeout=30,
    )


def publish_with_java(stack, topic: str, key: str, payload: bytes) -> None:
    libs = stack_state_dir().parent / "kafka" / "libs"
    secrets = stack_state_dir() / "secrets" / "kafka-admin.properties"
    if stack.source != "local" or not libs.exists():
        pytest.skip("Kafka's Java tools are the local stack's (deploy/local/kafka/pom.xml)")
    subprocess.run(
        [
            *("java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", f"{libs}/*"),
            *("org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server"),
            *(stack.kafka_bootstrap_servers, "--topic", topic, "--command-config", str(secrets)),
            *("--reader-property", "parse.key=true", "--reader-property", "parse.headers=true"),
        ],
        input=b"source:java\t" + key.encode() + b"\t" + payload.replace(b"\n", b" ") + b"\n",
        check=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("client", "publish"), [("kcat", publish_with_kcat), ("java", publish_with_java)]
)
async def test_dms_example_published_by_another_client_validates_against_the_contract(
    stack, isolation, client, publish
):
    topic = isolation.topic(DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [topic])
    example = resources.files("aftersales_contracts") / "examples" / "workorder-maintenance.json"
    payload = example.read_bytes()
    expected = DmsWorkOrderClosed.model_validate_json(payload)

    await asyncio.to_thread(publish, stack, topic, expected.dealer_id, payload)

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
    assert dict(record.headers)["source"] == client.encode()

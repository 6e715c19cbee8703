"""A private bus (issue 8.5): on the local stack each service is its own SASL/SCRAM principal and
the broker's ACLs (deploy/local/kafka/acls.conf) let it write only its own topics.

The topics here carry the `acltest.` prefix, which the stack grants like the plain names (see
KAFKA_ACL_PREFIXES in stack.sh), so a successful publish lands nowhere a service reads; the refused
ones are also tried on the plain production names (nothing is written there)."""

import logging

import pytest
from aftersales_contracts import topics
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import local_stack_kafka_env
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

pytestmark = pytest.mark.stack
PREFIX = "acltest."


@pytest.fixture
def local_stack(stack):
    if stack.source != "local":
        pytest.skip("the principals and ACLs are the local stack's (deploy/local/stack.sh)")
    return stack


def as_principal(stack, principal: str) -> dict:
    return kafka_client_options(
        {
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
            **local_stack_kafka_env(principal),
        }
    )


@pytest.fixture
async def acl_topics(local_stack):
    names = [
        PREFIX + t for t in (topics.WORKORDER_CLOSED, topics.COMPLAINT_EVENT, topics.DEAD_LETTER)
    ]
    await ensure_topics(local_stack.kafka_options(), names, 1)  # as admin
    yield
    admin = AIOKafkaAdminClient(**local_stack.kafka_options())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


async def refusal(producer: AIOKafkaProducer, topic: str) -> str:
    with pytest.raises(TopicAuthorizationFailedError) as refused:
        await producer.send_and_wait(topic, b"{}", key=b"dealer-sz-001")
    return f"{type(refused.value).__name__}: {refused.value}"


async def test_intake_writes_its_own_topic_and_is_refused_on_complaints(local_stack, acl_topics):
    producer = AIOKafkaProducer(**as_principal(local_stack, "intake"), enable_idempotence=True)
    await producer.start()
    try:
        own = await producer.send_and_wait(
            PREFIX + topics.WORKORDER_CLOSED, b"{}", key=b"dealer-sz-001"
        )
        print(f"\nintake -> {own.topic}: accepted (offset {own.offset})")
        for topic in (PREFIX + topics.COMPLAINT_EVENT, topics.COMPLAINT_EVENT):
            print(f"intake -> {topic}: refused, {await refusal(producer, topic)}")
    finally:
        await producer.stop()


async def test_reporting_may_write_no_topic_but_the_dead_letters(local_stack, acl_topics):
    producer = AIOKafkaProducer(**as_principal(local_stack, "reporting"), enable_idempotence=True)
    await producer.start()
    try:
        for topic in (
            PREFIX + topics.COMPLAINT_EVENT,  # it reads this one
            PREFIX + topics.WORKORDER_CLOSED,
            topics.CONTACT_RESULT,  # and this one
            topics.COMPLAINT_EVENT,
            topics.DMS_WORKORDER_CLOSED,
        ):
            print(f"\nreporting -> {topic}: refused, {await refusal(producer, topic)}", end="")
    finally:
        await producer.stop()


async def test_a_wrong_password_is_refused(local_stack, caplog):
    options = as_principal(local_stack, "intake") | {"sasl_plain_password": "not-the-password"}
    producer = AIOKafkaProducer(**options)
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    reasons = [
        r.getMessage() for r in caplog.records if "SaslAuthenticationFailed" in r.getMessage()
    ]
    assert reasons, "the connection failed for another reason than the credentials"
    print(f"\nintake with a wrong password: {reasons[0]}")


@pytest.mark.parametrize("service", ["intake", "scheduler", "contact", "complaints", "reporting"])
async def test_every_service_may_park_a_message_on_the_dead_letter_topic(
    local_stack, acl_topics, service
):
    producer = AIOKafkaProducer(**as_principal(local_stack, service), enable_idempotence=True)
    await producer.start()
    try:
        parked = await producer.send_and_wait(PREFIX + topics.DEAD_LETTER, b"{}", key=b"d")
    finally:
        await producer.stop()
    assert parked.offset >= 0


async def test_reporting_reads_in_its_own_group_only(local_stack, acl_topics):
    async def join(group: str) -> None:
        consumer = AIOKafkaConsumer(
            PREFIX + topics.COMPLAINT_EVENT,
            **as_principal(local_stack, "reporting"),
            group_id=group,
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()  # finding the group's coordinator is refused already
            await consumer.getmany(timeout_ms=2000)
        finally:
            await consumer.stop()

    await join(PREFIX + "reporting")
    with pytest.raises(GroupAuthorizationFailedError) as refused:
        await join(PREFIX + "complaints")
    print(f"\nreporting in the group {PREFIX}complaints: refused, {refused.value}")

"""What a service publishes, kept for its handler-level tests (FastStream's `TestKafkaBroker`):
the one way the services' test fixtures watch a topic.

    seen: list[ComplaintEvent] = []
    keep_published(broker, settings.topic(topic), seen, ComplaintEvent.model_validate_json)
    async with TestKafkaBroker(broker):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage


async def _body(message: StreamMessage[Any]) -> bytes:
    return bytes(message.body)


def keep_published(
    broker: KafkaBroker,
    topic: str,
    into: list[Any],
    decode: Callable[[bytes], Any] = bytes,
) -> None:
    """Append every message published on `topic` (its whole name, the prefix included) to
    `into`, as `decode` reads its body (the raw bytes by default). Register it before the test
    broker starts."""

    async def keep(body: bytes) -> None:
        into.append(decode(body))

    broker.subscriber(topic, group_id=f"spy-{topic}", decoder=_body)(keep)

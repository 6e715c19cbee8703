"""Which failures are waited out (a dependency's outage) and which are the input's fault."""

import pytest
from aftersales_runtime.outages import outage_of
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pydantic import BaseModel, ValidationError
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)


class _Strict(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Strict(n="x")  # type: ignore[arg-type]
    except ValidationError as error:
        return error
    raise AssertionError("no error")


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (ServerSelectionTimeoutError("no server"), "mongodb"),
        (AutoReconnect("connection reset"), "mongodb"),
        (NetworkTimeout("timed out"), "mongodb"),
        (OperationFailure("database or disk is full (13)", code=1), "mongodb"),  # FerretDB
        (OperationFailure("Out of disk space", code=14031), "mongodb"),  # MongoDB
        (OperationFailure("not primary", code=10107), "mongodb"),
        (KafkaConnectionError(), "kafka"),
        (KafkaTimeoutError(), "kafka"),
        (DuplicateKeyError("E11000 duplicate key"), None),
        (OperationFailure("unknown operator: $foo", code=2), None),
        (_validation_error(), None),
        (ValueError("a bug"), None),
    ],
)
def test_outages_are_told_from_faults(error: BaseException, dependency: str | None) -> None:
    assert outage_of(error) == dependency

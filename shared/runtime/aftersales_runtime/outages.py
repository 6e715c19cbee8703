"""Which failures are a dependency's outage, not the fault of the message or the request.

An outage is waited out: a consumer does not commit and gets the message again, an HTTP route
answers 503 with Retry-After. Anything else is the input's fault or a bug: retried a bounded
number of times, then parked (consumers) or answered 4xx/500 (HTTP). A full disk is an outage:
nothing is stored, and the work resumes by itself once space is freed.
"""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

# MongoDB's codes for a server that cannot take writes for now (not for this input):
# OutOfDiskSpace, ShutdownInProgress, InterruptedAtShutdown, PrimarySteppedDown,
# NotWritablePrimary, NotPrimaryNoSecondaryOk, InterruptedDueToReplStateChange.
_MONGODB_OUTAGE_CODES = frozenset({14031, 91, 11600, 189, 10107, 13435, 11602})
# FerretDB on SQLite reports a full disk as an internal error with SQLite's message.
_FULL_DISK_WORDS = ("disk is full", "no space left", "out of disk space")


def outage_of(error: BaseException) -> str | None:
    """The dependency whose outage `error` is ("mongodb", "kafka"), or None."""
    if isinstance(error, KafkaConnectionError | KafkaTimeoutError):
        return "kafka"
    if isinstance(error, ConnectionFailure):
        return "mongodb"
    if isinstance(error, OperationFailure):
        text = str(error).lower()
        if error.code in _MONGODB_OUTAGE_CODES or any(w in text for w in _FULL_DISK_WORDS):
            return "mongodb"
    if isinstance(error, PyMongoError) and getattr(error, "timeout", False):
        return "mongodb"
    return None

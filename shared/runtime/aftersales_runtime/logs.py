"""JSON logs, one object a line, with the correlation id of the work order being handled.

Customer data is the dealer's property (D3): code logs ids, never names or phones. As a second
line of defence every line passes through `redact`, which masks anything shaped like a phone
number or a Chinese ID number before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# 7+ digits, optionally with +, spaces or dashes inside (phones), and 15/18-character ID numbers.
_PHONE_LIKE = re.compile(r"(?<![\w-])\+?\d[\d \-]{5,}\d(?![\w-])")
_ID_NUMBER = re.compile(r"(?<!\w)\d{17}[\dXx](?!\w)")
_FULLWIDTH_DIGITS = re.compile(r"[０-９]{7,}")


def _mask(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = [c for c in text if c.isdigit()]
    if len(digits) < 7:
        return text
    return f"{text[:3]}****{text[-2:]}"


def redact(text: str) -> str:
    """Mask phone-like and ID-like numbers (D3). Short numbers (ids, counts) pass through."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(0)[:4]}**********{m.group(0)[-2:]}", text)
    text = _FULLWIDTH_DIGITS.sub("＊＊＊＊", text)
    return _PHONE_LIKE.sub(_mask, text)


_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        correlation_id = correlation_id_var.get()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(service: str, level: str = "INFO") -> logging.Logger:
    """Route every logger of the process through one JSON handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "pymongo", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return logging.getLogger(service)

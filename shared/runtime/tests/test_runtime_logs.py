import json
import logging

from aftersales_runtime.logs import JsonFormatter, correlation_id_var, redact


def test_redact_masks_phones_written_many_ways():
    for phone in [
        "13800138000",
        "+86 138 0013 8000",
        "0086-139-1234-5678",
        "+8613800138000",
        "0755-8888 6666",
    ]:
        masked = redact(f"calling {phone} now")
        assert phone not in masked
        assert "****" in masked


def test_redact_masks_id_numbers_and_fullwidth_digits():
    assert "11010519491231002X" not in redact("id 11010519491231002X")
    assert "１３９１２３４５６７８" not in redact("tel １３９１２３４５６７８")


def test_redact_keeps_short_numbers_and_ids():
    text = "work order WO-2026-0001 took 3 attempts, 120 ms"
    assert redact(text) == text


def test_json_line_carries_service_and_correlation_id():
    formatter = JsonFormatter("intake")
    token = correlation_id_var.set("dealer-1/WO-1")
    try:
        record = logging.makeLogRecord(
            {
                "name": "x",
                "levelno": 20,
                "levelname": "INFO",
                "msg": "stored %s",
                "args": ("file",),
                "attempt": 2,
            }
        )
        line = json.loads(formatter.format(record))
    finally:
        correlation_id_var.reset(token)
    assert line["service"] == "intake"
    assert line["correlation_id"] == "dealer-1/WO-1"
    assert line["msg"] == "stored file"
    assert line["attempt"] == 2

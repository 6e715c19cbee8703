from datetime import UTC, datetime, timedelta

import pytest
from aftersales_runtime.clock import (
    ControlledClock,
    FixedClock,
    clock_from_settings,
    parse_duration,
)
from aftersales_runtime.settings import ServiceSettings
from pydantic import ValidationError


def test_controlled_clock_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERSALES_CLOCK", "controlled")
    monkeypatch.setenv("AFTERSALES_CLOCK_FILE", str(tmp_path / "clock.json"))
    monkeypatch.delenv("AFTERSALES_ENVIRONMENT", raising=False)  # the default is production
    with pytest.raises(ValidationError, match="refused"):
        ServiceSettings()


def test_controlled_clock_needs_its_file(monkeypatch):
    monkeypatch.setenv("AFTERSALES_CLOCK", "controlled")
    monkeypatch.setenv("AFTERSALES_ENVIRONMENT", "test")
    monkeypatch.delenv("AFTERSALES_CLOCK_FILE", raising=False)
    with pytest.raises(ValidationError, match="AFTERSALES_CLOCK_FILE"):
        ServiceSettings()


def test_shared_settings_come_from_unprefixed_variables(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "10.0.0.1:9092")
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", "run1.")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "10.0.0.1:9092"
    assert settings.topic("aftersales.contact.due") == "run1.aftersales.contact.due"
    assert settings.consumer_group("intake") == "run1.intake"


def test_controlled_clock_is_shared_through_its_file(tmp_path, monkeypatch):
    path = tmp_path / "clock.json"
    monkeypatch.setenv("AFTERSALES_CLOCK", "controlled")
    monkeypatch.setenv("AFTERSALES_CLOCK_FILE", str(path))
    monkeypatch.setenv("AFTERSALES_ENVIRONMENT", "test")
    reader = clock_from_settings(ServiceSettings())
    writer = ControlledClock(path)

    writer.advance(timedelta(days=3))

    skew = reader.now() - datetime.now(UTC)
    assert timedelta(days=3) - timedelta(seconds=5) < skew < timedelta(days=3, seconds=5)


def test_controlled_clock_set_to_a_moment(tmp_path):
    clock = ControlledClock(tmp_path / "clock.json")
    target = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    clock.set(target)
    assert abs(ControlledClock(tmp_path / "clock.json").now() - target) < timedelta(seconds=5)


def test_fixed_clock_refuses_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("-1h", timedelta(hours=-1)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("three days")

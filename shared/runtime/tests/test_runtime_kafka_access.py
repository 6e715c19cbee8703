"""The one way every Kafka client connects: settings → aiokafka keyword arguments (issue 8.5)."""

import pytest
from aftersales_runtime.kafka_access import broker_security, kafka_client_options
from aftersales_runtime.settings import ServiceSettings
from faststream.security import SASLScram512
from pydantic import ValidationError


def test_plaintext_is_the_default_so_a_plain_kafka_still_works():
    options = kafka_client_options(ServiceSettings(kafka_bootstrap_servers="k:9092"))
    assert options == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert broker_security(options) is None


def test_a_service_principal_from_its_settings_reaches_aiokafka_and_faststream(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "intake")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    settings = ServiceSettings()
    options = kafka_client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("intake", "s3cret")
    security = broker_security(options)
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == ("intake", "s3cret", False)
    assert "s3cret" not in repr(settings)  # a secret, never printed with the settings


def test_sasl_without_credentials_refuses_to_start(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        ServiceSettings()

"""The one fixture that decides where Kafka and MongoDB come from (env → Docker → local stack)."""

import pytest
from aftersales_runtime import testing as stack_source


def _never(*_args):
    raise AssertionError("must not be called")


def test_env_vars_win_over_everything():
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka.internal:9092", "MONGODB_URL": "mongodb://db:27017/"}
    stack, stop = stack_source.resolve_stack(env, docker_available=_never, local=_never)
    assert stack == stack_source.Stack("kafka.internal:9092", "mongodb://db:27017/", "env")
    stop()


def test_env_kafka_credentials_travel_with_the_endpoints():
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.internal:9092",
        "MONGODB_URL": "mongodb://db:27017/",
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_USERNAME": "ops",
        "KAFKA_SASL_PASSWORD": "secret",
        "HOME": "/elsewhere",
    }
    stack, _ = stack_source.resolve_stack(env, docker_available=_never, local=_never)
    options = stack.kafka_options()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("ops", "secret")
    assert "HOME" not in stack.kafka_env()


def test_sasl_without_a_password_is_refused_up_front():
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.internal:9092",
        "MONGODB_URL": "mongodb://db:27017/",
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_USERNAME": "ops",
    }
    with pytest.raises(ValueError, match="KAFKA_SASL_PASSWORD"):
        stack_source.resolve_stack(env, docker_available=_never, local=_never)


def test_one_env_var_alone_is_not_enough():
    local = stack_source.Stack("127.0.0.1:9092", "mongodb://127.0.0.1:27017/", "local")
    stack, _ = stack_source.resolve_stack(
        {"KAFKA_BOOTSTRAP_SERVERS": "x:1"}, docker_available=lambda: False, local=lambda: local
    )
    assert stack.source == "local"


def test_docker_engine_means_testcontainers(monkeypatch):
    started = stack_source.Stack("127.0.0.1:1", "mongodb://127.0.0.1:2/", "testcontainers")
    monkeypatch.setattr(stack_source, "start_testcontainers", lambda: (started, lambda: None))
    stack, _ = stack_source.resolve_stack({}, docker_available=lambda: True, local=_never)
    assert stack.source == "testcontainers"


@pytest.mark.stack
def test_this_run_uses_a_reachable_stack(stack):
    assert stack.source in {"env", "testcontainers", "local"}
    host, port = stack.kafka_bootstrap_servers.rsplit(":", 1)
    assert host
    assert int(port) > 0

"""Where Kafka is and who we are to it: the one way every Kafka client in the repository connects.

The bus is private (issue 8): in the local stack and in production each service authenticates as
its own principal (SASL/SCRAM) and the broker's ACLs let it read and write only its own topics and
consumer group. The settings have shared names so one environment drives every client:

    KAFKA_BOOTSTRAP_SERVERS   host:port[,host:port]
    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default: a plain Kafka), SASL_PLAINTEXT or SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default) or SCRAM-SHA-256
    KAFKA_SASL_USERNAME       the service's principal
    KAFKA_SASL_PASSWORD

`kafka_client_options(...)` turns them (from a service's settings or an environment mapping) into
the keyword arguments of any aiokafka client; `broker_security(...)` is the same for FastStream.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

    from aftersales_runtime.settings import ServiceSettings


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    SCRAM_SHA_256 = "SCRAM-SHA-256"


class KafkaAccess(BaseModel):
    """The Kafka settings of one client; field aliases are the environment variables' names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    security_protocol: SecurityProtocol = Field(
        SecurityProtocol.PLAINTEXT, alias="KAFKA_SECURITY_PROTOCOL"
    )
    sasl_mechanism: SaslMechanism = Field(SaslMechanism.SCRAM_SHA_512, alias="KAFKA_SASL_MECHANISM")
    sasl_username: str | None = Field(None, alias="KAFKA_SASL_USERNAME")
    sasl_password: SecretStr | None = Field(None, alias="KAFKA_SASL_PASSWORD")

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaAccess:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol.value} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol is not SecurityProtocol.PLAINTEXT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KafkaAccess:
        """From an environment mapping (only the KAFKA_* names above are read)."""
        names = {field.alias for field in cls.model_fields.values()}
        return cls.model_validate({k: v for k, v in env.items() if k in names and v})

    def env(self) -> dict[str, str]:
        """As environment variables, for a child process (a service, a tool)."""
        values = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        if self.sasl_password is not None:
            values["KAFKA_SASL_PASSWORD"] = self.sasl_password.get_secret_value()
        return {k: str(v) for k, v in values.items()}


def kafka_access(source: KafkaAccess | ServiceSettings | Mapping[str, str]) -> KafkaAccess:
    if isinstance(source, KafkaAccess):
        return source
    if isinstance(source, Mapping):
        return KafkaAccess.from_env(source)
    return source.kafka_access()


def kafka_client_options(
    source: KafkaAccess | ServiceSettings | Mapping[str, str],
) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin):
    `AIOKafkaProducer(**kafka_client_options(settings), enable_idempotence=True)`."""
    access = kafka_access(source)
    options: dict[str, Any] = {
        "bootstrap_servers": access.bootstrap_servers,
        "security_protocol": access.security_protocol.value,
    }
    if access.uses_sasl:
        assert access.sasl_password is not None  # the validator guarantees it
        options |= {
            "sasl_mechanism": access.sasl_mechanism.value,
            "sasl_plain_username": access.sasl_username,
            "sasl_plain_password": access.sasl_password.get_secret_value(),
        }
    if access.security_protocol is SecurityProtocol.SASL_SSL:
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context()
    return options


def broker_security(options: Mapping[str, Any]) -> BaseSecurity | None:
    """FastStream's form of `kafka_client_options(...)` (its KafkaBroker takes `security=`)."""
    from faststream.security import SASLScram256, SASLScram512

    if not options.get("sasl_mechanism"):
        return None
    scram = SASLScram512 if options["sasl_mechanism"] == "SCRAM-SHA-512" else SASLScram256
    return scram(
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=options.get("ssl_context"),
        use_ssl=options["security_protocol"] == SecurityProtocol.SASL_SSL.value,
    )

"""Typed settings every service starts from.

Infrastructure settings have shared names (KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL, AFTERSALES_*),
so one environment can drive all five services; a service's own settings carry its prefix
(INTAKE_, SCHEDULER_, …), set by `env_prefix` in the subclass's model_config.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales_runtime.kafka_access import KafkaAccess, SaslMechanism, SecurityProtocol
from aftersales_runtime.tracing import TracingExporter


class Environment(StrEnum):
    production = "production"
    staging = "staging"
    development = "development"
    test = "test"


class ClockKind(StrEnum):
    system = "system"
    controlled = "controlled"


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name)


class AuthSettings(BaseSettings):
    """Who may call the HTTP APIs: bearer tokens (JWT) verified against the dealer group's
    identity provider (OIDC: issuer, audience, JWKS address) or, for local use and tests, against
    the public key of the project's own issuer (`python -m aftersales_runtime.auth`)."""

    model_config = SettingsConfigDict(env_prefix="AFTERSALES_AUTH_", extra="ignore")

    issuer: str = Field(
        "aftersales-local", description="The `iss` every token must carry (the IdP's issuer)."
    )
    audience: str = Field("aftersales-api", description="The `aud` every token must carry.")
    jwks_url: str | None = Field(
        None,
        description="The IdP's JWKS address (production); keys are cached, an unknown "
        "`kid` fetches them again (key rotation).",
    )
    jwks_cache_seconds: int = Field(300, ge=1, description="How long fetched keys are trusted.")
    jwks_refetch_cooldown_seconds: float = Field(
        30,
        ge=0,
        description="At most one fetch per this many seconds for unknown `kid`s "
        "(tokens with made-up kids must not hammer the IdP).",
    )
    public_key_file: Path | None = Field(
        None, description="PEM public key of the local issuer (development and test only)."
    )
    algorithms: list[str] = Field(
        ["RS256", "ES256", "EdDSA"], description="Signature algorithms accepted from the JWKS."
    )
    leeway_seconds: int = Field(30, ge=0, le=300, description="Clock skew allowed on exp/iat.")
    verified_seconds: int = Field(
        30,
        ge=0,
        le=300,
        description="A token verified in the last this many seconds (and not expired) is "
        "accepted again without checking its signature; 0 checks every request. A key the "
        "IdP withdraws is then refused after at most the JWKS cache's lifespan plus this.",
    )


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    # Who the service is to Kafka (issue 8: its own principal); see kafka_access.py.
    kafka_security_protocol: SecurityProtocol = Field(
        SecurityProtocol.PLAINTEXT, validation_alias=_shared("KAFKA_SECURITY_PROTOCOL")
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        SaslMechanism.SCRAM_SHA_512, validation_alias=_shared("KAFKA_SASL_MECHANISM")
    )
    kafka_sasl_username: str | None = Field(None, validation_alias=_shared("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr | None = Field(
        None, validation_alias=_shared("KAFKA_SASL_PASSWORD")
    )
    mongodb_url: str = Field("mongodb://127.0.0.1:27017/", validation_alias=_shared("MONGODB_URL"))
    environment: Environment = Field(
        Environment.production, validation_alias=_shared("AFTERSALES_ENVIRONMENT")
    )
    clock: ClockKind = Field(ClockKind.system, validation_alias=_shared("AFTERSALES_CLOCK"))
    clock_file: Path | None = Field(None, validation_alias=_shared("AFTERSALES_CLOCK_FILE"))
    topic_prefix: str = Field("", validation_alias=_shared("AFTERSALES_TOPIC_PREFIX"))
    topic_partitions: int = Field(
        3,
        ge=1,
        validation_alias=_shared("AFTERSALES_TOPIC_PARTITIONS"),
        description="Partitions of the topics a service creates; replicas beyond it idle.",
    )
    dealers_file: Path = Field(
        Path("deploy/local/dealers.json"), validation_alias=_shared("AFTERSALES_DEALERS_FILE")
    )
    log_level: str = Field("INFO", validation_alias=_shared("LOG_LEVEL"))
    max_attempts: int = Field(
        3,
        ge=1,
        le=20,
        validation_alias=_shared("AFTERSALES_MAX_ATTEMPTS"),
        description="Tries of a failing message before it is parked on the dead-letter topic.",
    )
    retry_backoff_seconds: float = Field(
        0.2, ge=0, validation_alias=_shared("AFTERSALES_RETRY_BACKOFF_SECONDS")
    )
    http_deadline_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        validation_alias=_shared("AFTERSALES_HTTP_DEADLINE_SECONDS"),
        description="Longest an HTTP request may take; past it (or with MongoDB or Kafka down) "
        "the route answers 503 with Retry-After and a problem body naming the dependency.",
    )
    http_retry_after_seconds: int = Field(
        5, ge=1, validation_alias=_shared("AFTERSALES_HTTP_RETRY_AFTER_SECONDS")
    )
    auth: AuthSettings = Field(default_factory=lambda: AuthSettings())
    tracing: TracingExporter = Field(
        TracingExporter.off,
        validation_alias=_shared("AFTERSALES_TRACING"),
        description="OpenTelemetry traces: off, console (JSON lines on stdout) or otlp "
        "(OTEL_EXPORTER_OTLP_ENDPOINT).",
    )
    version: str | None = Field(
        None,
        validation_alias=_shared("AFTERSALES_VERSION"),
        description="Reported by /health/live and /metrics; baked into the image (default: "
        "the installed package's version).",
    )
    revision: str = Field(
        "unknown",
        validation_alias=_shared("AFTERSALES_REVISION"),
        description="The git revision the image was built from (baked into the image).",
    )

    # Per service, under its prefix.
    mongodb_database: str = "aftersales"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest request body (413 beyond)."
    )

    @model_validator(mode="after")
    def _kafka_credentials_complete(self) -> ServiceSettings:
        self.kafka_access()  # SASL without a username and password fails here, at start
        return self

    def kafka_access(self) -> KafkaAccess:
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
        )

    @model_validator(mode="after")
    def _controlled_clock_never_in_production(self) -> ServiceSettings:
        # The controlled clock lets anyone who can write one file move time: it exists for tests,
        # demos and benchmarks only, so production refuses to start with it.
        if self.clock is ClockKind.controlled:
            if self.environment in (Environment.production, Environment.staging):
                raise ValueError(
                    "AFTERSALES_CLOCK=controlled is refused when AFTERSALES_ENVIRONMENT is "
                    f"{self.environment.value}; it is for development and test only"
                )
            if self.clock_file is None:
                raise ValueError("AFTERSALES_CLOCK=controlled needs AFTERSALES_CLOCK_FILE")
        return self

    @model_validator(mode="after")
    def _local_issuer_never_in_production(self) -> ServiceSettings:
        # Whoever holds the local issuer's private key can mint any role for any dealer: its
        # public key is trusted in development and test only; production verifies the IdP's.
        if self.auth.public_key_file is not None and self.environment in (
            Environment.production,
            Environment.staging,
        ):
            raise ValueError(
                "AFTERSALES_AUTH_PUBLIC_KEY_FILE (the local issuer) is refused when "
                f"AFTERSALES_ENVIRONMENT is {self.environment.value}; set "
                "AFTERSALES_AUTH_JWKS_URL, _ISSUER and _AUDIENCE of the identity provider"
            )
        return self

    def consumer_group(self, service: str) -> str:
        """The service's consumer group; prefixed like its topics, so that isolated runs (tests,
        benchmarks) sharing one Kafka never rebalance each other."""
        return f"{self.topic_prefix}{service}"

    def topic(self, name: str) -> str:
        """The physical topic for a contract topic name (a prefix isolates test runs)."""
        return f"{self.topic_prefix}{name}"

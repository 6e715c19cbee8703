"""Settings of the console's backend (env prefix CONSOLE_; shared names AFTERSALES_*)."""

from __future__ import annotations

from pathlib import Path

from aftersales_runtime.settings import ClockKind, Environment
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "scheduler", "contact", "complaints", "reporting", "appointments")


def _default_services() -> dict[str, str]:
    return {name: f"http://127.0.0.1:{8001 + n}" for n, name in enumerate(SERVICES)}


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    service_urls: dict[str, str] = Field(
        default_factory=_default_services,
        description="Where each service's HTTP API answers (JSON: name -> base URL).",
    )
    static_dir: Path = Field(
        PACKAGE_ROOT / "dist", description="The built pages (`npm run build` writes them)."
    )
    demo_users_file: Path | None = Field(
        None,
        description="Demo sign-in (development and test only): the users who may sign in with "
        "the demo password; tokens are minted by the local issuer's private key.",
    )
    demo_issuer_key_file: Path | None = Field(
        None, description="The local issuer's private key (PEM), for the demo sign-in."
    )
    demo_password: str = "demo"  # noqa: S105 - the demo list only, refused in production
    token_minutes: int = Field(480, ge=5, le=24 * 60, description="Lifetime of a demo token.")
    proxy_timeout_seconds: float = Field(15, gt=0)
    environment: Environment = Field(
        Environment.production, validation_alias=AliasChoices("AFTERSALES_ENVIRONMENT")
    )
    clock: ClockKind = Field(ClockKind.system, validation_alias=AliasChoices("AFTERSALES_CLOCK"))
    clock_file: Path | None = Field(None, validation_alias=AliasChoices("AFTERSALES_CLOCK_FILE"))
    dealers_file: Path = Field(
        Path("deploy/local/dealers.json"),
        validation_alias=AliasChoices("AFTERSALES_DEALERS_FILE"),
        description="The dealer directory: each dealer's zone and working calendar.",
    )

    @model_validator(mode="after")
    def _demo_never_in_production(self) -> ConsoleSettings:
        # Whoever may sign in with the demo password gets any role the list names: production
        # signs users in at the dealer group's identity provider (OIDC) instead.
        production = self.environment in (Environment.production, Environment.staging)
        if production and (self.demo_users_file or self.clock is ClockKind.controlled):
            raise ValueError(
                "the demo sign-in and the controlled clock are refused when "
                f"AFTERSALES_ENVIRONMENT is {self.environment.value}"
            )
        if self.demo_users_file and not self.demo_issuer_key_file:
            raise ValueError("CONSOLE_DEMO_USERS_FILE needs CONSOLE_DEMO_ISSUER_KEY_FILE")
        if self.clock is ClockKind.controlled and self.clock_file is None:
            raise ValueError("AFTERSALES_CLOCK=controlled needs AFTERSALES_CLOCK_FILE")
        return self

    @property
    def demo(self) -> bool:
        return self.demo_users_file is not None

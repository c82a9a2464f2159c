"""Settings: flags (overrides) > ``NEXA_*`` environment variables > ``nexa.toml`` > defaults."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from nexa_core.errors import ConfigurationError

__all__ = ["SECRET_FIELDS", "Settings"]

#: Settings whose values are masked by ``nexa config show``.
SECRET_FIELDS = frozenset({"jwt_secret", "webhook_secret"})


class Settings(BaseModel):
    """Every knob of the composition root (see docs/configuration.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_url: str = Field("sqlite:///./nexa.db", description="Operational store URL.")
    snapshot_url: str = Field(
        "auto",
        description="Passenger snapshot store URL (auto: next to the store, "
        "nexa.db → nexa.snapshots.db).",
    )
    coordination_url: str = Field(
        "inprocess://", description="Coordination store (holds, locks, rate limits)."
    )
    engine_url: str = Field("inprocess://", description="Workflow engine URL.")
    hotel_providers: tuple[str, ...] = Field(("sandbox",), description="Hotel search providers.")
    booking_providers: tuple[str, ...] = Field(("sandbox",), description="Booking providers.")
    payment_provider: str = Field("sandbox", description="Virtual card provider.")
    transport_providers: tuple[str, ...] = Field(
        ("sandbox", "sandbox-cars"), description="Transport vendors."
    )
    notification_providers: tuple[str, ...] = Field(
        ("sandbox",), description="Notification providers."
    )
    search_timeout_s: float = Field(2.0, description="Hotel search time box in seconds.")
    search_strategy: str = Field("merge-all", description="merge-all or first-success.")
    outbox_consumers: tuple[str, ...] = Field(
        (), description="Outbox consumers nexa worker relays to (empty: every registered one)."
    )
    log_level: str = Field("INFO", description="Log level.")
    log_json: bool = Field(False, description="Structured JSON log lines.")
    metrics: bool = Field(False, description="Record Prometheus-style metrics.")
    jwt_secret: SecretStr | None = Field(None, description="HMAC secret for dev tokens.")
    webhook_secret: SecretStr | None = Field(None, description="Outbound webhook secret.")
    seed: int = Field(7, description="Seed for sandbox providers.")
    passenger_url: str = Field(
        "http://127.0.0.1:8080/p/{airline}/{sub_case}",
        description="Passenger page link printed on vouchers ({airline}, {sub_case}).",
    )
    card_reveal_url: str = Field(
        "http://127.0.0.1:8080/p/{airline}/{sub_case}/card",
        description="Hosted meal-card reveal link ({airline}, {sub_case}, {card}).",
    )
    airline_provider: str = Field(
        "sandbox", description="Where manifests come from: sandbox, pnl or pss."
    )
    airline_url: str | None = Field(
        None, description="PNL/ADL inbox directory (pnl) or the PSS base URL (pss)."
    )
    flight_status_provider: str = Field(
        "aeroapi", description="Live flight status: aeroapi, aviationstack or scripted."
    )
    predictor: str = Field("baseline", description="Flight predictor: baseline or nycflights13.")
    predictor_model_dir: str | None = Field(
        None, description="Model directory of the nycflights13 predictor."
    )
    policy_synthesizer: str = Field("rules", description="Policy synthesizer: rules or llm.")
    synthesizer_url: str | None = Field(
        None, description="OpenAI-compatible base URL of the llm synthesizer (…/v1)."
    )
    synthesizer_model: str | None = Field(None, description="Model name of the llm synthesizer.")

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Resolve settings; ``path`` defaults to ``$NEXA_CONFIG`` or ``./nexa.toml``."""
        environ = os.environ if env is None else env
        data: dict[str, Any] = {}
        toml_path = Path(path or environ.get("NEXA_CONFIG", "nexa.toml"))
        if toml_path.is_file():
            try:
                raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"{toml_path}: {exc}", path=str(toml_path)) from exc
            data.update(raw.get("nexa", raw))
        for name, field in cls.model_fields.items():
            value = environ.get(f"NEXA_{name.upper()}")
            if value is None:
                continue
            ann = field.annotation
            data[name] = (
                tuple(v.strip() for v in value.split(",") if v.strip())
                if ann == tuple[str, ...]
                else value
            )
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(f"setting {loc}: {first['msg']}", setting=loc) from exc

    def masked(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked."""
        out = self.model_dump(mode="json")
        for name in SECRET_FIELDS:
            if out.get(name) is not None:
                out[name] = "********"
        return out

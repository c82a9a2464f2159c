"""Shared plumbing of the operator commands (``nexa case|demand|review|audit``).

The CLI is a trusted operator tool run on the machine that holds the store: there is no
CLI login yet. The operator names themself with ``--user`` and ``--as-role`` and the
tenant with ``--airline``; every write is audited under that identity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio
import typer

T = TypeVar("T")

TRUSTED_NOTE = (
    "The CLI is a trusted operator tool on the machine that holds the store (there is no "
    "CLI login yet): --user and --as-role name the operator recorded in the audit log."
)

RoleOption = Annotated[
    str,
    typer.Option(
        "--as-role",
        envvar="NEXA_ROLE",
        help="Operator role: OPS_SUPERVISOR, AIRPORT_OPERATOR, ADMIN or FINANCE_AUDIT.",
    ),
]
UserOption = Annotated[
    str,
    typer.Option(
        "--user",
        envvar="NEXA_USER",
        help="Operator user id (u-…) recorded in the audit log.",
    ),
]
EngineUrlOption = Annotated[
    str | None,
    typer.Option(
        "--engine-url",
        help="Workflow engine URL (default: inprocess://; sagas are not started here).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

_CLI_ROLES = ("ADMIN", "OPS_SUPERVISOR", "AIRPORT_OPERATOR", "FINANCE_AUDIT")


def principal_for(airline: str | None, role: str, user: str) -> Any:
    """The operator principal of ``--airline``, ``--as-role`` and ``--user``."""
    from nexa_cli.commands.case import tenant_for
    from nexa_core.auth import Principal, PrincipalKind, Role
    from nexa_core.errors import InvalidInputError
    from nexa_core.urn import Urn

    tenant = tenant_for(airline)
    name = role.strip().upper()
    if name not in _CLI_ROLES:
        raise InvalidInputError(
            f"--as-role must be one of {', '.join(_CLI_ROLES)} (got {role!r})", field="as_role"
        )
    text = user.strip()
    if text.lower().startswith("urn:"):
        subject = Urn.parse(text)
        if not subject.is_a("user"):
            raise InvalidInputError(f"--user {text} is not a user URN", field="user")
    else:
        if not text.startswith("u-"):
            raise InvalidInputError(f"--user must look like u-… (got {user!r})", field="user")
        subject = Urn("user", text)
    return Principal(PrincipalKind.OPERATOR, subject, tenant.airline_urn, frozenset({Role(name)}))


def parse_urn(text: str, entity: str, option: str = "URN") -> Any:
    """Parse ``text`` as a URN of ``entity`` (InvalidInputError otherwise)."""
    from nexa_core.errors import InvalidInputError
    from nexa_core.urn import Urn

    urn = Urn.parse(text.strip())
    if not urn.is_a(entity):
        raise InvalidInputError(f"{option} {urn} is not a {entity} URN", field=option)
    return urn


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant with a time zone (``Z`` allowed)."""
    from nexa_core.errors import InvalidInputError

    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise InvalidInputError(
            f"{option} must be an ISO 8601 date-time (got {text!r})", field=option
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{option} needs a time zone, e.g. 2026-05-06T09:40:00-04:00 or …Z", field=option
        )
    return value


def parse_enum(enum_type: Any, text: str, option: str) -> Any:
    """``text`` as a member of ``enum_type`` (case-insensitive)."""
    from nexa_core.errors import InvalidInputError

    try:
        return enum_type(text.strip().upper())
    except ValueError:
        names = ", ".join(m.value for m in enum_type)
        raise InvalidInputError(
            f"{option} must be one of {names} (got {text!r})", field=option
        ) from None


def load_policy(path: str | None) -> Any:
    """The policy of ``--policy`` (a YAML/JSON document), or None (use stored versions)."""
    if path is None:
        return None
    from nexa_adapters.documents.policy import parse_policy
    from nexa_cli._common import read_document

    return parse_policy(read_document(path, kind="policy"))


async def packaged_policy_unless_active(orchestrator: Any, tenant: Any) -> str | None:
    """Without ``--policy`` new cases run under the tenant's ACTIVE stored versions. A
    tenant with none yet gets the packaged demo policy (recorded as an ad-hoc version on
    the case); returns the note to print in that case."""
    from nexa_core.model import PolicyState

    if orchestrator.policy is not None:
        return None
    if await orchestrator.versions.records(tenant, state=PolicyState.ACTIVE):
        return None
    from nexa_adapters.demo import demo_policy

    orchestrator.policy = demo_policy()
    return (
        f"note: {tenant.airline_urn.id} has no active policy yet: using the packaged demo "
        "policy (recorded as an ad-hoc version); add yours with "
        "`nexa policy add FILE --activate`"
    )


def _quiet_denials() -> None:
    """Denials are audited (``auth.denied``) and reported as the one-line error (exit 5);
    without logging configured, keep Python's last-resort handler from printing them too."""
    import logging

    log = logging.getLogger("nexa.auth")
    if not logging.getLogger().handlers and not log.handlers:
        log.addHandler(logging.NullHandler())


def run_services(
    *,
    store_url: str | None,
    config: str | None,
    engine_url: str | None,
    policy: Any,
    action: Callable[[Any, Any, Any], Awaitable[T]],
) -> T:
    """Bootstrap Nexa, build the case orchestrator and review service, run
    ``await action(nexa, orchestrator, reviews)`` and close everything."""
    from pathlib import Path

    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.engine.wiring import build_orchestrator
    from nexa_adapters.settings import Settings
    from nexa_core.errors import InvalidInputError

    if config is not None and not Path(config).is_file():
        raise InvalidInputError(f"settings file {config} does not exist", path=config)
    settings = Settings.load(config, store_url=store_url, engine_url=engine_url or "inprocess://")
    nexa = bootstrap(settings)
    _quiet_denials()
    orchestrator, reviews = build_orchestrator(nexa, policy=policy)

    async def main() -> T:
        engine = nexa.engine
        try:
            if engine is not None:
                await engine.launch()
            try:
                return await action(nexa, orchestrator, reviews)
            finally:
                if engine is not None:
                    await engine.shutdown()
        finally:
            await nexa.aclose()

    return anyio.run(main)


def audit_row(entry: Any) -> dict[str, Any]:
    """An audit entry as a JSON-ready dict."""
    return {
        "urn": str(entry.urn),
        "at": entry.at.isoformat(),
        "action": entry.action,
        "entity": str(entry.entity_urn),
        "actor": str(entry.actor.urn),
        "role": entry.actor.role,
        "reason": entry.reason,
        "correlation": str(entry.correlation_urn) if entry.correlation_urn else None,
        "before": dict(entry.before),
        "after": dict(entry.after),
    }


def audit_line(row: Mapping[str, Any]) -> str:
    """One human line per audit row."""
    return f"{row['at']}  {row['action']:<24} {row['entity']}  {row['actor']}  {row['reason']}"


def table(rows: list[dict[str, Any]], columns: tuple[str, ...], empty: str) -> str:
    """A plain aligned text table (or ``empty`` when there are no rows)."""
    if not rows:
        return empty
    cells = [[str(r.get(c) if r.get(c) is not None else "-") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)

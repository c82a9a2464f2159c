"""``nexa care voucher|snapshot|notifications|cards|load-due|transfers|dispatch|resend|webhook``.

The care a case delivered, read and acted on by an operator. Each command parses its
options, calls one care service (``nexa_core.care``) over the adapters the settings
choose (``bootstrap``) and prints the result (``--json`` for scripts). They take
``--airline`` and ``--store-url`` like ``nexa case show``; the passenger documents are
read from the snapshot store next to the store (``NEXA_SNAPSHOT_URL``).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer

from nexa_cli._common import emit, fail, handle_errors
from nexa_cli._operator import (
    JsonOption,
    RoleOption,
    UserOption,
    load_policy,
    parse_enum,
    parse_urn,
    principal_for,
    table,
)
from nexa_cli.commands.case import AirlineOption, ConfigOption, StoreUrlOption, tenant_for

T = TypeVar("T")

__all__ = ["register_delivery"]

PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", help="Policy file (YAML/JSON; default: the case's recorded version)."),
]


# --------------------------------------------------------------------------- plumbing


def _run_care(
    store_url: str | None, config: str | None, action: Callable[[Any, Any], Awaitable[T]]
) -> T:
    """Bootstrap the adapters, build the care services' ports and run ``action(nexa, deps)``."""
    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.engine.wiring import care_deps
    from nexa_adapters.settings import Settings
    from nexa_core.errors import InvalidInputError

    if config is not None and not Path(config).is_file():
        raise InvalidInputError(f"settings file {config} does not exist", path=config)
    nexa = bootstrap(Settings.load(config, store_url=store_url), optional=("engine",))

    async def main() -> T:
        try:
            return await action(nexa, care_deps(nexa))
        finally:
            await nexa.aclose()

    return anyio.run(main)


def _money(value: Any) -> str:
    return f"{value.amount} {value.currency}" if value is not None else "-"


def _notification_row(n: Any) -> dict[str, Any]:
    return {
        "notification": str(n.urn),
        "type": n.type,
        "channel": n.channel.value,
        "status": n.status.value,
        "language": n.language,
        "group": n.group_id,
        "attempts": n.attempts,
        "fallback_for": str(n.fallback_for) if n.fallback_for else None,
        "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        "error": n.last_error,
        "dedup_key": n.dedup_key,
        "sub_case": str(n.sub_case_urn) if n.sub_case_urn else None,
    }


def _transfer_row(t: Any) -> dict[str, Any]:
    return {
        "transfer": str(t.urn),
        "status": t.status.value,
        "direction": t.direction.value,
        "vehicle": t.vehicle.value,
        "vendor": t.vendor,
        "mode": t.mode.value if t.mode else None,
        "pickup_at": t.pickup_at.isoformat(),
        "passengers": t.passengers,
        "price": _money(t.price) if t.price else None,
        "late_cancellation": t.late_cancellation,
        "no_show_fee": _money(t.no_show_fee) if t.no_show_fee else None,
        "sub_cases": [str(u) for u in t.sub_case_urns],
    }


# --------------------------------------------------------------------------- voucher, snapshot


def _language(rendered: Any, doc: Any) -> str:
    """The language a rendered voucher is in (the HTML's ``lang`` attribute)."""
    html = rendered.html or ""
    marker = '<html lang="'
    if marker in html:
        return html.split(marker, 1)[1].split('"', 1)[0]
    return str(doc.language or "en")


def voucher(
    sub_case: Annotated[str, typer.Argument(help="The sub-case URN.")],
    fmt: Annotated[str, typer.Option("--format", help="html, txt or png (the QR code).")] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: standard output).")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Render in this language (en, es, pt).")
    ] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Render a sub-case's voucher as the passenger got it (from the passenger document)."""
    from nexa_core.care import voucher_of
    from nexa_core.errors import InvalidInputError

    kind = fmt.strip().lower()
    if kind not in ("html", "txt", "png"):
        raise InvalidInputError(f"--format must be html, txt or png (got {fmt!r})", field="format")
    urn = parse_urn(sub_case, "sub-case", "SUB_CASE")
    tenant = tenant_for(airline)
    if kind == "png" and out is None and sys.stdout.isatty():
        fail("a PNG goes to a file: pass --out PATH (or redirect the output)", 2)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        fail(f"cannot write {out}: not a file in an existing directory", 2)

    async def act(nexa: Any, deps: Any) -> tuple[bytes, dict[str, Any]]:
        doc, rendered = await voucher_of(deps, tenant, urn, language=language)
        assert doc.voucher is not None
        if kind == "png":
            data = deps.need_renderer().qr_png(doc.voucher.qr_payload)
        else:
            data = (rendered.html or "" if kind == "html" else rendered.text).encode("utf-8")
        info = {
            "sub_case": str(urn),
            "format": kind,
            "language": _language(rendered, doc),
            "reservation": str(doc.voucher.reservation_urn),
            "qr_payload": doc.voucher.qr_payload,
            "bytes": len(data),
            "out": str(out) if out is not None else None,
        }
        return data, info

    data, info = _run_care(store_url, config, act)
    if out is not None:
        try:
            out.write_bytes(data)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}", 2)
        emit(
            info,
            as_json=as_json,
            human=lambda d: (
                f"wrote {d['out']}: {d['format']} voucher of {d['reservation']} "
                f"({d['language']}, {d['bytes']} bytes)"
            ),
        )
    elif as_json and kind != "png":
        emit({**info, "content": data.decode("utf-8")}, as_json=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _snapshot_human(d: dict[str, Any]) -> str:
    v = d.get("voucher") or {}
    hotel = v.get("hotel") or {}
    lines = [
        f"{d['sub_case_urn']} ({d['status']}) group {d['group_id']} PNR {d['pnr']}",
        f"  passengers: {', '.join(d['passengers'])}",
    ]
    if hotel:
        lines += [
            f"  hotel: {hotel.get('name')}, {hotel.get('address')} (tel. {hotel.get('phone') or '-'})",
            f"  check-in {v['check_in']['at']}  check-out {v['check_out']['at']} "
            f"({v['check_in']['timezone']})",
            f"  confirmation {v.get('confirmation_code')}  QR {d.get('qr_payload')} "
            f"({'PNG' if d.get('qr_png') else 'no image'})",
        ]
    lines.append(f"  transport ({d.get('transport_mode') or '-'}):")
    for r in d.get("rides") or []:
        lines.append(
            f"    {r['direction']} {r['vehicle']} {r['pickup']['at']} {r['status']} "
            f"{r.get('vendor') or '-'}"
        )
    if not d.get("rides"):
        lines.append("    none")
    card = d.get("card")
    if card:
        lines.append(
            f"  meal card {card['card_urn']}: loaded {card['loaded']} {card['currency']}, "
            f"balance {card['balance']}, reveal {card.get('reveal_link') or '-'}"
        )
    if d.get("next_departure"):
        lines.append(f"  next departure {d['next_departure']['at']}")
    lines.append(f"  passenger page {d.get('passenger_link') or '-'}")
    return "\n".join(lines)


def snapshot(
    sub_case: Annotated[str, typer.Argument(help="The sub-case URN.")],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the passenger document of a sub-case (what the passenger page reads)."""
    from nexa_core.care import read_document
    from nexa_core.serialization import unstructure

    urn = parse_urn(sub_case, "sub-case", "SUB_CASE")
    tenant = tenant_for(airline)

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        doc: dict[str, Any] = unstructure(await read_document(deps, tenant, urn))
        return doc

    emit(_run_care(store_url, config, act), as_json=as_json, human=_snapshot_human)


# --------------------------------------------------------------------------- notifications


def notifications(
    case: Annotated[str, typer.Option("--case", help="The case URN.")],
    status: Annotated[
        str | None, typer.Option("--status", help="QUEUED, SENT, DELIVERED, BOUNCED, FAILED.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="EMAIL, SMS, WHATSAPP or PUSH.")
    ] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a case's notifications: type, channel, status, language, attempts, fallbacks."""
    from nexa_core.model import Channel, NotificationStatus

    case_urn = parse_urn(case, "case", "--case")
    tenant = tenant_for(airline)
    wanted_status = parse_enum(NotificationStatus, status, "--status") if status else None
    wanted_channel = parse_enum(Channel, channel, "--channel") if channel else None

    async def act(nexa: Any, deps: Any) -> list[dict[str, Any]]:
        await nexa.store.cases.get(tenant, case_urn)
        where: dict[str, Any] = {"case_urn": case_urn}
        if wanted_status is not None:
            where["status"] = wanted_status
        found = await nexa.store.notifications.find(tenant, **where)
        rows = [
            _notification_row(n)
            for n in found
            if wanted_channel is None or n.channel is wanted_channel
        ]
        return sorted(rows, key=lambda r: (r["group"], r["type"], r["channel"]))

    rows = _run_care(store_url, config, act)
    emit(
        rows,
        as_json=as_json,
        human=lambda r: table(
            r,
            ("notification", "type", "channel", "status", "language", "group", "attempts"),
            "no notifications",
        ),
    )


def resend(
    notification: Annotated[str, typer.Argument(help="The notification URN.")],
    airline: AirlineOption = None,
    as_role: RoleOption = "AIRPORT_OPERATOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a message again (a new action with its own key; audited under --user)."""
    from nexa_core.auth import tenant_of
    from nexa_core.care import resend_notification
    from nexa_core.ports import AuditQuery

    urn = parse_urn(notification, "notification", "NOTIFICATION")
    tenant = tenant_of(principal_for(airline, as_role, user))

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        original = await nexa.store.notifications.get(tenant, urn)
        done = await nexa.store.audit.query(
            tenant, AuditQuery(entity_urn=original.urn, action="notification.resend")
        )
        sent = await resend_notification(deps, tenant, urn, action_seq=len(done) + 1)
        return {"original": str(urn), "resend": len(done) + 1, **_notification_row(sent)}

    emit(
        _run_care(store_url, config, act),
        as_json=as_json,
        human=lambda d: (
            f"resend #{d['resend']} of {d['original']}: {d['channel']} "
            f"{d['status']} as {d['notification']}"
        ),
    )


# --------------------------------------------------------------------------- cards


def cards(
    case: Annotated[str, typer.Option("--case", help="The case URN.")],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A case's meal cards: drops at the meal windows, loaded, spent and unused value.

    Each drop shows its meal, local due time, amount and whether it was loaded; the
    totals reconcile loaded, spent (settled), held (authorized) and unused value.
    """
    from nexa_core.care import local_time, reconcile_meal_cards

    case_urn = parse_urn(case, "case", "--case")
    tenant = tenant_for(airline)

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        await nexa.store.cases.get(tenant, case_urn)
        recon = await reconcile_meal_cards(deps, tenant, case_urn)
        rows = {str(r.card_urn): r for r in recon.rows}
        out = []
        for c in await nexa.store.cards.find(tenant, case_urn=case_urn):
            r = rows[str(c.urn)]
            tz = "UTC"
            if c.sub_case_urn is not None:
                sub = await nexa.store.sub_cases.get(tenant, c.sub_case_urn)
                tz = sub.stay_plan.timezone if sub.stay_plan is not None else "UTC"
            out.append(
                {
                    "card": str(c.urn),
                    "group": c.group_id,
                    "status": c.status.value,
                    "currency": c.currency,
                    "per_day": str(c.per_day.amount) if c.per_day else None,
                    "passengers": c.passengers,
                    "loaded": str(r.loaded),
                    "spent": str(r.settled),
                    "held": str(r.pending),
                    "unused": str(r.unused),
                    "drops": [
                        {
                            "meal": d.label,
                            "due": local_time(d.due_at, tz).isoformat(),
                            "amount": str(d.amount.amount),
                            "loaded": d.loaded_at is not None,
                        }
                        for d in c.drops
                    ],
                }
            )
        return {
            "case": str(case_urn),
            "cards": sorted(out, key=lambda x: x["group"]),
            "loaded": {k: str(v) for k, v in recon.loaded().items()},
            "spent": {k: str(v) for k, v in recon.spent().items()},
            "unused": {k: str(v) for k, v in recon.unused().items()},
        }

    def human(d: dict[str, Any]) -> str:
        rows = [
            {
                **c,
                "drops": " ".join(
                    f"{x['meal']}@{x['due'][11:16]}{'' if x['loaded'] else '(scheduled)'}"
                    for x in c["drops"]
                ),
            }
            for c in d["cards"]
        ]
        body = table(
            rows,
            ("card", "group", "status", "loaded", "spent", "unused", "drops"),
            "no meal cards",
        )
        totals = ", ".join(
            f"{cur}: loaded {d['loaded'][cur]}, spent {d['spent'].get(cur, '0')}, "
            f"unused {d['unused'].get(cur, '0')}"
            for cur in d["loaded"]
        )
        return body + (f"\n{len(d['cards'])} card(s); {totals}" if d["cards"] else "")

    emit(_run_care(store_url, config, act), as_json=as_json, human=human)


def load_due(
    case: Annotated[str, typer.Option("--case", help="The case URN.")],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load the meal drops that fell due and tell the passengers (scheduler entry).

    Each drop loads once under its own key, so run it from cron or a timer as often as
    you like.
    """
    from nexa_core.care import run_due_drops

    case_urn = parse_urn(case, "case", "--case")
    tenant = tenant_for(airline)

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        await nexa.store.cases.get(tenant, case_urn)
        touched = await run_due_drops(deps, tenant, case_urn)
        return {
            "case": str(case_urn),
            "cards": len(touched),
            "drops": [
                {"card": str(c.urn), "meal": d.label, "amount": str(d.amount)}
                for c, drops in touched
                for d in drops
            ],
        }

    emit(
        _run_care(store_url, config, act),
        as_json=as_json,
        human=lambda d: f"loaded {len(d['drops'])} drop(s) on {d['cards']} card(s) of {d['case']}",
    )


# --------------------------------------------------------------------------- transport


def transfers(
    case: Annotated[str, typer.Option("--case", help="The case URN.")],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A case's rides: direction, vendor, mode, pickup, status, late-cancellation fees."""
    case_urn = parse_urn(case, "case", "--case")
    tenant = tenant_for(airline)

    async def act(nexa: Any, deps: Any) -> list[dict[str, Any]]:
        await nexa.store.cases.get(tenant, case_urn)
        found = await nexa.store.transfers.find(tenant, case_urn=case_urn)
        return [_transfer_row(t) for t in sorted(found, key=lambda t: (t.pickup_at, str(t.urn)))]

    emit(
        _run_care(store_url, config, act),
        as_json=as_json,
        human=lambda r: table(
            r,
            ("transfer", "status", "direction", "vehicle", "vendor", "mode", "pickup_at"),
            "no transfers",
        ),
    )


def dispatch(
    sub_case: Annotated[str, typer.Argument(help="The sub-case URN.")],
    vendor: Annotated[str, typer.Option("--vendor", help="The transport vendor to use.")],
    direction: Annotated[
        str | None,
        typer.Option("--direction", help="AIRPORT_TO_HOTEL or HOTEL_TO_AIRPORT (default both)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Instructions for the driver.")] = None,
    policy: PolicyOption = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "AIRPORT_OPERATOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dispatch a sub-case's rides with the vendor an operator picks (MANUAL mode).

    The vendor must cover the airport and seat the group; the policy's cost ceiling and
    pinning are waived (audited as the operator's choice). The lead is told by SMS. The
    care rules come from the policy version recorded on the case (--policy overrides).
    The command holds the sub-case's operator lock: a second operator gets "locked by
    <user> since <time>" (exit 4).
    """
    from nexa_adapters.airports import default_catalog
    from nexa_core.auth import tenant_of
    from nexa_core.care import arrange_transport, care_for
    from nexa_core.locking import operator_lock
    from nexa_core.model import DispatchMode, TransferDirection
    from nexa_core.policy import PolicyService

    urn = parse_urn(sub_case, "sub-case", "SUB_CASE")
    principal = principal_for(airline, as_role, user)
    tenant = tenant_of(principal)
    legs = (
        (parse_enum(TransferDirection, direction, "--direction"),)
        if direction
        else tuple(TransferDirection)
    )
    explicit = load_policy(policy)
    if note is not None and len(note) > 300:
        from nexa_core.errors import InvalidInputError

        raise InvalidInputError("--note is at most 300 characters", field="note")

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        async with operator_lock(nexa.coordination.locks, tenant, [urn], principal) as lease:
            sub = await nexa.store.sub_cases.get(tenant, urn)
            case = await nexa.store.cases.get(tenant, sub.case_urn)
            airport = default_catalog().get(case.airport_urn.id)
            chosen_policy = explicit
            if chosen_policy is None and case.policy_urn is not None:
                versions = PolicyService(nexa.store, clock=nexa.clock, ids=nexa.ids)
                _, chosen_policy = await versions.get(tenant, case.policy_urn)
            if chosen_policy is None:  # a case opened before versions were recorded
                from nexa_adapters.demo import demo_policy

                chosen_policy = demo_policy()
            care = care_for(chosen_policy, sub.group, sub.stay_plan, airport)
            scoped = (
                tenant.with_correlation(case.correlation_urn) if case.correlation_urn else tenant
            )
            await lease.check()
            outcome = await arrange_transport(
                deps,
                scoped,
                sub,
                care,
                mode=DispatchMode.MANUAL,
                vendor=vendor,
                directions=legs,
                note=note,
            )
        return {
            "sub_case": str(urn),
            "vendor": vendor,
            "transfers": [_transfer_row(t) for t in outcome.transfers],
            "reviews": [str(r.urn) for r in outcome.reviews],
        }

    def human(d: dict[str, Any]) -> str:
        lines = [
            f"  {t['transfer']} {t['direction']} {t['vehicle']} {t['status']} {t['vendor']} "
            f"pickup {t['pickup_at']}"
            for t in d["transfers"]
        ]
        lines += [f"  review item {r}" for r in d["reviews"]]
        return f"dispatch of {d['sub_case']} with {d['vendor']}:\n" + "\n".join(lines or ["  -"])

    result = _run_care(store_url, config, act)
    emit(result, as_json=as_json, human=human)
    if result["reviews"] and not any(t["status"] == "DISPATCHED" for t in result["transfers"]):
        raise typer.Exit(1)


# --------------------------------------------------------------------------- webhooks


def _headers(values: list[str]) -> dict[str, str]:
    from nexa_core.errors import InvalidInputError

    out: dict[str, str] = {}
    for h in values:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise InvalidInputError(f"header {name!r} is not 'Name: value'", field="header")
        out[name.strip()] = value.strip()
    return out


def webhook(
    vendor: Annotated[str, typer.Argument(help="The partner that sent it (e.g. sandbox, uber).")],
    body: Annotated[Path, typer.Option("--body", help="File with the raw request body.")],
    header: Annotated[
        list[str], typer.Option("--header", "-H", help="A received header 'Name: value' (repeat).")
    ],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Feed a signed partner webhook (ride state, delivery receipt, card transaction).

    The partner's own verifier checks the signature first: a bad one (exit 1, audited as
    ``webhook.rejected``), or a webhook for an unknown record or another tenant's (exit 3),
    changes nothing; a redelivery is a no-op. Twilio signs the callback URL: use
    ``nexa webhooks receive twilio --url …`` for its callbacks.
    """
    from nexa_adapters.receipts import ReceiptDesk

    tenant = tenant_for(airline)
    headers = _headers(header)
    raw = body.read_bytes()

    async def act(nexa: Any, deps: Any) -> dict[str, Any]:
        desk = ReceiptDesk(
            store=nexa.store,
            clock=nexa.clock,
            ids=nexa.ids,
            notifications=nexa.notifications,
            transport=nexa.transport,
            payments=nexa.payments,
            deps=deps,
        )
        outcome = await desk.receive(
            tenant.airline_urn, vendor.strip().lower(), headers, raw, strict=True
        )
        return outcome.to_dict()

    def human(d: dict[str, Any]) -> str:
        lines = d.get("details") or []
        head = (
            f"{d['vendor']}: {d['events']} event(s), {d['applied']} applied, "
            f"{d['acknowledged']} acknowledged"
        )
        return "\n".join([head, *(f"  {line}" for line in lines)])

    emit(_run_care(store_url, config, act), as_json=as_json, human=human)


# --------------------------------------------------------------------------- registration


def register_delivery(group: typer.Typer) -> None:
    """Attach the care delivery commands to ``nexa care``."""
    for name, fn in (
        ("voucher", voucher),
        ("snapshot", snapshot),
        ("notifications", notifications),
        ("resend", resend),
        ("cards", cards),
        ("load-due", load_due),
        ("transfers", transfers),
        ("dispatch", dispatch),
        ("webhook", webhook),
    ):
        group.command(name)(handle_errors(fn))

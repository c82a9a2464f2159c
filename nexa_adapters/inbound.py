"""Inbound care webhooks: verify a partner's delivery with its own adapter, then apply it.

A partner may send three kinds of care events: a ride's state (transport providers with
``verify_webhook``), a message's delivery receipt (notification providers with
``verify_receipt``) and a card transaction (payment providers with
``verify_card_event``). Each adapter checks the signature before reading the body; the
first adapter named ``vendor`` that accepts the delivery decides its kind. The event is
then applied by the care service (idempotent per event id), which rewrites the passenger
documents it touches. A delivery no adapter accepts raises the last
:class:`~nexa_core.errors.WebhookVerificationError`: nothing is changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nexa_core.care import (
    CareDeps,
    handle_delivery_receipt,
    handle_transfer_update,
    record_card_event,
)
from nexa_core.errors import ConfigurationError, WebhookVerificationError
from nexa_core.idempotency import idempotency_key
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["receive_care_webhook"]


def _verifiers(nexa: Any, vendor: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    transport = nexa.transport.get(vendor)
    if transport is not None and hasattr(transport, "verify_webhook"):
        out.append(("transfer", transport.verify_webhook))
    messages = nexa.notifications.get(vendor)
    if messages is not None and hasattr(messages, "verify_receipt"):
        out.append(("receipt", messages.verify_receipt))
    payments = nexa.payments
    if payments is not None and payments.name == vendor and hasattr(payments, "verify_card_event"):
        out.append(("card", payments.verify_card_event))
    return out


async def receive_care_webhook(
    nexa: Any,
    deps: CareDeps,
    tenant: TenantContext,
    vendor: str,
    body: bytes,
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """Verify and apply one delivery; a summary (kind, subject, outcome) for the caller."""
    verifiers = _verifiers(nexa, vendor)
    if not verifiers:
        raise ConfigurationError(
            f"no configured partner named {vendor!r} receives care webhooks", vendor=vendor
        )
    last: WebhookVerificationError | None = None
    for kind, verify in verifiers:
        try:
            event = await verify(tenant.airline_urn, body, headers)
        except WebhookVerificationError as exc:
            last = exc
            continue
        return await _apply(deps, tenant, vendor, kind, event)
    assert last is not None
    raise last


async def _apply(
    deps: CareDeps, tenant: TenantContext, vendor: str, kind: str, event: Any
) -> dict[str, Any]:
    if kind == "transfer":
        outcome = await handle_transfer_update(
            deps,
            tenant,
            event.transfer_urn,
            event.status,
            vendor=vendor,
            event_id=str(event.event_id),
        )
        return {
            "kind": "transfer",
            "subject": str(outcome.transfer.urn),
            "status": outcome.transfer.status.value,
            "changed": outcome.changed,
            "outcome": f"now {outcome.transfer.status.value}"
            if outcome.changed
            else f"already applied (still {outcome.transfer.status.value})",
        }
    if kind == "receipt":
        receipt = await handle_delivery_receipt(
            deps,
            tenant,
            event.dedup_key,
            event.status,
            event_urn=_event_urn(vendor, str(event.event_id)),
            reason=event.reason,
        )
        fallback = receipt.fallback
        told = (
            f"; fallback {fallback.channel.value} {fallback.status.value} ({fallback.urn})"
            if fallback is not None
            else ""
        )
        return {
            "kind": "receipt",
            "subject": str(receipt.notification.urn),
            "status": receipt.notification.status.value,
            "changed": receipt.changed,
            "fallback": str(fallback.urn) if fallback is not None else None,
            "outcome": (
                f"now {receipt.notification.status.value}{told}"
                if receipt.changed
                else f"already applied (still {receipt.notification.status.value})"
            ),
        }
    before = await deps.store.cards.get(tenant, event.card_urn)
    card = await record_card_event(deps, tenant, event)
    changed = card.version != before.version
    return {
        "kind": "card",
        "subject": str(card.urn),
        "balance": str(card.balance),
        "changed": changed,
        "outcome": f"balance {card.balance}" if changed else "already applied",
    }


def _event_urn(vendor: str, event_id: str) -> Urn:
    """A URN for a partner's event id (any characters; stable per vendor and id)."""
    return Urn("event", "e-" + idempotency_key("webhook", f"{vendor}/{event_id}")[8:32])

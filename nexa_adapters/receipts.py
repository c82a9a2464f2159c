"""Inbound partner receipts: verify with the vendor's own scheme, audit every rejection,
then apply what verified through the care services.

One entry point for every receipt a partner pushes (SendGrid Event Webhook, Twilio status
callbacks, Uber and Cabify ride states, Pomelo authorizations and adjustments), shared by
the ``nexa webhooks receive`` command and any HTTP endpoint mounted over it:

* the vendor's verifier runs first, on the raw body and headers, with the tenant's own key
  or secret; a receipt that does not verify is **rejected**: a ``webhook.rejected`` audit
  entry records the vendor, the reason and the body's size and digest (never its content),
  :class:`~nexa_core.errors.WebhookVerificationError` is raised, and nothing else changes;
* a verified receipt is applied idempotently (redeliveries change nothing): delivery
  receipts through :func:`~nexa_core.care.handle_delivery_receipt` (a bounce sends the
  message's fallback once), ride states through
  :func:`~nexa_core.care.handle_transfer_update`, card transactions by the card
  authorizer (whose signed answer is returned) or, for partners that report them to Nexa
  (the sandbox), through :func:`~nexa_core.care.record_card_event`. Events that change
  nothing are acknowledged and counted; with ``strict=True`` (the operator's
  ``nexa care webhook``) an event about an unknown record, or another tenant's, raises
  :class:`~nexa_core.errors.NotFoundError` instead.

Partners outside :data:`RECEIPT_VENDORS` (the sandbox ones) are taken when a configured
provider of that name verifies its own deliveries (``verify_webhook`` for rides,
``verify_receipt`` for messages, ``verify_card_event`` for cards); the first that accepts
a delivery decides its kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import attrs

from nexa_adapters.http._inbound import DeliveryReceipt
from nexa_core.care import (
    CareDeps,
    handle_delivery_receipt,
    handle_transfer_update,
    record_card_event,
)
from nexa_core.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    WebhookVerificationError,
)
from nexa_core.model import AuditEntry, NotificationStatus
from nexa_core.ports import Clock, IdGenerator, OperationalStore
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["RECEIPT_VENDORS", "ReceiptDesk", "ReceiptOutcome"]

#: vendors whose receipts the desk takes, and the kind of receipt each sends
RECEIPT_VENDORS: Mapping[str, str] = {
    "sendgrid": "delivery",
    "twilio": "delivery",
    "uber": "transfer",
    "cabify": "transfer",
    "pomelo": "card",
}
_FINAL = frozenset(
    {NotificationStatus.DELIVERED, NotificationStatus.BOUNCED, NotificationStatus.FAILED}
)


@attrs.frozen
class ReceiptOutcome:
    """What a verified receipt did: counts, and the answer to send back (Pomelo)."""

    vendor: str
    events: int
    applied: int
    acknowledged: int  # verified, changes nothing (engagement, interim states, unknown ids)
    answer: Mapping[str, Any] | None = None
    answer_headers: Mapping[str, str] | None = None
    #: what each applied event did, one line each (``urn: now IN_PROGRESS``)
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        out: dict[str, Any] = {
            "vendor": self.vendor,
            "events": self.events,
            "applied": self.applied,
            "acknowledged": self.acknowledged,
        }
        if self.answer is not None:
            out["answer"] = dict(self.answer)
        if self.details:
            out["details"] = list(self.details)
        return out


def _event_urn(vendor: str, event_id: str) -> Urn:
    digest = hashlib.sha256(f"{vendor}:{event_id}".encode()).hexdigest()[:32]
    return Urn("event", f"{vendor}-{digest}")


class ReceiptDesk:
    """Receives partner receipts for a tenant (see the module docstring)."""

    def __init__(
        self,
        *,
        store: OperationalStore,
        clock: Clock,
        ids: IdGenerator,
        notifications: Mapping[str, Any],
        transport: Mapping[str, Any],
        payments: Any = None,
        deps: CareDeps | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.notifications = notifications
        self.transport = transport
        self.payments = payments
        #: the care services' ports (with the renderer and message providers a bounce's
        #: fallback needs, and the snapshot store a ride's page is rewritten in)
        self.deps = deps or CareDeps(store=store, clock=clock, ids=ids)

    @classmethod
    def from_nexa(cls, nexa: Any) -> ReceiptDesk:
        """The desk over a bootstrapped :class:`~nexa_adapters.bootstrap.Nexa`."""
        from nexa_adapters.engine.wiring import care_deps

        return cls(
            store=nexa.store,
            clock=nexa.clock,
            ids=nexa.ids,
            notifications=nexa.notifications,
            transport=nexa.transport,
            payments=nexa.payments,
            deps=care_deps(nexa),
        )

    def _own_verifiers(self, vendor: str) -> list[tuple[str, Any]]:
        """Providers named ``vendor`` that verify their own deliveries (the sandbox)."""
        out: list[tuple[str, Any]] = []
        rides = self.transport.get(vendor)
        if rides is not None and hasattr(rides, "verify_webhook"):
            out.append(("transfer", rides.verify_webhook))
        messages = self.notifications.get(vendor)
        if messages is not None and hasattr(messages, "verify_receipt"):
            out.append(("delivery", messages.verify_receipt))
        cards = self.payments
        if getattr(cards, "name", None) == vendor and hasattr(cards, "verify_card_event"):
            out.append(("card", cards.verify_card_event))
        return out

    def _adapter(self, vendor: str) -> Any:
        kind = RECEIPT_VENDORS.get(vendor)
        if kind is None and self._own_verifiers(vendor):
            return None  # verified by the provider itself (see _own)
        if kind is None:
            raise InvalidInputError(
                f"no receipts are taken from {vendor!r} "
                f"(one of {', '.join(sorted(RECEIPT_VENDORS))})",
                field="vendor",
            )
        found = (
            self.notifications.get(vendor)
            if kind == "delivery"
            else self.transport.get(vendor)
            if kind == "transfer"
            else (self.payments if getattr(self.payments, "vendor", None) == vendor else None)
        )
        if found is None:
            raise ConfigurationError(
                f"{vendor} is not a configured provider; receipts from it cannot be verified",
                vendor=vendor,
            )
        return found

    async def receive(
        self,
        tenant: Urn,
        vendor: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        url: str | None = None,
        strict: bool = False,
    ) -> ReceiptOutcome:
        """Verify, audit a rejection, apply; see the module docstring."""
        adapter = self._adapter(vendor)
        ctx = TenantContext.system(tenant)
        try:
            if adapter is None:
                return await self._own(ctx, vendor, headers, body, strict)
            if vendor == "sendgrid":
                receipts = await adapter.verify_events(tenant, headers, body)
                return await self._deliveries(ctx, vendor, receipts, strict)
            if vendor == "twilio":
                if not url:
                    raise WebhookVerificationError(
                        "twilio receipts are signed over the callback URL; give the URL "
                        "Twilio called",
                        vendor=vendor,
                    )
                receipt = await adapter.verify_status_callback(tenant, url, headers, body)
                return await self._deliveries(ctx, vendor, [receipt], strict)
            if RECEIPT_VENDORS[vendor] == "transfer":
                update = await adapter.verify_webhook(tenant, body, headers)
                return await self._transfer(ctx, vendor, update, strict)
            outcome = await adapter.handle_webhook(tenant, body, headers)
        except WebhookVerificationError as exc:
            await self._reject(ctx, vendor, body, exc)
            raise
        answer = _json(outcome.body)
        return ReceiptOutcome(
            vendor,
            1,
            0 if outcome.event == "duplicate" else 1,
            1 if outcome.event == "duplicate" else 0,
            answer,
            dict(outcome.headers),
        )

    async def _reject(
        self, ctx: TenantContext, vendor: str, body: bytes, exc: WebhookVerificationError
    ) -> None:
        digest = hashlib.sha256(body).hexdigest()
        await self.store.audit.append(
            ctx,
            AuditEntry(
                urn=self.ids.new("audit"),
                airline_urn=ctx.airline_urn,
                actor=ctx.actor,
                action="webhook.rejected",
                entity_urn=_event_urn(vendor, digest),
                reason=exc.message,
                at=self.clock.now(),
                correlation_urn=ctx.correlation_urn,
                after={"vendor": vendor, "bytes": len(body), "sha256": digest},
            ),
        )

    async def _own(
        self,
        ctx: TenantContext,
        vendor: str,
        headers: Mapping[str, str],
        body: bytes,
        strict: bool,
    ) -> ReceiptOutcome:
        """A delivery the provider named ``vendor`` verifies itself; its kind is decided by
        the first verifier that accepts it."""
        last: WebhookVerificationError | None = None
        for kind, verify in self._own_verifiers(vendor):
            try:
                event = await verify(ctx.airline_urn, body, headers)
            except WebhookVerificationError as exc:
                last = exc
                continue
            if kind == "transfer":
                return await self._transfer(ctx, vendor, event, strict)
            if kind == "delivery":
                return await self._deliveries(ctx, vendor, [event], strict)
            return await self._card(ctx, vendor, event, strict)
        assert last is not None
        raise last

    async def _deliveries(
        self, ctx: TenantContext, vendor: str, receipts: list[DeliveryReceipt], strict: bool
    ) -> ReceiptOutcome:
        applied = 0
        details: list[str] = []
        for r in receipts:
            if r.dedup_key is None or r.status not in _FINAL:
                continue
            assert r.status is not None
            try:
                done = await handle_delivery_receipt(
                    self.deps,
                    ctx,
                    r.dedup_key,
                    r.status,
                    event_urn=_event_urn(vendor, r.event_id),
                    reason=f"{vendor} {r.vendor_event}" + (f": {r.reason}" if r.reason else ""),
                )
            except NotFoundError:  # a message this tenant did not send (or no longer has)
                if strict:
                    raise
                continue
            applied += 1
            note = done.notification
            if not done.changed:
                details.append(f"{note.urn}: already applied (still {note.status.value})")
                continue
            line = f"{note.urn}: now {note.status.value}"
            if done.fallback is not None:
                fb = done.fallback
                line += f"; fallback {fb.channel.value} {fb.status.value} ({fb.urn})"
            details.append(line)
        return ReceiptOutcome(
            vendor, len(receipts), applied, len(receipts) - applied, details=tuple(details)
        )

    async def _transfer(
        self, ctx: TenantContext, vendor: str, update: Any, strict: bool
    ) -> ReceiptOutcome:
        if update.status is None:
            return ReceiptOutcome(vendor, 1, 0, 1)
        try:
            done = await handle_transfer_update(
                self.deps,
                ctx,
                update.transfer_urn,
                update.status,
                vendor=vendor,
                event_id=str(update.event_id),
            )
        except NotFoundError:
            if strict:
                raise
            return ReceiptOutcome(vendor, 1, 0, 1)
        t = done.transfer
        line = (
            f"{t.urn}: now {t.status.value}"
            if done.changed
            else f"{t.urn}: already applied (still {t.status.value})"
        )
        return ReceiptOutcome(
            vendor, 1, 1 if done.changed else 0, 0 if done.changed else 1, details=(line,)
        )

    async def _card(
        self, ctx: TenantContext, vendor: str, event: Any, strict: bool
    ) -> ReceiptOutcome:
        try:
            before = await self.store.cards.get(ctx, event.card_urn)
            card = await record_card_event(self.deps, ctx, event)
        except NotFoundError:
            if strict:
                raise
            return ReceiptOutcome(vendor, 1, 0, 1)
        changed = card.version != before.version
        line = f"{card.urn}: balance {card.balance}" + ("" if changed else " (already applied)")
        return ReceiptOutcome(vendor, 1, 1 if changed else 0, 0 if changed else 1, details=(line,))


def _json(body: bytes) -> Mapping[str, Any]:
    import json

    value = json.loads(body)
    return value if isinstance(value, dict) else {"answer": value}

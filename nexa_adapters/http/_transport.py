"""What the ride-hailing adapters (Uber, Cabify) share: replays by transfer URN, cancel,
and signed state webhooks normalised into :class:`TransferUpdate`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._inbound import check_body_size, decode_json
from nexa_core.errors import NotFoundError, WebhookVerificationError
from nexa_core.model import Money, TransferStatus
from nexa_core.ports import TransferDispatch, TransferQuote, TransferRequest
from nexa_core.urn import Urn

__all__ = ["RideEvent", "RideHailingAdapter", "TransferUpdate"]

log = logging.getLogger("nexa.partners")


@attrs.frozen
class RideEvent:
    """What a vendor's verified webhook envelope says (before Nexa's mapping).

    ``state`` None: a documented envelope that carries no ride state (a receipt, a driver
    message); ``note`` says what it was.
    """

    event_id: str
    vendor_ref: str
    state: str | None
    at: datetime | None = None
    note: str = ""


@attrs.frozen
class TransferUpdate:
    """A verified vendor state change for one transfer (``event_id`` = idempotency key).

    ``status`` None: the envelope is acknowledged and changes nothing (``ignored`` says
    why, and the reason is logged).
    """

    transfer_urn: Urn
    vendor_ref: str
    status: TransferStatus | None
    event_id: str
    vendor_status: str
    at: datetime | None = None
    ignored: str = ""


class RideHailingAdapter(HttpAdapter):
    """Quote, dispatch once per transfer URN, cancel, verify state webhooks."""

    #: every documented vendor state → canonical transfer status (None: acknowledged,
    #: no change); an undocumented state is rejected
    STATES: Mapping[str, TransferStatus | None] = {}

    async def _quote(self, request: TransferRequest) -> TransferQuote:
        raise NotImplementedError

    async def _dispatch(self, request: TransferRequest) -> tuple[str, int | None]:
        raise NotImplementedError

    async def _cancel(self, tenant: Urn, vendor_ref: str) -> Money | None:
        raise NotImplementedError

    async def _verify(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> None:
        raise NotImplementedError

    def _event(self, data: Any) -> RideEvent:
        """The envelope of a verified, decoded body (KeyError/TypeError/ValueError when it
        does not have the documented shape)."""
        raise NotImplementedError

    @staticmethod
    def _state_key(state: str) -> str:
        return state.strip().lower()

    async def quote(self, request: TransferRequest) -> TransferQuote:
        """Price and availability (no side effects)."""
        return await self._quote(request)

    async def dispatch(self, request: TransferRequest) -> TransferDispatch:
        """Book the ride; the transfer URN is the external reference and the replay key."""
        tenant, key = request.airline_urn, str(request.transfer_urn)
        seen = await self.replays.get(tenant, f"{self.vendor}.dispatch", key)
        if seen is not None:
            return TransferDispatch(
                request.transfer_urn, seen["vendor_ref"], seen.get("eta"), replayed=True
            )
        vendor_ref, eta = await self._dispatch(request)
        await self.replays.put(
            tenant, f"{self.vendor}.dispatch", key, {"vendor_ref": vendor_ref, "eta": eta}
        )
        await self.replays.put(tenant, f"{self.vendor}.ref", vendor_ref, {"transfer_urn": key})
        return TransferDispatch(request.transfer_urn, vendor_ref, eta)

    async def cancel(self, airline_urn: Urn, transfer_urn: Urn) -> Money | None:
        """Cancel (idempotent: a second cancel returns the first fee)."""
        key = str(transfer_urn)
        done = await self.replays.get(airline_urn, f"{self.vendor}.cancel", key)
        if done is not None:
            fee = done.get("fee")
            return Money(Decimal(fee), done["currency"]) if fee is not None else None
        seen = await self.replays.get(airline_urn, f"{self.vendor}.dispatch", key)
        if seen is None:
            raise NotFoundError(f"{self.vendor}: no dispatched ride for {transfer_urn}", urn=key)
        fee = await self._cancel(airline_urn, seen["vendor_ref"])
        await self.replays.put(
            airline_urn,
            f"{self.vendor}.cancel",
            key,
            {"fee": str(fee.amount), "currency": fee.currency} if fee else {"fee": None},
        )
        return fee

    async def verify_webhook(
        self, tenant: Urn, body: bytes, headers: Mapping[str, str]
    ) -> TransferUpdate:
        """Verify the signature first, then map the state; WebhookVerificationError otherwise.

        The body is size-capped before the signature check and decoded with the safe loader
        (depth, NaN, duplicate keys, hidden characters) before the envelope is read.
        """
        check_body_size(body, self.vendor)
        await self._verify(tenant, body, headers)
        data = decode_json(body, self.vendor)
        try:
            event = self._event(data)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookVerificationError(
                f"{self.vendor} webhook body is not a documented envelope", vendor=self.vendor
            ) from None
        found: dict[str, Any] | None = await self.replays.get(
            tenant, f"{self.vendor}.ref", event.vendor_ref
        )
        if found is None:
            raise WebhookVerificationError(
                f"{self.vendor} webhook names a ride Nexa did not dispatch",
                vendor=self.vendor,
                vendor_ref=event.vendor_ref,
            )
        transfer = Urn.parse(found["transfer_urn"])
        if event.state is None:
            log.info("%s webhook %s acknowledged: %s", self.vendor, event.event_id, event.note)
            return TransferUpdate(
                transfer, event.vendor_ref, None, event.event_id, "", event.at, event.note
            )
        key = self._state_key(event.state)
        if key not in self.STATES:
            raise WebhookVerificationError(
                f"{self.vendor} webhook has unknown state {event.state!r}", vendor=self.vendor
            )
        status = self.STATES[key]
        ignored = "" if status is not None else f"state {event.state!r} changes nothing"
        if ignored:
            log.info("%s webhook %s acknowledged: %s", self.vendor, event.event_id, ignored)
        return TransferUpdate(
            transfer, event.vendor_ref, status, event.event_id, event.state, event.at, ignored
        )

"""What the ride-hailing adapters (Uber, Cabify) share: replays by transfer URN, cancel,
and signed state webhooks normalised into :class:`TransferUpdate`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from nexa_adapters.http._base import HttpAdapter
from nexa_core.errors import NotFoundError, WebhookVerificationError
from nexa_core.model import Money, TransferStatus
from nexa_core.ports import TransferDispatch, TransferQuote, TransferRequest
from nexa_core.urn import Urn

__all__ = ["RideHailingAdapter", "TransferUpdate"]


@attrs.frozen
class TransferUpdate:
    """A verified vendor state change for one transfer (``event_id`` = idempotency key)."""

    transfer_urn: Urn
    vendor_ref: str
    status: TransferStatus
    event_id: str
    vendor_status: str
    at: datetime | None = None


class RideHailingAdapter(HttpAdapter):
    """Quote, dispatch once per transfer URN, cancel, verify state webhooks."""

    #: vendor state → canonical transfer status (unknown states are rejected)
    STATES: Mapping[str, TransferStatus] = {}

    async def _quote(self, request: TransferRequest) -> TransferQuote:
        raise NotImplementedError

    async def _dispatch(self, request: TransferRequest) -> tuple[str, int | None]:
        raise NotImplementedError

    async def _cancel(self, tenant: Urn, vendor_ref: str) -> Money | None:
        raise NotImplementedError

    async def _verify(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> None:
        raise NotImplementedError

    def _event(self, body: bytes) -> tuple[str, str, str, datetime | None]:
        """``(event id, vendor ref, vendor state, when)`` from a verified body."""
        raise NotImplementedError

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
        """Verify the signature first, then map the state; WebhookVerificationError otherwise."""
        await self._verify(tenant, body, headers)
        try:
            event_id, ref, state, at = self._event(body)
        except (ValueError, KeyError, TypeError):
            raise WebhookVerificationError(f"{self.vendor} webhook body is malformed") from None
        status = self.STATES.get(state.lower())
        if status is None:
            raise WebhookVerificationError(f"{self.vendor} webhook has unknown state {state!r}")
        found: dict[str, Any] | None = await self.replays.get(tenant, f"{self.vendor}.ref", ref)
        if found is None:
            raise WebhookVerificationError(
                f"{self.vendor} webhook names a ride Nexa did not dispatch", vendor_ref=ref
            )
        return TransferUpdate(Urn.parse(found["transfer_urn"]), ref, status, event_id, state, at)

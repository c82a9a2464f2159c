"""What care services need besides the store: case facts, renderer and partner bindings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from nexa_core.care.notifications import NotificationType, Recipient
from nexa_core.care.voucher import HotelInfo, VoucherContent
from nexa_core.model import Channel, Flight, Money
from nexa_core.model.case import Airport
from nexa_core.policy import Policy
from nexa_core.ports import (
    Clock,
    IdGenerator,
    NotificationProvider,
    OperationalStore,
    PaymentProvider,
    SnapshotStore,
    TransportProvider,
)
from nexa_core.urn import Urn, without_status

__all__ = [
    "CareContext",
    "CareDeps",
    "MessageRenderer",
    "RenderedMessage",
    "TransportVendor",
]


@attrs.frozen
class RenderedMessage:
    """A rendered message: subject, plain text and optional HTML."""

    subject: str
    text: str
    html: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class MessageRenderer(Protocol):
    """Turns voucher content and notification data into localized messages.

    Implemented by ``nexa_adapters.render`` (Jinja2 + Babel). Rendering is a pure
    computation, so it is synchronous.
    """

    def languages(self, airline_code: str) -> frozenset[str]:
        """Locales with templates for the airline (its own or the shared defaults)."""
        ...

    def render_voucher(self, voucher: VoucherContent, language: str) -> RenderedMessage:
        """The voucher as HTML and text (subject: a short title)."""
        ...

    def render_notification(
        self,
        type: NotificationType,
        language: str,
        airline_code: str,
        data: Mapping[str, Any],
    ) -> RenderedMessage:
        """One notification (``data`` holds domain values; formatting is the renderer's)."""
        ...


@attrs.frozen
class TransportVendor:
    """A transport provider bound for a tenant: where it drives and how many it takes."""

    provider: TransportProvider
    coverage: frozenset[str] = frozenset()  # IATA codes served (empty: everywhere)
    max_passengers: int = 24

    @property
    def name(self) -> str:
        """The provider's name."""
        return self.provider.name

    def covers(self, iata: str) -> bool:
        """Whether the vendor serves the airport."""
        return not self.coverage or iata.upper() in self.coverage


@attrs.frozen
class CareContext:
    """Facts about a case that the operational records do not carry.

    ``hotels`` is keyed by hotel URN (from the offers or contracts booked), ``flights``
    by group id (the re-accommodated flight). ``operators`` receive ``subcase.failed``.
    ``card_reveal_url`` and ``passenger_url`` are templates with ``{card_urn}`` and
    ``{sub_case_urn}`` (the hosted PAN reveal and the passenger app's magic link).
    ``regulation_meals`` is the per-passenger, per-day meal minimum a regulation owes a
    group (by group id; derive it from ``nexa_core.regulation.care_for_group``): it
    raises the policy's allowance or creates one where the policy has none.
    """

    airport: Airport
    policy: Policy
    hotels: Mapping[Urn, HotelInfo] = attrs.field(factory=dict)
    flights: Mapping[str, Flight] = attrs.field(factory=dict)
    capabilities: Mapping[Urn, frozenset[Channel]] = attrs.field(factory=dict)
    operators: tuple[Recipient, ...] = ()
    card_reveal_url: str | None = None
    passenger_url: str | None = None
    card_references: Mapping[Urn, str] = attrs.field(factory=dict)  # reservation → PSP ref
    regulation_meals: Mapping[str, Money] = attrs.field(factory=dict)

    def hotel(self, hotel_urn: Urn) -> HotelInfo | None:
        """Hotel data by URN (the status segment is ignored)."""
        base = without_status(hotel_urn)
        for urn, info in self.hotels.items():
            if without_status(urn) == base:
                return info
        return None

    def reveal_link(self, card_urn: Urn) -> str | None:
        """The hosted card-reveal link (never the PAN itself)."""
        if self.card_reveal_url is None:
            return None
        return self.card_reveal_url.format(card_urn=str(without_status(card_urn)))

    def passenger_link(self, sub_case_urn: Urn) -> str | None:
        """The passenger app's link for a sub-case."""
        if self.passenger_url is None:
            return None
        return self.passenger_url.format(sub_case_urn=str(without_status(sub_case_urn)))


@attrs.frozen
class CareDeps:
    """The ports care services use (wired by the composition root)."""

    store: OperationalStore
    clock: Clock
    ids: IdGenerator
    snapshots: SnapshotStore | None = None
    messages: Sequence[NotificationProvider] = ()
    renderer: MessageRenderer | None = None
    payments: PaymentProvider | None = None
    transport: Sequence[TransportVendor] = ()

    def provider_for(self, channel: Channel) -> NotificationProvider | None:
        """The first notification provider that serves ``channel``."""
        for p in self.messages:
            if channel in p.channels:
                return p
        return None

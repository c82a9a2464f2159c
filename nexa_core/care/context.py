"""What the care services run over: ports, partner bindings, links and the care owed.

* :class:`CareDeps` — the ports (store, snapshot store, message, card and ride
  providers, the renderer) and the partner gate (rate limits and breakers).
* :class:`CareInstructions` — what the policy owes one PNR group, resolved once before
  the booking saga starts (:func:`care_for`) and carried in the saga state as plain data,
  so every care step is reproducible without reading the policy again.
* :class:`CareLinks` — the passenger page and card reveal URL templates.
* :class:`MessageRenderer` — the rendering port (``nexa_adapters.render`` implements it).

Every care action takes the records its caller already holds and an idempotency key
derived from upstream ids, so it can be repeated (an engine retry, a webhook
redelivery, a coarser durable step running several actions) without a second effect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from nexa_core.care.voucher import VoucherContent
from nexa_core.errors import ConfigurationError, NotFoundError
from nexa_core.model import (
    AuditEntry,
    Channel,
    DispatchMode,
    DomainEvent,
    ManualReviewItem,
    Money,
    PassengerGroup,
    PaymentMode,
    ReviewCategory,
    ReviewState,
    StayPlan,
    Tier,
    Vehicle,
    changed_fields,
)
from nexa_core.model.case import Airport
from nexa_core.policy import MealRules, Policy, TransportRules
from nexa_core.ports import (
    Clock,
    IdGenerator,
    NotificationProvider,
    OperationalStore,
    PaymentProvider,
    SnapshotStore,
    TransportProvider,
)
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

if TYPE_CHECKING:  # the notification module builds on this one
    from nexa_core.care.notifications import NotificationType

__all__ = [
    "CallGate",
    "CareDeps",
    "CareInstructions",
    "CareLinks",
    "MessageRenderer",
    "RenderedMessage",
    "TransportVendor",
    "audit_entry",
    "care_for",
    "domain_event",
    "on_case_timeline",
    "open_review",
]

T = TypeVar("T")


@attrs.frozen
class RenderedMessage:
    """A rendered message: subject, plain text, optional HTML and attachments."""

    subject: str
    text: str
    html: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, mime type, bytes)


class MessageRenderer(Protocol):
    """Turns voucher content and notification data into localized messages (a port).

    Implemented by ``nexa_adapters.render.JinjaRenderer`` (Jinja2, Babel, segno).
    Rendering is a pure computation, so it is synchronous. A template or QR code that
    cannot be built raises :class:`~nexa_core.errors.RenderError`.
    """

    def languages(self, airline_code: str) -> frozenset[str]:
        """Locales with templates for the airline (its own or the shared defaults)."""
        ...

    def render_voucher(self, voucher: VoucherContent, language: str) -> RenderedMessage:
        """The voucher as HTML and text with the QR code PNG attached."""
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

    def qr_png(self, payload: str) -> bytes:
        """The QR code of ``payload`` as PNG bytes."""
        ...


class CallGate(Protocol):
    """Rate limit + circuit breaker around partner calls (``nexa_core.saga.PartnerGate``)."""

    async def allowed(self, partner: str) -> bool:
        """Whether the partner's breaker lets calls through now."""
        ...

    async def call(self, partner: str, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` under the partner's breaker and rate limit."""
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
class CareLinks:
    """URL templates printed on vouchers and in the passenger document.

    ``{airline}`` is the tenant code, ``{sub_case}`` and ``{card}`` the URNs; the reveal
    link opens the card partner's hosted page (Nexa never sees a PAN).
    """

    passenger_url: str | None = None
    card_reveal_url: str | None = None

    def passenger(self, airline_urn: Urn, sub_case_urn: Urn) -> str | None:
        """The passenger page of a sub-case."""
        if not self.passenger_url:
            return None
        return self.passenger_url.format(
            airline=airline_urn.id, sub_case=str(without_status(sub_case_urn))
        )

    def card_reveal(self, airline_urn: Urn, sub_case_urn: Urn, card_urn: Urn) -> str | None:
        """The hosted card reveal page (never the PAN itself)."""
        if not self.card_reveal_url:
            return None
        return self.card_reveal_url.format(
            airline=airline_urn.id,
            sub_case=str(without_status(sub_case_urn)),
            card=str(without_status(card_urn)),
        )


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
    gate: CallGate | None = None
    links: CareLinks = attrs.field(factory=CareLinks)

    def provider_for(self, channel: Channel) -> NotificationProvider | None:
        """The first notification provider that serves ``channel``."""
        for p in self.messages:
            if channel in p.channels:
                return p
        return None

    def vendor(self, name: str) -> TransportVendor:
        """The transport vendor called ``name`` (ConfigurationError when not wired)."""
        for v in self.transport:
            if v.name == name:
                return v
        raise ConfigurationError(
            f"transport vendor {name!r} is not configured (have {[v.name for v in self.transport]})",
            vendor=name,
        )

    def need_renderer(self) -> MessageRenderer:
        """The renderer, or a ConfigurationError naming what is missing."""
        if self.renderer is None:
            raise ConfigurationError(
                "care delivery needs a message renderer (nexa_adapters.render)"
            )
        return self.renderer

    async def call(self, partner: str, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        """A partner call through the gate (rate limit and breaker) when one is wired."""
        if self.gate is None:
            return await fn()
        return await self.gate.call(partner, operation, fn)

    async def allowed(self, partner: str) -> bool:
        """Whether the partner's breaker is closed (always, without a gate)."""
        return True if self.gate is None else await self.gate.allowed(partner)


# --------------------------------------------------------------------------- care owed


@attrs.frozen
class CareInstructions:
    """What the policy owes one PNR group, resolved before its booking saga starts.

    Plain data (the saga state carries it): the hotel payment modes, the meal allowance
    and its schedule, the transport rule for the group's tier, the airport facts the
    voucher prints and the channels the voucher goes out on.
    """

    payment: PaymentMode = PaymentMode.GUARANTEE
    card_token: str | None = None
    #: every mode the policy allows, preferred first; each hotel is paid with the first
    #: one it accepts (GUARANTEE before CARD when both are allowed)
    payments: tuple[PaymentMode, ...] = ()
    meal_allowance: Decimal | None = None  # per passenger and day (None: no meal card)
    currency: str = "USD"
    meal_schedule: str = "single"  # "single" load or "drops" at the meal windows
    meal_drop_times: tuple[str, ...] = ("07:00", "12:00", "19:00")
    transport: DispatchMode = DispatchMode.MANUAL
    vehicle: Vehicle = Vehicle.SHUTTLE
    minutes_before_pickup: int = 45
    shuttle_capacity: int = 24
    transport_ceiling: Money | None = None  # the tier's budget per ride
    pinned_vendor: str | None = None  # the vendor the tenant pins for this airport
    airport: str = ""  # IATA
    timezone: str = "UTC"  # the airport's IANA zone
    language: str | None = None  # the airport's default passenger language
    pickup: tuple[float, float] = (0.0, 0.0)  # the airport's coordinates
    channels: tuple[Channel, ...] = (Channel.EMAIL,)

    def transport_rules(self, tier: Tier) -> TransportRules:
        """The policy's transport rules narrowed to ``tier`` (what selection needs)."""
        return TransportRules(
            dispatch={tier: self.transport},
            vehicle={tier: self.vehicle},
            shuttle_capacity=self.shuttle_capacity,
            minutes_before_pickup=self.minutes_before_pickup,
            cost_ceiling={tier: self.transport_ceiling} if self.transport_ceiling else {},
            vendor_pinning={self.airport: self.pinned_vendor}
            if self.pinned_vendor and self.airport
            else {},
        )

    def meal_rules(self, tier: Tier) -> MealRules:
        """The policy's meal rules narrowed to ``tier``."""
        return MealRules(
            allowance={tier: self.meal_allowance} if self.meal_allowance else {},
            currency=self.currency,
            schedule=self.meal_schedule,
            drop_times=self.meal_drop_times,
        )


def care_for(
    policy: Policy,
    group: PassengerGroup,
    plan: StayPlan | None,
    airport: Airport,
    *,
    regulation_meals: Money | None = None,
) -> CareInstructions:
    """What ``policy`` owes ``group`` at ``airport``.

    ``regulation_meals`` is a per-passenger, per-day minimum a regulation owes the group
    (``nexa_core.care.regulation_meal_minimums``): it raises the policy's allowance or
    creates one where the policy has none.
    """
    tier = group.tier
    payment = (
        PaymentMode.GUARANTEE
        if PaymentMode.GUARANTEE in policy.accepted_payments
        else PaymentMode.CARD
    )
    channels = [Channel.EMAIL]
    if group.lead.contact.phone:
        channels.append(Channel.SMS)
    allowance = policy.meals.allowance.get(tier)
    currency = policy.meals.currency
    if (
        regulation_meals is not None
        and regulation_meals.currency == currency
        and (allowance is None or Decimal(allowance) < regulation_meals.amount)
    ):
        allowance = regulation_meals.amount
    rules = policy.transport
    return CareInstructions(
        payment=payment,
        card_token=policy.card_token if PaymentMode.CARD in policy.accepted_payments else None,
        payments=tuple(
            m for m in (PaymentMode.GUARANTEE, PaymentMode.CARD) if m in policy.accepted_payments
        ),
        meal_allowance=Decimal(allowance) if allowance is not None else None,
        currency=currency,
        meal_schedule=policy.meals.schedule,
        meal_drop_times=tuple(policy.meals.drop_times),
        transport=rules.dispatch_for(tier),
        vehicle=rules.vehicle_for(tier),
        minutes_before_pickup=rules.minutes_before_pickup,
        shuttle_capacity=rules.shuttle_capacity,
        transport_ceiling=rules.cost_ceiling.get(tier),
        pinned_vendor=rules.vendor_pinning.get(airport.iata) or rules.vendor_for(airport.iata, "*"),
        airport=airport.iata,
        timezone=plan.timezone if plan is not None else airport.timezone,
        language=airport.default_language,
        pickup=(airport.latitude, airport.longitude),
        channels=tuple(channels),
    )


# --------------------------------------------------------------------------- records


def audit_entry(
    deps: CareDeps,
    tenant: TenantContext,
    action: str,
    entity: Urn,
    reason: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """An audit entry by the tenant's actor (changed fields only; URN without status)."""
    b, a = changed_fields(before or {}, after or {})
    return AuditEntry(
        urn=deps.ids.new("audit"),
        airline_urn=tenant.airline_urn,
        actor=tenant.actor,
        action=action,
        entity_urn=without_status(entity),
        reason=reason,
        at=deps.clock.now(),
        correlation_urn=tenant.correlation_urn,
        before=b,
        after=a,
    )


def domain_event(
    deps: CareDeps,
    tenant: TenantContext,
    type: str,
    subject: Urn,
    data: Mapping[str, Any] | None = None,
    *,
    key: str = "",
) -> DomainEvent:
    """A typed event carrying URNs and the tenant's correlation URN (for the outbox)."""
    return DomainEvent(
        deps.ids.new("event"),
        tenant.airline_urn,
        type,
        subject,
        deps.clock.now(),
        correlation_urn=tenant.correlation_urn,
        data=dict(data or {}),
        key=key,
    )


async def on_case_timeline(
    store: OperationalStore, tenant: TenantContext, case_urn: Urn
) -> TenantContext:
    """``tenant`` under the case's correlation URN, so what a webhook changes shows on the
    case's timeline (``nexa case show``)."""
    if tenant.correlation_urn is not None:
        return tenant
    try:
        case = await store.cases.get(tenant, case_urn)
    except NotFoundError:
        return tenant  # a record whose case is gone: no timeline to join
    return tenant.with_correlation(case.correlation_urn) if case.correlation_urn else tenant


async def open_review(
    deps: CareDeps,
    store: OperationalStore,
    tenant: TenantContext,
    urn: Urn,
    case_urn: Urn,
    category: ReviewCategory,
    reason: str,
    groups: Sequence[str],
    *,
    at: datetime | None = None,
) -> ManualReviewItem:
    """The review item ``urn`` (deterministic: a repeat returns the first one), audited.

    Write it inside the caller's transaction (``store``) when it belongs to a state change.
    """
    try:
        existing: ManualReviewItem = await store.reviews.get(tenant, urn)
        return existing
    except NotFoundError:
        pass
    item = ManualReviewItem(
        urn=urn,
        airline_urn=tenant.airline_urn,
        case_urn=case_urn,
        category=category,
        reason=reason,
        affected_groups=tuple(groups),
        created_at=at or deps.clock.now(),
        state=ReviewState.OPEN,
    )
    stored: ManualReviewItem = await store.reviews.add(tenant, item)
    await store.audit.append(
        tenant,
        audit_entry(
            deps,
            tenant,
            "review.created",
            stored.urn,
            reason,
            {},
            {"category": category.value, "groups": list(groups)},
        ),
    )
    await store.outbox.append(
        tenant,
        domain_event(
            deps,
            tenant,
            "review.created",
            stored.urn,
            {"case": str(case_urn), "category": category.value},
        ),
    )
    return stored

"""Case flow: open a case, gate demand, allocate, book sub-cases, accept or decline.

:class:`CaseOrchestrator` is the high-level API over ports (store, engine, hotel
providers, coordination). Every operation takes ``principal=`` and declares its minimum
role with :func:`~nexa_core.auth.requires`; every state change commits with its typed
events (outbox) and audit entries in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from nexa_core.allocation import Solver, Violation, allocate_groups, group_demands, validate_plan
from nexa_core.auth import Principal, Role, requires, tenant_of
from nexa_core.care import care_for
from nexa_core.errors import (
    ConflictError,
    InvalidInputError,
    NoPolicyMatchError,
    NotFoundError,
)
from nexa_core.hotels import HotelSearchService, SearchResult
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    Airport,
    AllocationWave,
    Case,
    CaseStatus,
    DemandRequest,
    DemandStatus,
    DemandType,
    Flight,
    HotelOffer,
    ManualReviewItem,
    PassengerGroup,
    ReviewCategory,
    RoomType,
    StayPlan,
    SubCase,
    SubCaseStatus,
)
from nexa_core.policy import Policy, PolicyService, plan_stays, reaccommodate
from nexa_core.ports import (
    Clock,
    Coordination,
    HotelProvider,
    HotelSearch,
    IdGenerator,
    OperationalStore,
)
from nexa_core.rooming import plan_rooms
from nexa_core.saga import (
    SUBCASE_BOOKING,
    SUBCASE_ROLLBACK,
    Change,
    Recorder,
    SagaEngine,
    SagaOutcome,
    booking_input,
    digest,
)
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.tracing import current_correlation
from nexa_core.urn import Urn, new_correlation

_log = logging.getLogger("nexa.services.cases")

__all__ = [
    "AllocationOutcome",
    "CaseManifest",
    "CaseOrchestrator",
    "OpenedCase",
    "care_for",
    "tenant_of",
]


class CaseManifest(Protocol):
    """The parsed manifest's domain values (``nexa_adapters.documents.Manifest`` fits)."""

    @property
    def airline_urn(self) -> Urn: ...
    @property
    def external_event_id(self) -> str: ...
    @property
    def airport_urn(self) -> Urn: ...
    @property
    def flight(self) -> Flight: ...
    @property
    def disrupted_at(self) -> datetime: ...
    @property
    def next_departure(self) -> datetime | None: ...
    @property
    def groups(self) -> tuple[PassengerGroup, ...]: ...
    @property
    def group_departures(self) -> tuple[tuple[str, datetime], ...]: ...


@attrs.frozen
class OpenedCase:
    """The case, its sub-cases and demand; ``replayed`` when the event id was seen before."""

    case: Case
    sub_cases: tuple[SubCase, ...]
    demand: DemandRequest | None
    replayed: bool = False


@attrs.frozen
class AllocationOutcome:
    """One allocation wave: which groups got which ranked offers, and which got none.

    ``search`` is the hotel search's account (per provider: outcome, offers, kept after
    dedup), ``None`` when the caller passed the offers. ``violations`` is non-empty when
    :func:`~nexa_core.allocation.validate_plan` refused the plan: then nothing is
    assigned and an ALLOCATION_FAILED review item holds the violations.
    """

    wave: AllocationWave
    assigned: Mapping[str, tuple[HotelOffer, ...]]  # group id → primary + fallbacks
    unassigned: Mapping[str, str]  # group id → reason
    search: Mapping[str, Any] | None = None
    violations: tuple[Violation, ...] = ()


def _rooms_for(group: PassengerGroup, policy: Policy) -> int:
    try:
        return len(plan_rooms(group, policy))
    except InvalidInputError:  # rooming cannot place the group: allocation reports it
        return 1


def _unassigned_category(group: PassengerGroup, reason: str) -> ReviewCategory:
    if reason.startswith("ROOMING:"):
        return ReviewCategory.DATA_INCOMPLETE
    if len(group.tiers) > 1 and "tier" in reason.lower():
        return ReviewCategory.MIXED_TIER_GROUP
    return ReviewCategory.ALLOCATION_FAILED


@attrs.define
class CaseOrchestrator:
    """The case lifecycle over ports: the API the CLI, the HTTP API and the demo call.

    Hotels are searched through ``search`` (a :class:`~nexa_core.hotels.HotelSearchService`;
    built over ``hotel_providers`` with ``search_timeout_s`` and ``search_strategy`` when
    not given). ``solver`` replaces the default allocation solver.

    Policies: a new case runs under the version :meth:`PolicyService.resolve_case` picks
    from the tenant's stored versions, or — when ``policy`` is given (an explicit policy
    file) — under that policy, recorded as an ``AD_HOC`` version. Either way the version's
    URN is recorded on the case (``Case.policy_urn``) and every later step of the case
    uses that version.
    """

    store: OperationalStore
    engine: SagaEngine
    clock: Clock
    ids: IdGenerator
    airports: Callable[[str], Airport]
    hotel_providers: Mapping[str, HotelProvider] = attrs.field(factory=dict)
    coordination: Coordination | None = None
    policy: Policy | None = None
    policies: PolicyService | None = None
    search_timeout_s: float = 2.0
    search_strategy: str = "merge-all"
    search: HotelSearchService | None = None
    solver: Solver | None = None
    rec: Recorder = attrs.field(init=False)
    searcher: HotelSearchService = attrs.field(init=False)
    versions: PolicyService = attrs.field(init=False)
    _policy_cache: dict[tuple[str, str], Policy] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self.rec = Recorder(self.store, self.clock, self.ids)
        self.versions = self.policies or PolicyService(self.store, clock=self.clock, ids=self.ids)
        self.searcher = self.search or HotelSearchService(
            list(self.hotel_providers.values()),
            self.clock,
            timeout_s=self.search_timeout_s,
            strategy=self.search_strategy,
        )

    # ------------------------------------------------------------------ helpers

    async def _policy(self, tenant: TenantContext, case: Case) -> Policy:
        """The policy version recorded on the case (a case opened before versions were
        recorded falls back to the explicit ``policy``)."""
        if case.policy_urn is not None:
            key = (str(tenant.airline_urn), str(case.policy_urn))
            cached = self._policy_cache.get(key)
            if cached is None:  # versions are immutable: read each one once
                _, cached = await self.versions.get(tenant, case.policy_urn)
                self._policy_cache[key] = cached
            return cached
        if self.policy is None:
            raise NoPolicyMatchError(f"no policy recorded on {case.urn}", urn=str(case.urn))
        return self.policy

    async def _new_case_policy(
        self, tenant: TenantContext, airport: Airport, groups: Sequence[PassengerGroup]
    ) -> tuple[Policy, Urn]:
        """The policy a new case runs under and the URN of its stored version."""
        if self.policy is not None:
            record = await self.versions.record_ad_hoc(
                tenant, self.policy, source="explicit policy file of a new case"
            )
            return self.policy, record.urn
        resolved = await self.versions.resolve_case(
            tenant,
            tiers={t for g in groups for t in g.tiers},
            airport=airport.iata,
            country=airport.country,
        )
        assert resolved.version.urn is not None  # stored versions always have one
        return resolved.policy, resolved.version.urn

    async def _tenant_case(self, principal: Principal, case_urn: Urn) -> tuple[TenantContext, Case]:
        tenant = tenant_of(principal)
        case = await self.store.cases.get(tenant, case_urn)
        return tenant.with_correlation(case.correlation_urn or new_correlation()), case

    def _case_move(
        self, tenant: TenantContext, case: Case, to: CaseStatus, reason: str
    ) -> tuple[Change, Any, Any]:
        new = attrs.evolve(case.transition(to), updated_at=self.clock.now())
        return (
            Change("cases", new),
            self.rec.event(
                tenant,
                f"case.{to.value.lower().replace('_', '-')}",
                case.urn,
                {"from": case.status.value},
            ),
            self.rec.audit(
                tenant,
                "case.transition",
                case.urn,
                reason,
                {"status": case.status.value},
                {"status": to.value},
            ),
        )

    def _demand_decision(
        self, tenant: TenantContext, demand: DemandRequest, policy: Policy
    ) -> DemandRequest:
        gates = policy.demand
        automatic = (
            gates.auto_approve_demand
            and demand.rooms_requested <= gates.max_automatic_rooms_per_wave
        )
        if demand.type is DemandType.INCREMENTAL and gates.incremental_requires_approval:
            automatic = False
        if not automatic:
            return demand
        return attrs.evolve(
            demand.transition(DemandStatus.APPROVED),
            decided_by=tenant.actor.urn,
            reason=f"auto-approved: {demand.rooms_requested} rooms ≤ {gates.max_automatic_rooms_per_wave}",
        )

    def _demand_events(self, tenant: TenantContext, demand: DemandRequest) -> list[Any]:
        kind = "demand.approved" if demand.status is DemandStatus.APPROVED else "demand.requested"
        return [
            self.rec.event(
                tenant,
                kind,
                demand.urn,
                {
                    "case": str(demand.case_urn),
                    "rooms": demand.rooms_requested,
                    "type": demand.type.value,
                },
            )
        ]

    # ------------------------------------------------------------------ open

    @requires(Role.AIRPORT_OPERATOR)
    async def open_case(
        self,
        manifest: CaseManifest,
        *,
        principal: Principal,
        residents: frozenset[str] = frozenset(),
    ) -> OpenedCase:
        """Open a case from a manifest; a replay of its event id returns the same case.

        Groups by PNR into sub-cases, computes stay plans, and files the INITIAL demand
        (auto-approved when the policy allows and the rooms fit one automatic wave).
        """
        if manifest.airline_urn != principal.airline_urn:
            raise NotFoundError(f"{manifest.airline_urn} not found", urn=str(manifest.airline_urn))
        if not manifest.groups:
            raise InvalidInputError("the manifest has no passenger groups", field="groups")
        pnrs = [str(g.pnr_urn) for g in manifest.groups]
        if len(set(pnrs)) != len(pnrs):
            raise InvalidInputError("a PNR appears in two groups", field="groups")
        tenant = tenant_of(principal, correlation_urn=current_correlation() or new_correlation())
        existing = await self.store.cases.find(tenant, external_event_id=manifest.external_event_id)
        if existing:
            return await self._replayed(tenant, existing[0])
        airport = self.airports(manifest.airport_urn.id)
        now = self.clock.now()
        case = Case(
            urn=self.ids.new("case"),
            airline_urn=tenant.airline_urn,
            airport_urn=manifest.airport_urn,
            external_event_id=manifest.external_event_id,
            flight=manifest.flight,
            disrupted_at=manifest.disrupted_at,
            next_departure=manifest.next_departure,
            correlation_urn=tenant.correlation_urn,
            created_at=now,
            updated_at=now,
        )
        policy, policy_urn = await self._new_case_policy(tenant, airport, manifest.groups)
        case = attrs.evolve(case, policy_urn=policy_urn)
        self._policy_cache[(str(tenant.airline_urn), str(policy_urn))] = policy
        departures = dict(manifest.group_departures)
        plans = plan_stays(
            manifest.groups,
            disrupted_at=manifest.disrupted_at,
            departure=manifest.next_departure,
            timezone=airport.timezone,
            buffers=policy.buffers,
            group_departures=departures,
            residents=residents,
        )
        subs = []
        for group in manifest.groups:
            plan = plans[group.group_id]
            sub = SubCase(
                urn=self.ids.new("sub-case"),
                case_urn=case.urn,
                airline_urn=tenant.airline_urn,
                group=group,
                stay_plan=plan,
                next_departure=departures.get(group.group_id, manifest.next_departure),
                updated_at=now,
            )
            if plan.local_resident:
                sub = sub.transition(SubCaseStatus.RESOLVED)
            subs.append(sub)
        rooms = sum(_rooms_for(s.group, policy) for s in subs if s.status is SubCaseStatus.PENDING)
        demand = None
        changes = [Change("cases", case, op="add")] + [
            Change("sub_cases", s, op="add") for s in subs
        ]
        events = [
            self.rec.event(
                tenant,
                "case.created",
                case.urn,
                {
                    "event_id": case.external_event_id,
                    "groups": len(subs),
                    "policy": str(policy_urn),
                },
            )
        ]
        events += [
            self.rec.event(
                tenant,
                "subcase.created",
                s.urn,
                {"case": str(case.urn), "pnr": str(s.group.pnr_urn), "status": s.status.value},
            )
            for s in subs
        ]
        if rooms:
            demand = DemandRequest(
                self.ids.new("demand"),
                tenant.airline_urn,
                case.urn,
                DemandType.INITIAL,
                rooms,
                requested_at=now,
            )
            demand = self._demand_decision(tenant, demand, policy)
            changes.append(Change("demands", demand, op="add"))
            events += self._demand_events(tenant, demand)
        audits = [
            self.rec.audit(
                tenant,
                "case.opened",
                case.urn,
                f"manifest {case.external_event_id}",
                {},
                {"status": case.status.value, "policy": str(policy_urn)},
            )
        ]
        async with self.store.transaction() as tx:
            record = await tx.idempotency.remember(
                tenant,
                "case",
                idempotency_key("case", manifest.external_event_id),
                {"case": str(case.urn)},
            )
            if record.replayed:
                raise ConflictError(
                    "the event was opened concurrently", event=manifest.external_event_id
                )
            written = await Recorder(tx, self.clock, self.ids).commit(
                tenant, changes, events, audits
            )
        stored_subs = tuple(w for w in written if isinstance(w, SubCase))
        stored_demand = next((w for w in written if isinstance(w, DemandRequest)), None)
        return OpenedCase(written[0], stored_subs, stored_demand)

    async def _replayed(self, tenant: TenantContext, case: Case) -> OpenedCase:
        subs = await self.store.sub_cases.find(tenant, case_urn=case.urn)
        demands = await self.store.demands.find(tenant, case_urn=case.urn, type=DemandType.INITIAL)
        return OpenedCase(case, tuple(subs), demands[0] if demands else None, replayed=True)

    # ------------------------------------------------------------------ demand gate

    @requires(Role.AIRPORT_OPERATOR)
    async def request_demand(
        self, case_urn: Urn, rooms: int, *, principal: Principal, reason: str = ""
    ) -> DemandRequest:
        """File an INCREMENTAL demand (gated like the initial one); existing bookings stay."""
        if rooms < 1:
            raise InvalidInputError("rooms must be at least 1", field="rooms")
        tenant, case = await self._tenant_case(principal, case_urn)
        policy = await self._policy(tenant, case)
        demand = DemandRequest(
            self.ids.new("demand"),
            tenant.airline_urn,
            case.urn,
            DemandType.INCREMENTAL,
            rooms,
            reason=reason or None,
            requested_at=self.clock.now(),
        )
        demand = self._demand_decision(tenant, demand, policy)
        out = await self.rec.commit(
            tenant,
            [Change("demands", demand, op="add")],
            self._demand_events(tenant, demand),
            [
                self.rec.audit(
                    tenant, "demand.requested", demand.urn, reason or "incremental demand"
                )
            ],
        )
        return out[0]  # type: ignore[no-any-return]

    async def _decide(
        self, principal: Principal, demand_urn: Urn, to: DemandStatus, reason: str
    ) -> DemandRequest:
        if not reason.strip():
            raise InvalidInputError("a decision needs a reason", field="reason")
        tenant = tenant_of(principal)
        demand = await self.store.demands.get(tenant, demand_urn)
        decided = attrs.evolve(demand.transition(to), decided_by=principal.subject, reason=reason)
        action = "demand.approved" if to is DemandStatus.APPROVED else "demand.rejected"
        out = await self.rec.commit(
            tenant,
            [Change("demands", decided)],
            [
                self.rec.event(
                    tenant, action, demand.urn, {"case": str(demand.case_urn), "reason": reason}
                )
            ],
            [
                self.rec.audit(
                    tenant,
                    action,
                    demand.urn,
                    reason,
                    {"status": demand.status.value},
                    {"status": to.value},
                )
            ],
        )
        return out[0]  # type: ignore[no-any-return]

    @requires(Role.OPS_SUPERVISOR)
    async def approve_demand(
        self, demand_urn: Urn, *, principal: Principal, reason: str
    ) -> DemandRequest:
        """A supervisor approves a waiting demand (with a reason)."""
        return await self._decide(principal, demand_urn, DemandStatus.APPROVED, reason)

    @requires(Role.OPS_SUPERVISOR)
    async def reject_demand(
        self, demand_urn: Urn, *, principal: Principal, reason: str
    ) -> DemandRequest:
        """A supervisor rejects a waiting demand (with a reason)."""
        return await self._decide(principal, demand_urn, DemandStatus.REJECTED, reason)

    # ------------------------------------------------------------------ allocation

    async def _search(
        self, tenant: TenantContext, airport: Airport, plans: Sequence[StayPlan], rooms: int
    ) -> SearchResult:
        check_in = min(p.check_in for p in plans)
        check_out = max(p.check_out for p in plans)
        ci, co = check_in.date(), check_out.date()
        if co <= ci:
            co = ci + timedelta(days=1)
        request = HotelSearch(tenant.airline_urn, airport, ci, co, max(1, rooms))
        return await self.searcher.search(tenant, request)

    @requires(Role.AIRPORT_OPERATOR)
    async def run_allocation(
        self, case_urn: Urn, *, principal: Principal, offers: Sequence[HotelOffer] | None = None
    ) -> AllocationOutcome:
        """Allocate the PENDING sub-cases of an approved demand (a new wave).

        Sub-cases that already hold a reservation are never touched (INCREMENTAL demand
        never disturbs existing reservations). ``offers`` skips the hotel search.
        """
        tenant, case = await self._tenant_case(principal, case_urn)
        demands = await self.store.demands.find(
            tenant, case_urn=case.urn, status=DemandStatus.APPROVED
        )
        if not demands:
            raise ConflictError(f"{case.urn} has no approved demand waiting", urn=str(case.urn))
        demand = demands[0]
        policy = await self._policy(tenant, case)
        airport = self.airports(case.airport_urn.id)
        subs = [
            s
            for s in await self.store.sub_cases.find(
                tenant, case_urn=case.urn, status=SubCaseStatus.PENDING
            )
            if s.reservation_urn is None
        ]
        if not subs:
            raise ConflictError(
                f"{case.urn} has no pending sub-case to allocate", urn=str(case.urn)
            )
        plans = [s.stay_plan for s in subs if s.stay_plan is not None]
        rooms = sum(_rooms_for(s.group, policy) for s in subs)
        search: SearchResult | None = None
        if offers is not None:
            found = list(offers)
        else:
            search = await self._search(tenant, airport, plans, rooms)
            found = list(search.offers)
        search_doc = search.summary(self.searcher.timeout_s) if search is not None else None
        nights = max((p.nights for p in plans), default=1) or 1
        groups = [s.group for s in subs]
        plan = (
            allocate_groups(groups, found, policy, airport, nights=nights, solver=self.solver)
            if found
            else None
        )
        violations: list[Violation] = []
        if plan is not None:  # an independent re-check before any hold or booking
            violations = validate_plan(
                plan, group_demands(groups, policy)[0], found, policy, airport
            )
        by_urn = {str(o.urn): o for o in found}
        assigned: dict[str, tuple[HotelOffer, ...]] = {}
        rooms_of: dict[str, list[str]] = {}
        unassigned: dict[str, str] = {}
        if violations:
            refused = f"allocation plan refused: {len(violations)} violation(s)"
            unassigned = {s.group.group_id: refused for s in subs}
        elif plan is not None:
            ranked: dict[str, list[str]] = {}
            for c in sorted(plan.candidates, key=lambda c: (c.rank is None, c.rank or 0)):
                if c.eligible:
                    ranked.setdefault(c.tier.value, []).append(str(c.offer_urn))
            for a in plan.assignments:
                primary = str(a.offer_urn)
                fallbacks = [u for u in ranked.get(a.tier.value, []) if u != primary][:3]
                assigned[a.group_id] = tuple(
                    by_urn[u] for u in [primary, *fallbacks] if u in by_urn
                )
                rooms_of[a.group_id] = [r.room_type.value for r in a.rooms]
            for u in plan.unassigned:
                unassigned[u.group_id] = u.reason
        else:
            unassigned = {s.group.group_id: "no hotel offers found" for s in subs}
        existing_waves = await self.store.waves.find(tenant, case_urn=case.urn)
        wave = AllocationWave(
            self.ids.new("wave"),
            tenant.airline_urn,
            case.urn,
            demand.urn,
            len(existing_waves) + 1,
            plan={
                "assigned": {
                    g: [unstructure(o) for o in offers_] for g, offers_ in assigned.items()
                },
                "rooms": rooms_of,
                "unassigned": unassigned,
                "totals": unstructure(plan.totals) if plan is not None else {},
                "solver": plan.solver if plan is not None else None,
                "search": search_doc,
                "violations": [unstructure(v) for v in violations],
            },
            created_at=self.clock.now(),
        )
        changes: list[Change] = [Change("waves", wave, op="add")]
        events = [
            self.rec.event(
                tenant,
                "allocation.completed",
                wave.urn,
                {"case": str(case.urn), "assigned": len(assigned), "unassigned": len(unassigned)},
            )
        ]
        audits = [self.rec.audit(tenant, "allocation.completed", wave.urn, f"wave {wave.sequence}")]
        if case.status is not CaseStatus.ALLOCATING:
            target = CaseStatus.ALLOCATING
            change, ev, au = self._case_move(tenant, case, target, "allocation started")
            changes.append(change)
            events.append(ev)
            audits.append(au)
        if violations:
            changes.append(self._refusal(tenant, case, wave, subs, violations, events))
        # unassigned groups → manual review (ALLOCATION_FAILED)
        for sub in subs:
            reason = unassigned.get(sub.group.group_id)
            if reason is None:
                continue
            if violations:  # one review item holds the refused plan
                changes.append(
                    Change(
                        "sub_cases",
                        attrs.evolve(
                            sub.transition(SubCaseStatus.MANUAL_REVIEW),
                            updated_at=self.clock.now(),
                        ),
                    )
                )
                continue
            item = ManualReviewItem(
                Urn("review", f"rv-{digest(wave.urn, sub.group.group_id)}"),
                tenant.airline_urn,
                case.urn,
                _unassigned_category(sub.group, reason),
                f"no hotel for group {sub.group.group_id}: {reason}",
                affected_groups=(sub.group.group_id,),
                created_at=self.clock.now(),
            )
            changes.append(Change("reviews", item, op="add"))
            changes.append(
                Change(
                    "sub_cases",
                    attrs.evolve(
                        sub.transition(SubCaseStatus.MANUAL_REVIEW), updated_at=self.clock.now()
                    ),
                )
            )
            events.append(
                self.rec.event(
                    tenant,
                    "review.created",
                    item.urn,
                    {"sub_case": str(sub.urn), "category": item.category.value},
                )
            )
        written = await self.rec.commit(tenant, changes, events, audits)
        if violations:
            _log.error(
                "allocation plan for %s refused (correlation %s): %s",
                case.urn,
                tenant.correlation_urn,
                "; ".join(f"{v.rule}: {v.message}" for v in violations),
                extra={
                    "case_urn": str(case.urn),
                    "wave_urn": str(wave.urn),
                    "correlation_urn": str(tenant.correlation_urn),
                    "violations": len(violations),
                },
            )
        elif self.coordination is not None:
            for offer in found:
                await self.coordination.holds.set_inventory(
                    tenant, offer.urn, offer.total_rooms, ttl=timedelta(hours=6)
                )
        return AllocationOutcome(written[0], assigned, unassigned, search_doc, tuple(violations))

    def _refusal(
        self,
        tenant: TenantContext,
        case: Case,
        wave: AllocationWave,
        subs: Sequence[SubCase],
        violations: Sequence[Violation],
        events: list[Any],
    ) -> Change:
        """The ALLOCATION_FAILED review item of a plan :func:`validate_plan` refused."""
        shown = "; ".join(f"{v.rule}: {v.message}" for v in violations[:5])
        more = f" (+{len(violations) - 5} more)" if len(violations) > 5 else ""
        item = ManualReviewItem(
            Urn("review", f"rv-{digest(wave.urn, 'refused')}"),
            tenant.airline_urn,
            case.urn,
            ReviewCategory.ALLOCATION_FAILED,
            f"allocation plan refused by the validator: {shown}{more}",
            affected_groups=tuple(sorted(s.group.group_id for s in subs)),
            created_at=self.clock.now(),
        )
        events.append(
            self.rec.event(
                tenant,
                "review.created",
                item.urn,
                {
                    "wave": str(wave.urn),
                    "category": item.category.value,
                    "violations": len(violations),
                },
            )
        )
        return Change("reviews", item, op="add")

    # ------------------------------------------------------------------ booking

    @requires(Role.AIRPORT_OPERATOR)
    async def book_sub_cases(
        self, case_urn: Urn, wave_urn: Urn, *, principal: Principal
    ) -> list[str]:
        """Start one booking saga per assigned PENDING sub-case of the wave; workflow ids."""
        tenant, case = await self._tenant_case(principal, case_urn)
        wave = await self.store.waves.get(tenant, wave_urn)
        policy = await self._policy(tenant, case)
        airport = self.airports(case.airport_urn.id)
        if case.status is CaseStatus.ALLOCATING or case.status is CaseStatus.PARTIAL:
            change, ev, au = self._case_move(
                tenant, case, CaseStatus.BOOKING, f"booking wave {wave.sequence}"
            )
            await self.rec.commit(tenant, [change], [ev], [au])
        assigned: Mapping[str, list[Any]] = wave.plan.get("assigned", {})
        rooms_of: Mapping[str, list[str]] = wave.plan.get("rooms", {})
        started: list[tuple[str, str, dict[str, Any]]] = []
        for sub in await self.store.sub_cases.find(tenant, case_urn=case.urn):
            gid = sub.group.group_id
            if gid not in assigned or sub.status not in (
                SubCaseStatus.PENDING,
                SubCaseStatus.MANUAL_REVIEW,
            ):
                continue
            offers = [structure(o, HotelOffer) for o in assigned[gid]]
            initial = booking_input(
                sub,
                wave_urn=wave.urn,
                candidates=offers,
                rooms=[RoomType(r) for r in rooms_of.get(gid, ["DBL"])],
                care=care_for(policy, sub.group, sub.stay_plan, airport),
                correlation_urn=tenant.correlation_urn,
            )
            started.append((SUBCASE_BOOKING.id, f"{sub.urn}/{wave.urn.id}", initial))
        return [
            await self.engine.start(saga, subject, initial) for saga, subject, initial in started
        ]

    @requires(Role.AIRPORT_OPERATOR)
    async def wait(
        self, workflow_ids: Sequence[str], *, principal: Principal, wait_s: float | None = None
    ) -> list[SagaOutcome]:
        """Outcomes of started sagas (blocks until they finish)."""
        return [await self.engine.result(w, wait_s=wait_s) for w in workflow_ids]

    @requires(Role.AIRPORT_OPERATOR)
    async def settle(self, case_urn: Urn, *, principal: Principal) -> Case:
        """After the sagas: BOOKING → CONFIRMED (all placed) or PARTIAL; demand fulfilled."""
        tenant, case = await self._tenant_case(principal, case_urn)
        subs = await self.store.sub_cases.find(tenant, case_urn=case.urn)
        done = {SubCaseStatus.OFFER_READY, SubCaseStatus.RESOLVED}
        busy = {SubCaseStatus.PROCESSING, SubCaseStatus.COMPENSATING}
        if any(s.status in busy for s in subs) or case.status is not CaseStatus.BOOKING:
            return case
        target = CaseStatus.CONFIRMED if all(s.status in done for s in subs) else CaseStatus.PARTIAL
        change, ev, au = self._case_move(tenant, case, target, "booking sagas finished")
        changes = [change]
        for d in await self.store.demands.find(
            tenant, case_urn=case.urn, status=DemandStatus.APPROVED
        ):
            status = (
                DemandStatus.FULFILLED if target is CaseStatus.CONFIRMED else DemandStatus.PARTIAL
            )
            changes.append(Change("demands", d.transition(status)))
        out = await self.rec.commit(tenant, changes, [ev], [au])
        return out[0]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ passenger answer

    @requires(Role.AIRPORT_OPERATOR)
    async def accept(self, sub_case_urn: Urn, *, principal: Principal) -> SubCase:
        """The passenger accepts the offer: OFFER_READY → RESOLVED."""
        tenant = tenant_of(principal)
        sub = await self.store.sub_cases.get(tenant, sub_case_urn)
        new = attrs.evolve(sub.transition(SubCaseStatus.RESOLVED), updated_at=self.clock.now())
        out = await self.rec.commit(
            tenant,
            [Change("sub_cases", new)],
            [self.rec.event(tenant, "subcase.resolved", sub.urn, {"case": str(sub.case_urn)})],
            [
                self.rec.audit(
                    tenant,
                    "subcase.accepted",
                    sub.urn,
                    "passenger accepted",
                    {"status": sub.status.value},
                    {"status": new.status.value},
                )
            ],
        )
        return out[0]  # type: ignore[no-any-return]

    @requires(Role.AIRPORT_OPERATOR)
    async def decline(
        self, sub_case_urn: Urn, *, principal: Principal, reason: str = "passenger declined"
    ) -> SagaOutcome:
        """Passenger decline or vendor rollback: compensations in reverse, back to PENDING."""
        tenant = tenant_of(principal)
        sub = await self.store.sub_cases.get(tenant, sub_case_urn)
        if sub.status not in (SubCaseStatus.OFFER_READY, SubCaseStatus.PROCESSING):
            raise ConflictError(
                f"{sub.urn} has no offer to roll back ({sub.status.value})", urn=str(sub.urn)
            )
        initial = {
            "airline": str(tenant.airline_urn),
            "sub_case": str(sub.urn),
            "case": str(sub.case_urn),
            "reason": reason,
        }
        subject = f"{sub.urn}/{sub.reservation_urn.id if sub.reservation_urn else 'none'}"
        return await self.engine.run(SUBCASE_ROLLBACK.id, subject, initial)

    # ------------------------------------------------------------------ re-accommodation

    @requires(Role.AIRPORT_OPERATOR)
    async def reaccommodate(
        self, case_urn: Urn, new_departure: datetime, *, principal: Principal
    ) -> list[SubCase]:
        """A new departure: recompute stay plans; changed groups with an offer roll back
        (extend, shorten or rebook), groups that no longer need a hotel resolve."""
        tenant, case = await self._tenant_case(principal, case_urn)
        policy = await self._policy(tenant, case)
        airport = self.airports(case.airport_urn.id)
        subs = await self.store.sub_cases.find(tenant, case_urn=case.urn)
        previous = {s.group.group_id: s.stay_plan for s in subs if s.stay_plan is not None}
        result = reaccommodate(
            previous,
            [s.group for s in subs],
            disrupted_at=case.disrupted_at,
            departure=new_departure,
            timezone=airport.timezone,
            buffers=policy.buffers,
        )
        changed = set(result.changed_groups)
        updated_case = attrs.evolve(case, next_departure=new_departure, updated_at=self.clock.now())
        changes = [Change("cases", updated_case)]
        for s in subs:
            if s.group.group_id in changed:
                changes.append(
                    Change(
                        "sub_cases",
                        attrs.evolve(
                            s,
                            stay_plan=result.plans[s.group.group_id],
                            next_departure=new_departure,
                        ),
                    )
                )
        await self.rec.commit(
            tenant,
            changes,
            [
                self.rec.event(
                    tenant,
                    "case.reaccommodated",
                    case.urn,
                    {"departure": new_departure.isoformat(), "changed": sorted(changed)},
                )
            ],
            [
                self.rec.audit(
                    tenant,
                    "case.reaccommodated",
                    case.urn,
                    "new departure",
                    {"next_departure": str(case.next_departure)},
                    {"next_departure": str(new_departure)},
                )
            ],
        )
        out = []
        for s in await self.store.sub_cases.find(tenant, case_urn=case.urn):
            if s.group.group_id not in changed:
                continue
            if s.status is SubCaseStatus.OFFER_READY:
                await self.decline(
                    s.urn, principal=principal, reason="re-accommodation: new departure"
                )
                s = await self.store.sub_cases.get(tenant, s.urn)
            out.append(s)
        return out

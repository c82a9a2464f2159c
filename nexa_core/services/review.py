"""Manual review: claim (one operator at a time), triage, rebook, relax, split, resolve.

Every operation is audited. Each one that changes the item or its sub-cases runs under
:func:`~nexa_core.locking.operator_lock` on the review item and the sub-cases of its
groups (fencing tokens checked right before the write), so two operators never change
them at once. A claim is also durable (the item's CLAIMED state, ``assigned_to``,
``claimed_at``): another operator who claims or acts on it gets :class:`LockHeldError`
"… is locked by <user> since <time>"; acting without a claim is a :class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs

from nexa_core.auth import Principal, Role, requires
from nexa_core.errors import ConflictError, InvalidInputError, NotFoundError
from nexa_core.locking import OperatorLease, locked_by, operator_lock
from nexa_core.model import (
    CaseStatus,
    HotelOffer,
    ManualReviewItem,
    PassengerGroup,
    ReviewState,
    RoomType,
    SubCase,
    SubCaseStatus,
)
from nexa_core.ports import AuditQuery, Coordination, ExceptionTriage
from nexa_core.saga import SUBCASE_BOOKING, Change, booking_input
from nexa_core.serialization import structure
from nexa_core.services.cases import CaseOrchestrator, care_for, tenant_of
from nexa_core.services.triage import RuleBasedTriage, TriageTools
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["ReviewService", "read_only_tools"]


def read_only_tools(orchestrator: CaseOrchestrator) -> TriageTools:
    """Query callables over the store (reads only) for a triage adapter."""
    store = orchestrator.store

    async def sub_cases(tenant: TenantContext, case_urn: Urn) -> Sequence[SubCase]:
        return await store.sub_cases.find(tenant, case_urn=case_urn)

    async def candidates(
        tenant: TenantContext, case_urn: Urn
    ) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        waves = await store.waves.find(tenant, case_urn=case_urn)
        if not waves:
            return {}
        latest = max(waves, key=lambda w: w.sequence)
        assigned: Mapping[str, Sequence[Mapping[str, Any]]] = latest.plan.get("assigned", {})
        return assigned

    return TriageTools(sub_cases=sub_cases, candidates=candidates)


@attrs.define
class ReviewService:
    """Operator actions on manual-review items."""

    orchestrator: CaseOrchestrator
    coordination: Coordination
    triage: ExceptionTriage | None = None

    def __attrs_post_init__(self) -> None:
        if self.triage is None:
            self.triage = RuleBasedTriage(read_only_tools(self.orchestrator))

    @property
    def _store(self) -> Any:
        return self.orchestrator.store

    @staticmethod
    def _not_someone_elses(item: ManualReviewItem, principal: Principal) -> None:
        if item.state is ReviewState.CLAIMED and item.assigned_to != principal.subject:
            raise locked_by(item.urn, str(item.assigned_to), item.claimed_at)

    async def _claimed(
        self, tenant: TenantContext, principal: Principal, review_urn: Urn
    ) -> ManualReviewItem:
        item: ManualReviewItem = await self._store.reviews.get(tenant, review_urn)
        self._not_someone_elses(item, principal)
        if item.state is not ReviewState.CLAIMED:
            raise ConflictError(f"claim {review_urn} first", urn=str(review_urn))
        return item

    @asynccontextmanager
    async def _locked(
        self,
        tenant: TenantContext,
        principal: Principal,
        item: ManualReviewItem,
        *more: Urn,
    ) -> AsyncIterator[OperatorLease]:
        """The operator lock on the item and the sub-cases it is about (plus ``more``)."""
        groups = set(item.affected_groups)
        subs = await self._store.sub_cases.find(tenant, case_urn=item.case_urn) if groups else []
        urns = [item.urn, *(s.urn for s in subs if s.group.group_id in groups), *more]
        async with operator_lock(self.coordination.locks, tenant, urns, principal) as lease:
            yield lease

    async def _audit(
        self,
        tenant: TenantContext,
        action: str,
        urn: Urn,
        reason: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        changes: Sequence[Change] = (),
        event: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> list[Any]:
        rec = self.orchestrator.rec
        events = [rec.event(tenant, event, urn, data)] if event else []
        return await rec.commit(
            tenant, changes, events, [rec.audit(tenant, action, urn, reason, before, after)]
        )

    @requires(Role.AIRPORT_OPERATOR)
    async def claim(self, review_urn: Urn, *, principal: Principal) -> ManualReviewItem:
        """Take the item (one operator at a time; LockHeldError for a second one)."""
        tenant = tenant_of(principal)
        item: ManualReviewItem = await self._store.reviews.get(tenant, review_urn)
        self._not_someone_elses(item, principal)
        async with self._locked(tenant, principal, item) as lease:
            item = await self._store.reviews.get(tenant, review_urn)  # again, under the lock
            self._not_someone_elses(item, principal)
            if item.state is ReviewState.CLAIMED:
                return item
            claimed = attrs.evolve(
                item.transition(ReviewState.CLAIMED),
                assigned_to=principal.subject,
                claimed_at=self.orchestrator.clock.now(),
            )
            await lease.check()
            out = await self._audit(
                tenant,
                "review.claimed",
                review_urn,
                "claimed",
                {"state": item.state.value},
                {"state": "CLAIMED", "assigned_to": str(principal.subject)},
                [Change("reviews", claimed)],
                "review.claimed",
            )
        return out[0]  # type: ignore[no-any-return]

    @requires(Role.AIRPORT_OPERATOR)
    async def unclaim(self, review_urn: Urn, *, principal: Principal) -> ManualReviewItem:
        """Give the item back to the queue."""
        tenant = tenant_of(principal)
        item = await self._claimed(tenant, principal, review_urn)
        async with self._locked(tenant, principal, item) as lease:
            item = await self._claimed(tenant, principal, review_urn)
            opened = attrs.evolve(
                item.transition(ReviewState.OPEN), assigned_to=None, claimed_at=None
            )
            await lease.check()
            out = await self._audit(
                tenant,
                "review.unclaimed",
                review_urn,
                "released",
                {"state": "CLAIMED"},
                {"state": "OPEN"},
                [Change("reviews", opened)],
            )
        return out[0]  # type: ignore[no-any-return]

    @requires(Role.AIRPORT_OPERATOR)
    async def recommend(self, review_urn: Urn, *, principal: Principal) -> ManualReviewItem:
        """Ask the (read-only) triage for ≤ 3 ranked recommendations and keep them."""
        tenant = tenant_of(principal)
        item: ManualReviewItem = await self._store.reviews.get(tenant, review_urn)
        assert self.triage is not None
        recs = tuple(await self.triage.recommend(tenant, item, {}))[:3]
        updated = attrs.evolve(item, recommendations=recs)
        out = await self._audit(
            tenant,
            "review.triaged",
            review_urn,
            f"{len(recs)} recommendation(s)",
            changes=[Change("reviews", updated)],
        )
        return out[0]  # type: ignore[no-any-return]

    @requires(Role.AIRPORT_OPERATOR)
    async def rebook(
        self,
        review_urn: Urn,
        sub_case_urn: Urn,
        offers: Sequence[HotelOffer],
        *,
        principal: Principal,
    ) -> str:
        """Start a new booking saga for the sub-case with the chosen offer(s); workflow id."""
        tenant = tenant_of(principal)
        item = await self._claimed(tenant, principal, review_urn)
        async with self._locked(tenant, principal, item, sub_case_urn) as lease:
            item = await self._claimed(tenant, principal, review_urn)  # under the lock
            orch = self.orchestrator
            sub: SubCase = await self._store.sub_cases.get(tenant, sub_case_urn)
            if sub.case_urn != item.case_urn or sub.status not in (
                SubCaseStatus.MANUAL_REVIEW,
                SubCaseStatus.PENDING,
            ):
                raise ConflictError(
                    f"{sub.urn} cannot be rebooked now ({sub.status.value})", urn=str(sub.urn)
                )
            if not offers:
                raise InvalidInputError("choose at least one offer", field="offers")
            case = await self._store.cases.get(tenant, sub.case_urn)
            policy = await orch._policy(tenant, case)
            airport = orch.airports(case.airport_urn.id)
            previous = await self._store.audit.query(
                tenant, AuditQuery(entity_urn=review_urn, action="review.rebook")
            )
            seq = len(previous) + 1
            wave = Urn("wave", f"{review_urn.id}.rebook{seq}")
            waves = await self._store.waves.find(tenant, case_urn=case.urn)
            rooms_of: Mapping[str, list[str]] = (
                max(waves, key=lambda w: w.sequence).plan.get("rooms", {}) if waves else {}
            )
            initial = booking_input(
                sub,
                wave_urn=wave,
                candidates=offers,
                rooms=[RoomType(r) for r in rooms_of.get(sub.group.group_id, ["DBL"])],
                care=care_for(policy, sub.group, sub.stay_plan, airport),
                correlation_urn=case.correlation_urn,
            )
            await lease.check()
            await self._audit(
                tenant,
                "review.rebook",
                review_urn,
                f"rebook {sub.group.group_id} at {offers[0].hotel_urn}",
                {},
                {"hotel": str(offers[0].hotel_urn), "attempt": seq},
            )
            if case.status is CaseStatus.MANUAL_REVIEW:
                change, ev, au = orch._case_move(
                    tenant, case, CaseStatus.BOOKING, "operator rebook"
                )
                await orch.rec.commit(tenant, [change], [ev], [au])
            await lease.check()
            return await orch.engine.start(SUBCASE_BOOKING.id, f"{sub.urn}/{wave.id}", initial)

    @requires(Role.AIRPORT_OPERATOR)
    async def rebook_at(
        self,
        review_urn: Urn,
        sub_case_urn: Urn,
        offer_urns: Sequence[Urn],
        *,
        principal: Principal,
    ) -> str:
        """:meth:`rebook` with offers named by URN: any offer a wave of the case kept
        (newest wave first), in the order given (the first is tried first)."""
        if not offer_urns:
            raise InvalidInputError("choose at least one offer", field="offers")
        tenant = tenant_of(principal)
        item: ManualReviewItem = await self._store.reviews.get(tenant, review_urn)
        known: dict[str, HotelOffer] = {}
        waves = await self._store.waves.find(tenant, case_urn=item.case_urn)
        for wave in sorted(waves, key=lambda w: -w.sequence):
            for offers in wave.plan.get("assigned", {}).values():
                for raw in offers:
                    offer = structure(raw, HotelOffer)
                    known.setdefault(str(offer.urn.base), offer)
        chosen = []
        for urn in offer_urns:
            found = known.get(str(urn.base))
            if found is None:
                raise NotFoundError(
                    f"{urn} is not among the {len(known)} offers the case's waves kept",
                    urn=str(urn),
                )
            chosen.append(found)
        return await self.rebook(review_urn, sub_case_urn, chosen, principal=principal)

    @requires(Role.OPS_SUPERVISOR)
    async def relax_policy(
        self, review_urn: Urn, relaxations: Mapping[str, str], *, principal: Principal, reason: str
    ) -> ManualReviewItem:
        """Record a supervisor's policy relaxation for this item (audited)."""
        if not relaxations or not reason.strip():
            raise InvalidInputError("relaxations and a reason are required", field="relaxations")
        tenant = tenant_of(principal)
        item = await self._claimed(tenant, principal, review_urn)
        async with self._locked(tenant, principal, item) as lease:
            item = await self._claimed(tenant, principal, review_urn)  # under the lock
            await lease.check()
            await self._audit(
                tenant,
                "review.policy-relaxed",
                review_urn,
                reason,
                {},
                dict(relaxations),
                event="review.policy-relaxed",
                data=dict(relaxations),
            )
            return item

    @requires(Role.AIRPORT_OPERATOR)
    async def split_group(
        self,
        review_urn: Urn,
        sub_case_urn: Urn,
        parts: Sequence[Sequence[Urn]],
        *,
        principal: Principal,
    ) -> list[SubCase]:
        """Split a group into new PENDING sub-cases (each passenger in exactly one part)."""
        tenant = tenant_of(principal)
        item = await self._claimed(tenant, principal, review_urn)
        async with self._locked(tenant, principal, item, sub_case_urn) as lease:
            item = await self._claimed(tenant, principal, review_urn)  # under the lock
            sub: SubCase = await self._store.sub_cases.get(tenant, sub_case_urn)
            if sub.case_urn != item.case_urn:
                raise InvalidInputError(
                    f"{sub.urn} is not part of {item.case_urn}", field="sub_case"
                )
            by_urn = {str(p.urn): p for p in sub.group.passengers}
            flat = [str(u) for part in parts for u in part]
            if len(parts) < 2 or any(not part for part in parts) or sorted(flat) != sorted(by_urn):
                raise InvalidInputError(
                    "parts must split every passenger of the group exactly once", field="parts"
                )
            orch = self.orchestrator
            new_subs = [
                SubCase(
                    urn=orch.ids.new("sub-case"),
                    case_urn=sub.case_urn,
                    airline_urn=sub.airline_urn,
                    group=PassengerGroup(
                        f"{sub.group.group_id}-{k + 1}",
                        sub.group.pnr_urn,
                        tuple(by_urn[str(u)] for u in part),
                    ),
                    stay_plan=sub.stay_plan,
                    next_departure=sub.next_departure,
                    updated_at=orch.clock.now(),
                )
                for k, part in enumerate(parts)
            ]
            closed = (
                sub.transition(SubCaseStatus.RESOLVED)
                if sub.status is SubCaseStatus.MANUAL_REVIEW
                else sub.transition(SubCaseStatus.MANUAL_REVIEW).transition(SubCaseStatus.RESOLVED)
            )
            changes = [Change("sub_cases", closed)] + [
                Change("sub_cases", s, op="add") for s in new_subs
            ]
            await lease.check()
            out = await self._audit(
                tenant,
                "review.group-split",
                sub.urn,
                f"split into {len(parts)}",
                {"group": sub.group.group_id},
                {"groups": [s.group.group_id for s in new_subs]},
                changes,
                "subcase.split",
                {"into": [str(s.urn) for s in new_subs]},
            )
            return list(out[1:])

    @requires(Role.AIRPORT_OPERATOR)
    async def resolve(
        self, review_urn: Urn, resolution: str, *, principal: Principal
    ) -> ManualReviewItem:
        """Close the item; when no open item is left the case leaves MANUAL_REVIEW."""
        if not resolution.strip():
            raise InvalidInputError("a resolution is required", field="resolution")
        tenant = tenant_of(principal)
        item = await self._claimed(tenant, principal, review_urn)
        async with self._locked(tenant, principal, item) as lease:
            item = await self._claimed(tenant, principal, review_urn)  # under the lock
            done = attrs.evolve(item.transition(ReviewState.RESOLVED), resolution=resolution)
            changes = [Change("reviews", done)]
            orch = self.orchestrator
            case = await self._store.cases.get(tenant, item.case_urn)
            others = [
                r
                for r in await self._store.reviews.find(tenant, case_urn=case.urn)
                if r.urn != item.urn and r.state is not ReviewState.RESOLVED
            ]
            extra_events = []
            subs = await self._store.sub_cases.find(tenant, case_urn=case.urn)
            busy = {SubCaseStatus.PROCESSING, SubCaseStatus.COMPENSATING}
            settles = case.status in (CaseStatus.MANUAL_REVIEW, CaseStatus.BOOKING)
            if settles and not others and not any(s.status in busy for s in subs):
                ok = {SubCaseStatus.OFFER_READY, SubCaseStatus.RESOLVED}
                target = (
                    CaseStatus.CONFIRMED
                    if all(s.status in ok for s in subs)
                    else CaseStatus.PARTIAL
                )
                change, ev, _ = orch._case_move(tenant, case, target, "manual review resolved")
                changes.append(change)
                extra_events.append(ev)
            await lease.check()
            out = await self._audit(
                tenant,
                "review.resolved",
                review_urn,
                resolution,
                {"state": item.state.value},
                {"state": "RESOLVED"},
                changes,
                "review.resolved",
                {"case": str(case.urn)},
            )
            if extra_events:
                await orch.rec.commit(tenant, [], extra_events)
            return out[0]  # type: ignore[no-any-return]

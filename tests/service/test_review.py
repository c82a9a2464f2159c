"""Dead letter → manual review, and the operator's review actions."""

from __future__ import annotations

import attrs
import pytest

from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import ConflictError, InvalidInputError, LockHeldError
from nexa_core.model import (
    CaseStatus,
    HotelOffer,
    ReviewCategory,
    ReviewState,
    SubCaseStatus,
)
from nexa_core.ports import AuditQuery
from nexa_core.serialization import structure
from nexa_core.services import ReviewService, RuleBasedTriage, TriageTools
from nexa_core.urn import Urn
from tests.service.flow import LAN, OPERATOR, SUPERVISOR, TENANT, _flow, _manifest, _policy

OTHER = Principal(
    PrincipalKind.OPERATOR, Urn("user", "u-other"), LAN, frozenset({Role.AIRPORT_OPERATOR})
)


async def _failed_case(flow):  # type: ignore[no-untyped-def]
    flow.booking.faults.permanent_rate = 1.0
    opened = await flow.orch.open_case(_manifest(groups=2), principal=OPERATOR)
    outcome = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    results = await flow.orch.wait(
        await flow.orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    flow.booking.faults.permanent_rate = 0.0
    return opened, outcome, results


@pytest.mark.anyio
async def test_exhausted_booking_opens_a_review_item_with_attempted_hotels() -> None:
    flow = _flow(_policy())
    opened, _, results = await _failed_case(flow)
    assert all(not r.completed for r in results)
    case = await flow.store.cases.get(TENANT, opened.case.urn)
    assert case.status is CaseStatus.MANUAL_REVIEW
    items = await flow.store.reviews.find(TENANT, case_urn=opened.case.urn)
    assert len(items) == 2
    assert {i.category for i in items} == {ReviewCategory.BOOKING_FAILED}
    assert all(i.priority.value == "HIGH" and i.attempted_hotels for i in items)
    entries = await flow.store.audit.query(TENANT, AuditQuery(action="saga.dead-lettered"))
    assert len(entries) == 2 and all("refused" in e.reason for e in entries)


@pytest.mark.anyio
async def test_only_one_operator_can_claim_an_item_and_actions_need_the_claim() -> None:
    flow = _flow(_policy())
    opened, _, _ = await _failed_case(flow)
    service = ReviewService(flow.orch, flow.orch.coordination)  # type: ignore[arg-type]
    item = (await flow.store.reviews.find(TENANT, case_urn=opened.case.urn))[0]
    with pytest.raises(ConflictError):
        await service.resolve(item.urn, "done", principal=OPERATOR)
    claimed = await service.claim(item.urn, principal=OPERATOR)
    assert claimed.state is ReviewState.CLAIMED and claimed.assigned_to == OPERATOR.subject
    with pytest.raises(LockHeldError):
        await service.claim(item.urn, principal=OTHER)
    with pytest.raises(ConflictError):
        await service.resolve(item.urn, "mine", principal=OTHER)


@pytest.mark.anyio
async def test_triage_recommends_untried_hotels_first_and_at_most_three() -> None:
    flow = _flow(_policy())
    opened, _, _ = await _failed_case(flow)
    service = ReviewService(flow.orch, flow.orch.coordination)  # type: ignore[arg-type]
    item = (await flow.store.reviews.find(TENANT, case_urn=opened.case.urn))[0]
    triaged = await service.recommend(item.urn, principal=OPERATOR)
    recs = triaged.recommendations
    assert 1 <= len(recs) <= 3 and [r.rank for r in recs] == list(range(1, len(recs) + 1))
    tried = {h.hotel_urn for h in item.attempted_hotels}
    assert all(r.action in {"rebook", "relaxPolicy", "splitGroup"} for r in recs)
    assert all(r.hotel_urn not in tried for r in recs if r.action == "rebook")


def test_the_triage_is_built_from_read_only_queries_only() -> None:
    fields = {f.name for f in attrs.fields(TriageTools)}
    assert fields == {"sub_cases", "candidates"}
    assert {f.name for f in attrs.fields(RuleBasedTriage)} == {"tools", "source"}


@pytest.mark.anyio
async def test_rebook_from_review_books_the_chosen_hotel_and_resolve_settles_the_case() -> None:
    flow = _flow(_policy())
    opened, outcome, _ = await _failed_case(flow)
    service = ReviewService(flow.orch, flow.orch.coordination)  # type: ignore[arg-type]
    subs = await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    items = await flow.store.reviews.find(TENANT, case_urn=opened.case.urn)
    by_group = {i.affected_groups[0]: i for i in items}
    for sub in subs:
        item = by_group[sub.group.group_id]
        await service.claim(item.urn, principal=OPERATOR)
        offers = [
            structure(o, HotelOffer) for o in outcome.wave.plan["assigned"][sub.group.group_id]
        ]
        wf = await service.rebook(item.urn, sub.urn, offers[-1:], principal=OPERATOR)
        result = await flow.orch.engine.result(wf)
        assert result.completed, result
        assert (await flow.store.sub_cases.get(TENANT, sub.urn)).status is SubCaseStatus.OFFER_READY
        await service.resolve(item.urn, "rebooked by operator", principal=OPERATOR)
    case = await flow.store.cases.get(TENANT, opened.case.urn)
    assert case.status is CaseStatus.CONFIRMED
    actions = [e.action for e in await flow.store.audit.query(TENANT, AuditQuery())]
    for a in ("review.claimed", "review.rebook", "review.resolved"):
        assert a in actions


@pytest.mark.anyio
async def test_split_group_and_relax_policy_are_audited() -> None:
    flow = _flow(_policy())
    opened, _, _ = await _failed_case(flow)
    service = ReviewService(flow.orch, flow.orch.coordination)  # type: ignore[arg-type]
    sub = (await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn))[0]
    item = next(
        i
        for i in await flow.store.reviews.find(TENANT, case_urn=opened.case.urn)
        if i.affected_groups == (sub.group.group_id,)
    )
    await service.claim(item.urn, principal=SUPERVISOR)
    with pytest.raises(InvalidInputError):
        await service.split_group(
            item.urn, sub.urn, [[p.urn for p in sub.group.passengers]], principal=SUPERVISOR
        )
    await service.relax_policy(
        item.urn, {"min_stars": "2"}, principal=SUPERVISOR, reason="no 3* left"
    )
    entries = await flow.store.audit.query(TENANT, AuditQuery(action="review.policy-relaxed"))
    assert entries and entries[0].after == {"min_stars": "2"}


@pytest.mark.anyio
async def test_a_claim_waits_for_no_one_while_another_operator_changes_the_sub_case() -> None:
    from nexa_core.locking import operator_lock

    flow = _flow(_policy())
    opened, _, _ = await _failed_case(flow)
    coordination = flow.orch.coordination
    assert coordination is not None
    service = ReviewService(flow.orch, coordination)
    item = (await flow.store.reviews.find(TENANT, case_urn=opened.case.urn))[0]
    sub = next(
        s
        for s in await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
        if s.group.group_id in item.affected_groups
    )
    # OTHER is running a command on the sub-case (e.g. a manual transport dispatch)
    async with operator_lock(coordination.locks, TENANT, [sub.urn], OTHER):
        with pytest.raises(LockHeldError, match=r"locked by u-other since \d{4}-\d\d-\d\d "):
            await service.claim(item.urn, principal=OPERATOR)
        stored = await flow.store.reviews.get(TENANT, item.urn)
        assert stored.state is ReviewState.OPEN  # nothing was written
    claimed = await service.claim(item.urn, principal=OPERATOR)  # free again
    assert claimed.claimed_at is not None
    with pytest.raises(LockHeldError, match="locked by u-airport_operator since"):
        await service.resolve(item.urn, "mine", principal=OTHER)
    # the command's locks are gone once it returned
    assert await coordination.locks.holder(TENANT, sub.urn) is None
    assert await coordination.locks.holder(TENANT, item.urn) is None

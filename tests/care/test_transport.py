"""Transport planning (property test), vendor selection, dispatch, webhooks, cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_adapters.sandbox import SandboxTransport
from nexa_core.care import (
    RideDemand,
    TransportVendor,
    VendorCandidate,
    apply_transfer_status,
    cancel_transfer,
    compensate_transport,
    handle_transfer_webhook,
    pickup_deadline,
    plan_and_dispatch_transport,
    plan_rides,
    select_vendor,
)
from nexa_core.errors import IllegalTransitionError, ProviderTimeoutError
from nexa_core.model import (
    DispatchMode,
    Money,
    ReviewCategory,
    Tier,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.policy import TransportRules
from nexa_core.ports import AuditQuery, TransferDispatch, TransferRequest
from nexa_core.urn import Urn
from tests.care.world import DEPARTURE, TENANT, build_world

T0 = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)


@st.composite
def demands(draw: st.DrawFn) -> tuple[TransportRules, list[RideDemand], dict[str, datetime]]:
    capacity = draw(st.integers(min_value=1, max_value=24))
    buffer = draw(st.integers(min_value=0, max_value=180))
    rules = TransportRules(shuttle_capacity=capacity, minutes_before_pickup=buffer)
    n = draw(st.integers(min_value=0, max_value=40))
    out = []
    departures: dict[str, datetime] = {}
    for i in range(n):
        when = T0 + timedelta(minutes=draw(st.integers(min_value=0, max_value=24 * 60)))
        common = {
            "sub_case_urn": Urn("sub-case", f"sc-{i}"),
            "group_id": f"G{i}",
            "pnr": f"PNR{i:03d}",
            "hotel_urn": Urn("hotel", f"H{draw(st.integers(min_value=0, max_value=3))}"),
            "passengers": draw(st.integers(min_value=1, max_value=30)),
            "tier": draw(st.sampled_from([Tier.ECONOMY, Tier.CREW, Tier.BUSINESS])),
            "window": timedelta(minutes=draw(st.integers(min_value=0, max_value=120))),
        }
        if draw(st.booleans()):
            departures[f"G{i}"] = when
            out.append(RideDemand.to_airport(departure=when, rules=rules, **common))
        else:
            out.append(RideDemand.to_hotel(ready_at=when, **common))
    return rules, out, departures


@settings(max_examples=120, deadline=None)
@given(demands())
def test_shuttle_plans_respect_capacity_pnr_integrity_and_the_pickup_buffer(
    case: tuple[TransportRules, list[RideDemand], dict[str, datetime]],
) -> None:
    rules, wanted, departures = case
    buffer = timedelta(minutes=rules.minutes_before_pickup)
    plan = plan_rides(wanted, rules)
    placed = [r for run in plan.runs for r in run.riders]
    unplaced = [d for d, _ in plan.unplaced]
    # every group is placed exactly once or reported: a PNR is never split or dropped
    assert sorted(d.group_id for d in placed + unplaced) == sorted(d.group_id for d in wanted)
    for run in plan.runs:
        if run.vehicle is Vehicle.SHUTTLE:
            assert run.passengers <= rules.shuttle_capacity
        assert len({r.hotel_urn.base for r in run.riders}) == 1
        assert len({r.direction for r in run.riders}) == 1
        for rider in run.riders:
            assert rider.earliest <= run.pickup_at <= rider.latest
            if rider.direction is TransferDirection.HOTEL_TO_AIRPORT:
                assert run.pickup_at <= departures[rider.group_id] - buffer
    for d, reason in plan.unplaced:
        assert d.passengers > rules.shuttle_capacity and "capacity" in reason


def test_groups_at_one_hotel_with_overlapping_windows_share_until_full_then_overflow() -> None:
    rules = TransportRules(shuttle_capacity=10, minutes_before_pickup=45)

    def d(i: int, pax: int, minutes: int, hotel: str = "H1") -> RideDemand:
        return RideDemand.to_airport(
            sub_case_urn=Urn("sub-case", f"sc-{i}"),
            group_id=f"G{i}",
            pnr=f"P{i}",
            hotel_urn=Urn("hotel", hotel),
            passengers=pax,
            tier=Tier.ECONOMY,
            departure=T0 + timedelta(minutes=minutes),
            rules=rules,
        )

    plan = plan_rides([d(1, 4, 0), d(2, 4, 30), d(3, 4, 40), d(4, 2, 500), d(5, 3, 0, "H2")], rules)
    runs = [
        (sorted(r.riders[i].group_id for i in range(len(r.riders))), r.pickup_at) for r in plan.runs
    ]
    assert (["G1", "G2"], pickup_deadline(T0, rules)) in runs  # shared, earliest deadline
    assert any(groups == ["G3"] for groups, _ in runs)  # overflow: 4+4+4 > 10
    assert any(groups == ["G4"] for groups, _ in runs)  # window does not overlap
    assert any(groups == ["G5"] for groups, _ in runs)  # another hotel
    business = RideDemand.to_airport(
        sub_case_urn=Urn("sub-case", "sc-9"),
        group_id="G9",
        pnr="P9",
        hotel_urn=Urn("hotel", "H1"),
        passengers=2,
        tier=Tier.BUSINESS,
        departure=T0,
        rules=rules,
    )
    (car,) = plan_rides([business], rules).runs
    assert car.vehicle is Vehicle.PRIVATE_CAR and car.pickup_at == pickup_deadline(T0, rules)


def _c(vendor: str, **kw: object) -> VendorCandidate:
    base: dict[str, object] = {
        "covers": True,
        "max_passengers": 24,
        "available": True,
        "price": Money(40, "USD"),
    }
    base.update(kw)
    return VendorCandidate(vendor, **base)  # type: ignore[arg-type]


def test_vendor_selection_checks_coverage_capacity_ceiling_then_pinning() -> None:
    rules = TransportRules(
        cost_ceiling={Tier.ECONOMY: Money(50, "USD")}, vendor_pinning={"SCL": "cabify"}
    )
    candidates = [
        _c("nocover", covers=False),
        _c("small", max_passengers=2),
        _c("pricey", price=Money(80, "USD")),
        _c("uber"),
        _c("cabify"),
        _c("late"),
    ]
    choice = select_vendor(candidates, passengers=4, tier=Tier.ECONOMY, route="SCL", rules=rules)
    assert choice.vendor == "cabify"
    assert choice.rejected == (
        ("nocover", "coverage"),
        ("small", "capacity"),
        ("pricey", "cost-ceiling"),
        ("uber", "pinned-to-cabify"),
    )
    unpinned = select_vendor(candidates, passengers=4, tier=Tier.ECONOMY, route="GRU", rules=rules)
    assert unpinned.vendor == "uber"  # first that satisfies all wins
    none = select_vendor(candidates[:3], passengers=4, tier=Tier.ECONOMY, route="GRU", rules=rules)
    assert none.vendor is None


@pytest.mark.anyio
async def test_automatic_tiers_are_dispatched_once_and_on_demand_ones_wait() -> None:
    w = await build_world()
    out = await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    # only G3 (BUSINESS: AUTOMATIC, private car); ECONOMY defaults to ON_DEMAND
    (t,) = out.transfers
    assert t.vehicle is Vehicle.PRIVATE_CAR and t.status is TransferStatus.DISPATCHED
    assert t.sub_case_urns == (w.subs["G3"].urn,)
    assert t.pickup_at == DEPARTURE - timedelta(minutes=45)
    assert t.vendor == "sandbox" and t.price is not None
    again = await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    assert again.transfers == () and len(w.transport.dispatched) == 1


@pytest.mark.anyio
async def test_on_demand_groups_at_one_hotel_share_a_shuttle() -> None:
    w = await build_world()
    out = await plan_and_dispatch_transport(
        w.deps,
        TENANT,
        w.case_urn,
        context=w.context,
        modes=frozenset({DispatchMode.ON_DEMAND}),
    )
    (shuttle,) = out.transfers
    assert shuttle.vehicle is Vehicle.SHUTTLE
    assert set(shuttle.sub_case_urns) == {w.subs["G1"].urn, w.subs["G2"].urn}
    assert shuttle.passengers == 3


@pytest.mark.anyio
async def test_no_vendor_satisfying_the_rules_raises_a_transport_failed_review_item() -> None:
    w = await build_world(
        vendors=(TransportVendor(SandboxTransport("gru-only"), frozenset({"GRU"})),)
    )
    out = await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    (t,) = out.transfers
    assert t.status is TransferStatus.FAILED
    (item,) = out.reviews
    assert item.category is ReviewCategory.TRANSPORT_FAILED
    assert item.affected_groups == ("G3",) and "gru-only: coverage" in item.reason
    rerun = await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    assert [r.urn for r in rerun.reviews] == [item.urn]  # the open item is not duplicated
    assert len(await w.store.reviews.find(TENANT, case_urn=w.case_urn)) == 1


@pytest.mark.anyio
async def test_a_group_larger_than_the_shuttle_is_not_split_but_reviewed() -> None:
    w = await build_world(transport_rules={"shuttle_capacity": 1})
    out = await plan_and_dispatch_transport(
        w.deps, TENANT, w.case_urn, context=w.context, modes=frozenset({DispatchMode.ON_DEMAND})
    )
    assert [r.affected_groups for r in out.reviews] == [("G1",)]  # 2 passengers, 1 seat
    assert [t.sub_case_urns for t in out.transfers] == [(w.subs["G2"].urn,)]


@pytest.mark.anyio
async def test_vendor_webhooks_drive_the_transfer_lifecycle_idempotently() -> None:
    w = await build_world()
    (t,) = (
        await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    ).transfers
    t = await handle_transfer_webhook(
        w.deps, TENANT, t.urn, TransferStatus.IN_PROGRESS, event_urn=Urn("event", "e-1")
    )
    assert t.status is TransferStatus.IN_PROGRESS
    same = await handle_transfer_webhook(
        w.deps, TENANT, t.urn, TransferStatus.IN_PROGRESS, event_urn=Urn("event", "e-1")
    )
    assert same == t
    done = await handle_transfer_webhook(
        w.deps, TENANT, t.urn, TransferStatus.COMPLETED, event_urn=Urn("event", "e-2")
    )
    assert done.status is TransferStatus.COMPLETED
    with pytest.raises(IllegalTransitionError):
        await handle_transfer_webhook(
            w.deps, TENANT, t.urn, TransferStatus.DISPATCHED, event_urn=Urn("event", "e-3")
        )
    with pytest.raises(IllegalTransitionError):
        apply_transfer_status(done, TransferStatus.CANCELLED)


class _FeeTransport(SandboxTransport):
    async def cancel(self, airline_urn: Urn, transfer_urn: Urn) -> Money | None:
        await super().cancel(airline_urn, transfer_urn)
        return Money(12, "USD")


@pytest.mark.anyio
async def test_late_cancellation_records_the_no_show_fee() -> None:
    vendor = _FeeTransport()
    w = await build_world(vendors=(TransportVendor(vendor),))
    (t,) = (
        await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    ).transfers
    w.clock.advance(t.pickup_at - w.clock.now() - timedelta(minutes=30))
    cancelled = await cancel_transfer(w.deps, TENANT, t.urn, reason="passenger no-show")
    assert cancelled.status is TransferStatus.CANCELLED
    assert cancelled.no_show_fee == Money(12, "USD")
    assert str(t.urn) in vendor.cancelled
    (entry,) = await w.store.audit.query(TENANT, AuditQuery(action="transfer.cancelled"))
    assert entry.after["late"] is True and entry.after["no_show_fee"] == "12.00 USD"
    assert await cancel_transfer(w.deps, TENANT, t.urn, reason="again") == cancelled


@pytest.mark.anyio
async def test_cancelled_booking_cancels_a_private_ride_and_frees_shuttle_seats() -> None:
    w = await build_world()
    (car,) = (
        await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    ).transfers
    (shuttle,) = (
        await plan_and_dispatch_transport(
            w.deps, TENANT, w.case_urn, context=w.context, modes=frozenset({DispatchMode.ON_DEMAND})
        )
    ).transfers
    (cancelled,) = await compensate_transport(
        w.deps, TENANT, w.subs["G3"].urn, reason="booking cancelled"
    )
    assert cancelled.urn == car.urn and cancelled.status is TransferStatus.CANCELLED
    (shared,) = await compensate_transport(
        w.deps, TENANT, w.subs["G1"].urn, reason="booking cancelled"
    )
    assert shared.urn == shuttle.urn and shared.status is TransferStatus.DISPATCHED
    assert shared.sub_case_urns == (w.subs["G2"].urn,) and shared.passengers == 1


@pytest.mark.anyio
async def test_airport_to_hotel_rides_leave_when_the_group_is_ready_and_are_planned_apart() -> None:
    w = await build_world()
    on_demand = frozenset({DispatchMode.ON_DEMAND})
    (inbound,) = (
        await plan_and_dispatch_transport(
            w.deps,
            TENANT,
            w.case_urn,
            context=w.context,
            modes=on_demand,
            direction=TransferDirection.AIRPORT_TO_HOTEL,
        )
    ).transfers
    assert inbound.direction is TransferDirection.AIRPORT_TO_HOTEL
    assert inbound.pickup_at == w.clock.now()  # ready now (the disruption was earlier)
    assert set(inbound.sub_case_urns) == {w.subs["G1"].urn, w.subs["G2"].urn}
    (outbound,) = (
        await plan_and_dispatch_transport(
            w.deps, TENANT, w.case_urn, context=w.context, modes=on_demand
        )
    ).transfers
    assert outbound.direction is TransferDirection.HOTEL_TO_AIRPORT
    assert outbound.urn != inbound.urn


class _FlakyTransport(SandboxTransport):
    """Times out on the first dispatch, then works."""

    failures = 1

    async def dispatch(self, request: TransferRequest) -> TransferDispatch:
        if self.failures:
            self.failures -= 1
            raise ProviderTimeoutError("no answer", vendor=self.name)
        return await super().dispatch(request)


@pytest.mark.anyio
async def test_a_dispatch_retried_after_a_timeout_goes_back_to_the_vendor_first_chosen() -> None:
    flaky, other = _FlakyTransport("cabify"), SandboxTransport("uber")
    w = await build_world(vendors=(TransportVendor(flaky), TransportVendor(other)))
    (pending,) = (
        await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    ).transfers
    assert pending.status is TransferStatus.REQUESTED and pending.vendor == "cabify"
    swapped = attrs.evolve(w.deps, transport=(TransportVendor(other), TransportVendor(flaky)))
    (done,) = (
        await plan_and_dispatch_transport(swapped, TENANT, w.case_urn, context=w.context)
    ).transfers
    assert done.urn == pending.urn and done.status is TransferStatus.DISPATCHED
    assert done.vendor == "cabify"
    assert list(flaky.dispatched) == [str(pending.urn)] and other.dispatched == {}

"""Transport planning (property test), vendor selection, dispatch, webhooks, cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_adapters.sandbox import FaultInjector, SandboxTransport
from nexa_core.care import (
    DEFAULT_PICKUP_WINDOW,
    RideDemand,
    TransportVendor,
    VendorCandidate,
    apply_transfer_status,
    build_document,
    cancel_sub_case_transport,
    cancel_transfer,
    dispatch_transport,
    handle_transfer_update,
    pickup_deadline,
    plan_rides,
    publish_document,
    read_document,
    select_vendor,
    transfer_urn_for,
)
from nexa_core.errors import (
    IllegalTransitionError,
    NotFoundError,
    ProviderTimeoutError,
    WebhookVerificationError,
)
from nexa_core.model import (
    DispatchMode,
    Money,
    ReviewCategory,
    Tier,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.policy import TransportRules
from nexa_core.ports import AuditQuery, TransferDispatch, TransferRequest
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn
from tests.care.world import DEPARTURE, STAY, TENANT, World, build_world

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


AUTO = {"dispatch": {Tier.BUSINESS: DispatchMode.AUTOMATIC, Tier.ECONOMY: DispatchMode.AUTOMATIC}}


async def _dispatch(w: World, gid: str, **kw: object) -> object:
    return await dispatch_transport(
        w.deps,
        TENANT,
        w.subs[gid],
        w.reservations[gid],
        w.care(gid),
        mode=kw.pop("mode", DispatchMode.AUTOMATIC),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.anyio
async def test_both_legs_are_dispatched_once_with_pickups_from_the_stay_and_the_departure() -> None:
    w = await build_world(transport_rules=AUTO)
    out = await _dispatch(w, "G3")  # a business traveller: private car both ways
    legs = {t.direction: t for t in out.transfers}  # type: ignore[attr-defined]
    inbound = legs[TransferDirection.AIRPORT_TO_HOTEL]
    outbound = legs[TransferDirection.HOTEL_TO_AIRPORT]
    assert {t.status for t in legs.values()} == {TransferStatus.DISPATCHED}
    assert {t.vehicle for t in legs.values()} == {Vehicle.PRIVATE_CAR}
    assert inbound.pickup_at == STAY.check_in - DEFAULT_PICKUP_WINDOW  # ready before check-in
    assert outbound.pickup_at == pickup_deadline(
        DEPARTURE, w.care("G3").transport_rules(Tier.BUSINESS)
    )
    assert inbound.urn == transfer_urn_for(
        w.reservations["G3"].urn, TransferDirection.AIRPORT_TO_HOTEL
    )
    assert inbound.vendor_ref and inbound.mode is DispatchMode.AUTOMATIC
    again = await _dispatch(w, "G3")
    assert {t.urn for t in again.transfers} == {t.urn for t in out.transfers}  # type: ignore[attr-defined]
    assert len(w.transport.dispatched) == 2


@pytest.mark.anyio
async def test_the_cheapest_vendor_that_passes_the_four_rules_is_chosen() -> None:
    shuttles = SandboxTransport("shuttles")  # 15 + 2 per passenger
    cars = SandboxTransport("cars", max_passengers=4, base_price=10, per_passenger=5)
    far = SandboxTransport("far", base_price=1, per_passenger=1)
    w = await build_world(
        transport_rules=AUTO,
        vendors=(
            TransportVendor(shuttles),
            TransportVendor(cars, max_passengers=4),
            TransportVendor(far, coverage=frozenset({"GRU"})),  # cheapest, but not at SCL
        ),
    )
    solo = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    assert [t.vendor for t in solo.transfers] == ["cars"]  # type: ignore[attr-defined]  # 15 < 17
    family = await _dispatch(w, "G1", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    assert [t.vendor for t in family.transfers] == ["shuttles"]  # type: ignore[attr-defined]  # 19 < 20
    assert [t.price for t in family.transfers] == [Money(19, "USD")]  # type: ignore[attr-defined]
    assert far.dispatched == {}


@pytest.mark.anyio
async def test_ceiling_and_pinning_narrow_the_choice_and_nothing_left_is_a_review() -> None:
    shuttles = SandboxTransport("shuttles")
    cars = SandboxTransport("cars", max_passengers=4, base_price=10, per_passenger=5)
    rules = {
        **AUTO,
        "cost_ceiling": {Tier.BUSINESS: Money(16, "USD")},
        "vendor_pinning": {"SCL": "shuttles"},
    }
    w = await build_world(
        transport_rules=rules, vendors=(TransportVendor(shuttles), TransportVendor(cars))
    )
    out = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    [failed] = out.transfers  # type: ignore[attr-defined]
    assert failed.status is TransferStatus.FAILED
    [review] = out.reviews  # type: ignore[attr-defined]
    assert review.category is ReviewCategory.TRANSPORT_FAILED
    assert "shuttles: cost-ceiling" in review.reason and "cars: pinned-to-shuttles" in review.reason
    assert shuttles.dispatched == {} and cars.dispatched == {}


@pytest.mark.anyio
async def test_a_refusing_vendor_hands_the_ride_to_the_next_qualifying_one() -> None:
    first = SandboxTransport("first", base_price=1)
    second = SandboxTransport("second")
    w = await build_world(
        transport_rules=AUTO, vendors=(TransportVendor(first), TransportVendor(second))
    )
    urn = transfer_urn_for(w.reservations["G3"].urn, TransferDirection.AIRPORT_TO_HOTEL)
    first.faults.fail_keys.add(str(urn))
    out = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    [t] = out.transfers  # type: ignore[attr-defined]
    assert (t.vendor, t.status) == ("second", TransferStatus.DISPATCHED)


@pytest.mark.anyio
async def test_a_group_larger_than_the_shuttle_is_not_split_but_reviewed() -> None:
    w = await build_world(transport_rules={**AUTO, "shuttle_capacity": 1})
    out = await _dispatch(w, "G1", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    assert out.transfers == ()  # type: ignore[attr-defined]
    [review] = out.reviews  # type: ignore[attr-defined]
    assert "exceeds shuttle capacity 1" in review.reason


class _Flaky(SandboxTransport):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.timeouts = 1

    async def dispatch(self, request: TransferRequest) -> TransferDispatch:
        if self.timeouts:
            self.timeouts -= 1
            raise ProviderTimeoutError("no answer in time", vendor=self.name)
        return await super().dispatch(request)


@pytest.mark.anyio
async def test_a_dispatch_retried_after_a_timeout_goes_back_to_the_vendor_first_chosen() -> None:
    flaky = _Flaky("flaky")
    flaky.base_price = 1  # the cheapest: chosen first
    other = SandboxTransport("other")
    w = await build_world(
        transport_rules=AUTO, vendors=(TransportVendor(flaky), TransportVendor(other))
    )
    from nexa_core.errors import TransientProviderError

    with pytest.raises(TransientProviderError):
        await _dispatch(
            w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,), final_attempt=False
        )
    urn = transfer_urn_for(w.reservations["G3"].urn, TransferDirection.AIRPORT_TO_HOTEL)
    recorded = await w.store.transfers.get(TENANT, urn)
    assert (recorded.status, recorded.vendor) == (TransferStatus.REQUESTED, "flaky")
    other.base_price = 0  # now cheaper: a retry must not switch vendors
    out = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    [t] = out.transfers  # type: ignore[attr-defined]
    assert (t.vendor, t.status) == ("flaky", TransferStatus.DISPATCHED)
    assert other.dispatched == {}


@pytest.mark.anyio
async def test_on_the_last_attempt_an_unreachable_vendor_fails_the_leg_into_review() -> None:
    w = await build_world(transport_rules=AUTO)
    w.transport.faults = FaultInjector(transient_rate=1.0)
    out = await _dispatch(
        w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,), final_attempt=True
    )
    [t] = out.transfers  # type: ignore[attr-defined]
    assert t.status is TransferStatus.FAILED  # the quote failed: no vendor qualified
    assert out.reviews[0].category is ReviewCategory.TRANSPORT_FAILED  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_an_operator_pick_waives_ceiling_and_pinning_but_not_capacity() -> None:
    cars = SandboxTransport("cars", max_passengers=1)
    sandbox = SandboxTransport("sandbox")
    w = await build_world(
        transport_rules={"cost_ceiling": {Tier.ECONOMY: Money(1, "USD")}},
        vendors=(TransportVendor(sandbox), TransportVendor(cars, max_passengers=1)),
    )
    out = await _dispatch(
        w,
        "G2",
        mode=DispatchMode.MANUAL,
        vendor="sandbox",
        note="meet at door 4",
        directions=(TransferDirection.AIRPORT_TO_HOTEL,),
    )
    [t] = out.transfers  # type: ignore[attr-defined]
    assert (t.status, t.mode, t.instructions) == (
        TransferStatus.DISPATCHED,
        DispatchMode.MANUAL,
        "meet at door 4",
    )
    assert sandbox.dispatched
    refused = await _dispatch(
        w,
        "G1",
        mode=DispatchMode.MANUAL,
        vendor="cars",
        directions=(TransferDirection.AIRPORT_TO_HOTEL,),
    )
    assert refused.transfers[0].status is TransferStatus.FAILED  # type: ignore[attr-defined]
    assert "cars: capacity" in refused.reviews[0].reason  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_vendor_webhooks_drive_the_lifecycle_once_and_rewrite_the_page() -> None:
    w = await build_world(transport_rules=AUTO)
    out = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    [t] = out.transfers  # type: ignore[attr-defined]
    sub = w.subs["G3"]
    await publish_document(w.deps, TENANT, build_document(sub, published_at=w.clock.now()))
    first = await handle_transfer_update(
        w.deps, TENANT, t.urn, TransferStatus.IN_PROGRESS, vendor="sandbox", event_id="ev-1"
    )
    again = await handle_transfer_update(
        w.deps, TENANT, t.urn, TransferStatus.IN_PROGRESS, vendor="sandbox", event_id="ev-1"
    )
    assert first.changed and not again.changed
    assert first.transfer.status is TransferStatus.IN_PROGRESS
    moves = await w.store.audit.query(
        TENANT, AuditQuery(entity_urn=t.urn, action="transfer.status")
    )
    assert len(moves) == 1
    doc = await read_document(w.deps, TENANT, sub.urn)
    assert [r.status for r in doc.rides] == [TransferStatus.IN_PROGRESS]
    with pytest.raises(IllegalTransitionError):  # a ride in progress cannot go back
        await handle_transfer_update(
            w.deps, TENANT, t.urn, TransferStatus.DISPATCHED, vendor="sandbox", event_id="ev-2"
        )
    with pytest.raises(WebhookVerificationError):  # another vendor's webhook about this ride
        await handle_transfer_update(
            w.deps, TENANT, t.urn, TransferStatus.COMPLETED, vendor="uber", event_id="ev-3"
        )
    with pytest.raises(NotFoundError):  # another tenant's ride does not exist for them
        await handle_transfer_update(
            w.deps,
            TenantContext.system("urn:airline:TAM"),
            t.urn,
            TransferStatus.COMPLETED,
            vendor="sandbox",
            event_id="ev-4",
        )
    assert (await w.store.transfers.get(TENANT, t.urn)).status is TransferStatus.IN_PROGRESS


class _Fees(SandboxTransport):
    async def cancel(self, airline_urn: Urn, transfer_urn: Urn) -> Money | None:
        await super().cancel(airline_urn, transfer_urn)
        return Money(12, "USD")


@pytest.mark.anyio
async def test_a_late_cancellation_records_the_vendors_fee_without_blocking() -> None:
    vendor = _Fees("sandbox")
    w = await build_world(transport_rules=AUTO, vendors=(TransportVendor(vendor),))
    out = await _dispatch(w, "G3", directions=(TransferDirection.AIRPORT_TO_HOTEL,))
    [t] = out.transfers  # type: ignore[attr-defined]
    w.clock.advance(t.pickup_at - w.clock.now() - timedelta(minutes=5))  # 5 min before pickup
    done = await cancel_transfer(w.deps, TENANT, t, reason="passenger declined")
    assert done.status is TransferStatus.CANCELLED and done.late_cancellation
    assert done.no_show_fee == Money(12, "USD")
    [entry] = await w.store.audit.query(
        TENANT, AuditQuery(entity_urn=t.urn, action="transfer.cancelled")
    )
    assert "incurred fee" in entry.reason
    assert (await cancel_transfer(w.deps, TENANT, done, reason="again")) == done


@pytest.mark.anyio
async def test_a_cancelled_booking_cancels_its_own_ride_and_frees_seats_on_a_shared_one() -> None:
    w = await build_world(transport_rules=AUTO)
    out = await _dispatch(w, "G3")
    assert len(out.transfers) == 2  # type: ignore[attr-defined]
    shared = attrs.evolve(
        out.transfers[0],  # type: ignore[attr-defined]
        sub_case_urns=(w.subs["G3"].urn, w.subs["G1"].urn),
        passengers=3,
    )
    shared = await w.store.transfers.update(TENANT, shared)
    done = await cancel_sub_case_transport(w.deps, TENANT, w.subs["G3"], reason="declined")
    by_urn = {t.urn: t for t in done}
    assert by_urn[shared.urn].status is TransferStatus.DISPATCHED  # keeps going for G1
    assert by_urn[shared.urn].passengers == 2 and by_urn[shared.urn].sub_case_urns == (
        w.subs["G1"].urn,
    )
    own = next(t for t in done if t.urn != shared.urn)
    assert own.status is TransferStatus.CANCELLED and str(own.urn) in w.transport.cancelled


def test_a_repeated_status_is_a_no_op_and_an_illegal_move_raises() -> None:
    t = attrs.evolve(
        Transfer(
            Urn("transfer", "t-1"),
            TENANT.airline_urn,
            Urn("case", "c-1"),
            (),
            TransferDirection.AIRPORT_TO_HOTEL,
            Vehicle.SHUTTLE,
            DEPARTURE,
            1,
        ),
        status=TransferStatus.COMPLETED,
    )
    assert apply_transfer_status(t, TransferStatus.COMPLETED) is t
    with pytest.raises(IllegalTransitionError):
        apply_transfer_status(t, TransferStatus.CANCELLED)

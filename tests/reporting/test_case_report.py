"""The case report: built through the store port, rendered as one self-contained page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from nexa_adapters.memory import MemoryStore
from nexa_adapters.reporting import (
    MAX_STAGE_POINTS,
    build_case_report,
    render_case_report_html,
)
from nexa_core.errors import InvalidInputError, InvalidUrnError, NotFoundError
from nexa_core.model import Actor, AuditEntry, ReservationStatus
from nexa_core.runtime import FixedClock
from nexa_core.testing import make_case, make_sub_case
from nexa_core.urn import Urn
from tests.reporting.conftest import LAN, T0, TAM, Fixture
from tests.reporting.htmlparse import parse_report

pytestmark = pytest.mark.anyio


async def test_allocation_rows_group_live_reservations_by_hotel(populated: Fixture) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    rows = {a.hotel_name: a for a in report.allocation}
    assert set(rows) == {"Hotel Andes", "Hotel Bellavista"}
    andes, bella = rows["Hotel Andes"], rows["Hotel Bellavista"]
    # Andes: G1 (2 pax, DBL, confirmed) + G3 (1 pax, SGL, pending)
    assert (andes.groups, andes.passengers, andes.rooms, andes.nights) == (2, 3, 2, "1")
    assert andes.cost == Decimal("200.25") and andes.vendor == "sandbox"
    # Bellavista: G2 only — G4's cancelled reservation does not count
    assert (bella.groups, bella.passengers, bella.rooms, bella.room_nights) == (1, 3, 2, 4)
    assert bella.cost == Decimal("400.50")
    (total,) = report.totals
    assert (total.hotels, total.groups, total.passengers, total.rooms) == (2, 3, 6, 4)
    assert total.cost == Decimal("600.75") and total.currency == "USD"
    assert report.passengers == 10 and report.passengers_accommodated == 6


async def test_reservations_reviews_and_waves_are_summarised(populated: Fixture) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    by_status = {
        s.status: (s.reservations, s.rooms, s.costs) for s in report.reservations_by_status
    }
    assert by_status == {
        "PENDING": (1, 1, (("USD", Decimal("80.25")),)),
        "CONFIRMED": (2, 3, (("USD", Decimal("520.50")),)),
        "CANCELLED": (1, 1, ()),  # a cancelled (or failed) room costs nothing
    }
    (review,) = report.reviews
    assert (review.category, review.priority, review.open, review.total) == (
        "BOOKING_FAILED",
        "HIGH",
        1,
        1,
    )
    (wave,) = report.waves
    assert wave.sequence == 1 and wave.totals == (("cost", "599.75"), ("rooms", "5"))


async def test_stage_series_follows_sub_case_transitions_in_the_audit_log(
    populated: Fixture,
) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    assert report.stages == ("PENDING", "PROCESSING", "OFFER_READY", "FAILED", "MANUAL_REVIEW")
    first, last = report.stage_series[0], report.stage_series[-1]
    assert first.at == T0 + timedelta(minutes=3) and dict(first.counts) == {"PENDING": 4}
    assert dict(last.counts) == {"OFFER_READY": 2, "PROCESSING": 1, "MANUAL_REVIEW": 1}
    assert all(sum(p.counts.values()) == 4 for p in report.stage_series)
    times = [p.at for p in report.stage_series]
    assert times == sorted(times)
    assert [c.after for c in report.case_timeline] == ["OPEN", "ALLOCATING", "BOOKING"]
    assert report.first_activity == T0 and report.last_activity == T0 + timedelta(minutes=11)
    assert report.elapsed == "11m 00s"


async def test_html_table_rows_and_totals_match_the_store(populated: Fixture) -> None:
    report = await build_case_report(
        populated.store, LAN, populated.case_urn, clock=FixedClock(T0 + timedelta(hours=1))
    )
    page = parse_report(render_case_report_html(report))
    rows = page.rows("allocation", "hotel")
    assert [r[:7] for r in rows] == [
        ["Hotel Andes", "sandbox", "2", "3", "2", "1", "2"],
        ["Hotel Bellavista", "sandbox", "1", "3", "2", "2", "4"],
    ]
    assert [r[7:] for r in rows] == [["200.25", "USD"], ["400.50", "USD"]]
    (total,) = page.rows("allocation", "total")
    assert total[2:5] == ["3", "6", "4"] and total[7:] == ["600.75", "USD"]
    assert page.rows("reviews", "category") == [["BOOKING_FAILED", "HIGH", "1", "0", "0", "1", "1"]]
    assert page.ids["passengers-total"] == "10"
    assert page.ids["passengers-accommodated"] == "6"
    assert page.ids["case-status"] == "BOOKING"
    header = page.ids["case-header"]
    assert "urn:case:c-rep" in header and "SCL" in header and "urn:flight:LA500@20260505" in header


async def test_html_charts_have_a_bar_per_hotel_and_a_line_per_stage(populated: Fixture) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    page = parse_report(render_case_report_html(report))
    bars = page.shapes("rect", "bar")
    assert len(bars) == len(report.allocation) == 2
    assert [b["data-passengers"] for b in bars] == ["3", "3"]
    series = {s["data-stage"]: s["data-final"] for s in page.shapes("polyline", "series")}
    assert series == {
        "PENDING": "0",
        "PROCESSING": "1",
        "OFFER_READY": "2",
        "FAILED": "0",
        "MANUAL_REVIEW": "1",
    }


async def test_the_page_is_self_contained_and_free_of_contact_data(populated: Fixture) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    html = render_case_report_html(report)
    lowered = html.lower()
    assert "@example.com" not in lowered and "mailto" not in lowered
    assert "pax " not in lowered  # passenger display names from the builders
    assert "urn:passenger" not in lowered and "urn:pnr" not in lowered
    assert "every hotel refused" not in lowered  # free-text review reasons stay out
    assert "<script" not in lowered and "http://" not in lowered.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in lowered


async def test_hotel_names_are_escaped(populated: Fixture) -> None:
    (res,) = [r for r in await populated.store.reservations.find(LAN) if r.urn.id == "r-1"]
    await populated.store.reservations.update(
        LAN,
        attrs.evolve(
            res, hotel_name="<script>alert(1)</script> & Co", status=ReservationStatus.CONFIRMED
        ),
    )
    html = render_case_report_html(
        await build_case_report(populated.store, LAN, populated.case_urn)
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


async def test_another_tenants_case_is_not_found(populated: Fixture) -> None:
    with pytest.raises(NotFoundError):
        await build_case_report(populated.store, LAN, populated.other_tenant_case)
    with pytest.raises(NotFoundError):
        await build_case_report(populated.store, TAM, populated.case_urn)


async def test_bad_urns_are_refused(populated: Fixture) -> None:
    with pytest.raises(InvalidUrnError):
        await build_case_report(populated.store, LAN, "urn:case")
    with pytest.raises(InvalidInputError, match="not a case URN"):
        await build_case_report(populated.store, LAN, Urn("sub-case", "sc-1"))


async def test_a_case_without_activity_still_renders(populated: Fixture) -> None:
    await populated.store.cases.add(LAN, make_case("c-empty"))
    report = await build_case_report(populated.store, LAN, "urn:case:c-empty")
    assert report.allocation == () and report.stage_series == () and report.elapsed is None
    page = parse_report(render_case_report_html(report))
    assert page.shapes("rect", "bar") == [] and "allocation" not in page.tables
    assert "No sub-case transitions recorded" in "".join(page.text)


async def test_long_runs_are_thinned_but_keep_the_first_and_last_state() -> None:
    store = MemoryStore()
    case = make_case("c-long")
    await store.cases.add(LAN, case)
    subs = [make_sub_case(f"sc-{i}", case=case) for i in range(80)]  # 161 instants
    for s in subs:
        await store.sub_cases.add(LAN, s)
    n = 0
    for i, s in enumerate(subs):
        for k, (a, b) in enumerate([("PENDING", "PROCESSING"), ("PROCESSING", "RESOLVED")]):
            n += 1
            await store.audit.append(
                LAN,
                AuditEntry(
                    Urn("audit", f"a-{n}"),
                    LAN.airline_urn,
                    Actor(Urn("user", "system")),
                    "sub-case.transition",
                    s.urn,
                    "test",
                    T0 + timedelta(seconds=i * 10 + k * 1000),
                    before={"status": a},
                    after={"status": b},
                ),
            )
    report = await build_case_report(store, LAN, case.urn)
    series = report.stage_series
    assert 100 < len(series) <= MAX_STAGE_POINTS  # thinned from 161 instants, time-evenly
    assert dict(series[0].counts) == {"PENDING": 80}
    assert dict(series[-1].counts) == {"RESOLVED": 80}
    assert series[-1].at == T0 + timedelta(seconds=79 * 10 + 1000)
    assert all(sum(p.counts.values()) == 80 for p in series)
    assert [p.at for p in series] == sorted(p.at for p in series)


class _ReadRecorder:
    """Exposes only the OperationalStore port's stores and records every call."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, table: str) -> object:
        port = getattr(self.inner, table)
        recorder = self

        class _Port:
            def __getattr__(self, method: str) -> object:
                fn = getattr(port, method)

                async def call(*args: object, **kwargs: object) -> object:
                    recorder.calls.append(f"{table}.{method}")
                    return await fn(*args, **kwargs)

                return call

        return _Port()


async def test_the_builder_only_reads_through_the_store_port(populated: Fixture) -> None:
    recorder = _ReadRecorder(populated.store)
    report = await build_case_report(recorder, LAN, populated.case_urn)
    assert set(recorder.calls) == {
        "cases.get",
        "sub_cases.find",
        "reservations.find",
        "reviews.find",
        "waves.find",
        "notifications.find",
        "cards.find",
        "transfers.find",
        "audit.query",
    }
    assert report.sub_cases == 4


async def test_cost_figures_tiers_and_savings_are_what_an_ops_manager_reads_first(
    populated: Fixture,
) -> None:
    report = await build_case_report(populated.store, LAN, populated.case_urn)
    assert report.booked_cost == (("USD", Decimal("520.50")),)  # confirmed only
    assert report.planned_cost == ()  # the wave's plan states no room cost
    assert report.savings_vs_market is None  # ... nor a market reference
    assert report.passengers_not_accommodated == 4  # G4's four passengers
    [tier] = report.tiers
    assert (tier.passengers, tier.accommodated, tier.not_accommodated) == (10, 6, 4)
    assert tier.costs == (("USD", Decimal("520.50")),)
    page = render_case_report_html(report)
    assert 'id="savings-vs-market">unknown<' in page
    assert "Planned room cost" not in page and "Total booked cost" in page


async def test_savings_are_summed_over_the_waves_and_may_be_negative() -> None:
    from nexa_adapters.reporting import plan_figures

    planned, savings = plan_figures(
        [
            {"totals": {"room_cost": "100.00", "currency": "USD", "savings_vs_market": "30.00"}},
            {"totals": {"room_cost": "50.00", "currency": "USD", "savings_vs_market": "-45.50"}},
            {"totals": {"room_cost": "20.00", "currency": "USD", "savings_vs_market": None}},
        ]
    )
    assert planned == (("USD", Decimal("170.00")),)
    assert savings == Decimal("-15.50")
    assert plan_figures([{"totals": {"room_cost": "1", "currency": "USD"}}])[1] is None


async def test_the_care_section_counts_messages_cards_and_rides(populated: Fixture) -> None:
    from datetime import timedelta as td

    from nexa_core.model import (
        CardDrop,
        Channel,
        IssuedCard,
        Money,
        Notification,
        NotificationStatus,
        Transfer,
        TransferDirection,
        TransferStatus,
        Vehicle,
    )

    store = populated.store
    res = Urn("reservation", "r-1")
    for i, (channel, status, fallback) in enumerate(
        [
            (Channel.EMAIL, NotificationStatus.BOUNCED, None),
            (Channel.SMS, NotificationStatus.SENT, None),
            (Channel.SMS, NotificationStatus.SENT, Urn("notification", "n-0")),
        ]
    ):
        await store.notifications.add(
            LAN,
            Notification(
                Urn("notification", f"n-{i}"),
                LAN.airline_urn,
                populated.case_urn,
                "G1",
                "voucher.issued",
                channel,
                Urn("passenger", "p-1"),
                f"k{i}",
                status,
                reservation_urn=res,
                fallback_for=fallback,
            ),
        )
    await store.cards.add(
        LAN,
        IssuedCard(
            Urn("issued-card", "ic-1"),
            LAN.airline_urn,
            populated.case_urn,
            "G1",
            Urn("passenger", "p-1"),
            "USD",
            Money(20, "USD"),
            Money(0, "USD"),
            drops=(
                CardDrop("dinner", T0, Money(20, "USD"), "d1", T0),
                CardDrop("breakfast", T0 + td(hours=10), Money(20, "USD"), "d2"),
            ),
        ),
    )
    await store.transfers.add(
        LAN,
        Transfer(
            Urn("transfer", "t-1"),
            LAN.airline_urn,
            populated.case_urn,
            (Urn("sub-case", "sc-1"),),
            TransferDirection.AIRPORT_TO_HOTEL,
            Vehicle.SHUTTLE,
            T0,
            2,
            TransferStatus.CANCELLED,
            vendor="sandbox",
            no_show_fee=Money(12, "USD"),
        ),
    )
    care = (await build_case_report(store, LAN, populated.case_urn)).care
    assert care.vouchers_issued == 1
    assert {c.channel: (c.sent, c.failed, c.fallback) for c in care.channels} == {
        "EMAIL": (0, 1, 0),
        "SMS": (2, 0, 1),
    }
    assert (care.cards_issued, care.loaded, care.planned) == (
        1,
        (("USD", Decimal("20.00")),),
        (("USD", Decimal("40.00")),),
    )
    assert (care.drops_loaded, care.drops_scheduled) == (1, 1)
    assert care.transfers == (("CANCELLED", 1),)
    assert care.late_cancellation_fees == (("USD", Decimal("12.00")),)
    page = render_case_report_html(await build_case_report(store, LAN, populated.case_urn))
    assert 'id="vouchers-issued">1<' in page and "Late-cancellation fees" in page

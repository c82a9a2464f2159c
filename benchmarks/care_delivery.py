"""Speed of care delivery: shuttle planning, voucher rendering, the notification stage.

Prints numbers only. Run from the repository root: ``python benchmarks/care_delivery.py``.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import anyio
import attrs

from nexa_adapters.render import JinjaRenderer
from nexa_core.care import RideDemand, build_voucher, plan_rides, run_notification_stage
from nexa_core.model import Money, Reservation, ReservationStatus, RoomType, SubCase, Tier
from nexa_core.policy import TransportRules
from nexa_core.testing.builders import make_group, make_passenger
from nexa_core.urn import Urn
from tests.care.world import AIRLINE, HOTEL, TENANT, build_world


def shuttles() -> None:
    rng = random.Random(7)
    rules = TransportRules()
    t0 = datetime(2026, 5, 6, 6, 0, tzinfo=UTC)
    demands = [
        RideDemand.to_airport(
            sub_case_urn=Urn("sub-case", f"sc-{i}"),
            group_id=f"G{i}",
            pnr=f"P{i:06d}",
            hotel_urn=Urn("hotel", f"H{rng.randint(0, 40)}"),
            passengers=rng.randint(1, 9),
            tier=rng.choice([Tier.ECONOMY, Tier.ECONOMY, Tier.ECONOMY, Tier.BUSINESS]),
            departure=t0 + timedelta(minutes=rng.randint(0, 16 * 60)),
            rules=rules,
        )
        for i in range(5_000)
    ]
    start = time.perf_counter()
    plan = plan_rides(demands, rules)
    took = time.perf_counter() - start
    seats = sum(r.passengers for r in plan.runs if r.riders[0].tier is not Tier.BUSINESS)
    shuttles = sum(1 for r in plan.runs if r.vehicle.value == "SHUTTLE")
    print(f"plan_rides: {len(demands)} groups → {len(plan.runs)} vehicles in {took * 1000:.1f} ms")
    print(f"  shuttles: {shuttles}, mean load {seats / max(1, shuttles):.1f} of 24")


def vouchers() -> None:
    renderer = JinjaRenderer()
    group = make_group("G1", passengers=(make_passenger("p-1"), make_passenger("p-2")))
    sub = SubCase(Urn("sub-case", "sc-1"), Urn("case", "c-1"), AIRLINE, group)
    res = Reservation(
        Urn("reservation", "r-1"),
        AIRLINE,
        Urn("case", "c-1"),
        sub.urn,
        Urn("offer", "of-1"),
        HOTEL.hotel_urn,
        HOTEL.name,
        datetime(2026, 5, 5).date(),
        datetime(2026, 5, 6).date(),
        (RoomType.DBL,),
        Money(95, "USD"),
        status=ReservationStatus.CONFIRMED,
    )
    n = 300
    start = time.perf_counter()
    for i in range(n):
        v = build_voucher(
            attrs.evolve(res, urn=Urn("reservation", f"r-{i}")), sub, HOTEL, timezone="UTC"
        )
        renderer.render_voucher(v, ("en", "es", "pt")[i % 3])
    took = time.perf_counter() - start
    print(f"vouchers (HTML + text + QR): {n / took:.0f}/s")


async def stage() -> None:
    w = await build_world()
    start = time.perf_counter()
    first = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    mid = time.perf_counter()
    second = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    end = time.perf_counter()
    print(
        f"notification stage (4 groups): first run {first.sent} sent in {(mid - start) * 1000:.0f} ms,"
        f" re-run {second.skipped} skipped in {(end - mid) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    shuttles()
    vouchers()
    anyio.run(stage)

"""Speed of the case report on a demo-sized case (prints numbers only).

A case of 5,000 passengers in 2,000 PNR groups, 2,000 reservations across 40 hotels and
three audited transitions per sub-case (8,000+ audit entries) in the in-memory store.

Run: ``python benchmarks/case_report.py``.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import anyio
import attrs

from nexa_adapters.airports import default_catalog
from nexa_adapters.memory import MemoryStore
from nexa_adapters.reporting import build_case_report, render_case_report_html
from nexa_core.model import (
    Actor,
    AuditEntry,
    Money,
    Reservation,
    ReservationStatus,
    RoomType,
    SubCaseStatus,
)
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case, make_group, make_passenger, make_sub_case
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
T0 = datetime(2026, 5, 5, 22, 0, tzinfo=UTC)


async def populate(groups: int = 2_000, passengers: int = 5_000) -> MemoryStore:
    rng = random.Random(7)
    store = MemoryStore()
    case = attrs.evolve(make_case("c-bench"), created_at=T0)
    await store.cases.add(LAN, case)
    sizes = [1] * groups
    for _ in range(passengers - groups):
        sizes[rng.randrange(groups)] += 1
    n = 0
    for g, size in enumerate(sizes):
        pax = tuple(make_passenger(f"p-{n + i}") for i in range(size))
        n += size
        sub = attrs.evolve(
            make_sub_case(f"sc-{g}", case=case, group=make_group(f"G{g}", passengers=pax)),
            status=SubCaseStatus.RESOLVED,
        )
        await store.sub_cases.add(LAN, sub)
        hotel = rng.randrange(40)
        await store.reservations.add(
            LAN,
            Reservation(
                Urn("reservation", f"r-{g}"),
                LAN.airline_urn,
                case.urn,
                sub.urn,
                Urn("offer", f"of-{hotel}"),
                Urn("hotel", f"H{hotel}", "sandbox"),
                f"Hotel {hotel}",
                date(2026, 5, 5),
                date(2026, 5, 6),
                (RoomType.DBL,) * ((size + 1) // 2),
                Money(Decimal(90 * ((size + 1) // 2)), "USD"),
                status=ReservationStatus.CONFIRMED,
            ),
        )
        steps = ["PENDING", "PROCESSING", "OFFER_READY", "RESOLVED"]
        for k in range(3):
            await store.audit.append(
                LAN,
                AuditEntry(
                    Urn("audit", f"a-{g}-{k}"),
                    LAN.airline_urn,
                    Actor(Urn("user", "system")),
                    "sub-case.transition",
                    sub.urn,
                    "bench",
                    T0 + timedelta(seconds=rng.randrange(3600) + k * 600),
                    before={"status": steps[k]},
                    after={"status": steps[k + 1]},
                ),
            )
    return store


async def main() -> None:
    store = await populate()
    t = time.perf_counter()
    default_catalog().get("SCL")  # the airport catalog loads once per process
    print(f"airport catalog load    {(time.perf_counter() - t) * 1000:8.1f} ms (once)")
    t = time.perf_counter()
    report = await build_case_report(store, LAN, "urn:case:c-bench")
    built = time.perf_counter() - t
    t = time.perf_counter()
    html = render_case_report_html(report)
    rendered = time.perf_counter() - t
    print(
        f"case report: {report.sub_cases} sub-cases, {report.passengers} passengers, "
        f"{len(report.allocation)} hotels, {len(report.stage_series)} stage points"
    )
    print(f"build_case_report       {built * 1000:8.1f} ms")
    print(f"render_case_report_html {rendered * 1000:8.1f} ms  ({len(html) / 1024:.0f} KiB)")


if __name__ == "__main__":
    anyio.run(main)

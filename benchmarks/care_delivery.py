"""Speed of care delivery: shuttle planning, voucher render + QR, voucher delivery, and the
demo's event → last voucher time (this checkout against a previous one, side by side).

Prints numbers only; each measurement comes with a baseline measured in the same run::

    python benchmarks/care_delivery.py                       # the in-process figures
    python benchmarks/care_delivery.py --demo 5000 \\
        --before-python /path/to/previous/venv/bin/python    # + the demo, before and after

``--before-python`` is the interpreter of a virtualenv where an earlier Nexa is installed;
both demos run one after the other in fresh temporary work directories with the same
options, and the time from the case being opened to the last voucher sent is read from
each one's store. Run from the repository root.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import attrs
import segno

from nexa_adapters.render import JinjaRenderer
from nexa_adapters.render.qr import qr_png
from nexa_core.care import RideDemand, build_voucher, deliver_voucher, plan_rides
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


def _segno_default(payload: str) -> bytes:
    """The raw baseline: segno's own mask evaluation and PNG writer."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False, boost_error=False).save(
        out, kind="png", scale=4, border=4
    )
    return out.getvalue()


def vouchers(n: int = 300) -> None:
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
    built = [
        build_voucher(attrs.evolve(res, urn=Urn("reservation", f"r-{i:06d}")), sub, HOTEL)
        for i in range(n)
    ]  # distinct reservation URNs: no QR is served from the cache
    for lang in ("en", "es", "pt"):  # templates compile once per process: not measured
        renderer.render_voucher(built[0], lang)
    built = built[1:]
    n = len(built)
    start = time.perf_counter()
    for i, v in enumerate(built):
        renderer.render_voucher(v, ("en", "es", "pt")[i % 3])
    per_voucher = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for i in range(n):
        qr_png(f"urn:reservation:q-{i:06d}")
    ours = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for i in range(n):
        _segno_default(f"urn:reservation:q-{i:06d}")
    raw = (time.perf_counter() - start) / n * 1000
    print(
        f"voucher render (HTML + text + QR PNG): {per_voucher:.2f} ms per voucher "
        f"({1000 / per_voucher:.0f}/s), target ≤ 2 ms"
    )
    print(
        f"  QR PNG alone: {ours:.2f} ms; segno's default path (baseline) {raw:.2f} ms "
        f"→ {raw / ours:.1f}x faster"
    )


async def delivery() -> None:
    w = await build_world()
    groups = ("G1", "G2", "G3", "G4")
    start = time.perf_counter()
    sent = 0
    for gid in groups:
        care = w.care(gid)
        voucher = build_voucher(w.reservations[gid], w.subs[gid])
        report = await deliver_voucher(
            w.deps, TENANT, w.subs[gid], voucher, channels=care.channels,
            airport_language=care.language,
        )  # fmt: skip
        sent += len(report.delivered)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for gid in groups:
        care = w.care(gid)
        voucher = build_voucher(w.reservations[gid], w.subs[gid])
        await deliver_voucher(w.deps, TENANT, w.subs[gid], voucher, channels=care.channels)
    again = time.perf_counter() - start
    print(
        f"voucher delivery (4 groups, memory store): {sent} messages in {first * 1000:.0f} ms; "
        f"a re-run sends nothing in {again * 1000:.0f} ms"
    )


# --------------------------------------------------------------------------- the demo


def _event_to_last_voucher(db: Path) -> tuple[float, int]:
    """Seconds from the case being opened to the last voucher sent, and vouchers sent."""
    with sqlite3.connect(db) as conn:
        opened = conn.execute("SELECT json_extract(doc, '$.created_at') FROM nexa_cases").fetchone()
        rows = conn.execute(
            "SELECT json_extract(doc, '$.sent_at') FROM nexa_notifications "
            "WHERE json_extract(doc, '$.type') = 'voucher.issued' "
            "AND json_extract(doc, '$.sent_at') IS NOT NULL"
        ).fetchall()
    if not opened or not rows:
        return float("nan"), 0
    start = datetime.fromisoformat(opened[0])
    last = max(datetime.fromisoformat(r[0]) for r in rows)
    return (last - start).total_seconds(), len(rows)


def _run_demo(python: str, passengers: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="nexa-care-bench-") as tmp:
        work = Path(tmp) / "demo"
        cmd = [
            python, "-m", "nexa_cli", "demo", "--passengers", str(passengers),
            "--seed", str(seed), "--workdir", str(work), "--json",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"demo failed ({python}): {done.stderr[-2000:]}")
        summary = json.loads(done.stdout)
        seconds, messages = _event_to_last_voucher(work / "nexa.db")
        return {
            "event_to_last_voucher_s": seconds,
            "voucher_messages": messages,
            "booking_s": summary["elapsed_s"]["booking"],
            "wall_s": wall,
            "accommodated": summary["totals"]["accommodated"],
        }


def demo(passengers: int, seed: int, before: str | None) -> None:
    runs: list[tuple[str, dict[str, object]]] = []
    if before:
        runs.append(("before", _run_demo(before, passengers, seed)))
    runs.append(("after", _run_demo(sys.executable, passengers, seed)))
    print(f"demo, {passengers} passengers, seed {seed} (one after the other, same machine):")
    for label, r in runs:
        print(
            f"  {label:<6} event → last voucher {r['event_to_last_voucher_s']:.1f} s, "
            f"booking stage {r['booking_s']:.1f} s, wall {r['wall_s']:.1f} s, "
            f"{r['voucher_messages']} voucher messages, {r['accommodated']} accommodated"
        )
    if len(runs) == 2:
        b = float(runs[0][1]["event_to_last_voucher_s"])  # type: ignore[arg-type]
        a = float(runs[1][1]["event_to_last_voucher_s"])  # type: ignore[arg-type]
        print(f"  after / before: {a / b:.2f} (≤ 1.00: no worse than before)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=int, default=0, help="Also run the demo with N passengers.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--before-python", default=None, help="Interpreter of an earlier Nexa (for the demo)."
    )
    args = parser.parse_args()
    shuttles()
    vouchers()
    anyio.run(delivery)
    if args.demo:
        demo(args.demo, args.seed, args.before_python)


if __name__ == "__main__":
    main()

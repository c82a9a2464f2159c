"""Speed of rooming, stay plans, resolution and regulation presets (prints numbers only).

Run: ``python benchmarks/policy_rooming.py``.
"""

from __future__ import annotations

import contextlib
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nexa_core.errors import InvalidInputError, NoPolicyMatchError
from nexa_core.model import PassengerType, Tier
from nexa_core.policy import Buffers, Policy, PolicyContext, PolicyVersion, plan_stays, resolve
from nexa_core.regulation import Disruption, PassengerFlags, care_owed
from nexa_core.rooming import plan_rooms
from nexa_core.testing.builders import make_group, make_passenger


def main() -> None:
    rng = random.Random(7)
    policy = Policy("bench", PolicyContext(), frozenset(Tier))
    groups = []
    for g in range(10_000):
        size = rng.randint(1, 9)
        kinds = [PassengerType.ADT] + [
            rng.choice([PassengerType.ADT, PassengerType.ADT, PassengerType.CHD, PassengerType.INF])
            for _ in range(size - 1)
        ]
        tier = rng.choice(list(Tier))
        pax = tuple(make_passenger(f"p{g}-{i}", tier=tier, type=k) for i, k in enumerate(kinds))
        groups.append(make_group(f"G{g}", pnr=f"P{g:06d}", passengers=pax))
    passengers = sum(g.size for g in groups)

    t0 = time.perf_counter()
    rooms = 0
    for g in groups:
        with contextlib.suppress(InvalidInputError):  # infeasible random groups are skipped
            rooms += len(plan_rooms(g, policy))
    dt = time.perf_counter() - t0
    print(f"rooming: {len(groups)} groups / {passengers} pax → {rooms} rooms in {dt * 1000:.0f} ms")

    scl = ZoneInfo("America/Santiago")
    t0 = time.perf_counter()
    plans = plan_stays(
        groups,
        disrupted_at=datetime(2026, 5, 5, 17, 0, tzinfo=scl),
        departure=datetime(2026, 5, 6, 10, 0, tzinfo=scl),
        timezone="America/Santiago",
        buffers=Buffers(),
    )
    dt = time.perf_counter() - t0
    print(f"stay plans: {len(plans)} groups in {dt * 1000:.0f} ms")

    airports = ["SCL", "EZE", "GRU", "LIM", "BOG", "MAD", "MIA", "JFK"]
    versions = [
        PolicyVersion(
            Policy(
                f"p{i}",
                PolicyContext(
                    rng.choice(["LAN", "JJ", None]),
                    rng.choice([*airports, None]),
                ),
                frozenset(rng.sample(list(Tier), 3)),
            ),
            number=i,
        )
        for i in range(1_000)
    ]
    t0 = time.perf_counter()
    n = 1_000
    for i in range(n):
        with contextlib.suppress(NoPolicyMatchError):
            resolve(versions, tier=Tier.BUSINESS, airport=airports[i % 8], airline="LAN")
    dt = time.perf_counter() - t0
    print(f"resolution: {n} lookups over {len(versions)} policies in {dt * 1000:.0f} ms")

    t0 = time.perf_counter()
    n = 100_000
    for i in range(n):
        care_owed(
            ["EU261", "ANAC400"],
            Disruption(timedelta(minutes=i % 600), 500 + i % 5000, overnight=i % 2 == 0),
            PassengerFlags(),
        )
    dt = time.perf_counter() - t0
    print(f"regulations: {n} evaluations (2 presets) in {dt * 1000:.0f} ms")


if __name__ == "__main__":
    main()

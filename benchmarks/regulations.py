"""Speed of the regulation presets (prints numbers only; no assertion).

Three figures, each with the raw baseline measured in the same run:

* distinct disruptions: every call a new delay, so each of the four presets really runs;
* one flight: 300 passengers of one disruption through ``care_for_group`` (the memoised
  path a case takes: passengers share the disruption and mostly their flags);
* the raw baseline: the bare threshold comparisons ANAC's Art. 27 makes, no objects.

Run: ``python benchmarks/regulations.py``.
"""

from __future__ import annotations

import time
from datetime import timedelta

from nexa_core.model import SpecialNeed
from nexa_core.regulation import Disruption, PassengerFlags, care_for_group, care_owed
from nexa_core.testing.builders import make_group, make_passenger

ALL = ("EU261", "ANAC400", "APPR", "DOT")
H = timedelta(hours=1)


def raw(delay: timedelta, overnight: bool) -> tuple[bool, bool, bool]:
    return delay > H, delay > 2 * H, delay > 4 * H and overnight


def main() -> None:
    n = 20_000
    delays = [timedelta(minutes=i % 2880) for i in range(n)]
    disruptions = [
        Disruption(d, 500 + i % 5000, overnight=i % 2 == 0) for i, d in enumerate(delays)
    ]

    t0 = time.perf_counter()
    for i, d in enumerate(delays):
        raw(d, i % 2 == 0)
    base = time.perf_counter() - t0

    flags = PassengerFlags()
    t0 = time.perf_counter()
    for d in disruptions:
        care_owed(ALL, d, flags)
    distinct = time.perf_counter() - t0
    print(
        f"regulations: {n} distinct disruptions x 4 presets in {distinct * 1000:.0f} ms "
        f"({distinct / n * 1e6:.0f} us each); raw thresholds {base * 1000:.1f} ms; "
        f"ratio {distinct / base:.0f}x"
    )

    passengers = [
        make_passenger(f"p{i}", needs=frozenset({SpecialNeed.WCHR}) if i % 50 == 0 else frozenset())
        for i in range(300)
    ]
    group = make_group(passengers=tuple(passengers))
    flight = Disruption(6 * H, 2400, overnight=True)
    flights = 200
    t0 = time.perf_counter()
    for k in range(flights):
        care_for_group(
            ALL, Disruption(6 * H + k * timedelta(minutes=1), 2400, overnight=True), group
        )
    grouped = time.perf_counter() - t0
    per_pax = grouped / (flights * len(passengers))
    t0 = time.perf_counter()
    for _ in range(flights):
        for _p in passengers:
            raw(flight.delay, True)
    base_group = time.perf_counter() - t0
    print(
        f"regulations: {flights} flights x {len(passengers)} passengers in "
        f"{grouped * 1000:.0f} ms ({per_pax * 1e6:.1f} us per passenger); raw thresholds "
        f"{base_group * 1000:.1f} ms; ratio {grouped / base_group:.0f}x"
    )


if __name__ == "__main__":
    main()

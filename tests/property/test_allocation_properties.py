"""Every plan the solvers produce passes the validator, on generated instances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexa_core.allocation import (
    AllocationOptions,
    GreedyRepairSolver,
    GroupDemand,
    allocate,
    validate_plan,
)
from nexa_core.model import HotelOffer, Money, RoomNeed, RoomOffer, RoomType, SpecialNeed, Tier
from nexa_core.model.case import Airport
from nexa_core.policy import Policy, PolicyContext, TierConstraints
from nexa_core.urn import Urn

AIRPORT = Airport(Urn("airport", "SCL"), "Santiago", -33.393, -70.785, "America/Santiago", "CL")
_SIZE = {1: RoomType.SGL, 2: RoomType.DBL, 3: RoomType.TRP, 4: RoomType.QUAD}
POLICY = Policy(
    "prop",
    PolicyContext(),
    frozenset(Tier),
    constraints={
        Tier.ECONOMY: TierConstraints(max_nightly_rate=Money("120", "USD"), max_distance_km=20),
        Tier.BUSINESS: TierConstraints(min_stars=4),
        Tier.CREW: TierConstraints(required_amenities=frozenset({"WIFI"})),
    },
)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[GroupDemand], list[HotelOffer], AllocationOptions]:
    n_hotels = draw(st.integers(1, 6))
    offers = []
    for h in range(n_hotels):
        rooms = []
        for rt in draw(
            st.lists(st.sampled_from(list(RoomType)), min_size=1, max_size=4, unique=True)
        ):
            rooms.append(
                RoomOffer(
                    rt,
                    draw(st.integers(0, 4)),
                    Decimal(draw(st.integers(40, 180))),
                    draw(st.booleans()),
                )
            )
        offers.append(
            HotelOffer(
                urn=Urn("offer", f"of-{h}"),
                hotel_urn=Urn("hotel", f"h{h}", "sandbox"),
                name=f"H{h}",
                address=f"{h} Road",
                latitude=AIRPORT.latitude + draw(st.floats(0.0, 0.3)),
                longitude=AIRPORT.longitude,
                stars=draw(st.integers(2, 5)),
                rooms=tuple(rooms),
                currency="USD",
                check_in=date(2026, 5, 5),
                check_out=date(2026, 5, 6),
                amenities=frozenset({"WIFI"}) if draw(st.booleans()) else frozenset(),
            )
        )
    groups = []
    for g in range(draw(st.integers(1, 14))):
        tier = draw(st.sampled_from(list(Tier)))
        sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
        acc = draw(st.integers(0, 9)) == 0
        gid = f"G{g}"
        needs = tuple(
            RoomNeed(gid, tier, _SIZE[s], s, 0, acc and i == 0) for i, s in enumerate(sizes)
        )
        special = frozenset({SpecialNeed.WCHR}) if acc else frozenset()
        mixed = draw(st.integers(0, 14)) == 0
        tiers = frozenset({tier, Tier.ECONOMY}) if mixed else frozenset({tier})
        groups.append(GroupDemand(gid, tier, sum(sizes), needs, special, tiers))
    options = AllocationOptions(
        separate_tiers_by_hotel=draw(st.booleans()),
        fixed_cost_per_hotel=Decimal(draw(st.integers(0, 300))),
    )
    return groups, offers, options


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_default_solver_plans_never_violate_the_rules(
    inst: tuple[list[GroupDemand], list[HotelOffer], AllocationOptions],
) -> None:
    groups, offers, options = inst
    plan = allocate(groups, offers, POLICY, AIRPORT, options=options)
    assert validate_plan(plan, groups, offers, POLICY, AIRPORT) == []
    assert plan.totals.groups_assigned + len(plan.unassigned) == len(groups)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_exact_solver_plans_are_valid_and_never_cover_less(
    inst: tuple[list[GroupDemand], list[HotelOffer], AllocationOptions],
) -> None:
    pytest.importorskip("highspy")
    from nexa_adapters.solvers.highs import HighsSolver

    groups, offers, options = inst
    exact = allocate(groups, offers, POLICY, AIRPORT, options=options, solver=HighsSolver())
    heur = allocate(groups, offers, POLICY, AIRPORT, options=options, solver=GreedyRepairSolver())
    assert validate_plan(exact, groups, offers, POLICY, AIRPORT) == []
    assert exact.totals.weighted_coverage + 1e-6 >= heur.totals.weighted_coverage

"""Rooming math: properties over random PNR groups plus worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_core.errors import InvalidInputError
from nexa_core.model import PassengerGroup, PassengerType, RoomType, SpecialNeed, Tier
from nexa_core.policy import Policy, PolicyContext, RoomSharing
from nexa_core.rooming import minimal_room_count, plan_rooms, room_type_for
from nexa_core.testing.builders import make_group, make_passenger

ADT, CHD, INF = PassengerType.ADT, PassengerType.CHD, PassengerType.INF
POLICY = Policy("default", PolicyContext(), frozenset(Tier))


@st.composite
def groups(draw: st.DrawFn) -> PassengerGroup:
    tier = draw(st.sampled_from([t for t in Tier if t is not Tier.CREW]))
    adults = draw(st.integers(0, 6))
    children = draw(st.integers(0, 3 * max(adults, 1) + 1))
    infants = draw(st.integers(0, adults + 1))
    crew = draw(st.integers(0, 3))
    needs = st.sets(st.sampled_from(list(SpecialNeed)), max_size=1).map(frozenset)
    pax = []
    gid = draw(st.sampled_from(["G1", "G2", "PNR-9"]))
    for kind, count, cabin in ((ADT, adults, tier), (CHD, children, tier), (INF, infants, tier)):
        for _ in range(count):
            pax.append(
                make_passenger(f"{gid}-{len(pax)}", tier=cabin, type=kind, needs=draw(needs))
            )
    for _ in range(crew):
        pax.append(make_passenger(f"{gid}-{len(pax)}", tier=Tier.CREW, needs=draw(needs)))
    if not pax:
        pax.append(make_passenger(f"{gid}-0", tier=tier))
    order = draw(st.permutations(pax))
    return make_group(gid, pnr=f"P{gid.replace('-', '')}", passengers=tuple(order))


policies = st.builds(
    lambda tiers, crew_single: Policy(
        "p", PolicyContext(), frozenset(Tier), room_sharing=RoomSharing(tiers, crew_single)
    ),
    st.frozensets(st.sampled_from(list(Tier))),
    st.booleans(),
)


def _feasible(group: PassengerGroup, policy: Policy) -> bool:
    crew_alone = policy.room_sharing.crew_single_rooms
    adults = sum(
        1 for p in group.passengers if p.type is ADT and not (p.cabin is Tier.CREW and crew_alone)
    )
    minors = [p for p in group.passengers if p.type is not ADT]
    children = sum(1 for p in minors if p.type is CHD)
    return not (minors and adults == 0) and children <= 3 * adults


@settings(max_examples=300, deadline=None)
@given(groups(), policies)
def test_rooming_rules_hold_for_any_group(group: PassengerGroup, policy: Policy) -> None:
    if not _feasible(group, policy):
        with pytest.raises(InvalidInputError):
            plan_rooms(group, policy)
        return
    needs = plan_rooms(group, policy)
    by_urn = {p.urn: p for p in group.passengers}
    placed = [u for n in needs for u in n.passenger_urns]
    # every passenger (infants too) is in exactly one room, and only this PNR's passengers
    assert sorted(map(str, placed)) == sorted(str(p.urn) for p in group.passengers)
    assert all(n.group_id == group.group_id for n in needs)
    for n in needs:
        people = [by_urn[u] for u in n.passenger_urns]
        beds = [p for p in people if p.type is not INF]
        babies = [p for p in people if p.type is INF]
        adults = [p for p in people if p.type is ADT]
        # every non-infant has a bed; capacity never exceeded; smallest type that fits
        assert n.occupants == len(beds) >= 1
        assert n.infants == len(babies)
        assert n.occupants <= n.room_type.capacity
        assert n.room_type is room_type_for(n.occupants)
        # infants and children are with an adult of their PNR
        if babies or any(p.type is CHD for p in people):
            assert adults
        if any(p.cabin is Tier.CREW for p in beds) and policy.room_sharing.crew_single_rooms:
            assert n.tier is Tier.CREW and n.occupants == 1 and n.room_type is RoomType.SGL
        assert n.accessible == any(p.needs_accessible_room for p in people)
        crew_room = policy.room_sharing.crew_single_rooms and n.tier is Tier.CREW
        if n.tier in policy.room_sharing.one_room_per_adult_tiers and not crew_room:
            assert len(adults) == 1
    # minimal: no assignment obeying the rules can use fewer rooms
    crew_alone = policy.room_sharing.crew_single_rooms
    crew = sum(1 for p in group.passengers if p.cabin is Tier.CREW and p.type is ADT and crew_alone)
    adults_n = sum(
        1 for p in group.passengers if p.type is ADT and not (p.cabin is Tier.CREW and crew_alone)
    )
    beds_n = adults_n + sum(1 for p in group.passengers if p.type is CHD)
    guests = [
        p
        for p in group.passengers
        if p.type is not INF and not (p.cabin is Tier.CREW and p.type is ADT and crew_alone)
    ]
    guest_tier = max((p.cabin for p in guests), key=list(Tier).index, default=None)
    premium = guest_tier in policy.room_sharing.one_room_per_adult_tiers
    lower = crew + max(math.ceil(beds_n / 4), adults_n if premium else 0)
    assert len(needs) == lower == minimal_room_count(group, policy)


def test_family_of_two_adults_three_children_and_an_infant_needs_two_rooms() -> None:
    kinds = [ADT, ADT, CHD, CHD, CHD, INF]
    group = make_group(
        passengers=tuple(make_passenger(f"p{i}", type=k) for i, k in enumerate(kinds))
    )
    needs = plan_rooms(group, POLICY)
    assert sorted((n.room_type, n.occupants, n.infants) for n in needs) == [
        (RoomType.DBL, 2, 0),
        (RoomType.TRP, 3, 1),
    ]


def test_business_adults_get_one_room_each_and_a_wheelchair_makes_it_accessible() -> None:
    pax = (
        make_passenger("a", tier=Tier.BUSINESS, needs=frozenset({SpecialNeed.WCHR})),
        make_passenger("b", tier=Tier.BUSINESS),
    )
    needs = plan_rooms(make_group(passengers=pax), POLICY)
    assert [(n.room_type, n.accessible) for n in needs] == [
        (RoomType.SGL, True),
        (RoomType.SGL, False),
    ]


def test_policy_can_let_business_share_rooms() -> None:
    pax = (make_passenger("a", tier=Tier.BUSINESS), make_passenger("b", tier=Tier.BUSINESS))
    policy = Policy("p", PolicyContext(), frozenset(Tier), room_sharing=RoomSharing(frozenset()))
    assert [n.room_type for n in plan_rooms(make_group(passengers=pax), policy)] == [RoomType.DBL]


def test_crew_members_get_single_rooms_each() -> None:
    pax = tuple(make_passenger(f"c{i}", tier=Tier.CREW) for i in range(3))
    needs = plan_rooms(make_group(passengers=pax), POLICY)
    assert [(n.tier, n.room_type) for n in needs] == [(Tier.CREW, RoomType.SGL)] * 3


def test_five_economy_adults_are_spread_evenly_over_two_rooms() -> None:
    pax = tuple(make_passenger(f"a{i}") for i in range(5))
    needs = plan_rooms(make_group(passengers=pax), POLICY)
    assert sorted(n.room_type for n in needs) == [RoomType.DBL, RoomType.TRP]


def test_unaccompanied_minor_is_refused_for_manual_handling() -> None:
    pax = (make_passenger("k", type=CHD, needs=frozenset({SpecialNeed.UMNR})),)
    with pytest.raises(InvalidInputError, match="unaccompanied"):
        plan_rooms(make_group(passengers=pax), POLICY)


def test_more_than_three_children_per_adult_is_refused() -> None:
    pax = (make_passenger("a"), *tuple(make_passenger(f"k{i}", type=CHD) for i in range(4)))
    with pytest.raises(InvalidInputError, match="4 children for 1 adults"):
        plan_rooms(make_group(passengers=pax), POLICY)


def test_room_type_for_rejects_more_than_four_beds() -> None:
    with pytest.raises(InvalidInputError):
        room_type_for(5)

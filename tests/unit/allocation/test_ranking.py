from __future__ import annotations

from nexa_core.allocation import AllocationOptions, rank_offers
from nexa_core.model import Money, PaymentMode, RoomType, Tier
from nexa_core.policy import Policy, PolicyContext, TierConstraints

from .helpers import AIRPORT, POLICY, offer


def _policy(**c: object) -> Policy:
    return Policy(
        "p",
        PolicyContext(),
        frozenset(Tier),
        constraints={Tier.ECONOMY: TierConstraints(**c)},  # type: ignore[arg-type]
    )


def _rank(policy: Policy, offers: list, **kw: object) -> dict[str, str]:  # type: ignore[type-arg]
    ranked = rank_offers(offers, policy, Tier.ECONOMY, AIRPORT.latitude, AIRPORT.longitude, **kw)  # type: ignore[arg-type]
    return {c.hotel_urn.id: c.reason for c in ranked}


def test_each_policy_gate_filters_with_its_own_reason() -> None:
    policy = _policy(
        min_stars=3,
        max_distance_km=10,
        max_nightly_rate=Money("100", "USD"),
        required_amenities=frozenset({"WIFI"}),
        excluded_chains=frozenset({"Cheapo"}),
    )
    offers = [
        offer("ok", [(RoomType.DBL, 5, "90")], amenities=frozenset({"WIFI"})),
        offer("stars", [(RoomType.DBL, 5, "90")], stars=2, amenities=frozenset({"WIFI"})),
        offer("far", [(RoomType.DBL, 5, "90")], km=25, amenities=frozenset({"WIFI"})),
        offer("dear", [(RoomType.DBL, 5, "130")], amenities=frozenset({"WIFI"})),
        offer("nowifi", [(RoomType.DBL, 5, "90")]),
        offer("chain", [(RoomType.DBL, 5, "90")], amenities=frozenset({"WIFI"}), chain="Cheapo"),
        offer(
            "card",
            [(RoomType.DBL, 5, "90")],
            amenities=frozenset({"WIFI"}),
            payments=frozenset({PaymentMode.CARD}),
        ),
    ]
    reasons = _rank(policy, offers)
    assert reasons["ok"] == "eligible"
    assert "stars 2 below minimum 3" in reasons["stars"]
    assert "exceeds 10 km" in reasons["far"]
    assert "above cap 100" in reasons["dear"]
    assert "missing amenities WIFI" in reasons["nowifi"]
    assert "chain Cheapo excluded" in reasons["chain"]
    assert "accepts only CARD" in reasons["card"]


def test_card_only_hotel_passes_when_a_card_is_allowed() -> None:
    offers = [offer("card", [(RoomType.DBL, 5, "90")], payments=frozenset({PaymentMode.CARD}))]
    assert _rank(POLICY, offers, options=AllocationOptions(card_allowed=True))["card"] == "eligible"


def test_ranking_is_deterministic_and_prefers_cheap_near_and_big() -> None:
    offers = [
        offer("far-dear", [(RoomType.DBL, 5, "150")], km=20),
        offer("near-cheap", [(RoomType.DBL, 50, "80")], km=2),
        offer("mid", [(RoomType.DBL, 10, "100")], km=8),
    ]
    one = rank_offers(offers, POLICY, Tier.ECONOMY, AIRPORT.latitude, AIRPORT.longitude)
    two = rank_offers(
        list(reversed(offers)), POLICY, Tier.ECONOMY, AIRPORT.latitude, AIRPORT.longitude
    )
    assert [c.hotel_urn.id for c in one] == ["near-cheap", "mid", "far-dear"]
    assert one == two
    assert [c.rank for c in one] == [1, 2, 3]
    assert one[0].score > one[1].score > one[2].score


def test_direct_contract_gets_the_consolidation_bonus_and_tier_scope() -> None:
    offers = [
        offer("gds", [(RoomType.DBL, 5, "90")]),
        offer("contract", [(RoomType.DBL, 5, "90")], vendor="direct"),
        offer(
            "crew-only",
            [(RoomType.DBL, 5, "60")],
            vendor="direct",
            amenities=frozenset({"tier:CREW"}),
        ),
    ]
    ranked = rank_offers(offers, POLICY, Tier.ECONOMY, AIRPORT.latitude, AIRPORT.longitude)
    assert ranked[0].hotel_urn.id == "contract"
    assert {c.hotel_urn.id: c.reason for c in ranked}["crew-only"] == (
        "filtered: contract scope excludes ECONOMY"
    )

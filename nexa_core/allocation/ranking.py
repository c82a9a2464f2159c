"""Per-tier ranking: policy gates, then a weighted score; every candidate keeps a reason.

Gates run in a fixed order (stars, distance, rate, amenities, chain, payment) and the first
failing gate is the candidate's reason. Passing candidates are scored::

    score = w_cost·(1 − rate/max_rate) + w_distance·(1 − km/max_km)
            + w_consolidation·(rooms/max_rooms) [+ w_consolidation bonus for direct contracts]

so it lies in ``[0, 1 + w_consolidation]``; ties break on the hotel URN, making the order
deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from nexa_core.allocation.model import AllocationOptions, Candidate
from nexa_core.geo import haversine_km
from nexa_core.model import HotelOffer, PaymentMode, Tier
from nexa_core.policy import Policy

__all__ = ["allowed_payments", "gate", "rank_offers", "usable_rate_cap"]


def allowed_payments(policy: Policy, options: AllocationOptions) -> frozenset[PaymentMode]:
    """Payment modes the policy allows; CARD also when the options allow a card."""
    modes = set(policy.accepted_payments)
    if options.card_allowed:
        modes.add(PaymentMode.CARD)
    return frozenset(modes)


def usable_rate_cap(policy: Policy, tier: Tier) -> Decimal | None:
    """The highest nightly rate a tier's room may cost (None: no cap)."""
    cap = policy.constraints_for(tier).max_nightly_rate
    return None if cap is None else cap.amount


def gate(
    offer: HotelOffer,
    policy: Policy,
    tier: Tier,
    distance_km: float,
    payments: frozenset[PaymentMode],
) -> str | None:
    """The first policy gate ``offer`` fails for ``tier`` (None: it passes them all)."""
    c = policy.constraints_for(tier)
    if c.min_stars is not None and (offer.stars is None or offer.stars < c.min_stars):
        return f"filtered: stars {offer.stars} below minimum {c.min_stars}"
    if c.max_distance_km is not None and distance_km > c.max_distance_km:
        return f"filtered: {distance_km:.1f} km from the airport exceeds {c.max_distance_km:g} km"
    if c.max_nightly_rate is not None:
        if offer.currency != c.max_nightly_rate.currency:
            return (
                f"filtered: rate currency {offer.currency} differs from the cap's "
                f"{c.max_nightly_rate.currency}"
            )
        rates = [r.nightly_rate for r in offer.rooms if r.count > 0]
        if rates and min(rates) > c.max_nightly_rate.amount:
            return f"filtered: cheapest rate {min(rates)} above cap {c.max_nightly_rate.amount}"
    missing = c.required_amenities - offer.amenities
    if missing:
        return f"filtered: missing amenities {', '.join(sorted(missing))}"
    if offer.chain is not None and offer.chain in c.excluded_chains:
        return f"filtered: chain {offer.chain} excluded"
    if not (offer.accepted_payments & payments):
        accepted = ", ".join(sorted(m.value for m in offer.accepted_payments))
        return f"filtered: accepts only {accepted or 'nothing'} which the policy does not allow"
    tier_tags = {a for a in offer.amenities if a.startswith("tier:")}
    if tier_tags and f"tier:{tier.value}" not in tier_tags:
        return f"filtered: contract scope excludes {tier.value}"
    if offer.total_rooms == 0:
        return "filtered: no rooms available"
    cap = usable_rate_cap(policy, tier)
    if cap is not None and not any(r.count > 0 and r.nightly_rate <= cap for r in offer.rooms):
        return f"filtered: no room at or below cap {cap}"
    return None


def rank_offers(
    offers: Sequence[HotelOffer],
    policy: Policy,
    tier: Tier,
    airport_lat: float,
    airport_lon: float,
    options: AllocationOptions = AllocationOptions(),
) -> list[Candidate]:
    """Every offer as a candidate for ``tier``: eligible ones ranked by score, best first,
    then the filtered ones (score 0) with the failing gate as reason."""
    payments = allowed_payments(policy, options)
    w = policy.weights
    passing: list[tuple[HotelOffer, float, Decimal]] = []
    filtered: list[Candidate] = []
    for offer in offers:
        km = haversine_km(airport_lat, airport_lon, offer.latitude, offer.longitude)
        cheapest = offer.cheapest_rate()
        reason = gate(offer, policy, tier, km, payments)
        if reason is not None:
            filtered.append(
                Candidate(
                    tier=tier,
                    hotel_urn=offer.hotel_urn,
                    offer_urn=offer.urn,
                    name=offer.name,
                    vendor=offer.vendor,
                    distance_km=round(km, 3),
                    cheapest_rate=None if cheapest is None else cheapest.amount,
                    eligible=False,
                    score=0.0,
                    reason=reason,
                )
            )
            continue
        assert cheapest is not None  # gate() filters offers without rooms
        passing.append((offer, km, cheapest.amount))
    max_rate = max((float(r) for _, _, r in passing), default=1.0) or 1.0
    max_km = max((km for _, km, _ in passing), default=1.0) or 1.0
    max_rooms = max((o.total_rooms for o, _, _ in passing), default=1) or 1
    scored: list[tuple[float, str, HotelOffer, float, Decimal]] = []
    for offer, km, rate in passing:
        score = (
            w.cost * (1 - float(rate) / max_rate)
            + w.distance * (1 - km / max_km)
            + w.consolidation * (offer.total_rooms / max_rooms)
        )
        if offer.vendor == "direct":
            score += w.consolidation  # contracts: amplified consolidation bonus
        scored.append((round(score, 6), str(offer.hotel_urn), offer, km, rate))
    scored.sort(key=lambda s: (-s[0], s[1]))
    ranked = [
        Candidate(
            tier=tier,
            hotel_urn=offer.hotel_urn,
            offer_urn=offer.urn,
            name=offer.name,
            vendor=offer.vendor,
            distance_km=round(km, 3),
            cheapest_rate=rate,
            eligible=True,
            score=score,
            reason="eligible",
            rank=i + 1,
        )
        for i, (score, _, offer, km, rate) in enumerate(scored)
    ]
    filtered.sort(key=lambda c: str(c.hotel_urn))
    return ranked + filtered

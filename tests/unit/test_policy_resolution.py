"""Resolution order with overlapping policies, and explain's reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_core.errors import NoPolicyMatchError
from nexa_core.model import PolicyState, Tier
from nexa_core.policy import (
    Policy,
    PolicyContext,
    PolicyVersion,
    ResolutionRule,
    context_key,
    explain,
    resolve,
)
from nexa_core.urn import Urn

ALL = frozenset(Tier)


def pol(
    name: str,
    *,
    airline: str | None = None,
    airport: str | None = None,
    country: str | None = None,
    tiers: frozenset[Tier] = ALL,
) -> Policy:
    return Policy(name, PolicyContext(airline, airport, country), tiers)


GLOBAL = pol("global")
AIRLINE = pol("airline", airline="LAN")
AIRPORT = pol("airport", airport="SCL")
BOTH = pol("both", airline="LAN", airport="SCL", tiers=frozenset({Tier.BUSINESS}))
COUNTRY = pol("country", country="CL", airline="LAN")
OVERLAPPING = [GLOBAL, AIRLINE, AIRPORT, BOTH]


@pytest.mark.parametrize(
    ("kwargs", "expected", "rule"),
    [
        (
            {"tier": Tier.BUSINESS, "airport": "SCL", "airline": "LAN"},
            "both",
            ResolutionRule.AIRPORT_AIRLINE,
        ),
        (
            {"tier": Tier.ECONOMY, "airport": "SCL", "airline": "LAN"},
            "airport",
            ResolutionRule.AIRPORT,
        ),
        (
            {"tier": Tier.BUSINESS, "airport": "SCL", "airline": "JJ"},
            "airport",
            ResolutionRule.AIRPORT,
        ),
        (
            {"tier": Tier.BUSINESS, "airport": "EZE", "airline": "LAN"},
            "airline",
            ResolutionRule.AIRLINE,
        ),
        (
            {"tier": Tier.BUSINESS, "airport": "EZE", "airline": "JJ"},
            "global",
            ResolutionRule.GLOBAL,
        ),
    ],
)
def test_most_specific_policy_wins_among_overlapping_ones(
    kwargs: dict[str, object], expected: str, rule: ResolutionRule
) -> None:
    resolved = resolve(OVERLAPPING, **kwargs)  # type: ignore[arg-type]
    assert (resolved.policy.name, resolved.rule) == (expected, rule)


def test_order_does_not_depend_on_candidate_order() -> None:
    forward = resolve(OVERLAPPING, tier=Tier.BUSINESS, airport="SCL", airline="LAN")
    backward = resolve(OVERLAPPING[::-1], tier=Tier.BUSINESS, airport="SCL", airline="LAN")
    assert forward.policy is backward.policy is BOTH


def test_country_policy_sits_between_airport_and_airline() -> None:
    cands = [AIRLINE, COUNTRY, AIRPORT]
    assert (
        resolve(cands, tier=Tier.ECONOMY, airport="PMC", airline="LAN", country="CL").policy
        is COUNTRY
    )
    assert (
        resolve(cands, tier=Tier.ECONOMY, airport="SCL", airline="LAN", country="CL").policy
        is AIRPORT
    )
    # an unknown country never matches a country policy
    assert resolve(cands, tier=Tier.ECONOMY, airport="PMC", airline="LAN").policy is AIRLINE


def test_codes_are_compared_case_insensitively() -> None:
    assert resolve([BOTH], tier=Tier.BUSINESS, airport="scl", airline="lan").policy is BOTH


def test_same_level_prefers_the_higher_version() -> None:
    old = PolicyVersion(pol("v1", airport="SCL"), Urn("policy", "pol-1"), 1)
    new = PolicyVersion(pol("v2", airport="SCL"), Urn("policy", "pol-2"), 2)
    ex = explain([old, new], tier=Tier.ECONOMY, airport="SCL")
    assert ex.resolved is not None and ex.resolved.version is new
    loser = next(v for v in ex.verdicts if v.candidate is old)
    assert loser.matched and not loser.chosen and "shadowed" in loser.reason


def test_inactive_versions_never_apply() -> None:
    draft = PolicyVersion(BOTH, Urn("policy", "pol-3"), 3, PolicyState.DRAFT)
    archived = PolicyVersion(AIRPORT, Urn("policy", "pol-4"), 1, PolicyState.ARCHIVED)
    ex = explain(
        [draft, archived, PolicyVersion(GLOBAL)], tier=Tier.BUSINESS, airport="SCL", airline="LAN"
    )
    assert ex.resolved is not None and ex.resolved.policy is GLOBAL
    reasons = {v.candidate.policy.name: v.reason for v in ex.verdicts}
    assert "DRAFT" in reasons["both"] and "ARCHIVED" in reasons["airport"]


def test_explain_says_why_each_candidate_lost() -> None:
    ex = explain(OVERLAPPING, tier=Tier.FIRST, airport="SCL", airline="LAN")
    reasons = {v.candidate.policy.name: v.reason for v in ex.verdicts}
    assert ex.verdicts[0].chosen and ex.verdicts[0].candidate.policy is AIRPORT
    assert "tier FIRST not covered" in reasons["both"]
    assert "less specific (airline+tier)" in reasons["airline"]
    assert "less specific (global tier)" in reasons["global"]
    data = ex.to_dict()
    assert data["matched"]["rule"] == "airport+tier"  # type: ignore[index]
    assert len(data["candidates"]) == 4  # type: ignore[arg-type]


def test_explain_names_the_mismatching_context_field() -> None:
    ex = explain([BOTH], tier=Tier.BUSINESS, airport="EZE", airline="LAN")
    assert ex.resolved is None
    assert ex.verdicts[0].reason == "airport SCL ≠ EZE"


def test_no_match_raises_for_a_policy_violation_review() -> None:
    with pytest.raises(NoPolicyMatchError) as info:
        resolve([BOTH], tier=Tier.ECONOMY, airport="SCL", airline="LAN")
    assert info.value.context["review_category"] == "POLICY_VIOLATION"
    assert info.value.context["tier"] == "ECONOMY"


def test_context_key_normalises_codes_and_orders_tiers() -> None:
    a = pol("a", airline="lan", airport="scl", tiers=frozenset({Tier.FIRST, Tier.BUSINESS}))
    assert context_key(a) == "LAN|SCL|*|BUSINESS,FIRST"


_codes = st.sampled_from([None, "SCL", "EZE"])
_versions = st.lists(
    st.builds(
        lambda airline, airport, country, tiers, number, state: PolicyVersion(
            pol(
                f"p{number}-{airline}-{airport}-{country}",
                airline=airline,
                airport=airport,
                country=country,
                tiers=tiers,
            ),
            number=number,
            state=state,
        ),
        st.sampled_from([None, "LAN", "JJ"]),
        _codes,
        st.sampled_from([None, "CL", "AR"]),
        st.frozensets(st.sampled_from(list(Tier)), min_size=1),
        st.integers(0, 5),
        st.sampled_from(list(PolicyState)),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    _versions,
    st.sampled_from(list(Tier)),
    _codes,
    st.sampled_from([None, "LAN", "JJ"]),
    st.sampled_from([None, "CL", "AR"]),
)
def test_resolve_agrees_with_explain_and_no_matching_candidate_is_more_specific(
    versions: list[PolicyVersion],
    tier: Tier,
    airport: str | None,
    airline: str | None,
    country: str | None,
) -> None:
    ex = explain(versions, tier=tier, airport=airport, airline=airline, country=country)
    try:
        got = resolve(versions, tier=tier, airport=airport, airline=airline, country=country)
    except NoPolicyMatchError:
        assert ex.resolved is None
        assert not any(v.matched for v in ex.verdicts)
        return
    assert ex.resolved is not None and ex.resolved.version is got.version
    for v in ex.verdicts:
        if v.matched:
            assert v.rule >= got.rule
            assert v.candidate.state is PolicyState.ACTIVE and tier in v.candidate.policy.tiers
    assert sum(v.chosen for v in ex.verdicts) == 1

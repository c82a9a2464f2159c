"""Which policy applies: most specific first, first match wins.

Levels (a policy's level follows from which context fields it sets):

1. ``AIRPORT_AIRLINE`` — airport + airline + tier
2. ``AIRPORT`` — airport + tier (any airline of the tenant)
3. ``COUNTRY_AIRLINE`` — country + airline + tier (no airport)
4. ``COUNTRY`` — country + tier
5. ``AIRLINE`` — airline + tier
6. ``GLOBAL`` — tier only

The country levels sit between airport and airline (a country is narrower than
"anywhere the airline flies"); they only match when the caller knows the airport's
country. Within one level the highest version number wins, then the name. Only ACTIVE
versions take part; everything else is listed by :func:`explain` with the reason it lost.
No match raises :class:`NoPolicyMatchError` (the caller opens a POLICY_VIOLATION review).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from nexa_core.errors import NoPolicyMatchError
from nexa_core.model import PolicyState, Tier
from nexa_core.policy.model import Policy, PolicyContext
from nexa_core.urn import Urn

__all__ = [
    "CandidateVerdict",
    "Explanation",
    "PolicyVersion",
    "ResolutionRule",
    "Resolved",
    "context_key",
    "explain",
    "resolve",
    "rule_of",
]


class ResolutionRule(enum.IntEnum):
    """Specificity levels; lower value = more specific = tried first."""

    AIRPORT_AIRLINE = 1
    AIRPORT = 2
    COUNTRY_AIRLINE = 3
    COUNTRY = 4
    AIRLINE = 5
    GLOBAL = 6

    @property
    def label(self) -> str:
        """Human name: ``airport+airline+tier`` …"""
        return {
            1: "airport+airline+tier",
            2: "airport+tier",
            3: "country+airline+tier",
            4: "country+tier",
            5: "airline+tier",
            6: "global tier",
        }[self.value]


def _up(value: str | None) -> str | None:
    return value.strip().upper() if value else None


def rule_of(context: PolicyContext) -> ResolutionRule:
    """The level a policy context belongs to."""
    airline, airport, country = context.airline, context.airport, context.country
    if airport:
        return ResolutionRule.AIRPORT_AIRLINE if airline else ResolutionRule.AIRPORT
    if country:
        return ResolutionRule.COUNTRY_AIRLINE if airline else ResolutionRule.COUNTRY
    return ResolutionRule.AIRLINE if airline else ResolutionRule.GLOBAL


def context_key(policy: Policy) -> str:
    """``airline|airport|country|tiers`` — the activation scope of a policy version."""
    c = policy.context
    tiers = ",".join(sorted(t.value for t in policy.tiers))
    return "|".join((_up(c.airline) or "*", _up(c.airport) or "*", _up(c.country) or "*", tiers))


@attrs.frozen
class PolicyVersion:
    """A candidate: a policy with its stored identity (all optional for plain files)."""

    policy: Policy
    urn: Urn | None = None
    number: int = 0
    state: PolicyState = PolicyState.ACTIVE

    @property
    def label(self) -> str:
        """``name v3 (urn)`` for messages."""
        who = f"{self.policy.name!r}"
        if self.number:
            who += f" v{self.number}"
        if self.urn is not None:
            who += f" ({self.urn})"
        return who


@attrs.frozen
class CandidateVerdict:
    """Why one candidate did or did not win."""

    candidate: PolicyVersion
    rule: ResolutionRule
    matched: bool
    chosen: bool
    reason: str


@attrs.frozen
class Resolved:
    """The winning version and the rule that matched."""

    version: PolicyVersion
    rule: ResolutionRule

    @property
    def policy(self) -> Policy:
        """The winning policy."""
        return self.version.policy


@attrs.frozen
class Explanation:
    """The outcome of a resolution plus a verdict per candidate (winner first)."""

    tier: Tier
    airport: str | None
    airline: str | None
    country: str | None
    resolved: Resolved | None
    verdicts: tuple[CandidateVerdict, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view (used by ``nexa policy explain --json``)."""
        r = self.resolved
        return {
            "query": {
                "tier": self.tier.value,
                "airport": self.airport,
                "airline": self.airline,
                "country": self.country,
            },
            "matched": None
            if r is None
            else {
                "name": r.policy.name,
                "urn": str(r.version.urn) if r.version.urn else None,
                "version": r.version.number,
                "rule": r.rule.label,
            },
            "candidates": [
                {
                    "name": v.candidate.policy.name,
                    "urn": str(v.candidate.urn) if v.candidate.urn else None,
                    "version": v.candidate.number,
                    "state": v.candidate.state.value,
                    "rule": v.rule.label,
                    "matched": v.matched,
                    "chosen": v.chosen,
                    "reason": v.reason,
                }
                for v in self.verdicts
            ],
        }


def _matches(
    c: PolicyVersion, tier: Tier, airport: str | None, airline: str | None, country: str | None
) -> bool:
    ctx = c.policy.context
    return (
        c.state is PolicyState.ACTIVE
        and tier in c.policy.tiers
        and (not ctx.airport or _up(ctx.airport) == airport)
        and (not ctx.airline or _up(ctx.airline) == airline)
        and (not ctx.country or _up(ctx.country) == country)
    )


def _mismatch(
    c: PolicyVersion, tier: Tier, airport: str | None, airline: str | None, country: str | None
) -> str | None:
    ctx = c.policy.context
    if c.state is not PolicyState.ACTIVE:
        return f"version is {c.state.value}, only ACTIVE versions apply"
    if tier not in c.policy.tiers:
        tiers = ", ".join(sorted(t.value for t in c.policy.tiers)) or "none"
        return f"tier {tier.value} not covered (tiers: {tiers})"
    if ctx.airport and _up(ctx.airport) != airport:
        return f"airport {ctx.airport} ≠ {airport or 'unspecified'}"
    if ctx.airline and _up(ctx.airline) != airline:
        return f"airline {ctx.airline} ≠ {airline or 'unspecified'}"
    if ctx.country and _up(ctx.country) != country:
        return f"country {ctx.country} ≠ {country or 'unknown'}"
    return None


def explain(
    candidates: Iterable[PolicyVersion | Policy],
    *,
    tier: Tier,
    airport: str | None = None,
    airline: str | None = None,
    country: str | None = None,
) -> Explanation:
    """Resolve and say why: the winner, and for every other candidate why it lost."""
    ap, al, co = _up(airport), _up(airline), _up(country)
    versions = [c if isinstance(c, PolicyVersion) else PolicyVersion(c) for c in candidates]
    matching: list[PolicyVersion] = []
    reasons: dict[int, str] = {}
    for i, c in enumerate(versions):
        why = _mismatch(c, tier, ap, al, co)
        if why is None:
            matching.append(c)
        else:
            reasons[i] = why

    def rank(c: PolicyVersion) -> tuple[int, int, str]:
        return (rule_of(c.policy.context).value, -c.number, c.policy.name)

    winner = min(matching, key=rank) if matching else None
    verdicts = []
    for i, c in enumerate(versions):
        rule = rule_of(c.policy.context)
        if c is winner:
            verdicts.append(CandidateVerdict(c, rule, True, True, f"matched by {rule.label}"))
        elif i in reasons:
            verdicts.append(CandidateVerdict(c, rule, False, False, reasons[i]))
        else:
            assert winner is not None
            w_rule = rule_of(winner.policy.context)
            if w_rule < rule:
                why = f"less specific ({rule.label}) than the winner ({w_rule.label})"
            else:
                why = f"same level, shadowed by {winner.label} (higher version or name order)"
            verdicts.append(CandidateVerdict(c, rule, True, False, why))
    verdicts.sort(key=lambda v: (not v.chosen, not v.matched, v.rule.value))
    resolved = None if winner is None else Resolved(winner, rule_of(winner.policy.context))
    return Explanation(tier, ap, al, co, resolved, tuple(verdicts))


def resolve(
    candidates: Iterable[PolicyVersion | Policy],
    *,
    tier: Tier,
    airport: str | None = None,
    airline: str | None = None,
    country: str | None = None,
) -> Resolved:
    """The applicable policy version; raises :class:`NoPolicyMatchError` when none matches.

    Same outcome as :func:`explain` without building a verdict per candidate.
    """
    ap, al, co = _up(airport), _up(airline), _up(country)
    best: PolicyVersion | None = None
    best_rank: tuple[int, int, str] | None = None
    count = 0
    for c in candidates:
        count += 1
        v = c if isinstance(c, PolicyVersion) else PolicyVersion(c)
        if not _matches(v, tier, ap, al, co):
            continue
        rank = (rule_of(v.policy.context).value, -v.number, v.policy.name)
        if best_rank is None or rank < best_rank:
            best, best_rank = v, rank
    if best is None:
        raise NoPolicyMatchError(
            f"no active policy for tier {tier.value} at airport {ap or '-'}"
            f" airline {al or '-'} ({count} candidates)",
            tier=tier.value,
            airport=ap,
            airline=al,
            country=co,
            review_category="POLICY_VIOLATION",
        )
    return Resolved(best, rule_of(best.policy.context))

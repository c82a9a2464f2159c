"""The default :class:`~nexa_core.ports.ExceptionTriage`: deterministic rules, read-only.

The triage is built from :class:`TriageTools` — read-only query callables and nothing
else — so it cannot book, cancel or notify: it holds no store, provider or engine.
It returns at most three ranked :class:`~nexa_core.model.Recommendation`s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from nexa_core.model import ManualReviewItem, Recommendation, ReviewCategory, SubCase
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["MAX_RECOMMENDATIONS", "RuleBasedTriage", "TriageTools"]

MAX_RECOMMENDATIONS = 3


@attrs.frozen
class TriageTools:
    """Read-only queries: sub-cases of a case, ranked candidate hotels per group."""

    sub_cases: Callable[[TenantContext, Urn], Awaitable[Sequence[SubCase]]]
    candidates: Callable[[TenantContext, Urn], Awaitable[Mapping[str, Sequence[Mapping[str, Any]]]]]


@attrs.frozen
class RuleBasedTriage:
    """Rules by category: rebook an untried candidate, relax the policy, split the group."""

    tools: TriageTools
    source: str = "rules"

    async def recommend(
        self, tenant: TenantContext, item: ManualReviewItem, context: Mapping[str, Any]
    ) -> Sequence[Recommendation]:
        subs = {s.group.group_id: s for s in await self.tools.sub_cases(tenant, item.case_urn)}
        ranked = await self.tools.candidates(tenant, item.case_urn)
        tried = {str(h.hotel_urn) for h in item.attempted_hotels}
        out: list[tuple[str, str, Urn | None, str | None, tuple[tuple[str, str], ...]]] = []
        for gid in item.affected_groups or tuple(subs):
            sub = subs.get(gid)
            size = sub.group.size if sub is not None else 0
            if item.category in (ReviewCategory.BOOKING_FAILED, ReviewCategory.PAYMENT_FAILED):
                for offer in ranked.get(gid, ()):
                    if str(offer.get("hotel_urn")) not in tried:
                        out.append(
                            (
                                "rebook",
                                f"{offer.get('name', 'next hotel')} was ranked for {gid} and not tried",
                                Urn.parse(str(offer["hotel_urn"])),
                                gid,
                                (),
                            )
                        )
                        break
            if item.category is ReviewCategory.PAYMENT_FAILED:
                out.append(
                    (
                        "relaxPolicy",
                        "pay by guarantee instead of card",
                        None,
                        gid,
                        (("payment", "GUARANTEE"),),
                    )
                )
            if item.category in (
                ReviewCategory.ALLOCATION_FAILED,
                ReviewCategory.PARTIAL_FULFILLMENT,
                ReviewCategory.BOOKING_FAILED,
            ):
                out.append(
                    (
                        "relaxPolicy",
                        "widen the search: +50% distance, one star less",
                        None,
                        gid,
                        (("max_distance_km", "x1.5"), ("min_stars", "-1")),
                    )
                )
            if item.category is ReviewCategory.MIXED_TIER_GROUP or size > 4:
                why = (
                    "split by tier"
                    if item.category is ReviewCategory.MIXED_TIER_GROUP
                    else f"{size} passengers rarely fit one hotel"
                )
                out.append(("splitGroup", why, None, gid, ()))
        seen: set[tuple[str, str | None]] = set()
        recs: list[Recommendation] = []
        for action, reason, hotel, group, relax in out:
            if (action, group) in seen:
                continue
            seen.add((action, group))
            recs.append(
                Recommendation(len(recs) + 1, action, reason, hotel, group, relax, self.source)
            )
            if len(recs) == MAX_RECOMMENDATIONS:
                break
        return recs

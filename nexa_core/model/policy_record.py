"""The stored form of a policy version (the document is interpreted by ``nexa_core.policy``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from nexa_core.model.common import StateMachine
from nexa_core.urn import Urn

__all__ = ["POLICY_LIFECYCLE", "PolicyRecord", "PolicyState"]


class PolicyState(enum.StrEnum):
    """Policy version lifecycle."""

    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    #: a policy file a case was opened with explicitly: recorded, never resolved
    AD_HOC = "AD_HOC"


_P = PolicyState
POLICY_LIFECYCLE: StateMachine[PolicyState] = StateMachine(
    "policy",
    {
        _P.DRAFT: frozenset({_P.ACTIVE}),
        _P.ACTIVE: frozenset({_P.ARCHIVED}),
        _P.ARCHIVED: frozenset({_P.ACTIVE}),  # rollback re-activates an archived version
        _P.AD_HOC: frozenset(),  # a record of what a case ran under; add the file to activate it
    },
)


@attrs.frozen
class PolicyRecord:
    """One version of a policy, scoped to (airline, airport?, country?)."""

    urn: Urn
    airline_urn: Urn
    name: str
    context_key: str  # normalised "airline|airport|country|tiers" used for activation scope
    number: int  # monotonic version number within the context
    document: Mapping[str, Any]
    state: PolicyState = PolicyState.DRAFT
    airport: str | None = None
    country: str | None = None
    created_at: datetime | None = None
    version: int = 0

    def transition(self, to: PolicyState) -> PolicyRecord:
        """A copy in state ``to`` (checked against the lifecycle)."""
        POLICY_LIFECYCLE.check(self.state, to, urn=self.urn)
        return attrs.evolve(self, state=to)

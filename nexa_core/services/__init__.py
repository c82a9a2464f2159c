"""Application services: case flow, manual review, triage (async, over ports).

Every public async service is declared with :func:`nexa_core.auth.requires`
(a test enumerates them and proves each one is guarded).
"""

from nexa_core.services.cases import (
    AllocationOutcome,
    CaseManifest,
    CaseOrchestrator,
    OpenedCase,
    care_for,
    tenant_of,
)
from nexa_core.services.review import ReviewService, read_only_tools
from nexa_core.services.triage import MAX_RECOMMENDATIONS, RuleBasedTriage, TriageTools

__all__ = [
    "MAX_RECOMMENDATIONS",
    "AllocationOutcome",
    "CaseManifest",
    "CaseOrchestrator",
    "OpenedCase",
    "ReviewService",
    "RuleBasedTriage",
    "TriageTools",
    "care_for",
    "read_only_tools",
    "tenant_of",
]

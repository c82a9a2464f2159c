"""Application services: case flow, manual review, triage (async, over ports, role-guarded)."""

from nexa_core.services.cases import (
    AllocationOutcome,
    CaseManifest,
    CaseOrchestrator,
    OpenedCase,
    care_for,
    tenant_of,
)

__all__ = [
    "AllocationOutcome",
    "CaseManifest",
    "CaseOrchestrator",
    "OpenedCase",
    "care_for",
    "tenant_of",
]

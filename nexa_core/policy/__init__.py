"""Policies: the domain model, amenity tags, resolution, versioning and stay plans."""

from nexa_core.policy.amenities import AMENITY_ALIASES, AMENITY_TAGS, normalize_amenity
from nexa_core.policy.model import (
    AllocationWeights,
    Buffers,
    DemandGates,
    MealRules,
    Policy,
    PolicyContext,
    RoomSharing,
    TierConstraints,
    TransportRules,
)
from nexa_core.policy.resolution import (
    CandidateVerdict,
    Explanation,
    PolicyVersion,
    ResolutionRule,
    Resolved,
    context_key,
    explain,
    resolve,
    rule_of,
)
from nexa_core.policy.stay import (
    NIGHT_CUTOFF,
    Reaccommodation,
    StayPlanChange,
    plan_stay,
    plan_stays,
    reaccommodate,
    zone,
)
from nexa_core.policy.versioning import PolicyService, policy_from_record

__all__ = [
    "AMENITY_ALIASES",
    "AMENITY_TAGS",
    "NIGHT_CUTOFF",
    "AllocationWeights",
    "Buffers",
    "CandidateVerdict",
    "DemandGates",
    "Explanation",
    "MealRules",
    "Policy",
    "PolicyContext",
    "PolicyService",
    "PolicyVersion",
    "Reaccommodation",
    "ResolutionRule",
    "Resolved",
    "RoomSharing",
    "StayPlanChange",
    "TierConstraints",
    "TransportRules",
    "context_key",
    "explain",
    "normalize_amenity",
    "plan_stay",
    "plan_stays",
    "policy_from_record",
    "reaccommodate",
    "resolve",
    "rule_of",
    "zone",
]

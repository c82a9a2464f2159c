"""Policies: the domain model (this package), resolution, versioning, stay plans and
regulation presets."""

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

__all__ = [
    "AllocationWeights",
    "Buffers",
    "DemandGates",
    "MealRules",
    "Policy",
    "PolicyContext",
    "RoomSharing",
    "TierConstraints",
    "TransportRules",
]

"""Allocation: per-tier ranking, optimal assignment of PNR groups, plan validation.

Entry point: :func:`allocate` (pure, deterministic). The default solver is
:class:`GreedyRepairSolver`; an exact solver can be plugged in through the
:class:`Solver` port (``nexa_adapters.solvers.highs``).
"""

from nexa_core.allocation.engine import (
    allocate,
    allocate_groups,
    build_problem,
    group_demands,
    plan_from_result,
)
from nexa_core.allocation.heuristic import GreedyRepairSolver
from nexa_core.allocation.model import (
    AllocationOptions,
    AllocationPlan,
    AssignedRoom,
    Assignment,
    Candidate,
    GroupDemand,
    PlanTotals,
    UnassignedGroup,
    Violation,
)
from nexa_core.allocation.problem import (
    AllocationProblem,
    GroupType,
    HotelNode,
    NeedSpec,
    Placement,
    RoomClass,
    Solver,
    SolverResult,
)
from nexa_core.allocation.ranking import gate, rank_offers
from nexa_core.allocation.validate import validate_plan
from nexa_core.allocation.wave import plan_document, record_wave, wave_key

__all__ = [
    "AllocationOptions",
    "AllocationPlan",
    "AllocationProblem",
    "AssignedRoom",
    "Assignment",
    "Candidate",
    "GreedyRepairSolver",
    "GroupDemand",
    "GroupType",
    "HotelNode",
    "NeedSpec",
    "Placement",
    "PlanTotals",
    "RoomClass",
    "Solver",
    "SolverResult",
    "UnassignedGroup",
    "Violation",
    "allocate",
    "allocate_groups",
    "build_problem",
    "gate",
    "group_demands",
    "plan_document",
    "plan_from_result",
    "rank_offers",
    "record_wave",
    "validate_plan",
    "wave_key",
]

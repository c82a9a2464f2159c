"""Optional allocation solvers (exact MIP on HiGHS)."""

from nexa_adapters.solvers.highs import HighsSolver

__all__ = ["HighsSolver"]

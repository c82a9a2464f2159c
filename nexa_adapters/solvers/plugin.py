"""The ``highs`` plugin: registers the exact allocation solver."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl

__all__ = ["nexa_register_solvers"]


@hookimpl
def nexa_register_solvers(register: Register) -> None:
    """The HiGHS two-stage MIP (needs ``highspy``, the ``solver`` extra)."""

    def factory(**options: object) -> object:
        from nexa_adapters.solvers.highs import HighsSolver

        gap = options.get("mip_rel_gap", 1e-6)
        return HighsSolver(mip_rel_gap=float(gap))  # type: ignore[arg-type]

    register("highs", factory)

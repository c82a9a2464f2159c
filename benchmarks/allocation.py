"""Allocation benchmark: synthetic hub closures against the exact optimum.

    python benchmarks/allocation.py [--sizes 2000,10000,50000] [--seed 1]
                                    [--highs-time-limit 120] [--no-highs]

For each size: wall time of :func:`nexa_core.allocation.allocate` (ranking + problem +
default solver + plan), peak traced memory (a second, traced run), weighted coverage and
cost, validator violations, and — when ``highspy`` is installed — the HiGHS optimum of the
same problem and the ratios (coverage/optimum, cost/optimum's cost). Targets: 50k ≤ 3 s,
10k ≤ 1 s, coverage ≥ 99.5 % of the optimum, cost ≤ 1.01 × the optimum's, 0 violations.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from nexa_core.allocation import (
    AllocationOptions,
    GreedyRepairSolver,
    allocate,
    build_problem,
    validate_plan,
)
from nexa_core.testing.allocation import synthetic_closure


def _run(size: int, seed: int, highs: bool, limit: float) -> None:
    c = synthetic_closure(size, seed=seed)
    opts = AllocationOptions()
    t0, c0 = time.perf_counter(), time.process_time()
    plan = allocate(c.groups, c.offers, c.policy, c.airport, options=opts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracemalloc.start()
    allocate(c.groups, c.offers, c.policy, c.airport, options=opts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    violations = validate_plan(plan, c.groups, c.offers, c.policy, c.airport)
    t = plan.totals
    print(
        f"{size:>6} pax  {len(c.groups):>6} groups  {len(c.offers)} hotels  "
        f"wall {wall:6.3f} s (cpu {cpu:.3f} s)  peak {peak / 2**20:6.1f} MiB  "
        f"coverage {t.weighted_coverage:10.1f}/{t.weighted_demand:.1f} ({t.coverage_ratio:6.2%})  "
        f"cost {t.total_cost}  hotels {t.hotels_used}  violations {len(violations)}"
    )
    if not highs:
        return
    try:
        from nexa_adapters.solvers.highs import HighsSolver
    except ImportError:
        print("        highspy not installed: no optimum")
        return
    problem, _, _ = build_problem(
        c.groups, c.offers, c.policy, c.airport.latitude, c.airport.longitude, options=opts
    )
    heur = GreedyRepairSolver().solve(problem)
    greedy = GreedyRepairSolver(repair=False, improve=False, plan=False).solve(problem)
    exact = HighsSolver().solve(problem, time_limit_s=limit)
    # the optimum's cost at the heuristic's coverage: what the heuristic's cost is held to
    priced = HighsSolver().solve(problem, time_limit_s=limit, coverage_at_least=heur.coverage)
    bound = exact.coverage_bound if exact.coverage_bound is not None else exact.coverage
    print(
        f"        HiGHS {exact.wall_s:6.1f} s  {exact.status}  coverage {exact.coverage:.1f} "
        f"(bound {bound:.1f})  cost {exact.cost:.2f}"
        f"{'  [optimum proven]' if exact.optimal else '  [time limit: best found]'}\n"
        f"        heuristic coverage {heur.coverage:.1f} = {heur.coverage / exact.coverage:.4%} "
        f"of the optimum (of the bound {heur.coverage / bound:.4%}); plain greedy without "
        f"repair {greedy.coverage / exact.coverage:.4%}\n"
        f"        heuristic cost {heur.cost:.2f} = {heur.cost / priced.cost:.4f}x the cheapest "
        f"plan at that coverage ({priced.cost:.2f}, {priced.status}, {priced.wall_s:.1f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,10000,50000")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--highs-time-limit", type=float, default=120.0)
    ap.add_argument("--no-highs", action="store_true")
    a = ap.parse_args()
    for size in (int(s) for s in a.sizes.split(",")):
        _run(size, a.seed, not a.no_highs, a.highs_time_limit)


if __name__ == "__main__":
    main()

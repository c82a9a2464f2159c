"""Coverage plan on room *kinds*: the problem with hotels folded away.

For coverage only three things matter about a room: its capacity, whether it is
accessible and which tiers may use it (the hotel passes the tier's gates and the rate is
within the tier's cap). Room classes that agree on these form a *kind*; a synthetic
closure with hundreds of hotels has well under a hundred kinds. Dropping the "all rooms of
a group in one hotel" rule leaves a bipartite problem: room needs (tier, occupants,
accessible) on one side, kinds with a capacity on the other. The relaxation is tight when
hotels are large next to the groups: on the 50 000-passenger benchmark closure its LP
optimum equals the exact optimum; with hotels of a few rooms (2 000 passengers over 250
hotels) it is up to 1 % above it.

If every group needed one room, each room would be worth its group's weight, the needs
that can be served together would form a transversal matroid, and taking types by weight
per room, each with as many groups as an augmenting-path max flow allows, would be optimal.
Groups of several alike rooms are added the same way, whole groups only. Types whose rooms
differ (e.g. a triple and a double) have both needs augmented together; their place in the
order is then revised twice: from estimated room prices of the previous run, and by a
bounded coordinate search that moves one such type first, earlier, later or out and keeps
the change when the planned coverage grows.

:func:`plan_kinds` returns how many groups of each type to place and, per need class and
kind, how many rooms the plan uses; the heuristic realises that plan hotel by hotel.
"""

from __future__ import annotations

from collections import defaultdict, deque

import attrs

from nexa_core.allocation.problem import AllocationProblem
from nexa_core.model import Tier

__all__ = ["KindPlan", "NeedClass", "plan_kinds", "room_kinds"]

NeedClass = tuple[Tier, int, bool]


@attrs.frozen
class KindPlan:
    """Targets of the kind-level plan.

    ``kind_of`` maps each room class to its kind; ``targets[k]`` is how many groups of
    type ``k`` the plan places; ``quota[(need class, kind)]`` is how many rooms of that
    kind serve needs of that class; ``need_class[k]`` lists the class of each need of
    type ``k``.
    """

    kind_of: tuple[int, ...]
    targets: tuple[int, ...]
    quota: dict[tuple[NeedClass, int], int]
    need_class: tuple[tuple[NeedClass, ...], ...]
    coverage: float


class _Flow:
    """Max flow from need classes to kinds (capacities on kinds only)."""

    def __init__(self, cap: list[int], usable: dict[NeedClass, list[int]]) -> None:
        self.left = list(cap)
        self.usable = usable
        self.flow: dict[NeedClass, dict[int, int]] = {j: {} for j in usable}
        self.users: list[dict[NeedClass, int]] = [{} for _ in cap]

    def _push(self, j: NeedClass, q: int, n: int) -> None:
        f = self.flow[j]
        v = f.get(q, 0) + n
        u = self.users[q]
        if v:
            f[q] = v
            u[j] = v
        else:
            del f[q]
            del u[j]

    def augment(self, j: NeedClass, want: int) -> int:
        """Route up to ``want`` more units from ``j`` (rerouting earlier units); the
        number routed."""
        got = 0
        left = self.left
        while got < want:
            # direct edges first (the common case), smallest rooms first
            for q in self.usable[j]:
                if left[q] > 0:
                    n = min(want - got, left[q])
                    left[q] -= n
                    self._push(j, q, n)
                    got += n
                    break
            else:
                path = self._path(j)
                if path is None:
                    break
                js, qs = path  # js[0] takes qs[0]; js[i] moves from qs[i - 1] to qs[i]
                n = min(want - got, left[qs[-1]])
                for i in range(1, len(js)):
                    n = min(n, self.flow[js[i]][qs[i - 1]])
                left[qs[-1]] -= n
                self._push(j, qs[0], n)
                for i in range(1, len(js)):
                    self._push(js[i], qs[i - 1], -n)
                    self._push(js[i], qs[i], n)
                got += n
        return got

    def _path(self, j: NeedClass) -> tuple[list[NeedClass], list[int]] | None:
        """Shortest augmenting path j → q → j' → q' … → a kind with rooms left, as the
        need classes and the kinds along it; None when there is none."""
        prev_q: dict[int, NeedClass] = {}
        prev_j: dict[NeedClass, int] = {}
        seen_j = {j}
        todo: deque[NeedClass] = deque([j])
        left = self.left
        while todo:
            cur = todo.popleft()
            for q in self.usable[cur]:
                if q in prev_q:
                    continue
                prev_q[q] = cur
                if left[q] > 0:
                    js: list[NeedClass] = []
                    qs = [q]
                    jj = cur
                    while True:
                        js.append(jj)
                        if jj == j:
                            break
                        qs.append(prev_j[jj])
                        jj = prev_q[qs[-1]]
                    js.reverse()
                    qs.reverse()
                    return js, qs
                for j2 in self.users[q]:
                    if j2 not in seen_j:
                        seen_j.add(j2)
                        prev_j[j2] = q
                        todo.append(j2)
        return None

    def snapshot(self) -> tuple[list[int], dict[NeedClass, dict[int, int]]]:
        return list(self.left), {j: dict(f) for j, f in self.flow.items()}

    def restore(self, snap: tuple[list[int], dict[NeedClass, dict[int, int]]]) -> None:
        left, flow = snap
        self.left = list(left)
        self.flow = {j: dict(f) for j, f in flow.items()}
        self.users = [{} for _ in self.left]
        for j, f in self.flow.items():
            for q, v in f.items():
                self.users[q][j] = v


def room_kinds(
    problem: AllocationProblem,
) -> tuple[tuple[int, ...], list[int], list[tuple[int, bool, frozenset[Tier]]]]:
    """Kind of every room class, the kinds' room counts and their keys."""
    p = problem
    tier_hotels: dict[Tier, set[int]] = {}
    for t in p.types:
        tier_hotels.setdefault(t.tier, set()).update(t.hotels)
    keys: dict[tuple[int, bool, frozenset[Tier]], int] = {}
    kind_of: list[int] = []
    cap: list[int] = []
    for rc in p.classes:
        tiers = frozenset(
            tier
            for tier, hs in tier_hotels.items()
            if rc.hotel in hs and ((c := p.rate_cap(tier)) is None or rc.rate <= c + 1e-9)
        )
        key = (rc.capacity, rc.accessible, tiers)
        q = keys.get(key)
        if q is None:
            q = keys[key] = len(cap)
            cap.append(0)
        cap[q] += rc.count
        kind_of.append(q)
    return tuple(kind_of), cap, list(keys)


def plan_kinds(
    problem: AllocationProblem,
    placeable: list[bool] | None = None,
    rounds: int = 3,
    search: int = 150,
) -> KindPlan:
    """The kind-level coverage plan (see the module docstring).

    ``placeable[k]`` false leaves type ``k`` out (no hotel can take one of its groups).
    """
    p = problem
    kind_of, cap, keys = room_kinds(p)
    need_class = tuple(tuple((t.tier, n.occupants, n.accessible) for n in t.needs) for t in p.types)
    usable: dict[NeedClass, list[int]] = {}
    for classes in need_class:
        for j in classes:
            if j not in usable:
                tier, occ, acc = j
                qs = [
                    q
                    for q, (c, a, tiers) in enumerate(keys)
                    if tier in tiers and c >= occ and (a or not acc)
                ]
                qs.sort(key=lambda q: (keys[q][0], keys[q][1] and not acc, -cap[q]))
                usable[j] = qs
    weights = [t.weight for t in p.types]
    rooms = [len(t.needs) for t in p.types]
    mixed = [len(set(c)) > 1 for c in need_class]
    active = [k for k, t in enumerate(p.types) if t.needs and (placeable is None or placeable[k])]
    # first run: weight per room; later runs value a mixed type's scarcest room at its
    # weight less what its other rooms are worth to the groups holding them
    key: dict[int, float | None] = {k: weights[k] / rooms[k] for k in active}

    def run(key: dict[int, float | None]) -> tuple[float, list[int], _Flow]:
        order = sorted(
            (k for k in active if key[k] is not None),
            key=lambda k: (-(key[k] or 0.0), not mixed[k], rooms[k], k),
        )
        return _greedy(p, order, need_class, cap, usable)

    best: tuple[float, list[int], _Flow] | None = None
    best_key = dict(key)
    for _ in range(rounds):
        cov, targets, flow = run(key)
        if best is None or cov > best[0] + 1e-9:
            best = (cov, targets, flow)
            best_key = dict(key)
        if not any(mixed[k] for k in active):
            break
        sigma = _need_prices(flow, targets, need_class, weights, rooms, usable)
        for k in active:
            if mixed[k]:
                prices = sorted(sigma[j] for j in need_class[k])
                key[k] = weights[k] - sum(prices[:-1])
    assert best is not None
    # coordinate search on the mixed types' keys: first, earlier, later, left out
    evals = 0
    improved = True
    while improved and evals < search:
        improved = False
        for k in sorted((k for k in active if mixed[k]), key=lambda k: (-weights[k], k)):
            base = best_key[k]
            if base is None:
                continue
            for cand in (float("inf"), base * 1.25, base * 0.8, None):
                if evals >= search:
                    break
                evals += 1
                trial = dict(best_key)
                trial[k] = cand
                got = run(trial)
                if got[0] > best[0] + 1e-9:
                    best, best_key, improved = got, trial, True
                    break
    cov, targets, flow = best
    quota: dict[tuple[NeedClass, int], int] = {}
    for j, f in flow.flow.items():
        for q, v in f.items():
            quota[(j, q)] = v
    return KindPlan(kind_of, tuple(targets), quota, need_class, cov)


def _greedy(
    p: AllocationProblem,
    order: list[int],
    need_class: tuple[tuple[NeedClass, ...], ...],
    cap: list[int],
    usable: dict[NeedClass, list[int]],
) -> tuple[float, list[int], _Flow]:
    """Add types in ``order``, each with as many groups as the max flow allows."""
    flow = _Flow(cap, usable)
    targets = [0] * len(p.types)
    coverage = 0.0
    for k in order:
        t = p.types[k]
        mult: dict[NeedClass, int] = defaultdict(int)
        for j in need_class[k]:
            mult[j] += 1
        want = t.count
        if len(mult) == 1:
            ((j, m),) = mult.items()
            got = flow.augment(j, m * want) if usable[j] else 0
            extra = got % m
            if extra:  # a group takes all its rooms or none
                _drop(flow, j, extra)
                got -= extra
            n = got // m
        else:
            n = want
            while n > 0:
                snap = flow.snapshot()
                ok = n
                for j, m in sorted(mult.items(), key=lambda e: (-e[0][1], e[0][2])):
                    got = flow.augment(j, m * n) if usable[j] else 0
                    ok = min(ok, got // m)
                    if got < m * n:
                        break
                if ok == n:
                    break
                flow.restore(snap)
                n = ok
        targets[k] = n
        coverage += n * t.weight
    return coverage, targets, flow


def _need_prices(
    flow: _Flow,
    targets: list[int],
    need_class: tuple[tuple[NeedClass, ...], ...],
    weights: list[float],
    rooms: list[int],
    usable: dict[NeedClass, list[int]],
) -> dict[NeedClass, float]:
    """Estimated dual price of a room for each need class: the cheapest usable kind,
    a kind being worth what its least valuable occupant gets per room (0 if not full)."""
    value: dict[NeedClass, float] = {}
    for k, n in enumerate(targets):
        if n:
            v = weights[k] / rooms[k]
            for j in need_class[k]:
                if v < value.get(j, float("inf")):
                    value[j] = v
    price = [
        0.0 if flow.left[q] > 0 else min((value.get(j, 0.0) for j in users), default=0.0)
        for q, users in enumerate(flow.users)
    ]
    return {j: min((price[q] for q in qs), default=0.0) for j, qs in usable.items()}


def _drop(flow: _Flow, j: NeedClass, n: int) -> None:
    """Release ``n`` units of ``j`` (from its biggest-room kinds first)."""
    for q in sorted(flow.flow[j], key=lambda q: -q):
        if n <= 0:
            break
        v = min(n, flow.flow[j][q])
        flow._push(j, q, -v)
        flow.left[q] += v
        n -= v

"""The default solver: kind-level plan, realisation, eviction repair, cost descent.

1. **Plan.** :func:`nexa_core.allocation.kinds.plan_kinds` decides how many groups of each
   type to place on room *kinds* (capacity, accessibility, tiers allowed), where hotels
   are folded away; it also says which kinds serve which needs.
2. **Realise.** Each planned type takes its groups hotel by hotel in order of estimated
   cost, only from rooms of the kinds the plan gave its needs (types needing different
   rooms first). Planned groups left over are placed freely or by eviction repair, then
   the rest fill the remaining rooms by priority density (weight per bed), exact-size
   rooms first.
3. **Repair.** For a type with unplaced groups, at each eligible hotel the lightest groups
   whose rooms it could use are evicted until it fits, and the evicted groups are placed
   elsewhere. The move is kept only when the weighted coverage strictly grows. Ruin-and-
   recreate rounds (seeded) empty a few hotels and refill them, kept unless coverage drops.
4. **Cost descent.** Groups move to cheaper hotels (room rate × nights + distance cost +
   the fixed cost of opening a hotel), groups of different types swap hotels when both
   fit and the cost falls, and lightly used hotels are closed when their groups fit
   elsewhere for less. Coverage never decreases in this phase.
5. **Small instances** (up to ``COST_WORK / COST_MIN_ROUNDS`` groups, where the fixed cost
   per hotel weighs most): negative cycles of the min-cost flow of single-room groups over
   the rooms of the hotels in use are cancelled (a cycle may also let a placed group give
   way to a waiting one at least as heavy), then seeded ruin-and-recreate rounds empty a
   hotel and one or two next to it in a type's cost order and re-insert the groups where
   each is cheapest (kept when the cost falls at the same coverage), and lightly used
   hotels are closed by re-inserting their groups along cheapest paths of such moves.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from nexa_core.allocation.kinds import plan_kinds
from nexa_core.allocation.problem import AllocationProblem, Placement, SolverResult
from nexa_core.model import Tier

__all__ = ["COST_MIN_ROUNDS", "COST_WORK", "DEEP_WORK", "SMALL_HOTEL_ROOMS", "GreedyRepairSolver"]

_EPS = 1e-9
#: work budget (room fits) of the two-level ejection-chain pass
DEEP_WORK = 150_000
#: work budget of the small-instance cost phase: COST_WORK / groups ruin-and-recreate rounds
COST_WORK = 600_000
#: the cost phase runs when its budget gives at least this many ruin-and-recreate rounds
COST_MIN_ROUNDS = 400
#: and at most this many rounds (tiny instances)
COST_MAX_ROUNDS = 1_000
#: the chain pass runs by default when hotels offer fewer rooms than this on average
SMALL_HOTEL_ROOMS = 15
_FREE = -1  # the free-rooms node of the single-room flow


class _State:
    def __init__(self, p: AllocationProblem, deadline: float) -> None:
        self.p = p
        self.deadline = deadline
        self.rem = [c.count for c in p.classes]
        self.left = [t.count for t in p.types]
        self.placed: dict[tuple[int, int], list[tuple[int, ...]]] = defaultdict(list)
        self.at_hotel: list[dict[int, int]] = [defaultdict(int) for _ in p.hotels]
        self.load = [0] * len(p.hotels)
        self.tier_load: list[dict[Tier, int]] = [defaultdict(int) for _ in p.hotels]
        self._prefs: dict[tuple[int, int], tuple[tuple[tuple[int, ...], ...], ...]] = {}
        self._need_prefs: dict[tuple[Tier, int, bool, int], tuple[tuple[int, ...], ...]] = {}
        self.version = [0] * len(p.hotels)
        self.weights = [t.weight for t in p.types]
        self.log: list[tuple[bool, int, int, tuple[int, ...]]] = []
        self.logging = False
        self.depth = 0
        self.deep_work = 0
        self.cov = 0.0
        self.fail: dict[tuple[int, int, bool], int] = {}
        self.evict_fail: dict[tuple[int, int], int] = {}
        self.budget = 6.0
        self.work = 0
        self.work_limit = 10**12
        self.repair_work = 10**12
        self.rr_rounds = 0
        self.rr_iterations = 0
        self.swap_rounds = 2
        self.swap_hotels = 12
        self.seed = 7
        self.type_order: list[int] = []
        self.order: list[list[int]] = []
        self.est: list[dict[int, float]] = []
        self._build_orders()

    # ------------------------------------------------------------------ set-up
    def prefs(self, k: int, h: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Per need: (exact-fit classes, any-fit classes), best first."""
        key = (k, h)
        got = self._prefs.get(key)
        if got is not None:
            return got
        p = self.p
        t = p.types[k]
        out = []
        for need in t.needs:
            nkey = (t.tier, need.occupants, need.accessible, h)
            pair = self._need_prefs.get(nkey)
            if pair is None:
                usable = [
                    rc
                    for rc in (p.classes[i] for i in p.hotels[h].classes)
                    if p.usable(t, need, rc)
                ]
                usable.sort(
                    key=lambda rc: (rc.capacity, rc.accessible and not need.accessible, rc.rate)
                )
                exact = tuple(rc.index for rc in usable if rc.capacity == need.occupants)
                pair = (exact, tuple(rc.index for rc in usable))
                self._need_prefs[nkey] = pair
            out.append(pair)
        res = tuple(out)
        self._prefs[key] = res
        return res

    def _build_orders(self) -> None:
        p = self.p
        for t in p.types:
            est: dict[int, float] = {}
            for h in t.hotels:
                prefs = self.prefs(t.index, h)
                if any(not anyfit for _, anyfit in prefs):
                    continue
                rooms = [min(ex or anyfit, key=lambda r: p.classes[r].rate) for ex, anyfit in prefs]
                est[h] = p.copy_cost(t, h, rooms)
            self.est.append(est)
            self.order.append(sorted(est, key=lambda h: (est[h], h)))

    # ------------------------------------------------------------------ primitives
    def fit(self, k: int, h: int, exact: bool) -> tuple[int, ...] | None:
        """Take rooms for one group of type ``k`` at ``h`` (None: it does not fit).

        Failures are remembered per hotel version: capacity at ``h`` only grows through
        :meth:`remove`, which bumps the version.
        """
        self.work += 1
        key = (k, h, exact)
        version = self.version[h]
        if self.fail.get(key) == version:
            return None
        if self.p.separate_tiers_by_hotel:
            tier = self.p.types[k].tier
            tl = self.tier_load[h]
            if any(n > 0 and other is not tier for other, n in tl.items()):
                return None
        prefs = self._prefs.get((k, h)) or self.prefs(k, h)
        rem = self.rem
        taken: list[int] = []
        for ex, anyfit in prefs:
            for r in ex if exact else anyfit:
                if rem[r] > 0:
                    rem[r] -= 1
                    taken.append(r)
                    break
            else:
                for r in taken:
                    rem[r] += 1
                self.fail[key] = version
                return None
        return tuple(taken)

    def add(self, k: int, h: int, rooms: tuple[int, ...]) -> None:
        if self.logging:
            self.log.append((True, k, h, rooms))
        self.cov += self.weights[k]
        self.placed[(k, h)].append(rooms)
        self.left[k] -= 1
        self.at_hotel[h][k] += 1
        self.load[h] += 1
        self.tier_load[h][self.p.types[k].tier] += 1

    def remove(self, k: int, h: int) -> tuple[int, ...]:
        rooms = self.placed[(k, h)].pop()
        if self.logging:
            self.log.append((False, k, h, rooms))
        self.cov -= self.weights[k]
        for r in rooms:
            self.rem[r] += 1
        self.left[k] += 1
        self.at_hotel[h][k] -= 1
        if not self.at_hotel[h][k]:
            del self.at_hotel[h][k]
        self.load[h] -= 1
        self.tier_load[h][self.p.types[k].tier] -= 1
        self.version[h] += 1
        return rooms

    def place_anywhere(self, k: int, avoid: int = -1) -> int:
        fail = self.fail
        version = self.version
        for exact in (True, False):
            for h in self.order[k]:
                if h == avoid or fail.get((k, h, exact)) == version[h]:
                    continue
                rooms = self.fit(k, h, exact)
                if rooms is not None:
                    self.add(k, h, rooms)
                    return h
        return -1

    def late(self) -> bool:
        return time.perf_counter() > self.deadline

    # ------------------------------------------------------------------ phases
    def reset(self) -> None:
        p = self.p
        self.rem = [c.count for c in p.classes]
        self.left = [t.count for t in p.types]
        self.placed = defaultdict(list)
        self.at_hotel = [defaultdict(int) for _ in p.hotels]
        self.load = [0] * len(p.hotels)
        self.tier_load = [defaultdict(int) for _ in p.hotels]
        self.version = [0] * len(p.hotels)
        self.fail = {}
        self.evict_fail = {}
        self.cov = 0.0

    def snapshot(self) -> tuple[object, ...]:
        return (
            list(self.rem),
            list(self.left),
            {k: list(v) for k, v in self.placed.items()},
            [defaultdict(int, d) for d in self.at_hotel],
            list(self.load),
            [defaultdict(int, d) for d in self.tier_load],
            list(self.type_order),
            self.cov,
        )

    def restore(self, snap: tuple[object, ...]) -> None:
        rem, left, placed, at_hotel, load, tier_load, order, cov = snap
        self.rem = list(rem)  # type: ignore[call-overload]
        self.left = list(left)  # type: ignore[call-overload]
        self.placed = defaultdict(list, {k: list(v) for k, v in placed.items()})  # type: ignore[attr-defined]
        self.at_hotel = [defaultdict(int, d) for d in at_hotel]  # type: ignore[attr-defined]
        self.load = list(load)  # type: ignore[call-overload]
        self.tier_load = [defaultdict(int, d) for d in tier_load]  # type: ignore[attr-defined]
        self.type_order = list(order)  # type: ignore[call-overload]
        self.cov = float(cov)  # type: ignore[arg-type]
        self.version = [0] * len(self.p.hotels)
        self.fail = {}
        self.evict_fail = {}

    def coverage(self) -> float:
        return self.cov

    def construct_priced(self, rounds: int, planned: bool = True) -> None:
        """Construct (from the kind-level plan if ``planned``), repair and ruin-and-
        recreate; further rounds rerun the density greedy under room prices that adapt to
        observed scarcity. Keeps the best run (weighted coverage)."""
        p = self.p
        supply: dict[tuple[int, bool], int] = defaultdict(int)
        for rc in p.classes:
            supply[(rc.capacity, rc.accessible)] += rc.count
        price = {key: float(key[0]) for key in supply}
        best: tuple[float, tuple[object, ...]] | None = None
        for i in range(max(1, rounds)):
            if i:
                self.reset()
            if planned and not i:
                self.construct_planned()
            else:
                self.construct(price)
            self.repair(self.repair_work, self.deep_work)
            rng = random.Random(self.seed)
            for _ in range(self.rr_rounds):
                self.ruin_recreate(self.rr_iterations, rng)
                self.repair(self.repair_work // 4)
                self.ruin_recreate(self.rr_iterations, rng, targeted=True)
                self.repair(self.repair_work // 4)
            cov = self.coverage()
            if best is None or cov > best[0] + _EPS:
                best = (cov, self.snapshot())
            if self.late() or not any(self.left):
                break
            used: dict[tuple[int, bool], int] = defaultdict(int)
            for rc in p.classes:
                used[(rc.capacity, rc.accessible)] += rc.count - self.rem[rc.index]
            for key, n in supply.items():
                util = used[key] / n if n else 1.0
                price[key] *= 1.35 if util >= 0.97 else max(0.6, util)
        assert best is not None
        self.restore(best[1])

    def construct_planned(self) -> None:
        """Realise the kind-level plan (:mod:`nexa_core.allocation.kinds`) hotel by hotel:
        each type takes its planned number of groups from rooms of the kinds the plan
        gives its needs; whatever does not fit that way is placed freely, then the usual
        density-ordered fill uses the rooms left."""
        p = self.p
        plan = plan_kinds(p, [bool(o) for o in self.order])
        kind_of = plan.kind_of
        quota = dict(plan.quota)
        need_class = plan.need_class
        self.construct_order()
        targets = list(plan.targets)
        todo = sorted(
            (k for k in range(len(p.types)) if targets[k]),
            key=lambda k: (
                -len(set(need_class[k])),
                -len(need_class[k]),
                len(self.order[k]),
                -self.weights[k],
                k,
            ),
        )
        rem = self.rem
        for k in todo:
            classes = need_class[k]
            for h in self.order[k]:
                if not targets[k]:
                    break
                if self.p.separate_tiers_by_hotel:
                    tier = p.types[k].tier
                    if any(n > 0 and o is not tier for o, n in self.tier_load[h].items()):
                        continue
                prefs = self.prefs(k, h)
                while targets[k]:
                    taken: list[int] = []
                    for (_, anyfit), j in zip(prefs, classes, strict=True):
                        for r in anyfit:
                            qk = (j, kind_of[r])
                            if rem[r] > 0 and quota.get(qk, 0) > 0:
                                rem[r] -= 1
                                quota[qk] -= 1
                                taken.append(r)
                                break
                        else:
                            for r, j2 in zip(taken, classes, strict=False):
                                rem[r] += 1
                                quota[(j2, kind_of[r])] += 1
                            taken = []
                            break
                    if not taken:
                        break
                    self.add(k, h, tuple(taken))
                    targets[k] -= 1
        # planned groups that found no planned room, then the rest by density
        for k in todo:
            for exact in (True, False):
                for h in self.order[k]:
                    while targets[k] > 0 and self.left[k] > 0:
                        rooms = self.fit(k, h, exact)
                        if rooms is None:
                            break
                        self.add(k, h, rooms)
                        targets[k] -= 1
                    if not targets[k]:
                        break
        # still short: make room by moving groups to the planned rooms left elsewhere
        for k in todo:
            while targets[k] > 0 and self.left[k] > 0 and not self.late():
                if not self._repair_once(k, self.weights[k]):
                    break
                targets[k] -= 1
        self._fill((True, False))

    def construct_order(self, price: dict[tuple[int, bool], float] | None = None) -> None:
        """Types by priority density (weight per priced bed), fewer hotels first."""
        p = self.p

        def need_price(occ: int, acc: bool) -> float:
            if price is None:
                return float(occ)
            return price.get((occ, acc), price.get((occ, False), float(occ)))

        def key(t_idx: int) -> tuple[float, int, float, int]:
            t = p.types[t_idx]
            cost = sum(need_price(n.occupants, n.accessible) for n in t.needs) or 1.0
            return (-t.weight / cost, len(self.order[t_idx]), -t.weight, t_idx)

        self.type_order = sorted(range(len(p.types)), key=key)

    def construct(
        self, price: dict[tuple[int, bool], float] | None = None, global_exact: bool = False
    ) -> None:
        self.construct_order(price)
        passes: list[tuple[bool, ...]] = [(True,), (False,)] if global_exact else [(True, False)]
        for modes in passes:
            self._fill(modes)

    def _fill(self, modes: tuple[bool, ...]) -> None:
        for k in self.type_order:
            if not self.left[k]:
                continue
            for exact in modes:
                for h in self.order[k]:
                    while self.left[k] > 0:
                        rooms = self.fit(k, h, exact)
                        if rooms is None:
                            break
                        self.add(k, h, rooms)
                    if not self.left[k]:
                        break
                if not self.left[k]:
                    break

    def repair(self, work: int = 10**12, deep_work: int = 0) -> None:
        """Eviction repair to a local optimum, then (within ``deep_work``) with one more
        level of eviction for the evicted."""
        p = self.p
        for depth, budget in ((0, work), (1, deep_work)):
            if budget <= 0:
                continue
            self.depth = depth
            stop = self.work + budget
            for _ in range(3):
                improved = False
                for k in self.type_order:
                    t = p.types[k]
                    while self.left[k] > 0 and not self.late() and self.work < stop:
                        if not self._repair_once(k, t.weight):
                            break
                        improved = True
                if not improved:
                    break
        self.depth = 0

    def ruin_recreate(
        self, iterations: int, rng: random.Random, hotels: int = 3, *, targeted: bool = False
    ) -> None:
        """Empty a few used hotels and refill them with the groups still unplaced (noisy
        density order); keep the change unless coverage drops. ``targeted`` picks an
        unplaced type (heavier ones more often), ruins hotels it may use and refills with
        it first."""
        p = self.p
        n_types = len(p.types)
        beds = [sum(n.occupants for n in t.needs) or 1 for t in p.types]
        for _ in range(iterations):
            if self.late():
                return
            target = -1
            if targeted:
                waiting = [k for k in range(n_types) if self.left[k] > 0 and self.order[k]]
                if not waiting:
                    return
                target = rng.choices(waiting, [self.weights[k] for k in waiting])[0]
                pool = [h for h in self.order[target] if self.load[h] > 0]
            else:
                if not any(self.left):
                    return
                pool = [h for h in range(len(p.hotels)) if self.load[h] > 0]
            if not pool:
                continue
            ruined = rng.sample(pool, min(hotels, len(pool)))
            before = self.coverage()
            removed: list[tuple[int, int, tuple[int, ...]]] = []
            for h in ruined:
                for k, n in list(self.at_hotel[h].items()):
                    for _ in range(n):
                        removed.append((k, h, self.remove(k, h)))
            waiting = [k for k in range(n_types) if self.left[k] > 0 and k != target]
            noise = {k: rng.uniform(0.7, 1.3) for k in waiting}
            order = sorted(waiting, key=lambda k: (-self.weights[k] / beds[k] * noise[k], k))
            if target >= 0:
                order.insert(0, target)
            added: list[tuple[int, int]] = []
            for exact in (True, False):
                for k in order:
                    if not self.left[k]:
                        continue
                    est = self.est[k]
                    for h in sorted((h for h in ruined if h in est), key=est.__getitem__):
                        while self.left[k] > 0:
                            rooms = self.fit(k, h, exact)
                            if rooms is None:
                                break
                            self.add(k, h, rooms)
                            added.append((k, h))
                        if not self.left[k]:
                            break
            if self.coverage() + _EPS < before:
                for k, h in reversed(added):
                    self.remove(k, h)
                for k, h, rooms in reversed(removed):
                    self._restore(k, h, rooms)

    def _missing(self, k: int, h: int) -> set[int]:
        """Room classes at ``h`` that would serve the needs of ``k`` that find no room."""
        rem = self.rem
        taken: list[int] = []
        missing: set[int] = set()
        for _, anyfit in self.prefs(k, h):
            for r in anyfit:
                if rem[r] > 0:
                    rem[r] -= 1
                    taken.append(r)
                    break
            else:
                missing.update(anyfit)
        for r in taken:
            rem[r] += 1
        return missing

    def _repair_once(self, k: int, weight: float) -> bool:
        """Place one more group of type ``k``, evicting groups at some hotel and
        re-placing them elsewhere (one more level of eviction for victims that find no
        room); kept only when the weighted coverage strictly grows."""
        self.log.clear()
        self.logging = True
        try:
            return self._insert(k, self.depth, frozenset()) is not None
        finally:
            self.logging = False
            self.log.clear()

    def _insert(self, k: int, depth: int, avoid: frozenset[int]) -> float | None:
        """Place one group of type ``k``; returns the coverage lost to make room (less than
        its weight) or None, leaving the state unchanged, when no such move exists."""
        p = self.p
        weight = self.weights[k]
        for h in self.order[k]:
            if h in avoid:
                continue
            rooms = self.fit(k, h, False)
            if rooms is not None:
                self.add(k, h, rooms)
                return 0.0
            if self.evict_fail.get((k, h)) == self.version[h]:
                continue
            mark = len(self.log)
            lost = 0.0
            fitted: tuple[int, ...] | None = None
            evicted: list[int] = []
            while True:
                missing = self._missing(k, h)
                best: tuple[float, int] | None = None
                for k2 in self.at_hotel[h]:
                    if k2 == k:
                        continue
                    last = self.placed[(k2, h)][-1]
                    hits = sum(1 for r in last if r in missing)
                    if not hits:
                        continue
                    score = p.types[k2].weight / hits
                    if best is None or (score, k2) < best:
                        best = (score, k2)
                if best is None:
                    break
                k2 = best[1]
                if lost + p.types[k2].weight >= self.budget * weight:
                    break
                self.remove(k2, h)
                evicted.append(k2)
                lost += p.types[k2].weight
                self.work += 1
                fitted = self.fit(k, h, False)
                if fitted is not None:
                    break
            if fitted is None:
                self._rollback(mark)
                self.evict_fail[(k, h)] = self.version[h]
                continue
            self.add(k, h, fitted)
            lost = 0.0
            inner = avoid | {h}
            for k2 in sorted(evicted, key=lambda e: -self.weights[e]):
                back = self.fit(k2, h, False)
                if back is not None:
                    self.add(k2, h, back)
                    continue
                if self.place_anywhere(k2, avoid=h) >= 0:
                    continue
                sub = self._insert(k2, depth - 1, inner) if depth > 0 else None
                lost += self.weights[k2] if sub is None else sub
            if lost + _EPS < weight:
                return lost
            self._rollback(mark)
            self.evict_fail[(k, h)] = self.version[h]
        return None

    def _rollback(self, mark: int) -> None:
        """Undo every add/remove logged after ``mark``."""
        log = self.log
        self.logging = False
        while len(log) > mark:
            added, k, h, rooms = log.pop()
            if added:
                copies = self.placed[(k, h)]
                i = len(copies) - 1 - copies[::-1].index(rooms)
                copies[i], copies[-1] = copies[-1], copies[i]
                self.remove(k, h)
            else:
                self._restore(k, h, rooms)
        self.logging = True

    def _restore(self, k: int, h: int, rooms: tuple[int, ...]) -> None:
        for r in rooms:
            self.rem[r] -= 1
        self.add(k, h, rooms)

    def _copy_cost(self, k: int, h: int, rooms: tuple[int, ...]) -> float:
        return self.p.copy_cost(self.p.types[k], h, rooms)

    def improve_cost(self) -> None:
        fixed = self.p.fixed_cost
        failed: dict[tuple[int, int], int] = {}
        for _ in range(3):
            moved = False
            for k, h in sorted(self.placed):
                for rooms in sorted(set(self.placed[(k, h)])):
                    # identical copies: keep moving them until one cannot improve
                    while rooms in self.placed[(k, h)] and not self.late():
                        if not self._move_better(k, h, rooms, fixed, failed):
                            break
                        moved = True
            if not self._close_hotels() and not moved:
                break
        for _ in range(self.swap_rounds):
            swapped = False
            for k, h in sorted(self.placed):
                for rooms in sorted(set(self.placed[(k, h)])):
                    while rooms in self.placed[(k, h)] and not self.late():
                        if not self._swap_better(k, h, rooms):
                            break
                        swapped = True
            if not swapped:
                break
        if self.swap_rounds:
            self._close_hotels()

    def _swap_better(self, k: int, h: int, rooms: tuple[int, ...]) -> bool:
        """Exchange one group of type ``k`` at ``h`` with a group of another type at a
        hotel that is cheaper for ``k``, when both fit after the exchange and the cost
        falls. The hotels used and the coverage stay the same."""
        copies = self.placed[(k, h)]
        i = copies.index(rooms)
        current = self._copy_cost(k, h, rooms)
        copies[i], copies[-1] = copies[-1], copies[i]
        old = self.remove(k, h)
        est = self.est[k]
        tried = 0
        for h2 in self.order[k]:
            if est[h2] >= current - _EPS or tried >= self.swap_hotels:
                break
            if h2 == h or not self.load[h2]:
                continue
            tried += 1
            missing = self._missing(k, h2)
            for k2 in sorted(self.at_hotel[h2]):
                if k2 == k or h not in self.est[k2]:
                    continue
                rooms2 = self.placed[(k2, h2)][-1]
                if not any(r in missing for r in rooms2):
                    continue
                self.work += 1
                before = current + self._copy_cost(k2, h2, rooms2)
                if est[h2] + self.est[k2][h] >= before - _EPS:
                    continue
                self.remove(k2, h2)
                got = self.fit(k, h2, False)
                if got is not None:
                    self.add(k, h2, got)
                    got2 = self.fit(k2, h, False)
                    if got2 is not None:
                        after = self._copy_cost(k, h2, got) + self._copy_cost(k2, h, got2)
                        if after < before - _EPS:
                            self.add(k2, h, got2)
                            return True
                        for r in got2:
                            self.rem[r] += 1
                    self.remove(k, h2)  # the copy just added is the last one
                self._restore(k2, h2, rooms2)
        self._restore(k, h, old)
        return False

    def _move_better(
        self,
        k: int,
        h: int,
        rooms: tuple[int, ...],
        fixed: float,
        failed: dict[tuple[int, int], int],
    ) -> bool:
        copies = self.placed[(k, h)]
        i = copies.index(rooms)
        current = self._copy_cost(k, h, rooms)
        saves = fixed if self.load[h] == 1 else 0.0
        copies[i], copies[-1] = copies[-1], copies[i]
        old = self.remove(k, h)
        best: tuple[float, int] | None = None
        est = self.est[k]
        for h2 in self.order[k]:
            bound = current + (saves if h2 != h else 0.0) - _EPS
            if est[h2] >= current + saves - _EPS:
                break
            opening = fixed if self.load[h2] == 0 and h2 != h else 0.0
            if est[h2] + opening >= bound or failed.get((k, h2)) == self.version[h2]:
                continue
            cand = self.fit(k, h2, False)
            if cand is None:
                failed[(k, h2)] = self.version[h2]
                continue
            for r in cand:
                self.rem[r] += 1
            c = self._copy_cost(k, h2, cand) + opening
            if c < bound and (best is None or c < best[0]):
                best = (c, h2)
        if best is None:
            self._restore(k, h, old)
            return False
        got = self.fit(k, best[1], False)
        assert got is not None
        self.add(k, best[1], got)
        return True

    def _close_hotels(self, max_load: int = 12) -> bool:
        """Close lightly used hotels: move all their groups to hotels already in use;
        kept only when every group moved and the total cost falls."""
        p = self.p
        closed = False
        used = sorted(
            (h for h in range(len(p.hotels)) if self.load[h] > 0), key=lambda h: (self.load[h], h)
        )
        for h in used:
            if self.late():
                break
            if self.load[h] == 0 or self.load[h] > max_load:
                continue
            before_cov = self.coverage()
            before = 0.0
            taken: list[tuple[int, tuple[int, ...]]] = []
            for k, n in list(self.at_hotel[h].items()):
                for _ in range(n):
                    rooms = self.placed[(k, h)][-1]
                    before += self._copy_cost(k, h, rooms)
                    taken.append((k, self.remove(k, h)))
            after = 0.0
            moved: list[tuple[int, int]] = []
            for k, _ in sorted(taken, key=lambda e: -p.types[e[0]].weight):
                got_h = self._place_in_used(k, h)
                if got_h >= 0:
                    rooms = self.placed[(k, got_h)][-1]
                    after += self._copy_cost(k, got_h, rooms)
                    moved.append((k, got_h))
            if self.coverage() + _EPS >= before_cov and after + _EPS < before + p.fixed_cost:
                closed = True
                continue
            for k, h2 in reversed(moved):
                self.remove(k, h2)
            for k, rooms in reversed(taken):
                self._restore(k, h, rooms)
        return closed

    def _place_in_used(self, k: int, avoid: int) -> int:
        """Place one group of type ``k`` in the cheapest hotel already in use (not
        ``avoid``); the hotel, or -1."""
        fail = self.fail
        version = self.version
        for h2 in self.order[k]:
            if h2 == avoid or self.load[h2] == 0 or fail.get((k, h2, False)) == version[h2]:
                continue
            got = self.fit(k, h2, False)
            if got is not None:
                self.add(k, h2, got)
                return h2
        return -1

    # ------------------------------------------------------------------ small instances
    def cost_phase(self, rounds: int) -> None:
        """Cost phase for small instances, after :meth:`improve_cost`: single-room flow
        cycles, ruin and recreate for cost, the flow again, closing lightly used hotels
        along flow paths; the single- and two-group moves after each step."""
        self.reassign_single(10**6)
        self.improve_cost()
        self.cost_search(rounds, random.Random(self.seed))
        self.reassign_single(10**6)
        self.improve_cost()
        if self.close_by_paths(20):
            self.reassign_single(10**6)
            self.improve_cost()

    # ------------------------------------------------------------------ cost LNS
    def _cheapest(self, k: int, banned: int = -1) -> tuple[float, int] | None:
        """The cheapest hotel for one more group of type ``k`` (room and distance cost plus
        the fixed cost when the hotel is empty) without placing it; None if none fits."""
        fixed = self.p.fixed_cost
        est = self.est[k]
        fail = self.fail
        version = self.version
        best: tuple[float, int] | None = None
        for h in self.order[k]:
            if best is not None and est[h] >= best[0] - _EPS:
                break
            if h == banned or fail.get((k, h, False)) == version[h]:
                continue
            rooms = self.fit(k, h, False)
            if rooms is None:
                continue
            for r in rooms:
                self.rem[r] += 1
            c = self._copy_cost(k, h, rooms) + (fixed if self.load[h] == 0 else 0.0)
            if best is None or c < best[0] - _EPS:
                best = (c, h)
        return best

    def cost_search(self, iterations: int, rng: random.Random) -> None:
        """Ruin and recreate for cost: empty one used hotel and one or two hotels next to
        it in the cost order of one of its types, then re-insert the removed groups and the
        unplaced groups that may use those hotels, heaviest first (noisy), each where it
        is cheapest. Kept when the coverage grows, or stays and the cost falls."""
        p = self.p
        fixed = p.fixed_cost
        pos = [{h: i for i, h in enumerate(o)} for o in self.order]
        for _ in range(iterations):
            if self.late():
                return
            used = [h for h in range(len(p.hotels)) if self.load[h] > 0]
            if not used:
                return
            closing = rng.random() < 0.5
            if closing:
                h0 = min(rng.sample(used, min(3, len(used))), key=lambda h: (self.load[h], h))
            else:
                h0 = rng.choice(used)
            near_set: set[int] = set()
            for k0 in sorted(self.at_hotel[h0]):
                order = self.order[k0]
                i = pos[k0][h0]
                near_set.update(
                    h
                    for h in order[max(0, i - 3) : i + 4]
                    if h != h0 and (self.load[h] > 0 or not closing)
                )
            near = sorted(near_set)
            ruined = [h0, *rng.sample(near, min(len(near), rng.randint(1, 2)))]
            banned = h0 if closing else -1
            before_cov = self.coverage()
            touched = set(ruined)
            open_before = sum(1 for h in touched if self.load[h] > 0)
            delta = 0.0
            self.log.clear()
            self.logging = True
            pool: list[int] = []
            for h in ruined:
                for k, n in list(self.at_hotel[h].items()):
                    for _ in range(n):
                        delta -= self._copy_cost(k, h, self.placed[(k, h)][-1])
                        self.remove(k, h)
                        pool.append(k)
            out: dict[int, int] = defaultdict(int)
            for k in pool:
                out[k] += 1
            for k in range(len(p.types)):
                waiting = self.left[k] - out[k]
                if waiting > 0 and any(h in self.est[k] for h in ruined):
                    pool.extend([k] * min(2, waiting))
            noise = [rng.uniform(0.85, 1.15) for _ in pool]
            beds = [
                sum(n.occupants for n in p.types[k].needs) * noise[j] for j, k in enumerate(pool)
            ]
            seq = sorted(range(len(pool)), key=lambda j: (-beds[j], -self.weights[pool[j]], j))
            for j in seq:
                k = pool[j]
                if not self.left[k]:
                    continue
                got = self._cheapest(k, banned)
                if got is None:
                    continue
                h = got[1]
                rooms = self.fit(k, h, False)
                assert rooms is not None
                if h not in touched:
                    touched.add(h)
                    open_before += self.load[h] > 0
                delta += self._copy_cost(k, h, rooms)
                self.add(k, h, rooms)
            open_after = sum(1 for h in touched if self.load[h] > 0)
            delta += fixed * (open_after - open_before)
            cov = self.coverage()
            keep = cov > before_cov + _EPS or (cov > before_cov - _EPS and delta < 0.0)
            if not keep:
                self._rollback(0)
            self.logging = False
            self.log.clear()

    # ------------------------------------------------------------------ single-room flow
    def _single_costs(self) -> tuple[list[int], dict[int, dict[int, float]], dict[int, list[int]]]:
        """Single-room types; per type, the cost of one group in each usable room class of
        the hotels in use; per class, the types that may use it."""
        p = self.p
        open_h = [h for h in range(len(p.hotels)) if self.load[h] > 0]
        single = [k for k in range(len(p.types)) if len(p.types[k].needs) == 1]
        cost: dict[int, dict[int, float]] = {}
        users: dict[int, list[int]] = defaultdict(list)
        for k in single:
            ck: dict[int, float] = {}
            est = self.est[k]
            for h in open_h:
                if h in est:
                    for r in self.prefs(k, h)[0][1]:
                        ck[r] = self._copy_cost(k, h, (r,))
                        users[r].append(k)
            cost[k] = ck
        return single, cost, users

    def _single_graph(
        self,
        single: list[int],
        cost: dict[int, dict[int, float]],
        users: dict[int, list[int]],
        exchange: bool,
    ) -> tuple[list[int], dict[tuple[int, int], tuple[float, int]]]:
        """The residual graph of the single-room groups on type nodes (and ``_FREE``, the
        free rooms; with ``exchange``, one node per weight for the groups left out).

        Arc a → b (cost, class): a takes a room of that class that b leaves (b = ``_FREE``:
        a free room; a = ``_FREE``: b's room becomes free). Arcs through the weight nodes
        let a placed group leave for a waiting group of the same or a larger weight."""
        holders: dict[int, dict[int, int]] = defaultdict(dict)
        for (k, _), copies in self.placed.items():
            if copies and len(self.p.types[k].needs) == 1:
                for rooms in copies:
                    hk = holders[rooms[0]]
                    hk[k] = hk.get(k, 0) + 1
        placed_types = {k for hk in holders.values() for k in hk}
        waiting = {k for k in single if self.left[k] > 0 and cost[k]} if exchange else set()
        nodes = sorted(placed_types | waiting)
        node_set = set(nodes)
        arc: dict[tuple[int, int], tuple[float, int]] = {}
        for r, hk in holders.items():
            for k2 in hk:
                c2 = cost[k2][r]
                key = (_FREE, k2)
                if key not in arc or -c2 < arc[key][0]:
                    arc[key] = (-c2, r)
                for k in users[r]:
                    if k != k2 and k in node_set:
                        v = cost[k][r] - c2
                        key = (k, k2)
                        if key not in arc or v < arc[key][0]:
                            arc[key] = (v, r)
        rem = self.rem
        for k in nodes:
            best: tuple[float, int] | None = None
            for r, c in cost[k].items():
                if rem[r] > 0 and (best is None or c < best[0]):
                    best = (c, r)
            if best is not None:
                arc[(k, _FREE)] = best
        extra: list[int] = []
        if exchange and nodes:
            ws = sorted({self.weights[k] for k in nodes})
            u_of = {w: _FREE - 1 - i for i, w in enumerate(ws)}
            extra = list(u_of.values())
            for i in range(len(ws) - 1):
                arc[(u_of[ws[i]], u_of[ws[i + 1]])] = (0.0, -1)
            for k in nodes:
                u = u_of[self.weights[k]]
                if k in placed_types:
                    arc[(k, u)] = (0.0, -1)
                if k in waiting:
                    arc[(u, k)] = (0.0, -1)
        return [_FREE, *nodes, *extra], arc

    def _apply_moves(self, moves: list[tuple[int, int, int]]) -> None:
        """Move one group of each listed type from class ``leave`` to class ``take`` (-1:
        it joins or leaves the plan); leaves first."""
        classes = self.p.classes
        for k, leave, _ in moves:
            if leave >= 0:
                h = classes[leave].hotel
                copies = self.placed[(k, h)]
                i = copies.index((leave,))
                copies[i], copies[-1] = copies[-1], copies[i]
                self.remove(k, h)
        for k, _, take in moves:
            if take >= 0:
                self.rem[take] -= 1
                self.add(k, classes[take].hotel, (take,))

    def reassign_single(self, max_cycles: int) -> int:
        """Cancel negative cycles of the min-cost flow of single-room groups over the room
        classes of the hotels in use; the groups of several rooms and the hotels in use
        stay. A cycle moves one group of each type on it into the room the next one leaves
        (or a free room), or exchanges a placed group for a waiting one at least as heavy,
        so the coverage never falls. The number of cycles applied."""
        if self.p.separate_tiers_by_hotel:
            return 0
        single, cost, users = self._single_costs()
        applied = 0
        while applied < max_cycles and not self.late():
            nodes, arc = self._single_graph(single, cost, users, True)
            cycle = _negative_cycle(nodes, arc)
            if cycle is None:
                break
            moves = []
            for i, a in enumerate(cycle):
                if a >= 0:
                    take = arc[(a, cycle[(i + 1) % len(cycle)])][1]
                    moves.append((a, arc[(cycle[i - 1], a)][1], take))
            gain = sum(
                (cost[k][t] if t >= 0 else 0.0) - (cost[k][lv] if lv >= 0 else 0.0)
                for k, lv, t in moves
            )
            if gain > -1e-6:
                break
            self._apply_moves(moves)
            applied += 1
        return applied

    def close_by_paths(self, attempts: int, max_load: int = 3) -> int:
        """Close lightly used hotels whose groups need one room each: every group is
        re-inserted along the cheapest path of moves among the single-room groups (it takes
        a room another group leaves, …, the last takes a free room) in the other hotels in
        use; kept when the cost, with the hotel's fixed cost, falls. The hotels closed."""
        p = self.p
        if p.separate_tiers_by_hotel:
            return 0
        cands = sorted(
            (h for h in range(len(p.hotels)) if 0 < self.load[h] <= max_load),
            key=lambda h: (self.load[h], h),
        )[:attempts]
        closed = 0
        for h in cands:
            if self.late() or not self.load[h]:
                continue
            self.log.clear()
            self.logging = True
            delta = -p.fixed_cost
            before_cov = self.coverage()
            out: list[int] = []
            for k, n in list(self.at_hotel[h].items()):
                for _ in range(n):
                    delta -= self._copy_cost(k, h, self.placed[(k, h)][-1])
                    self.remove(k, h)
                    out.append(k)
            ok = True
            for k in sorted(out, key=lambda k: -len(p.types[k].needs)):
                if len(p.types[k].needs) == 1:
                    continue
                got = self._cheapest(k, banned=h)
                if got is None:
                    ok = False
                    break
                h2 = got[1]
                rooms = self.fit(k, h2, False)
                assert rooms is not None
                delta += self._copy_cost(k, h2, rooms) + (
                    p.fixed_cost if not self.load[h2] else 0.0
                )
                self.add(k, h2, rooms)
            single, cost, users = self._single_costs()  # h is no longer in use
            for k in out if ok else ():
                if len(p.types[k].needs) > 1:
                    continue
                nodes, arc = self._single_graph(single, cost, users, True)
                # from the weight node of k: k or a waiting group at least as heavy joins
                ws = sorted({self.weights[x] for x in nodes if x >= 0})
                if self.weights[k] not in ws:
                    ok = False
                    break
                start = _FREE - 1 - ws.index(self.weights[k])
                path = _cheapest_path(nodes, arc, start, _FREE)
                if path is None:
                    ok = False
                    break
                moves = []
                for i, a in enumerate(path):
                    if a >= 0:
                        moves.append((a, arc[(path[i - 1], a)][1], arc[(a, path[i + 1])][1]))
                delta += sum(
                    (cost[a][t] if t >= 0 else 0.0) - (cost[a][lv] if lv >= 0 else 0.0)
                    for a, lv, t in moves
                )
                self._apply_moves(moves)
            if ok and delta < -_EPS and self.coverage() > before_cov - _EPS:
                closed += 1
            else:
                self._rollback(0)
            self.logging = False
            self.log.clear()
        return closed

    def result(self, name: str, started: float) -> SolverResult:
        p = self.p
        placements = []
        coverage = 0.0
        cost = 0.0
        for (k, h), copies in sorted(self.placed.items()):
            if not copies:
                continue
            by_rooms: dict[tuple[int, ...], int] = defaultdict(int)
            for rooms in copies:
                by_rooms[rooms] += 1
                cost += self._copy_cost(k, h, rooms)
            coverage += p.types[k].weight * len(copies)
            for rooms, n in sorted(by_rooms.items()):
                placements.append(Placement(k, h, rooms, n))
        cost += p.fixed_cost * sum(1 for n in self.load if n > 0)
        return SolverResult(
            solver=name,
            placements=tuple(placements),
            coverage=coverage,
            cost=cost,
            wall_s=time.perf_counter() - started,
        )


def _negative_cycle(
    nodes: list[int], arc: dict[tuple[int, int], tuple[float, int]]
) -> list[int] | None:
    """A negative cycle (its nodes in order) of the graph ``arc`` (Bellman-Ford from a
    virtual source), or None."""
    dist = dict.fromkeys(nodes, 0.0)
    pred: dict[int, int] = {}
    edges = [(a, b, c) for (a, b), (c, _) in arc.items()]
    last = None
    for _ in range(len(nodes)):
        last = None
        for a, b, c in edges:
            v = dist[a] + c
            if v < dist[b] - 1e-7:
                dist[b] = v
                pred[b] = a
                last = b
        if last is None:
            return None
    assert last is not None
    x = last
    for _ in range(len(nodes)):
        if x not in pred:
            return None
        x = pred[x]
    cycle = [x]
    y = pred.get(x)
    while y != x:
        if y is None or y in cycle:
            return None
        cycle.append(y)
        y = pred.get(y)
    cycle.reverse()
    return cycle


def _cheapest_path(
    nodes: list[int], arc: dict[tuple[int, int], tuple[float, int]], start: int, goal: int
) -> list[int] | None:
    """The cheapest path from ``start`` to ``goal`` (Bellman-Ford), or None (also when a
    negative cycle spoils the predecessors)."""
    dist = {start: 0.0}
    pred: dict[int, int] = {}
    edges = [(a, b, c) for (a, b), (c, _) in arc.items() if a != goal]  # paths end there
    for _ in range(len(nodes)):
        changed = False
        for a, b, c in edges:
            da = dist.get(a)
            if da is None:
                continue
            v = da + c
            if v < dist.get(b, float("inf")) - 1e-7:
                dist[b] = v
                pred[b] = a
                changed = True
        if not changed:
            break
    if goal not in dist:
        return None
    path = [goal]
    seen = {goal}
    while path[-1] != start:
        x = pred[path[-1]]
        if x in seen:
            return None
        seen.add(x)
        path.append(x)
    path.reverse()
    return path


class GreedyRepairSolver:
    """Fast pure-Python default solver (see the module docstring)."""

    name = "greedy-repair"

    def __init__(
        self,
        *,
        repair: bool = True,
        improve: bool = True,
        rounds: int = 1,
        repair_work: int = 1_000_000,
        rr_rounds: int = 1,
        rr_iterations: int = 300,
        deep_work: int | None = None,
        plan: bool = True,
        swaps: bool = True,
        cost_iterations: int | None = None,
    ) -> None:
        self.cost_iterations = cost_iterations
        self.swaps = swaps
        self.plan = plan
        self.deep_work = deep_work
        self.rr_rounds = rr_rounds
        self.rr_iterations = rr_iterations
        self.repair_work = repair_work
        self.repair = repair
        self.rounds = rounds
        self.improve = improve

    def solve(
        self, problem: AllocationProblem, *, time_limit_s: float | None = None
    ) -> SolverResult:
        """Construct, repair, improve; phases stop early past ``time_limit_s``."""
        started = time.perf_counter()
        deadline = started + (time_limit_s if time_limit_s is not None else 1e9)
        st = _State(problem, deadline)
        st.repair_work = self.repair_work
        st.rr_rounds = self.rr_rounds
        if self.deep_work is not None:
            st.deep_work = self.deep_work
        else:  # chains pay off when hotels are small next to the groups (few rooms each)
            rooms = sum(c.count for c in problem.classes)
            small = rooms < SMALL_HOTEL_ROOMS * max(1, len(problem.hotels))
            st.deep_work = DEEP_WORK if small else 0
        st.rr_iterations = self.rr_iterations
        if not self.swaps:
            st.swap_rounds = 0
        if self.repair:
            st.construct_priced(self.rounds, self.plan)
        elif self.plan:
            st.construct_planned()
        else:
            st.construct()
        if self.improve:
            st.improve_cost()
            groups = sum(t.count for t in problem.types)
            iters = (
                self.cost_iterations
                if self.cost_iterations is not None
                else (min(COST_WORK // groups, COST_MAX_ROUNDS) if groups else 0)
            )
            if self.swaps and iters >= COST_MIN_ROUNDS:  # its moves are exchanges too
                st.cost_phase(iters)
        return st.result(self.name, started)

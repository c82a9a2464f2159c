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
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from nexa_core.allocation.kinds import plan_kinds
from nexa_core.allocation.problem import AllocationProblem, Placement, SolverResult
from nexa_core.model import Tier

__all__ = ["DEEP_WORK", "SMALL_HOTEL_ROOMS", "GreedyRepairSolver"]

_EPS = 1e-9
#: work budget (room fits) of the two-level ejection-chain pass
DEEP_WORK = 150_000
#: the chain pass runs by default when hotels offer fewer rooms than this on average
SMALL_HOTEL_ROOMS = 15


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
    ) -> None:
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
        return st.result(self.name, started)

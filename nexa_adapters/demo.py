"""The end-to-end demo: a simulated hub closure handled on the embedded default.

Everything durable lives in one work directory: the operational store (SQLite), the
DBOS system database (the durable engine) and the sandbox partner ledger (bookings and
soft-holds, shared by every process). A re-run with the same options resumes the same
case (the airline's event id is the idempotency key, workflow ids are the sub-case
sagas') and never books twice: the partner ledger is keyed by booking idempotency keys.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import anyio
import attrs
import yaml

from nexa_adapters.bootstrap import Nexa, bootstrap
from nexa_adapters.documents import parse_manifest
from nexa_adapters.documents.policy import parse_policy
from nexa_adapters.engine.wiring import build_orchestrator
from nexa_adapters.reporting.builder import care_figures, plan_figures
from nexa_adapters.sandbox import (
    FaultInjector,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    synthetic_manifest,
)
from nexa_adapters.sandbox.ledger import LedgerBooking, LedgerCoordination, SandboxLedger
from nexa_adapters.settings import Settings
from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import InvalidInputError
from nexa_core.model import (
    CaseStatus,
    DemandStatus,
    ReservationStatus,
    SubCaseStatus,
)
from nexa_core.policy import Policy
from nexa_core.saga import SUBCASE_BOOKING
from nexa_core.saga.interpreter import workflow_id
from nexa_core.tenancy import TenantContext
from nexa_core.tracing import correlation_scope
from nexa_core.urn import Urn, VendorRegistry, new_correlation

__all__ = [
    "STAGES",
    "DemoOptions",
    "DemoProgress",
    "demo_policy",
    "run_demo",
    "run_worker",
]

_log = logging.getLogger("nexa.demo")

#: the stages the demo reports, in order
STAGES = ("case", "demand", "allocation", "booking", "settle")
_VENDORS = ("sandbox", "sandbox-b")


class DemoProgress(Protocol):
    """Receives progress (the CLI draws it with rich; tests record it)."""

    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, stage: str, n: int = 1) -> None: ...
    def finish(self, stage: str, note: str = "") -> None: ...


class _Silent:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, stage: str, n: int = 1) -> None:
        pass

    def finish(self, stage: str, note: str = "") -> None:
        pass


@attrs.frozen
class DemoOptions:
    """What to simulate and where to keep its state."""

    airport: str = "SCL"
    passengers: int = 5000
    seed: int = 7
    workdir: Path = Path("nexa-demo")
    transient_failure_rate: float = 0.05
    permanent_failure_rate: float = 0.005
    lost_reply_rate: float = 0.01
    hotels_per_provider: int = 60
    concurrency: int = 8
    #: saga worker processes (DBOS executors sharing the SQLite engine database); the
    #: demo process is one of them
    workers: int = 3
    #: partner retry back-off is compressed by this factor (5 s → 0.25 s) so a demo of
    #: thousands of sagas finishes in minutes; retry counts and order are unchanged
    time_scale: float = 0.05
    engine: str = "dbos"  # or "inprocess" (not durable; for tests)
    #: (provider, seconds): that sandbox hotel provider answers each search this late — a
    #: delay over the search time box (``search_timeout_s``, 2 s) shows it timed out
    slow_providers: tuple[tuple[str, float], ...] = ()

    @property
    def event_id(self) -> str:
        """The airline's event id: the case's idempotency key."""
        return f"DEMO-{self.airport}-{self.passengers}-{self.seed}"


def demo_policy() -> Policy:
    """The packaged demo policy (``nexa_adapters/data/demo-policy.yaml``)."""
    text = resources.files("nexa_adapters").joinpath("data/demo-policy.yaml").read_text("utf-8")
    return parse_policy(yaml.safe_load(text))


SUPERVISOR = Principal(
    PrincipalKind.OPERATOR,
    Urn("user", "u-demo-supervisor"),
    Urn("airline", "LAN"),
    frozenset({Role.OPS_SUPERVISOR}),
)


def _build(opts: DemoOptions, executor: int = 0) -> tuple[Nexa, SandboxLedger]:
    opts.workdir.mkdir(parents=True, exist_ok=True)
    work = opts.workdir.resolve()
    engine_url = (
        f"dbos+sqlite:///{work / 'engine.db'}?executor=demo-{executor}&version=1"
        f"&concurrency={opts.concurrency}"
        if opts.engine == "dbos"
        else "inprocess://"
    )
    settings = Settings.load(
        work / "nexa.toml",
        # WAL + synchronous=NORMAL: a killed demo loses nothing it committed; only a
        # power loss could drop the newest commits (the docs say so)
        store_url=f"sqlite:///{work / 'nexa.db'}?synchronous=normal",
        engine_url=engine_url,
        coordination_url="inprocess://",
        snapshot_url="auto",  # passenger documents in nexa.snapshots.db, next to nexa.db
        seed=opts.seed,
    )
    ledger = SandboxLedger(work / "partners.db")
    faults = FaultInjector(
        transient_rate=opts.transient_failure_rate,
        permanent_rate=opts.permanent_failure_rate,
        seed=opts.seed,
    )
    scale = max(0.3, opts.passengers / 3000)
    slow = dict(opts.slow_providers)
    unknown = sorted(set(slow) - set(_VENDORS))
    if unknown:
        raise InvalidInputError(
            f"no demo hotel provider named {', '.join(unknown)} (have {', '.join(_VENDORS)})",
            field="slow_providers",
        )
    hotels = {
        v: SandboxHotels(
            v,
            seed=opts.seed + i,
            hotels=opts.hotels_per_provider,
            rooms_scale=scale,
            faults=FaultInjector(latency_s=slow[v]) if v in slow else None,
        )
        for i, v in enumerate(_VENDORS)
    }
    booking = VendorRegistry(
        {
            v: LedgerBooking(
                ledger, v, faults=faults, lost_reply_rate=opts.lost_reply_rate, seed=opts.seed
            )
            for v in _VENDORS
        }
    )
    nexa = bootstrap(
        settings,
        coordination=LedgerCoordination(ledger),
        hotel_providers=hotels,
        booking=booking,
        payments=SandboxPayments(),
        notifications={"sandbox": SandboxMessages()},
        provider_options={"engine_time_scale": opts.time_scale},
    )
    # the sandbox partners publish generous limits; real partners keep the defaults
    nexa.extras["partner_rates"] = {
        f"{vendor}.{op}": 200.0
        for vendor in (*_VENDORS, "sandbox", "sandbox-cars")
        for op in ("booking", "cancel", "card", "transport", "notification")
    }
    return nexa, ledger


async def _poll(ledger: SandboxLedger, progress: DemoProgress) -> None:
    """Advance the booking bar with the partners' live bookings (a cheap count)."""
    shown = len(ledger.bookings(live_only=True))
    progress.advance("booking", shown)
    while True:
        await anyio.sleep(1.0)
        now = await anyio.to_thread.run_sync(lambda: len(ledger.bookings(live_only=True)))
        if now > shown:
            progress.advance("booking", now - shown)
            shown = now


def _spawn_workers(opts: DemoOptions) -> list[subprocess.Popen[bytes]]:
    """Extra saga worker processes (same world, other DBOS executor ids)."""
    if opts.engine != "dbos":
        return []
    procs = []
    for i in range(1, max(1, opts.workers)):
        cmd = [
            sys.executable, "-m", "nexa_cli", "demo-worker",
            "--workdir", str(opts.workdir), "--airport", opts.airport,
            "--passengers", str(opts.passengers), "--seed", str(opts.seed),
            "--failure-rate", str(opts.transient_failure_rate), "--executor", str(i),
            "--parent", str(os.getpid()),
        ]  # fmt: skip
        with (opts.workdir / f"worker-{i}.log").open("ab") as log:  # the child keeps its own fd
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log))
    return procs


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this worker the moment the demo process dies, even by
    SIGKILL. An orphan still running sagas would race the rerun, which recovers the
    sagas of the old workers' executor ids."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        raise SystemExit(0)


async def run_worker(opts: DemoOptions, executor: int, parent: int) -> None:
    """A saga worker of the demo: runs queued sagas until its parent process is gone."""
    _die_with_parent(parent)
    nexa, _ledger = _build(opts, executor)
    build_orchestrator(nexa, policy=demo_policy())
    await nexa.engine.launch()
    try:
        while os.getppid() == parent:  # noqa: ASYNC110 - polls another process
            await anyio.sleep(0.5)
    finally:
        await nexa.aclose()
        nexa.engine.destroy()


async def run_demo(
    opts: DemoOptions,
    progress: DemoProgress | None = None,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Run (or resume) the demo case and return the summary."""
    progress = progress or _Silent()
    with correlation_scope(new_correlation()) as correlation:
        summary = await _run(opts, progress, clock)
    summary["correlation"] = str(correlation)
    return summary


async def _run(
    opts: DemoOptions, progress: DemoProgress, clock: Callable[[], float]
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    nexa, ledger = _build(opts)
    orch, _reviews = build_orchestrator(nexa, policy=demo_policy())
    await nexa.engine.launch()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        recover = getattr(nexa.engine, "recover", None)
        if recover is not None:  # adopt runs of the helper executors of a killed earlier run
            await recover([f"demo-{i}" for i in range(1, max(1, opts.workers))])
        workers = _spawn_workers(opts)
        principal = SUPERVISOR
        tenant = TenantContext.system(principal.airline_urn)

        _log.info("demo %s: %d passengers at %s", opts.event_id, opts.passengers, opts.airport)
        t = clock()
        progress.start("case", None)
        manifest = parse_manifest(
            synthetic_manifest(
                opts.airport, opts.passengers, seed=opts.seed, event_id=opts.event_id
            )
        )
        opened = await orch.open_case(manifest, principal=principal)
        case_urn = opened.case.urn
        progress.finish(
            "case",
            f"{'resumed' if opened.replayed else 'opened'} {case_urn}, "
            f"{len(opened.sub_cases)} PNR groups",
        )
        timings["case"] = clock() - t

        t = clock()
        progress.start("demand", None)
        demands = await nexa.store.demands.find(tenant, case_urn=case_urn)
        for d in demands:
            if d.status is DemandStatus.REQUESTED:
                await orch.approve_demand(
                    d.urn, principal=principal, reason="demo: supervisor approves the hub closure"
                )
        progress.finish("demand", f"{sum(d.rooms_requested for d in demands)} rooms")
        timings["demand"] = clock() - t

        t = clock()
        progress.start("allocation", None)
        waves = sorted(
            await nexa.store.waves.find(tenant, case_urn=case_urn), key=lambda w: w.sequence
        )
        if not waves:
            outcome = await orch.run_allocation(case_urn, principal=principal)
            wave = outcome.wave
        else:
            wave = waves[-1]
        plan = wave.plan
        progress.finish(
            "allocation",
            f"{len(plan.get('assigned', {}))} groups placed, "
            f"{len(plan.get('unassigned', {}))} to review",
        )
        timings["allocation"] = clock() - t

        t = clock()
        case = await nexa.store.cases.get(tenant, case_urn)
        to_book = len(plan.get("assigned", {}))
        progress.start("booking", to_book)
        subs = await nexa.store.sub_cases.find(tenant, case_urn=case_urn)
        unfinished = any(
            s.status in (SubCaseStatus.PENDING, SubCaseStatus.PROCESSING)
            and s.group.group_id in plan.get("assigned", {})
            for s in subs
        )
        # a run interrupted after one sub-case went to review leaves the case in
        # MANUAL_REVIEW with others still unfinished: resume those as well
        if case.status in (CaseStatus.ALLOCATING, CaseStatus.BOOKING, CaseStatus.PARTIAL) or (
            case.status is CaseStatus.MANUAL_REVIEW and unfinished
        ):
            # sagas an interrupted run left in flight are recovered by the engine, not
            # started again: wait for them too before the summary is read
            in_flight = [
                workflow_id(f"{s.urn}/{wave.urn.id}", SUBCASE_BOOKING.id)
                for s in subs
                if s.status is SubCaseStatus.PROCESSING and opts.engine == "dbos"
            ]
            ids = await orch.book_sub_cases(case_urn, wave.urn, principal=principal)
            async with anyio.create_task_group() as tg:
                tg.start_soon(_poll, ledger, progress)
                await orch.wait([*ids, *in_flight], principal=principal)
                tg.cancel_scope.cancel()
        progress.finish("booking")
        timings["booking"] = clock() - t

        t = clock()
        progress.start("settle", None)
        case = await orch.settle(case_urn, principal=principal)
        progress.finish("settle", case.status.value)
        timings["settle"] = clock() - t
        _log.info("demo %s: case %s is %s", opts.event_id, case_urn, case.status.value)

        summary = await _summary(nexa, tenant, case_urn, ledger)
        summary["elapsed_s"] = {k: round(v, 2) for k, v in timings.items()}
        summary["resumed"] = opened.replayed
        return summary
    finally:
        _stop_workers(workers)
        await nexa.aclose()
        destroy = getattr(nexa.engine, "destroy", None)
        if destroy is not None:
            destroy()


def _money_map(values: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v.quantize(Decimal("0.01"))) for k, v in sorted(values.items())}


def care_summary(figures: Any) -> dict[str, Any]:
    """The report's care figures as plain JSON values (the demo summary's ``care``)."""
    return {
        "vouchers_issued": figures.vouchers_issued,
        "notifications": {
            c.channel: {
                "sent": c.sent,
                "failed": c.failed,
                "fallback": c.fallback,
                "queued": c.queued,
            }
            for c in figures.channels
        },
        "cards": {
            "issued": figures.cards_issued,
            "loaded": {k: str(v) for k, v in figures.loaded},
            "planned": {k: str(v) for k, v in figures.planned},
            "drops_loaded": figures.drops_loaded,
            "drops_scheduled": figures.drops_scheduled,
        },
        "transfers": dict(figures.transfers),
        "transfers_by_vendor": dict(figures.transfers_by_vendor),
        "late_cancellation_fees": {k: str(v) for k, v in figures.late_cancellation_fees},
    }


async def _summary(
    nexa: Nexa, tenant: TenantContext, case_urn: Urn, ledger: SandboxLedger
) -> dict[str, Any]:
    case = await nexa.store.cases.get(tenant, case_urn)
    subs = await nexa.store.sub_cases.find(tenant, case_urn=case_urn)
    reservations = await nexa.store.reservations.find(tenant, case_urn=case_urn)
    reviews = await nexa.store.reviews.find(tenant, case_urn=case_urn)
    by_sub = {str(s.urn.base): s for s in subs}
    placed = {SubCaseStatus.OFFER_READY, SubCaseStatus.RESOLVED}
    tiers: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"passengers": 0, "accommodated": 0, "not_accommodated": 0, "cost": {}}
    )
    for s in subs:
        row = tiers[s.group.tier.value]
        row["passengers"] += s.group.size
        if (
            s.status in placed and s.reservation_urn is not None
        ) or s.status is SubCaseStatus.RESOLVED:
            row["accommodated"] += s.group.size
        else:
            row["not_accommodated"] += s.group.size
    # only a CONFIRMED reservation costs money (a FAILED or cancelled one has no cost)
    live = [r for r in reservations if r.status is ReservationStatus.CONFIRMED]
    cost: dict[str, Decimal] = defaultdict(Decimal)
    tier_cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in live:
        cost[r.total.currency] += r.total.amount
        sub = by_sub.get(str(r.sub_case_urn.base))
        if sub is not None:
            tier_cost[sub.group.tier.value][r.total.currency] += r.total.amount
    for tier, amounts in tier_cost.items():
        tiers[tier]["cost"] = _money_map(amounts)
    waves = sorted(await nexa.store.waves.find(tenant, case_urn=case_urn), key=lambda w: w.sequence)
    planned, savings = plan_figures(w.plan for w in waves)
    passengers = sum(s.group.size for s in subs)
    accommodated = sum(v["accommodated"] for v in tiers.values())
    totals = {
        "passengers": passengers,
        "accommodated": accommodated,
        "not_accommodated": passengers - accommodated,
        "groups": len(subs),
        "rooms": sum(len(r.rooms) for r in live),
        "hotels_used": len({str(r.hotel_urn) for r in live}),
        "cost": _money_map(cost),
        "planned_cost": {k: str(v) for k, v in planned},
        "savings_vs_market": str(savings) if savings is not None else "unknown",
        "waves": len(waves),
    }
    sub_status = Counter(s.status.value for s in subs)
    latest = max(waves, key=lambda w: w.sequence) if waves else None
    policy = None
    if case.policy_urn is not None:
        record = await nexa.store.policies.get(tenant, case.policy_urn)
        policy = {
            "policy": str(record.urn),
            "name": record.name,
            "version": record.number,
            "state": record.state.value,
        }
    care = care_summary(
        care_figures(
            await nexa.store.notifications.find(tenant, case_urn=case_urn),
            await nexa.store.cards.find(tenant, case_urn=case_urn),
            await nexa.store.transfers.find(tenant, case_urn=case_urn),
        )
    )
    return {
        "case": str(case_urn),
        "status": case.status.value,
        "totals": totals,
        "by_tier": {k: tiers[k] for k in sorted(tiers)},
        "care": care,
        "sub_cases": dict(sorted(sub_status.items())),
        "manual_review": dict(sorted(Counter(r.category.value for r in reviews).items())),
        "partner": {
            "live_bookings": len(ledger.bookings(live_only=True)),
            "duplicate_booking_keys": len(ledger.duplicate_keys()),
            "booking_calls": ledger.calls(),
            "live_holds": ledger.live_holds(),
        },
        "unplaced_groups": sum(
            1 for s in by_sub.values() if s.status is SubCaseStatus.MANUAL_REVIEW
        ),
        "policy": policy,
        # per provider of the wave's hotel search: answered / timed-out / failed, offers, kept
        "search": latest.plan.get("search") if latest is not None else None,
        "store_url": nexa.settings.store_url.split("?", 1)[0],
    }

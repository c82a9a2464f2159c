"""Live flight status adapters (AeroAPI, aviationstack, a scripted feed)."""

from nexa_adapters.flightstatus.providers import (
    AeroApiStatus,
    AviationStackStatus,
    ScriptedStatus,
    aeroapi_statuses,
)

__all__ = ["AeroApiStatus", "AviationStackStatus", "ScriptedStatus", "aeroapi_statuses"]

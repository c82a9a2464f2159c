"""Built-in ``flightstatus`` plugin: AeroAPI, aviationstack and the scripted feed."""

from __future__ import annotations

from nexa_adapters.flightstatus.providers import AeroApiStatus, AviationStackStatus, ScriptedStatus
from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs


@hookimpl
def nexa_register_flight_status_providers(register: Register) -> None:
    """``aeroapi`` (primary), ``aviationstack`` (failover), ``scripted`` (a feed file)."""
    register(
        "aeroapi",
        lambda **o: AeroApiStatus(base_url=o.get("aeroapi_base_url"), **adapter_kwargs(o)),
    )
    register(
        "aviationstack",
        lambda **o: AviationStackStatus(
            base_url=o.get("aviationstack_base_url"), **adapter_kwargs(o)
        ),
    )
    register("scripted", lambda **o: ScriptedStatus(o.get("feed")))

"""Live flight status behind :class:`~nexa_core.ports.FlightStatusProvider`.

* :class:`AeroApiStatus` — FlightAware AeroAPI v4: ``GET /operators/{id}/flights/scheduled``
  with ``start``/``end`` (ISO 8601), header ``x-apikey`` (per-tenant secret ``api_key``),
  pages followed through ``links.next``. Flight objects carry ``ident_iata``,
  ``operator_iata``, ``flight_number``, ``origin``/``destination`` (``code_iata``,
  ``timezone``), ``scheduled_out``/``estimated_out``/``actual_out`` (UTC), ``actual_on``,
  ``cancelled``, ``diverted``, ``status`` and ``route_distance`` (statute miles).
* :class:`AviationStackStatus` — aviationstack ``GET /v1/flights?access_key=…&airline_iata=…``
  (per-tenant secret ``access_key``), ``data[]`` with ``flight_date``, ``flight_status``
  (``scheduled``, ``active``, ``landed``, ``cancelled``, ``incident``, ``diverted``),
  ``departure``/``arrival`` (``iata``, ``timezone``, ``scheduled``, ``estimated``,
  ``actual``, ``delay`` minutes), ``airline.iata`` and ``flight.number``; paged with
  ``offset``/``limit`` against ``pagination.total``. Its times carry a ``+00:00`` offset
  but are the airport's local clock, so they are read in ``departure.timezone``. Errors
  come as ``{"error": {"code": …}}`` (``invalid_access_key``, ``usage_limit_reached``, …).
* :class:`ScriptedStatus` — a recorded or scripted feed: a JSON file whose ``sweeps`` are
  AeroAPI ``scheduled`` pages, one per call (the last one repeats). ``nexa predictor watch
  --feed`` and the tests drive the watcher with it.

Flight URNs are ``urn:flight:<IATA carrier><number>@<local yyyymmdd>:vendor:<source>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_core.errors import (
    InvalidInputError,
    MalformedResponseError,
    NexaError,
    ProviderAuthError,
    ProviderRejectedError,
    RateLimitedError,
)
from nexa_core.ports import FlightStatus, ScheduledFlight
from nexa_core.urn import Urn

__all__ = ["AeroApiStatus", "AviationStackStatus", "ScriptedStatus", "aeroapi_statuses"]

MAX_PAGES = 20


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _AeroAirport(_M):
    code_iata: str | None = None
    timezone: str | None = None


class _AeroFlight(_M):
    ident_iata: str | None = None
    operator_iata: str | None = None
    flight_number: str | None = None
    origin: _AeroAirport | None = None
    destination: _AeroAirport | None = None
    scheduled_out: datetime | None = None
    estimated_out: datetime | None = None
    actual_out: datetime | None = None
    actual_off: datetime | None = None
    actual_on: datetime | None = None
    cancelled: bool = False
    diverted: bool = False
    status: str = ""
    route_distance: float | None = None


class _AeroPage(_M):
    scheduled: list[_AeroFlight] = Field(default_factory=list)
    links: dict[str, str] | None = None


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _urn(carrier: str, number: str, local_day: datetime, vendor: str) -> Urn:
    return Urn("flight", f"{carrier}{number.lstrip('0') or '0'}@{local_day:%Y%m%d}", vendor)


def _aero_status(f: _AeroFlight) -> str:
    if f.cancelled:
        return "CANCELLED"
    if f.diverted:
        return "DIVERTED"
    if f.actual_on is not None:
        return "LANDED"
    if f.actual_out is not None or f.actual_off is not None:
        return "DEPARTED"
    late = (
        f.estimated_out is not None
        and f.scheduled_out is not None
        and f.estimated_out - f.scheduled_out >= timedelta(minutes=15)
    )
    return "DELAYED" if late or "delayed" in f.status.lower() else "SCHEDULED"


def aeroapi_statuses(page: Any, *, vendor: str = "aeroapi") -> list[FlightStatus]:
    """Translate one AeroAPI ``scheduled`` page; flights without a schedule are skipped."""
    parsed = parse_model(_AeroPage, page, vendor, "operators.flights.scheduled")
    out = []
    for f in parsed.scheduled:
        carrier = f.operator_iata or (f.ident_iata or "")[:2]
        number = f.flight_number or (f.ident_iata or "")[2:]
        if not (carrier and number and f.scheduled_out and f.origin and f.destination):
            continue
        if not (f.origin.code_iata and f.destination.code_iata):
            continue
        if f.scheduled_out.tzinfo is None:
            raise MalformedResponseError(
                f"{vendor}: scheduled_out without a time zone", vendor=vendor
            )
        local = f.scheduled_out.astimezone(_zone(f.origin.timezone))
        try:
            urn = _urn(carrier, number, local, vendor)
        except NexaError:
            continue  # not an IATA-style flight (e.g. a private ident)
        out.append(
            FlightStatus(
                ScheduledFlight(
                    urn,
                    carrier,
                    f.origin.code_iata,
                    f.destination.code_iata,
                    f.scheduled_out,
                    f.route_distance,
                ),
                _aero_status(f),
                f.estimated_out,
                vendor,
            )
        )
    return out


class AeroApiStatus(HttpAdapter):
    """FlightAware AeroAPI v4 (``x-apikey``)."""

    vendor = "aeroapi"
    default_base_url = "https://aeroapi.flightaware.com/aeroapi"

    async def departures(
        self, airline_urn: Urn, carrier: str, *, start: datetime, end: datetime
    ) -> Sequence[FlightStatus]:
        """The operator's scheduled departures in ``[start, end)`` (every page)."""

        async def headers() -> dict[str, str]:
            return {"x-apikey": (await self.secret(airline_urn, "api_key")).reveal()}

        path: str | None = f"/operators/{carrier}/flights/scheduled"
        params: dict[str, str] | None = {
            "start": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": end.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        out: list[FlightStatus] = []
        for _ in range(MAX_PAGES):
            if path is None:
                break
            response = await self.http.request(
                "GET",
                path,
                tenant=airline_urn,
                operation="operators.flights.scheduled",
                headers=headers,
                params=params,
            )
            page = parse_json(response, self.vendor, "operators.flights.scheduled")
            out.extend(aeroapi_statuses(page, vendor=self.vendor))
            nxt = (page.get("links") or {}).get("next") if isinstance(page, dict) else None
            path, params = (nxt, None) if nxt else (None, None)
        return [s for s in out if start <= s.flight.scheduled_departure < end]


class _StackPoint(_M):
    iata: str | None = None
    timezone: str | None = None
    scheduled: str | None = None
    estimated: str | None = None
    delay: float | None = None


class _StackNamed(_M):
    iata: str | None = None
    number: str | None = None


class _StackFlight(_M):
    flight_date: str | None = None
    flight_status: str | None = None
    departure: _StackPoint | None = None
    arrival: _StackPoint | None = None
    airline: _StackNamed | None = None
    flight: _StackNamed | None = None


class _StackPage(_M):
    data: list[_StackFlight] = Field(default_factory=list)
    pagination: dict[str, int] | None = None


_STACK_STATUS = {
    "scheduled": "SCHEDULED",
    "active": "DEPARTED",
    "landed": "LANDED",
    "cancelled": "CANCELLED",
    "diverted": "DIVERTED",
    "incident": "UNKNOWN",
}


def _local(text: str | None, zone: ZoneInfo) -> datetime | None:
    if not text:
        return None
    try:
        wall = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return wall.replace(tzinfo=zone)  # the offset is not the airport's: the clock is


class AviationStackStatus(HttpAdapter):
    """aviationstack ``/v1/flights`` (``access_key`` query parameter)."""

    vendor = "aviationstack"
    default_base_url = "https://api.aviationstack.com"

    def classify_body(self, body: Any) -> None:
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return
        code = str(err.get("code") or "error")[:64]
        what = f"aviationstack flights: {code}"
        if code in ("invalid_access_key", "missing_access_key", "inactive_user"):
            raise ProviderAuthError(what, vendor=self.vendor, vendor_code=code)
        if code in ("usage_limit_reached", "rate_limit_reached"):
            raise RateLimitedError(what, vendor=self.vendor, vendor_code=code)
        raise ProviderRejectedError(what, vendor=self.vendor, vendor_code=code)

    async def departures(
        self, airline_urn: Urn, carrier: str, *, start: datetime, end: datetime
    ) -> Sequence[FlightStatus]:
        """The airline's flights (every page) scheduled to leave in ``[start, end)``."""
        key = await self.secret(airline_urn, "access_key")
        out: list[FlightStatus] = []
        offset = 0
        for _ in range(MAX_PAGES):
            try:
                response = await self.http.request(
                    "GET",
                    "/v1/flights",
                    tenant=airline_urn,
                    operation="flights",
                    params={
                        "access_key": key.reveal(),
                        "airline_iata": carrier,
                        "limit": "100",
                        "offset": str(offset),
                    },
                    ok=frozenset({200}),
                )
            except NexaError as exc:
                raise type(exc)(str(exc).replace(key.reveal(), "***"), **exc.context) from None
            body = parse_json(response, self.vendor, "flights")
            self.classify_body(body)
            page = parse_model(_StackPage, body, self.vendor, "flights")
            for f in page.data:
                status = self._status(f)
                if status is not None and start <= status.flight.scheduled_departure < end:
                    out.append(status)
            total = (page.pagination or {}).get("total", 0)
            offset += len(page.data)
            if not page.data or offset >= total:
                break
        return out

    def _status(self, f: _StackFlight) -> FlightStatus | None:
        dep, arr = f.departure, f.arrival
        carrier = (f.airline.iata if f.airline else None) or ""
        number = (f.flight.number if f.flight else None) or ""
        if not (dep and arr and dep.iata and arr.iata and carrier and number):
            return None
        zone = _zone(dep.timezone)
        scheduled = _local(dep.scheduled, zone)
        if scheduled is None:
            return None
        try:
            urn = _urn(carrier, number, scheduled, self.vendor)
        except NexaError:
            return None
        state = _STACK_STATUS.get((f.flight_status or "").lower(), "UNKNOWN")
        estimated = _local(dep.estimated, zone)
        if estimated is None and dep.delay is not None:
            estimated = scheduled + timedelta(minutes=dep.delay)
        if state == "SCHEDULED" and (dep.delay or 0) >= 15:
            state = "DELAYED"
        return FlightStatus(
            ScheduledFlight(urn, carrier, dep.iata, arr.iata, scheduled),
            state,
            estimated,
            self.vendor,
        )


class ScriptedStatus:
    """Sweeps of AeroAPI-shaped pages from a JSON file: ``{"sweeps": [{"scheduled": […]}]}``.

    Each :meth:`departures` call serves the next sweep (the last one repeats), filtered to
    the carrier and window, so a test or a drill can script a flight going from on time
    to cancelled.
    """

    def __init__(self, path: str | Path | None = None, *, sweeps: list[Any] | None = None) -> None:
        self.name = "scripted"
        if sweeps is None:
            if path is None:
                raise InvalidInputError("a scripted feed needs a file (--feed)", field="feed")
            try:
                doc = json.loads(Path(path).read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{path} is not JSON: {exc.msg} (line {exc.lineno})"
                ) from None
            sweeps = doc.get("sweeps") if isinstance(doc, dict) else None
        if not isinstance(sweeps, list) or not sweeps:
            raise InvalidInputError('a scripted feed needs a non-empty "sweeps" list', field="feed")
        self.sweeps = [aeroapi_statuses(s, vendor="aeroapi") for s in sweeps]
        self.calls: dict[str, int] = {}

    @property
    def exhausted(self) -> bool:
        """Whether every scripted sweep has been served (to every carrier asked)."""
        return bool(self.calls) and min(self.calls.values()) >= len(self.sweeps)

    async def departures(
        self, airline_urn: Urn, carrier: str, *, start: datetime, end: datetime
    ) -> Sequence[FlightStatus]:
        """The next sweep's flights of ``carrier`` (the window is not applied: scripted)."""
        n = self.calls.get(carrier, 0)
        self.calls[carrier] = n + 1
        sweep = self.sweeps[min(n, len(self.sweeps) - 1)]
        return [s for s in sweep if s.flight.carrier == carrier]

"""Embedding Nexa in your own service, with your own adapter.

An airline's ops service keeps a short list of hotels it has negotiated directly
("in-house" hotels). It plugs that list into Nexa as a ``HotelProvider``, wires everything
through the composition root, and uses the domain functions directly:

1. register the in-house provider as a plugin object and ``bootstrap`` Nexa around it;
2. parse a manifest (``parse_manifest``) and the airport's policy (``parse_policy``);
3. resolve the policy per tier, plan stays (``plan_stays``) and rooms (``plan_rooms``);
4. search the in-house hotels for the rooms needed;
5. open the case record (case + sub-cases + audit entry) in one store transaction;
6. read it back as a case report (``build_case_report``).

Run it from the repository root::

    python examples/embedding/service.py
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import yaml

from nexa_adapters.airports import default_catalog
from nexa_adapters.bootstrap import Nexa, bootstrap
from nexa_adapters.documents import parse_manifest, parse_policy
from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.plugins import get_plugin_manager
from nexa_adapters.reporting import build_case_report
from nexa_adapters.settings import Settings
from nexa_core.model import (
    Actor,
    AuditEntry,
    Case,
    HotelOffer,
    PaymentMode,
    RoomOffer,
    RoomType,
    SubCase,
)
from nexa_core.policy import plan_stays, resolve
from nexa_core.ports import HotelSearch
from nexa_core.rooming import plan_rooms
from nexa_core.runtime import SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

HERE = Path(__file__).resolve().parent
MANIFEST = HERE.parent / "manifests" / "scl-rooming.json"
POLICY = HERE.parent / "policies" / "scl-default.yaml"

# ----------------------------------------------------------------------------- your adapter

#: (id, name, stars, km from the airport bearing east, rooms of each type, nightly rate USD)
IN_HOUSE_HOTELS = [
    ("IH-ANDES", "Andes Airport Inn", 4, 3.0, {RoomType.DBL: 20, RoomType.TRP: 4}, "95"),
    ("IH-PUDAHUEL", "Pudahuel Crew Lodge", 3, 6.5, {RoomType.SGL: 30, RoomType.DBL: 10}, "70"),
    ("IH-COSTANERA", "Costanera Business", 5, 14.0, {RoomType.SGL: 8, RoomType.DBL: 12}, "210"),
]


class InHouseHotels:
    """A :class:`~nexa_core.ports.HotelProvider` over a static list of negotiated hotels.

    Anything with a ``name`` and an async ``search(HotelSearch)`` returning canonical
    :class:`HotelOffer` values is a hotel provider; no base class is needed.
    """

    def __init__(self, name: str = "inhouse") -> None:
        self.name = name

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        offers = []
        for hotel_id, hotel_name, stars, km, rooms, rate in IN_HOUSE_HOTELS:
            if km > request.radius_km:
                continue
            offers.append(
                HotelOffer(
                    urn=Urn("offer", f"{self.name}-{hotel_id}-{request.check_in:%Y%m%d}"),
                    hotel_urn=Urn("hotel", hotel_id, self.name),
                    name=hotel_name,
                    address=f"{km:.1f} km from {request.airport.iata}",
                    latitude=request.airport.latitude,
                    longitude=request.airport.longitude + km / 100,
                    stars=stars,
                    rooms=tuple(RoomOffer(t, n, Decimal(rate)) for t, n in rooms.items()),
                    currency="USD",
                    check_in=request.check_in,
                    check_out=request.check_out,
                    amenities=frozenset({"24H_RECEPTION", "AIRPORT_SHUTTLE"}),
                    accepted_payments=frozenset({PaymentMode.GUARANTEE}),
                )
            )
        return offers


class InHousePlugin:
    """The plugin object: registers the provider under the name ``inhouse``."""

    @hookimpl
    def nexa_register_hotel_providers(self, register: Register) -> None:
        register("inhouse", lambda **options: InHouseHotels())


# ----------------------------------------------------------------------------- the service


def wire() -> Nexa:
    """The composition root of this service: in-memory store, in-house hotels."""
    plugins = get_plugin_manager(plugins=[InHousePlugin()])
    settings = Settings(store_url="memory://", hotel_providers=("inhouse",))
    return bootstrap(settings, plugins=plugins, ids=SequentialIds())


async def open_case(nexa: Nexa, manifest_doc: dict[str, Any], policy_doc: Any) -> Urn:
    """Plan a disruption and record it; returns the case URN."""
    manifest = parse_manifest(manifest_doc)
    policy = parse_policy(policy_doc)
    airport = default_catalog().get(manifest.airport_urn.id)
    airline = manifest.airline_urn.id
    tenant = TenantContext.system(manifest.airline_urn)

    # policies and rooms, per PNR group
    rooms_by_group = {}
    for group in manifest.groups:
        resolved = resolve(
            [policy],
            tier=group.tier,
            airport=airport.iata,
            airline=airline,
            country=airport.country,
        )
        needs = plan_rooms(group, resolved.policy)
        rooms_by_group[group.group_id] = needs
        kinds = ", ".join(n.room_type.value for n in needs)
        print(
            f"group {group.group_id}: {group.size} pax, tier {group.tier.value}, "
            f"policy {resolved.policy.name!r} ({resolved.rule.label}), rooms {len(needs)} ({kinds})"
        )

    # stay plans in the airport's time zone
    stays = plan_stays(
        manifest.groups,
        disrupted_at=manifest.disrupted_at,
        departure=manifest.next_departure,
        timezone=airport.timezone,
        buffers=policy.buffers,
        group_departures=dict(manifest.group_departures),
    )
    check_in: date = min(s.check_in.date() for s in stays.values())
    check_out: date = max(s.check_out.date() for s in stays.values())
    nights = max(s.nights for s in stays.values())
    print(f"stay: {check_in} → {check_out} ({airport.timezone}), {nights} night(s)")

    # your hotel provider, through the same port the allocation uses
    provider = nexa.hotel_providers["inhouse"]
    total_rooms = sum(len(n) for n in rooms_by_group.values())
    offers = await provider.search(
        HotelSearch(manifest.airline_urn, airport, check_in, check_out, total_rooms, radius_km=15)
    )
    for offer in offers:
        rate = offer.cheapest_rate()
        print(f"offer: {offer.name} ({offer.vendor}) {offer.total_rooms} rooms from {rate}")

    # the case record: case, one sub-case per PNR and an audit entry, all or nothing
    case_urn = nexa.ids.new("case")
    now = nexa.clock.now()
    case = Case(
        urn=case_urn,
        airline_urn=manifest.airline_urn,
        airport_urn=manifest.airport_urn,
        external_event_id=manifest.external_event_id,
        flight=manifest.flight,
        disrupted_at=manifest.disrupted_at,
        next_departure=manifest.next_departure,
        created_at=now,
        updated_at=now,
    )
    async with nexa.store.transaction() as tx:
        await tx.cases.add(tenant, case)
        for group in manifest.groups:
            await tx.sub_cases.add(
                tenant,
                SubCase(
                    urn=nexa.ids.new("sub-case"),
                    case_urn=case_urn,
                    airline_urn=manifest.airline_urn,
                    group=group,
                    stay_plan=stays[group.group_id],
                ),
            )
        await tx.audit.append(
            tenant,
            AuditEntry(
                urn=nexa.ids.new("audit"),
                airline_urn=manifest.airline_urn,
                actor=Actor(Urn("user", "ops-service"), "SYSTEM"),
                action="case.opened",
                entity_urn=case_urn,
                reason=f"manifest {manifest.external_event_id}",
                at=now,
                after={"status": case.status.value, "rooms_needed": total_rooms},
            ),
        )
    print(
        f"case {case_urn} opened for {manifest.flight.number} at {airport.iata}: "
        f"{len(manifest.groups)} groups, {manifest.passengers} passengers, {total_rooms} rooms needed"
    )
    return case_urn


async def main() -> None:
    nexa = wire()
    print(f"hotel providers: {', '.join(sorted(nexa.hotel_providers))}")
    try:
        manifest_doc = json.loads(MANIFEST.read_text(encoding="utf-8"))
        policy_doc = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
        case_urn = await open_case(nexa, manifest_doc, policy_doc)
        tenant = TenantContext.system(Urn.parse(manifest_doc["airline"]))
        report = await build_case_report(nexa.store, tenant, case_urn)
        audit = [c.after for c in report.case_timeline]
        print(
            f"report: {report.passengers} passengers in {report.sub_cases} sub-cases, "
            f"case status {report.status}, audit {audit}"
        )
    finally:
        await nexa.aclose()


if __name__ == "__main__":
    anyio.run(main)

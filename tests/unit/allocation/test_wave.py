from __future__ import annotations

import json

import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.allocation import allocate, record_wave, wave_key
from nexa_core.model import RoomType
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

from .helpers import AIRPORT, POLICY, group, offer

TENANT = TenantContext(Urn("airline", "LAN"))
CASE = Urn("case", "c-1")
DEMAND = Urn("demand", "DMD-1")


@pytest.mark.anyio
async def test_a_wave_is_recorded_once_per_case_demand_and_sequence() -> None:
    clock = FixedClock()
    store = MemoryStore(clock=clock.now)
    ids = SequentialIds()
    groups = [group("G1", [2]), group("G2", [2, 2, 2, 2])]
    offers = [offer("A", [(RoomType.DBL, 2, "80")], vendor="direct", market="100")]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    kw = {"case_urn": CASE, "demand_urn": DEMAND, "ids": ids, "clock": clock}
    first = await record_wave(store, TENANT, plan, sequence=1, **kw)  # type: ignore[arg-type]
    again = await record_wave(store, TENANT, plan, sequence=1, **kw)  # type: ignore[arg-type]
    assert again.urn == first.urn
    assert len(await store.waves.find(TENANT, case_urn=CASE)) == 1
    second = await record_wave(store, TENANT, plan, sequence=2, **kw)  # type: ignore[arg-type]
    assert second.urn != first.urn
    doc = first.plan
    json.dumps(doc)  # JSON-friendly
    assert doc["idempotencyKey"] == wave_key(CASE, DEMAND, 1)
    assert doc["assignments"][0]["groupId"] == "G1"
    assert doc["unassigned"][0]["reason"].startswith("NO_CAPACITY")
    assert doc["savingsVsMarket"] == "20.00"
    assert {c["reason"] for c in doc["candidates"]} == {"chosen: 1 group(s)"}
    assert doc["totals"]["totalCost"] == str(plan.totals.total_cost)

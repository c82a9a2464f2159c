"""The composition root wires the sagas and the case services end to end (memory setup)."""

from __future__ import annotations

import pytest

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.engine import build_orchestrator
from nexa_adapters.settings import Settings
from nexa_core.model import CaseStatus, SubCaseStatus
from tests.service.flow import OPERATOR, TENANT, _manifest, _policy


@pytest.mark.anyio
async def test_bootstrapped_memory_setup_books_a_case() -> None:
    settings = Settings.load(
        env={}, store_url="memory://", coordination_url="inprocess://", engine_url="inprocess://"
    )
    nexa = bootstrap(settings, provider_options={"engine_time_scale": 0.0})
    orch, reviews = build_orchestrator(nexa, policy=_policy())
    await nexa.engine.launch()
    opened = await orch.open_case(_manifest(groups=2), principal=OPERATOR)
    wave = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    await orch.wait(
        await orch.book_sub_cases(opened.case.urn, wave.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    case = await orch.settle(opened.case.urn, principal=OPERATOR)
    assert case.status is CaseStatus.CONFIRMED
    subs = await nexa.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    assert {s.status for s in subs} == {SubCaseStatus.OFFER_READY}
    assert reviews.triage is not None
    await nexa.aclose()

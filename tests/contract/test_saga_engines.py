"""Both engines pass the shared saga contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nexa_adapters.engine.dbos_engine import DbosEngine
from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_core.saga import SagaProgram
from nexa_core.testing.saga_contract import SagaEngineContract


class TestInProcessEngine(SagaEngineContract):
    @pytest.fixture
    async def make_engine(self) -> AsyncIterator[Any]:
        async def factory(programs: list[SagaProgram]) -> InProcessEngine:
            engine = InProcessEngine(time_scale=0.0)
            for p in programs:
                engine.register(p)
            await engine.launch()
            return engine

        yield factory


class TestDbosEngineOnSqlite(SagaEngineContract):
    @pytest.fixture
    async def make_engine(self, tmp_path: Path) -> AsyncIterator[Any]:
        engines: list[DbosEngine] = []

        async def factory(programs: list[SagaProgram]) -> DbosEngine:
            engine = DbosEngine.from_url(
                f"dbos+sqlite:///{tmp_path}/engine.db?executor=contract", enqueue=False
            )
            for p in programs:
                engine.register(p)
            await engine.launch()
            engines.append(engine)
            return engine

        yield factory
        for engine in engines:
            await engine.shutdown()


@pytest.mark.postgres
class TestDbosEngineOnPostgres(SagaEngineContract):
    @pytest.fixture
    async def make_engine(self, postgres_database: str) -> AsyncIterator[Any]:
        engines: list[DbosEngine] = []

        async def factory(programs: list[SagaProgram]) -> DbosEngine:
            engine = DbosEngine.from_url(
                f"dbos+{postgres_database}?executor=contract", enqueue=False
            )
            for p in programs:
                engine.register(p)
            await engine.launch()
            engines.append(engine)
            return engine

        yield factory
        for engine in engines:
            await engine.shutdown()

"""Workflow engines that run :mod:`nexa_core.saga` programs (in-process and DBOS)."""

from nexa_adapters.engine.dbos_engine import (
    QUEUE_NAME,
    WORKFLOW_NAME,
    DbosEngine,
    DbosRunner,
    parse_engine_url,
)
from nexa_adapters.engine.inprocess import InProcessEngine, InProcessRunner
from nexa_adapters.engine.wiring import build_orchestrator, install_sagas, saga_deps

__all__ = [
    "QUEUE_NAME",
    "WORKFLOW_NAME",
    "DbosEngine",
    "DbosRunner",
    "InProcessEngine",
    "InProcessRunner",
    "build_orchestrator",
    "install_sagas",
    "parse_engine_url",
    "saga_deps",
]

"""Saga definitions as plain data: named steps, their queue, compensations and failure mode.

A definition is versioned by name (``subcase-booking@1``); engines keep old versions
registered until their in-flight runs drain. Step *implementations* are bound separately
(:class:`~nexa_core.saga.interpreter.SagaProgram`) so the definition stays data.
"""

from __future__ import annotations

import enum

import attrs

from nexa_core.errors import ConfigurationError
from nexa_core.saga.policy import Queue

__all__ = [
    "DEFINITIONS",
    "SUBCASE_BOOKING",
    "SUBCASE_ROLLBACK",
    "OnFailure",
    "SagaDefinition",
    "StepDef",
    "definition",
]


class OnFailure(enum.StrEnum):
    """What a step's final failure (permanent, or retries exhausted) does to the saga."""

    COMPENSATE = "compensate"  # undo completed steps in reverse, then the failure handler
    CONTINUE = "continue"  # record it and go on (e.g. a notification that cannot be sent)
    DEAD_LETTER = "dead-letter"  # a compensation: write a dead letter and go on


@attrs.frozen
class StepDef:
    """One step: its name (the handler key), its queue and its compensations (in order)."""

    name: str
    queue: Queue
    compensations: tuple[str, ...] = ()
    on_failure: OnFailure = OnFailure.COMPENSATE
    fallbacks: int = 0  # extra candidates tried once each after the primary's retries


@attrs.frozen
class SagaDefinition:
    """An ordered list of steps plus the handler run after a compensated failure."""

    name: str
    version: int
    steps: tuple[StepDef, ...]
    on_failed: str | None = None  # handler run (as a step) after compensations
    compensation_queue: Queue = Queue.BOOKING

    def __attrs_post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"saga {self.name}: step names repeat", saga=self.name)

    @property
    def id(self) -> str:
        """``name@version`` — part of every workflow id."""
        return f"{self.name}@{self.version}"

    def handler_names(self) -> frozenset[str]:
        """Every handler a program must bind (steps, compensations, failure handler)."""
        out = {s.name for s in self.steps}
        for s in self.steps:
            out.update(s.compensations)
        if self.on_failed:
            out.add(self.on_failed)
        return frozenset(out)


_B = Queue.BOOKING

#: hold → reservation URN → book (primary with retries, then ≤ 3 fallbacks) and confirm the
#: hold → payment → transport → notifications → passenger snapshot and OFFER_READY.
SUBCASE_BOOKING = SagaDefinition(
    "subcase-booking",
    1,
    (
        StepDef("reserve", Queue.SYSTEM, compensations=("release_hold",)),
        StepDef("book", _B, compensations=("cancel_booking",), fallbacks=3),
        StepDef("payment", Queue.PAYMENT, compensations=("cancel_card",)),
        StepDef("transport", Queue.TRANSPORT, compensations=("cancel_transport",)),
        StepDef("notify", Queue.NOTIFICATION, on_failure=OnFailure.CONTINUE),
        StepDef("offer_ready", Queue.SYSTEM),
    ),
    on_failed="to_manual_review",
)

#: Passenger decline or vendor rollback: undo in reverse, then back to PENDING.
SUBCASE_ROLLBACK = SagaDefinition(
    "subcase-rollback",
    1,
    (
        StepDef("begin_rollback", Queue.SYSTEM),
        StepDef("cancel_transport", Queue.TRANSPORT, on_failure=OnFailure.DEAD_LETTER),
        StepDef("cancel_card", Queue.PAYMENT, on_failure=OnFailure.DEAD_LETTER),
        StepDef("cancel_booking", _B, on_failure=OnFailure.DEAD_LETTER),
        StepDef("release_hold", _B, on_failure=OnFailure.DEAD_LETTER),
        StepDef("end_rollback", Queue.SYSTEM),
    ),
)

#: Every shipped definition by id.
DEFINITIONS: dict[str, SagaDefinition] = {d.id: d for d in (SUBCASE_BOOKING, SUBCASE_ROLLBACK)}


def definition(saga_id: str) -> SagaDefinition:
    """The shipped definition with that ``name@version``."""
    try:
        return DEFINITIONS[saga_id]
    except KeyError:
        raise ConfigurationError(f"unknown saga {saga_id!r}", saga=saga_id) from None

"""Saga definitions, retry policies, the interpreter and the sub-case sagas (plain data + ports)."""

from nexa_core.saga.definition import (
    DEFINITIONS,
    SUBCASE_BOOKING,
    SUBCASE_ROLLBACK,
    OnFailure,
    SagaDefinition,
    StepDef,
    definition,
)
from nexa_core.saga.engine import SagaEngine
from nexa_core.saga.interpreter import (
    DEAD_LETTER_STEP,
    SagaOutcome,
    SagaProgram,
    SagaStatus,
    StepFailed,
    StepRunner,
    interpret,
    is_ambiguous,
    is_retryable,
    workflow_id,
)
from nexa_core.saga.partners import DEFAULT_PARTNER_RATES, PartnerGate
from nexa_core.saga.policy import DEFAULT_RETRY_POLICIES, Queue, RetryPolicies, RetryPolicy
from nexa_core.saga.records import Change, Recorder, digest
from nexa_core.saga.subcase import (
    HOLD_TTL,
    BookingLookup,
    CareInstructions,
    SagaDeps,
    SubCaseSagas,
    booking_input,
)

__all__ = [
    "DEAD_LETTER_STEP",
    "DEFAULT_PARTNER_RATES",
    "DEFAULT_RETRY_POLICIES",
    "DEFINITIONS",
    "HOLD_TTL",
    "SUBCASE_BOOKING",
    "SUBCASE_ROLLBACK",
    "BookingLookup",
    "CareInstructions",
    "Change",
    "OnFailure",
    "PartnerGate",
    "Queue",
    "Recorder",
    "RetryPolicies",
    "RetryPolicy",
    "SagaDefinition",
    "SagaDeps",
    "SagaEngine",
    "SagaOutcome",
    "SagaProgram",
    "SagaStatus",
    "StepDef",
    "StepFailed",
    "StepRunner",
    "SubCaseSagas",
    "booking_input",
    "definition",
    "digest",
    "interpret",
    "is_ambiguous",
    "is_retryable",
    "workflow_id",
]

"""The one error tree of Nexa.

Every failure the SDK raises on purpose is a :class:`NexaError`. Each error takes a
human message plus keyword-only context (URNs, field names, vendor names — never
secrets, card numbers or passenger documents) and says whether retrying the same
operation may succeed (``retryable``)::

    NexaError
    ├── InvalidInputError                 bad input: nothing was changed
    │   ├── InvalidUrnError               a URN does not follow the grammar or a type's id rule
    │   ├── PIIRejectedError              passport / national-id / card data offered
    │   ├── InputTooLargeError            a document exceeds its size or depth limit
    │   ├── PolicyValidationError         a policy document fails its schema
    │   └── UnknownAirportError           an IATA code that the catalog does not know
    ├── NotFoundError                     no such record for this tenant (cross-tenant too)
    ├── ConflictError                     the request collides with current state
    │   ├── ConcurrencyError              stale aggregate version (retryable after reload)
    │   ├── IllegalTransitionError        a state machine forbids the move
    │   ├── DuplicateError                a unique identity already exists
    │   ├── StaleFencingTokenError        a write presented an outdated lock token
    │   └── LockHeldError                 an entity lock is held by someone else (retryable)
    ├── CapacityError                     not enough inventory for a hold or booking
    ├── PolicyError                       policy evaluation could not decide
    │   └── NoPolicyMatchError            no policy matched the context
    ├── AuthError
    │   ├── AuthenticationError           missing, invalid or expired credentials
    │   └── PermissionDeniedError         authenticated, but the role is too low
    ├── ProviderError                     a partner call failed
    │   ├── TransientProviderError        retry may succeed (retryable)
    │   │   ├── RateLimitedError          429 / local token bucket exhausted (retry_after)
    │   │   ├── ProviderTimeoutError      the partner did not answer in time
    │   │   ├── ProviderUnavailableError  5xx, connection errors
    │   │   └── CircuitOpenError          our breaker refuses calls for now
    │   └── PermanentProviderError        retrying the same call cannot help
    │       ├── ProviderRejectedError     the partner said no (sold out, card refused, …)
    │       │   └── ProviderNotFoundError the partner does not know the resource (HTTP 404)
    │       ├── ProviderAuthError         credentials refused after one refresh
    │       └── MalformedResponseError    the partner's payload does not match its contract
    ├── StoreUnavailableError             the operational store is unreachable or busy (retryable)
    ├── WebhookVerificationError          signature, timestamp or payload rejected
    ├── RenderError                       a message or QR code could not be built (retryable)
    ├── ConfigurationError                settings or wiring are wrong
    │   └── PluginError                   a plugin failed to load or registered a duplicate
    └── SagaError                         the workflow engine could not finish a saga
        └── CompensationFailedError       a compensation step failed permanently

``retryable`` defaults per class (``ConcurrencyError``, ``LockHeldError``,
``StoreUnavailableError``, ``RenderError`` and every ``TransientProviderError`` are retryable) and may be overridden per instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "AuthenticationError",
    "CapacityError",
    "CircuitOpenError",
    "CompensationFailedError",
    "ConcurrencyError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateError",
    "IllegalTransitionError",
    "InputTooLargeError",
    "InvalidInputError",
    "InvalidUrnError",
    "LockHeldError",
    "MalformedResponseError",
    "NexaError",
    "NoPolicyMatchError",
    "NotFoundError",
    "PIIRejectedError",
    "PermanentProviderError",
    "PermissionDeniedError",
    "PluginError",
    "PolicyError",
    "PolicyValidationError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderNotFoundError",
    "ProviderRejectedError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RenderError",
    "SagaError",
    "StaleFencingTokenError",
    "StoreUnavailableError",
    "TransientProviderError",
    "UnknownAirportError",
    "WebhookVerificationError",
]


class NexaError(Exception):
    """Base of every error Nexa raises on purpose.

    ``message`` is a one-line human explanation. Everything else is keyword-only
    context kept in :attr:`context` (values must be safe to log).
    """

    retryable_default: ClassVar[bool] = False
    code: ClassVar[str] = "nexa.error"

    def __init__(self, message: str, /, *, retryable: bool | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.retryable: bool = self.retryable_default if retryable is None else retryable
        self.context: Mapping[str, Any] = dict(context)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        ctx = ", ".join(f"{k}={v!r}" for k, v in sorted(self.context.items()))
        return f"{type(self).__name__}({self.message!r}{', ' if ctx else ''}{ctx})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (type, code, message, retryable, context as strings)."""
        return {
            "type": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "context": {k: str(v) for k, v in self.context.items()},
        }


class InvalidInputError(NexaError):
    """Input rejected before anything changed."""

    code = "nexa.invalid_input"


class InvalidUrnError(InvalidInputError):
    """A URN string does not follow ``urn:<entity>:<id>[:vendor:<v>][:status:<s>]``."""

    code = "nexa.invalid_urn"


class PIIRejectedError(InvalidInputError):
    """A document carried passport, national-id, document-number or card data."""

    code = "nexa.pii_rejected"


class InputTooLargeError(InvalidInputError):
    """An input exceeded its size, count or nesting limit."""

    code = "nexa.input_too_large"


class PolicyValidationError(InvalidInputError):
    """A policy document failed validation; ``context['problems']`` lists JSON paths."""

    code = "nexa.policy_invalid"


class UnknownAirportError(InvalidInputError):
    """The airport catalog has no airport with that IATA code."""

    code = "nexa.unknown_airport"


class NotFoundError(NexaError):
    """No record with that URN exists for the caller's tenant (cross-tenant looks the same)."""

    code = "nexa.not_found"


class ConflictError(NexaError):
    """The request collides with the current state of a record."""

    code = "nexa.conflict"


class ConcurrencyError(ConflictError):
    """A write carried a stale version; reload and try again. Nothing was changed."""

    retryable_default = True
    code = "nexa.concurrency"


class IllegalTransitionError(ConflictError):
    """A state machine does not allow the requested transition."""

    code = "nexa.illegal_transition"


class DuplicateError(ConflictError):
    """A record with the same identity already exists."""

    code = "nexa.duplicate"


class StaleFencingTokenError(ConflictError):
    """A guarded write presented a fencing token older than the current lock holder's."""

    code = "nexa.stale_fencing_token"


class LockHeldError(ConflictError):
    """An entity lock is held by another owner."""

    retryable_default = True
    code = "nexa.lock_held"


class CapacityError(NexaError):
    """Not enough rooms (or seats) left to satisfy a hold or booking."""

    code = "nexa.capacity"


class PolicyError(NexaError):
    """The policy engine could not produce a decision."""

    code = "nexa.policy"


class NoPolicyMatchError(PolicyError):
    """No policy matched the context; callers open a POLICY_VIOLATION review item."""

    code = "nexa.no_policy_match"


class AuthError(NexaError):
    """Identity or authorization failure."""

    code = "nexa.auth"


class AuthenticationError(AuthError):
    """Credentials are missing, malformed, expired or not trusted."""

    code = "nexa.unauthenticated"


class PermissionDeniedError(AuthError):
    """The principal is authenticated but lacks the minimum role or airport scope."""

    code = "nexa.permission_denied"


class ProviderError(NexaError):
    """A partner (hotel, PSP, transport, messaging) call failed."""

    code = "nexa.provider"


class TransientProviderError(ProviderError):
    """The partner may succeed if asked again later."""

    retryable_default = True
    code = "nexa.provider_transient"


class RateLimitedError(TransientProviderError):
    """The partner or our own cluster-wide bucket refused for now (``retry_after`` seconds)."""

    code = "nexa.rate_limited"

    def __init__(
        self,
        message: str,
        /,
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after, **context)
        self.retry_after = retry_after


class ProviderTimeoutError(TransientProviderError):
    """The partner did not answer within the deadline."""

    code = "nexa.provider_timeout"


class ProviderUnavailableError(TransientProviderError):
    """The partner answered 5xx or could not be reached."""

    code = "nexa.provider_unavailable"


class CircuitOpenError(TransientProviderError):
    """The circuit breaker for this partner is open; try another partner or later."""

    code = "nexa.circuit_open"


class PermanentProviderError(ProviderError):
    """Retrying the same call cannot succeed."""

    code = "nexa.provider_permanent"


class ProviderRejectedError(PermanentProviderError):
    """The partner refused the request (sold out, rate changed, card declined, …)."""

    code = "nexa.provider_rejected"


class ProviderNotFoundError(ProviderRejectedError):
    """The partner does not know the resource (HTTP 404): a partner failure, never a record
    missing from Nexa's own store (that is :class:`NotFoundError`)."""

    code = "nexa.provider_not_found"


class ProviderAuthError(PermanentProviderError):
    """The partner refused our credentials even after one refresh."""

    code = "nexa.provider_auth"


class MalformedResponseError(PermanentProviderError):
    """The partner's payload does not match its published contract."""

    code = "nexa.provider_malformed"


class StoreUnavailableError(NexaError):
    """The operational store could not complete the call now (connection lost, database
    locked past its timeout, deadlock, disk error). The unit of work was not committed;
    retrying it may succeed."""

    retryable_default = True
    code = "nexa.store_unavailable"


class WebhookVerificationError(NexaError):
    """An inbound webhook failed signature, timestamp or payload checks."""

    code = "nexa.webhook_rejected"


class RenderError(NexaError):
    """A voucher, message or QR code could not be rendered; retried, then a review item.

    A template error or an unbuildable QR payload is retried like a partner call; a care
    step that keeps failing raises a NOTIFICATION review item instead of failing the
    booking."""

    retryable_default = True
    code = "nexa.render"


class ConfigurationError(NexaError):
    """Settings or adapter wiring are wrong."""

    code = "nexa.configuration"


class PluginError(ConfigurationError):
    """A plugin failed to load, registered a duplicate name, or implements an unknown hook."""

    code = "nexa.plugin"


class SagaError(NexaError):
    """The workflow engine could not complete a saga."""

    code = "nexa.saga"


class CompensationFailedError(SagaError):
    """A compensation step failed permanently; a dead-letter record holds the context."""

    code = "nexa.compensation_failed"

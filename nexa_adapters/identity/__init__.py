"""Identity: verified principals from operator JWTs, passenger links and partner clients.

The tenant of every call comes from the principal these verifiers return
(:func:`nexa_core.auth.tenant_of`), never from a request body.
"""

from nexa_adapters.identity._jwt import ASYMMETRIC_ALGORITHMS, MAX_TOKEN_BYTES, KeySet
from nexa_adapters.identity.bearer import BearerAuthenticator, bearer_token
from nexa_adapters.identity.operator import (
    CLAIM_AIRLINE,
    CLAIM_AIRPORTS,
    CLAIM_OPERATOR_URN,
    CLAIM_ROLE,
    OperatorTokenVerifier,
)
from nexa_adapters.identity.partner import (
    AccessToken,
    PartnerAuthority,
    PartnerClient,
    hash_client_secret,
    verify_client_secret,
)
from nexa_adapters.identity.passenger import (
    CLAIM_CASE,
    DEFAULT_PASSENGER_TTL,
    MAX_PASSENGER_TTL,
    PassengerTokens,
)

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "CLAIM_AIRLINE",
    "CLAIM_AIRPORTS",
    "CLAIM_CASE",
    "CLAIM_OPERATOR_URN",
    "CLAIM_ROLE",
    "DEFAULT_PASSENGER_TTL",
    "MAX_PASSENGER_TTL",
    "MAX_TOKEN_BYTES",
    "AccessToken",
    "BearerAuthenticator",
    "KeySet",
    "OperatorTokenVerifier",
    "PartnerAuthority",
    "PartnerClient",
    "PassengerTokens",
    "bearer_token",
    "hash_client_secret",
    "verify_client_secret",
]

"""Operator JWTs, passenger tokens and partner client credentials."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from nexa_adapters.identity import (
    CLAIM_AIRLINE,
    CLAIM_AIRPORTS,
    CLAIM_OPERATOR_URN,
    CLAIM_ROLE,
    BearerAuthenticator,
    OperatorTokenVerifier,
    PartnerAuthority,
    PartnerClient,
    PassengerTokens,
    bearer_token,
    hash_client_secret,
    verify_client_secret,
)
from nexa_core.auth import PrincipalKind, Role, tenant_of
from nexa_core.errors import AuthenticationError, ConfigurationError, PermissionDeniedError
from nexa_core.runtime import FixedClock
from nexa_core.urn import Urn

ISS, AUD = "https://idp.example", "nexa-api"
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()
KEYS = {"RS256": RSA, "ES256": EC, "EdDSA": ED}


def _pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISS,
        "aud": AUD,
        "sub": "u-7",
        "iat": now,
        "exp": now + 300,
        "jti": "tok-1",
        CLAIM_AIRLINE: "urn:airline:LAN",
        CLAIM_ROLE: "AIRPORT_OPERATOR",
        CLAIM_AIRPORTS: ["SCL", "gru"],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def _token(alg: str = "RS256", kid: str | None = None, **over: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(_claims(**over), KEYS[alg], algorithm=alg, headers=headers)


def _verifier(**kw: Any) -> OperatorTokenVerifier:
    keys = kw.pop("keys", [_pem(RSA), _pem(EC), _pem(ED)])
    return OperatorTokenVerifier(keys=keys, issuer=ISS, audience=AUD, **kw)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_an_operator_token_becomes_a_principal_with_tenant_roles_and_airports(alg: str) -> None:
    p = _verifier().verify(_token(alg))
    assert p.kind is PrincipalKind.OPERATOR
    assert p.subject == Urn("user", "u-7") and p.airline_urn == Urn("airline", "LAN")
    assert p.roles == {Role.AIRPORT_OPERATOR} and p.airports == {"SCL", "GRU"}
    assert p.token_id == "tok-1"
    assert tenant_of(p).airline_urn == Urn("airline", "LAN")


def test_jwks_keys_are_picked_by_kid() -> None:
    jwks = {
        "keys": [
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA.public_key())), "kid": "r1"},
            {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC.public_key())), "kid": "e1"},
        ]
    }
    v = _verifier(keys=jwks)
    assert v.verify(_token("RS256", kid="r1")).subject.id == "u-7"
    assert v.verify(_token("ES256", kid="e1")).subject.id == "u-7"
    with pytest.raises(AuthenticationError, match="unknown key"):
        v.verify(_token("RS256", kid="nope"))
    with pytest.raises(AuthenticationError, match="signature"):
        v.verify(_token("ES256", kid="r1"))


def test_operator_urn_claim_roles_list_and_unrestricted_airports() -> None:
    p = _verifier().verify(
        _token(
            **{
                CLAIM_OPERATOR_URN: "urn:user:ops-lead",
                CLAIM_ROLE: ["ops_supervisor", "FINANCE_AUDIT"],
                CLAIM_AIRPORTS: None,
                CLAIM_AIRLINE: "TAM",
            }
        )
    )
    assert p.subject == Urn("user", "ops-lead") and p.airline_urn == Urn("airline", "TAM")
    assert p.roles == {Role.OPS_SUPERVISOR, Role.FINANCE_AUDIT} and p.airports is None


SECRET_MARK = "SECRETMARK"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": None}, "'exp'"),
        ({CLAIM_AIRLINE: None}, "no airline"),
        ({CLAIM_AIRLINE: "urn:case:c-1"}, "invalid airline"),
        ({CLAIM_ROLE: "SYSTEM"}, "unknown role"),
        ({CLAIM_ROLE: "ROOT"}, "unknown role"),
        ({CLAIM_ROLE: []}, "no role"),
        ({CLAIM_AIRPORTS: ["SCL", "S1L"]}, "invalid airport"),
        ({CLAIM_AIRPORTS: "SCL"}, "must be a list"),
        ({CLAIM_OPERATOR_URN: "urn:case:c-1"}, "invalid operator"),
        ({"sub": None, CLAIM_OPERATOR_URN: None}, "no operator"),
    ],
)
def test_bad_operator_tokens_are_refused_without_leaking_content(
    over: dict[str, Any], message: str
) -> None:
    token = _token(**{**over, "jti": SECRET_MARK})
    with pytest.raises(AuthenticationError, match=message) as info:
        _verifier().verify(token)
    err = info.value
    assert token not in repr(err) and SECRET_MARK not in repr(err)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_expiry_leeway_is_honoured() -> None:
    token = _token(exp=int(time.time()) - 5)
    assert _verifier(leeway=timedelta(seconds=60)).verify(token).subject.id == "u-7"
    with pytest.raises(AuthenticationError, match="expired"):
        _verifier(leeway=0).verify(token)


def test_algorithm_confusion_and_unsigned_tokens_are_refused() -> None:
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    with pytest.raises(AuthenticationError, match="algorithm"):
        _verifier().verify(unsigned)
    hmac_with_public_pem = jwt.encode(_claims(), "x" * 32, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="algorithm"):
        _verifier().verify(hmac_with_public_pem)
    with pytest.raises(ConfigurationError):
        OperatorTokenVerifier(keys=[_pem(RSA)], issuer=ISS, audience=AUD, algorithms=["HS256"])


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "x" * 9000, "eyJ.eyJ.sig"])
def test_garbage_is_an_authentication_error(junk: str) -> None:
    with pytest.raises(AuthenticationError):
        _verifier().verify(junk)


def test_a_token_signed_by_an_unknown_key_is_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), other, algorithm="RS256")
    with pytest.raises(AuthenticationError, match="signature"):
        _verifier().verify(token)


# --------------------------------------------------------------------------- passengers


def test_a_passenger_token_is_scoped_to_one_case_and_expires() -> None:
    tokens = PassengerTokens(private_key=ED)
    token = tokens.mint(
        airline_urn=Urn("airline", "LAN"),
        case_urn=Urn("case", "c-1"),
        passenger_urn=Urn("passenger", "p-1", "latam"),
    )
    verifier = PassengerTokens(public_key=ED.public_key())
    p = verifier.verify(token)
    assert p.kind is PrincipalKind.PASSENGER and p.case_urn == Urn("case", "c-1")
    assert p.subject == Urn("passenger", "p-1", "latam") and p.roles == frozenset()
    past = FixedClock(datetime.now(UTC) - timedelta(hours=2))
    old = PassengerTokens(private_key=ED, clock=past).mint(
        airline_urn=Urn("airline", "LAN"),
        case_urn=Urn("case", "c-1"),
        passenger_urn=Urn("passenger", "p-1"),
    )
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(old)


def test_passenger_tokens_refuse_long_lives_many_cases_and_foreign_keys() -> None:
    now = int(time.time())
    base = {
        "iss": "nexa",
        "aud": "nexa:passenger",
        "sub": "urn:passenger:p-1",
        "iat": now,
        "exp": now + 60,
        "https://nexa/kind": "passenger",
        CLAIM_AIRLINE: "urn:airline:LAN",
        "https://nexa/case": "urn:case:c-1",
    }
    v = PassengerTokens(public_key=ED.public_key())
    assert v.verify(jwt.encode(base, ED, algorithm="EdDSA")).case_urn == Urn("case", "c-1")
    bad = [
        ({"exp": now + 86400}, "longer than allowed"),
        ({"https://nexa/case": ["urn:case:c-1", "urn:case:c-2"]}, "exactly one case"),
        ({"https://nexa/case": "urn:sub-case:sc-1"}, "invalid case"),
        ({"https://nexa/kind": "operator"}, "wrong kind"),
    ]
    for over, msg in bad:
        with pytest.raises(AuthenticationError, match=msg):
            v.verify(jwt.encode({**base, **over}, ED, algorithm="EdDSA"))
    stranger = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(AuthenticationError, match="signature"):
        v.verify(jwt.encode(base, stranger, algorithm="EdDSA"))
    with pytest.raises(ConfigurationError):
        PassengerTokens(private_key=ED, ttl=timedelta(days=2))


# --------------------------------------------------------------------------- partners


def _authority(clock: FixedClock | None = None) -> PartnerAuthority:
    client = PartnerClient(
        "acme-hotels",
        Urn("airline", "LAN"),
        {"cases:read", "webhooks:send"},
        hash_client_secret("s3cret-value"),
    )
    return PartnerAuthority([client], signing_key=ED, clock=clock)


def test_client_credentials_grant_scoped_tokens() -> None:
    auth = _authority()
    grant = auth.issue_token("acme-hotels", "s3cret-value", "cases:read")
    assert grant.scope == "cases:read" and grant.token_type == "Bearer"
    assert "s3cret" not in repr(grant) and grant.access_token not in repr(grant)
    p = auth.verify(grant.access_token)
    assert p.kind is PrincipalKind.PARTNER and p.scopes == {"cases:read"}
    assert p.subject == Urn("user", "partner.acme-hotels") and p.airline_urn.id == "LAN"
    full = auth.verify(auth.issue_token("acme-hotels", "s3cret-value").access_token)
    assert full.scopes == {"cases:read", "webhooks:send"}


def test_wrong_secrets_unknown_clients_and_excess_scopes_are_refused() -> None:
    auth = _authority()
    for cid, secret in [("acme-hotels", "wrong"), ("nobody", "s3cret-value"), ("acme-hotels", "")]:
        with pytest.raises(AuthenticationError, match="invalid client credentials") as info:
            auth.issue_token(cid, secret)
        assert secret not in str(info.value) or not secret
    with pytest.raises(PermissionDeniedError):
        auth.issue_token("acme-hotels", "s3cret-value", "cases:read admin:all")
    past = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    expired = _authority(past).issue_token("acme-hotels", "s3cret-value").access_token
    with pytest.raises(AuthenticationError, match="expired"):
        auth.verify(expired)


def test_secret_hashes_verify_in_constant_time_helpers() -> None:
    h = hash_client_secret("abc")
    assert h.startswith("scrypt$") and "abc" not in h
    assert verify_client_secret("abc", h) and not verify_client_secret("abd", h)
    assert not verify_client_secret("abc", "garbage")


def test_bearer_headers_route_by_audience() -> None:
    auth = _authority()
    pax = PassengerTokens(private_key=ED)
    bearer = BearerAuthenticator({AUD: _verifier(), "nexa:partner": auth, "nexa:passenger": pax})
    assert bearer.authenticate(f"Bearer {_token()}").kind is PrincipalKind.OPERATOR
    partner = auth.issue_token("acme-hotels", "s3cret-value").access_token
    assert bearer.authenticate(f"bearer {partner}").kind is PrincipalKind.PARTNER
    for header in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(AuthenticationError):
            bearer.authenticate(header)
    with pytest.raises(AuthenticationError, match="audience"):
        bearer.authenticate(f"Bearer {_token(aud='other')}")
    assert bearer_token("Bearer  t ") == "t"


def test_a_jwks_client_resolves_keys_per_token() -> None:
    class Key:
        key = RSA.public_key()

    class Client:
        def __init__(self, fail: Exception | None = None) -> None:
            self.fail = fail

        def get_signing_key_from_jwt(self, token: str) -> Key:
            if self.fail:
                raise self.fail
            return Key()

    assert _verifier(keys=Client()).verify(_token("RS256")).subject.id == "u-7"
    with pytest.raises(AuthenticationError, match="unknown key"):
        _verifier(keys=Client(jwt.PyJWKClientError("no kid"))).verify(_token("RS256"))
    with pytest.raises(AuthenticationError, match="unavailable") as info:
        _verifier(keys=Client(jwt.PyJWKClientConnectionError("down"))).verify(_token("RS256"))
    assert info.value.retryable

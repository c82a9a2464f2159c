"""Twilio on the wire: Twilio's own validator test vectors and the published Messages API.

Facts and sources: ``golden/twilio/SOURCE.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import respx

from nexa_adapters.http.twilio import (
    STATUSES,
    TwilioSMS,
    body_sha256,
    compute_signature,
    validate_signature,
    verify_request,
)
from nexa_core.errors import WebhookVerificationError
from nexa_core.model import Channel, NotificationStatus
from nexa_core.testing.providers import LAN, sample_message
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import load, validate
from tests.adapters.http.test_messaging import ACCOUNT, TW_ENV, FakeTwilio, twilio_message

V = "twilio"
VEC = load(V, "request_validator.vectors.json")
TOKEN, URL, PARAMS, SIG = VEC["auth_token"], VEC["url"], VEC["params"], VEC["signature"]
CALLBACK = "https://nexa.example/hooks/twilio?tenant=LAN"


def test_the_published_vector_signs_and_validates() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == SIG
    assert validate_signature(TOKEN, URL, PARAMS, SIG)
    assert validate_signature(TOKEN, URL, dict(reversed(PARAMS.items())), SIG)


def test_repeated_values_are_sorted_and_deduplicated() -> None:
    pairs = [tuple(p) for p in VEC["duplicate_params"]]
    assert compute_signature(TOKEN, URL, pairs) == VEC["duplicate_signature"]
    grouped = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}
    assert compute_signature(TOKEN, URL, grouped) == VEC["duplicate_signature"]


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # an explicit non-default port is removed (Twilio signed without it)
        (URL.replace(".com", ".com:1234"), VEC["signature"]),
        (
            "http" + URL.replace(".com", ".com:1234").removeprefix("https"),
            VEC["port_1234_on_http_signature"],
        ),
        # no port in the URL, Twilio signed with the default one
        (URL, VEC["port_443_on_https_signature"]),
        ("http" + URL.removeprefix("https"), VEC["port_80_on_http_signature"]),
    ],
)
def test_the_url_is_tried_with_and_without_its_port(url: str, signature: str) -> None:
    assert validate_signature(TOKEN, url, PARAMS, signature)


def test_a_json_body_is_checked_against_body_sha256() -> None:
    body = VEC["json_body"]
    assert body_sha256(body) == VEC["json_body_sha256"]
    url = URL + "&bodySHA256=" + VEC["json_body_sha256"]
    assert validate_signature(TOKEN, url, body, VEC["json_body_signature"])
    assert validate_signature(TOKEN, url, body.encode(), VEC["json_body_signature"])
    # a changed body no longer matches its hash, whatever the signature says
    assert not validate_signature(TOKEN, url, body + " ", VEC["json_body_signature"])
    # a JSON body without bodySHA256 in the URL is never accepted
    assert not validate_signature(TOKEN, URL, body, VEC["json_body_signature"])


def test_tampering_is_rejected() -> None:
    assert not validate_signature(TOKEN, URL, {**PARAMS, "Digits": "1235"}, SIG)
    assert not validate_signature(TOKEN, URL.replace("foo=1", "foo=2"), PARAMS, SIG)
    assert not validate_signature("54321", URL, PARAMS, SIG)
    assert not validate_signature(TOKEN, URL, PARAMS, "")


def test_verify_request_reads_headers_case_insensitively_and_caps_the_body() -> None:
    body = urlencode(PARAMS).encode()
    form = verify_request(TOKEN, URL, {"x-twilio-signature": SIG}, body)
    assert dict(form) == PARAMS
    with pytest.raises(WebhookVerificationError):
        verify_request(TOKEN, URL, {}, body)
    with pytest.raises(WebhookVerificationError, match="larger"):
        verify_request(TOKEN, URL, {"X-Twilio-Signature": SIG}, b"x" * (1024 * 1024 + 1))
    json_url = URL + "&bodySHA256=" + VEC["json_body_sha256"]
    headers = {"X-Twilio-Signature": VEC["json_body_signature"], "Content-Type": "application/json"}
    assert verify_request(TOKEN, json_url, headers, VEC["json_body"].encode()) == []


def test_every_published_message_status_is_mapped() -> None:
    assert set(STATUSES) == set(load(V, "published.json")["message_status"])


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeTwilio(mock)


@pytest.mark.anyio
async def test_message_create_fits_the_published_request_and_response(twilio: FakeTwilio) -> None:
    adapter = TwilioSMS(status_callback_url=CALLBACK, **adapter_options(TW_ENV))
    await adapter.send(sample_message(Channel.SMS, "k-1"))
    (form,) = twilio.sent
    validate(V, "messages.create.request.schema.json", {k: v[0] for k, v in form.items()})
    assert form["StatusCallback"] == [CALLBACK]
    validate(
        V,
        "messages.create.response.schema.json#api.v2010.account.message",
        twilio_message("SM" + "1" * 32, "+56911112222"),
    )


def _callback(sid: str, status: str, token: str = "tw-token") -> tuple[dict[str, str], bytes]:
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT,
        "To": "+56911112222",
        "ApiVersion": "2010-04-01",
    }
    body = urlencode(params).encode()
    sig = compute_signature(token, CALLBACK, {k: v[0] for k, v in parse_qs(body.decode()).items()})
    return {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}, body


@pytest.mark.anyio
async def test_a_verified_status_callback_names_the_notification(twilio: FakeTwilio) -> None:
    adapter = TwilioSMS(**adapter_options(TW_ENV))
    sent = await adapter.send(sample_message(Channel.SMS, "k-7"))
    headers, body = _callback(sent.provider_message_id, "undelivered")
    receipt = await adapter.verify_status_callback(LAN, CALLBACK, headers, body)
    assert (receipt.dedup_key, receipt.status) == ("k-7", NotificationStatus.FAILED)
    assert receipt.event_id == f"{sent.provider_message_id}.undelivered"
    # a message Nexa did not send is verified but not attributed
    other: Any = await adapter.verify_status_callback(
        LAN, CALLBACK, *_callback("SM" + "f" * 32, "delivered")
    )
    assert other.dedup_key is None and other.status is NotificationStatus.DELIVERED


@pytest.mark.anyio
@pytest.mark.parametrize(
    "tamper",
    ["token", "status", "unknown-status"],
)
async def test_unverifiable_callbacks_are_rejected(tamper: str) -> None:
    adapter = TwilioSMS(**adapter_options(TW_ENV))
    sid = "SM" + "a" * 32
    if tamper == "token":
        headers, body = _callback(sid, "delivered", token="other")
    elif tamper == "status":
        headers, _ = _callback(sid, "delivered")
        body = _callback(sid, "failed")[1]
    else:
        headers, body = _callback(sid, "lost-in-space")
    with pytest.raises(WebhookVerificationError):
        await adapter.verify_status_callback(LAN, CALLBACK, headers, body)

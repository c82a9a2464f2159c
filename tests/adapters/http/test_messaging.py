"""SendGrid and Twilio adapters: conformance, payload shapes, error mapping, callbacks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import attrs
import httpx
import pytest
import respx

from nexa_adapters.http.sendgrid import SendGridEmail
from nexa_adapters.http.twilio import TwilioSMS
from nexa_core.errors import (
    InvalidInputError,
    MalformedResponseError,
    ProviderAuthError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from nexa_core.model import Channel
from nexa_core.testing.providers import LAN, NotificationProviderContract, sample_message
from tests.adapters.http.conftest import adapter_options

SG = "https://api.sendgrid.com"
TW = "https://api.twilio.com"
ACCOUNT = "AC" + "0" * 31 + "1"
SG_ENV = {
    "NEXA_SECRET__LAN__SENDGRID__API_KEY": "SG.fake-key",
    "NEXA_SECRET__LAN__SENDGRID__FROM_EMAIL": "care@lan.example",
    "NEXA_SECRET__LAN__SENDGRID__FROM_NAME": "LAN Care",
}
TW_ENV = {
    "NEXA_SECRET__LAN__TWILIO__ACCOUNT_SID": ACCOUNT,
    "NEXA_SECRET__LAN__TWILIO__AUTH_TOKEN": "tw-token",
    "NEXA_SECRET__LAN__TWILIO__FROM_NUMBER": "+15005550006",
}


class FakeSendGrid:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.sent: list[dict[str, Any]] = []
        mock.post(SG + "/v3/mail/send").mock(side_effect=self.send)

    def send(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer SG.fake-key"
        self.sent.append(json.loads(request.content))
        return httpx.Response(202, headers={"X-Message-Id": f"W8nFxk2uQ1mZ0Ld{len(self.sent)}"})


def twilio_message(sid: str, to: str, status: str = "queued") -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": "Your room is confirmed.",
        "date_created": "Tue, 05 May 2026 20:00:00 +0000",
        "date_sent": None,
        "date_updated": "Tue, 05 May 2026 20:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+15005550006",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json"},
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json",
    }


class FakeTwilio:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.sent: list[dict[str, list[str]]] = []
        mock.post(f"{TW}/2010-04-01/Accounts/{ACCOUNT}/Messages.json").mock(side_effect=self.create)

    def create(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT}:tw-token".encode()).decode()
        assert request.headers["Authorization"] == expected
        form = parse_qs(request.content.decode())
        self.sent.append(form)
        sid = "SM" + f"{len(self.sent):032x}"
        return httpx.Response(201, json=twilio_message(sid, form["To"][0]))


@pytest.fixture
def sendgrid() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeSendGrid(mock), mock


@pytest.fixture
def twilio() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeTwilio(mock), mock


class TestSendGridConformance(NotificationProviderContract):
    @pytest.fixture
    async def provider(self, sendgrid: Any) -> AsyncIterator[Any]:
        yield SendGridEmail(**adapter_options(SG_ENV))


class TestTwilioConformance(NotificationProviderContract):
    @pytest.fixture
    async def provider(self, twilio: Any) -> AsyncIterator[Any]:
        yield TwilioSMS(**adapter_options(TW_ENV))


@pytest.mark.anyio
async def test_sendgrid_payload_follows_v3_mail_send(sendgrid: Any) -> None:
    fake, _ = sendgrid
    msg = sample_message(Channel.EMAIL)
    msg = attrs.evolve(msg, attachments=(("voucher.pdf", "application/pdf", b"%PDF-1"),))
    result = await SendGridEmail(**adapter_options(SG_ENV)).send(msg)
    body = fake.sent[0]
    assert result.provider_message_id == "W8nFxk2uQ1mZ0Ld1"
    assert body["personalizations"][0]["to"] == [{"email": "ana.perez@example.com"}]
    assert body["from"] == {"email": "care@lan.example", "name": "LAN Care"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["attachments"][0]["content"] == base64.b64encode(b"%PDF-1").decode()
    assert body["personalizations"][0]["custom_args"] == {"nexa_dedup_key": "notification:k-1"}


@pytest.mark.anyio
async def test_sendgrid_refuses_other_channels_and_a_202_without_id(sendgrid: Any) -> None:
    _, mock = sendgrid
    adapter = SendGridEmail(**adapter_options(SG_ENV))
    with pytest.raises(InvalidInputError):
        await adapter.send(sample_message(Channel.SMS))
    mock.post(SG + "/v3/mail/send").respond(202)
    with pytest.raises(MalformedResponseError):
        await adapter.send(sample_message(Channel.EMAIL, "k-noid"))
    assert await adapter.replays.get(LAN, "sendgrid.send", "k-noid") is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error_cls"),
    [
        (400, ProviderRejectedError),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (413, ProviderRejectedError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (504, ProviderTimeoutError),
    ],
)
async def test_sendgrid_error_mapping_table(
    sendgrid: Any, status: int, error_cls: type[Exception]
) -> None:
    _, mock = sendgrid
    mock.post(SG + "/v3/mail/send").respond(
        status,
        json={
            "errors": [
                {
                    "message": "The to email does not contain a valid address.",
                    "field": "personalizations.0.to.0.email",
                    "help": None,
                }
            ]
        },
    )
    with pytest.raises(error_cls) as info:
        await SendGridEmail(**adapter_options(SG_ENV)).send(sample_message(Channel.EMAIL))
    assert "ana.perez" not in str(info.value) and "SG.fake-key" not in repr(info.value)


@pytest.mark.anyio
async def test_sendgrid_is_not_resent_blindly_after_a_timeout(sendgrid: Any) -> None:
    _, mock = sendgrid
    route = mock.post(SG + "/v3/mail/send")
    route.side_effect = httpx.ReadTimeout("slow")
    with pytest.raises(ProviderTimeoutError):
        await SendGridEmail(**adapter_options(SG_ENV)).send(sample_message(Channel.EMAIL))
    assert route.call_count == 1


@pytest.mark.anyio
async def test_twilio_sends_the_messages_api_form(twilio: Any) -> None:
    fake, _ = twilio
    adapter = TwilioSMS(
        status_callback_url="https://nexa.example/hooks/twilio", **adapter_options(TW_ENV)
    )
    await adapter.send(sample_message(Channel.SMS))
    form = fake.sent[0]
    assert form["To"] == ["+56911112222"] and form["From"] == ["+15005550006"]
    assert form["Body"] == ["Your room is confirmed."]
    assert form["StatusCallback"] == ["https://nexa.example/hooks/twilio"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "code", "error_cls"),
    [
        (400, 21211, ProviderRejectedError),
        (400, 21610, ProviderRejectedError),
        (401, 20003, ProviderAuthError),
        (429, 20429, RateLimitedError),
        (500, 20500, ProviderUnavailableError),
        (503, 20503, ProviderUnavailableError),
    ],
)
async def test_twilio_error_mapping_table(
    twilio: Any, status: int, code: int, error_cls: type[Exception]
) -> None:
    _, mock = twilio
    mock.post(f"{TW}/2010-04-01/Accounts/{ACCOUNT}/Messages.json").respond(
        status,
        json={
            "code": code,
            "message": "error",
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
    with pytest.raises(error_cls) as info:
        await TwilioSMS(**adapter_options(TW_ENV)).send(sample_message(Channel.SMS))
    assert info.value.context["vendor_code"] == str(code)
    assert "+56911112222" not in str(info.value)


@pytest.mark.anyio
async def test_twilio_malformed_answers_and_timeouts(twilio: Any) -> None:
    _, mock = twilio
    route = mock.post(f"{TW}/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    route.respond(201, json={"sid": "nope", "status": "queued"})
    adapter = TwilioSMS(**adapter_options(TW_ENV))
    with pytest.raises(MalformedResponseError):
        await adapter.send(sample_message(Channel.SMS, "k-bad"))
    assert await adapter.replays.get(LAN, "twilio.send", "k-bad") is None
    route.side_effect = httpx.ConnectTimeout("slow")
    with pytest.raises(ProviderTimeoutError):
        await adapter.send(sample_message(Channel.SMS, "k-slow"))

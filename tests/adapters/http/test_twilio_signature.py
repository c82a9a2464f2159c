"""``X-Twilio-Signature`` validation."""

from __future__ import annotations

from nexa_adapters.http.twilio import compute_signature, validate_signature

# The vector of Twilio's own helper-library test suite (auth token "12345").
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_published_vector_validates() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == SIGNATURE
    assert validate_signature(TOKEN, URL, PARAMS, SIGNATURE)


def test_twilio_signature_ignores_parameter_order() -> None:
    reordered = dict(reversed(list(PARAMS.items())))
    assert validate_signature(TOKEN, URL, reordered, SIGNATURE)


def test_twilio_signature_rejects_tampered_params_url_and_token() -> None:
    assert not validate_signature(TOKEN, URL, {**PARAMS, "Digits": "1235"}, SIGNATURE)
    assert not validate_signature(TOKEN, URL.replace("foo=1", "foo=2"), PARAMS, SIGNATURE)
    assert not validate_signature("54321", URL, PARAMS, SIGNATURE)
    assert not validate_signature(TOKEN, URL, PARAMS, "")


def test_twilio_signature_accepts_url_with_or_without_default_port() -> None:
    with_port = URL.replace("mycompany.com", "mycompany.com:443")
    assert validate_signature(TOKEN, with_port, PARAMS, SIGNATURE)
    sig_with_port = compute_signature(TOKEN, with_port, PARAMS)
    assert validate_signature(TOKEN, URL, PARAMS, sig_with_port)

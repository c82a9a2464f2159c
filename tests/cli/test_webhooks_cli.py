"""``nexa webhooks sign|verify``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_cli.app import app

runner = CliRunner()


@pytest.fixture
def body(tmp_path: Path) -> Path:
    f = tmp_path / "body.json"
    f.write_bytes(b'{"type":"reservation.confirmed"}')
    return f


def _args(headers: dict[str, str]) -> list[str]:
    out: list[str] = []
    for k, v in headers.items():
        out += ["-H", f"{k}: {v}"]
    return out


@pytest.mark.parametrize(
    ("scheme", "extra"),
    [
        ("nexa", ["--event-urn", "urn:event:e-1", "--tenant", "urn:airline:LAN"]),
        ("standard", ["--msg-id", "msg_1"]),
    ],
)
def test_sign_then_verify_round_trips(
    body: Path, monkeypatch: pytest.MonkeyPatch, scheme: str, extra: list[str]
) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" if scheme == "standard" else "s3cret"
    monkeypatch.setenv("HOOK_SECRET", secret)
    signed = runner.invoke(
        app,
        [
            "webhooks",
            "sign",
            "--scheme",
            scheme,
            "--secret-env",
            "HOOK_SECRET",
            "--body-file",
            str(body),
            *extra,
        ],
    )
    assert signed.exit_code == 0, signed.output
    headers = json.loads(signed.output)
    assert secret not in signed.output
    ok = runner.invoke(
        app,
        [
            "webhooks",
            "verify",
            "--scheme",
            scheme,
            "--secret-env",
            "HOOK_SECRET",
            "--body-file",
            str(body),
            *_args(headers),
        ],
    )
    assert ok.exit_code == 0 and ok.output.strip() == "ok"
    body.write_bytes(b'{"type":"reservation.cancelled"}')
    bad = runner.invoke(
        app,
        [
            "webhooks",
            "verify",
            "--scheme",
            scheme,
            "--secret-env",
            "HOOK_SECRET",
            "--body-file",
            str(body),
            *_args(headers),
        ],
    )
    assert bad.exit_code == 1 and "error:" in bad.output


def test_missing_secret_variable_is_a_configuration_error(
    body: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    r = runner.invoke(
        app,
        [
            "webhooks",
            "sign",
            "--secret-env",
            "NO_SUCH_SECRET",
            "--body-file",
            str(body),
            "--event-urn",
            "urn:event:e-1",
            "--tenant",
            "urn:airline:LAN",
        ],
    )
    assert r.exit_code == 6 and "NO_SUCH_SECRET" in r.output

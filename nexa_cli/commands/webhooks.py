"""``nexa webhooks`` — sign and verify webhook deliveries (Nexa and Standard Webhooks),
and take a partner's receipt (``receive``).

The secret is read from an environment variable named by ``--secret-env`` (never from the
command line, where it would show up in process listings and shell history). ``receive``
uses the tenant's partner secrets, as every adapter does.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from nexa_adapters.webhooks import NexaWebhook, StandardWebhook
from nexa_cli._common import emit, handle_errors
from nexa_core.errors import ConfigurationError, InvalidInputError
from nexa_core.urn import Urn

webhooks_app = typer.Typer(help="Sign and verify webhooks.", no_args_is_help=True)

SchemeOpt = Annotated[str, typer.Option("--scheme", help="nexa or standard.")]
SecretOpt = Annotated[
    str, typer.Option("--secret-env", help="Environment variable holding the secret.")
]
BodyOpt = Annotated[Path, typer.Option("--body-file", help="File with the raw body.")]


def _secret(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise ConfigurationError(f"environment variable {var} is not set")
    return value


def _scheme(scheme: str) -> str:
    if scheme not in ("nexa", "standard"):
        raise InvalidInputError(f"unknown scheme {scheme!r} (nexa or standard)", field="scheme")
    return scheme


@webhooks_app.command("sign")
@handle_errors
def sign(
    body_file: BodyOpt,
    secret_env: SecretOpt,
    scheme: SchemeOpt = "nexa",
    event_urn: Annotated[str, typer.Option(help="Event URN (nexa).")] = "",
    tenant: Annotated[str, typer.Option(help="Airline URN (nexa).")] = "",
    msg_id: Annotated[str, typer.Option(help="Message id (standard).")] = "",
    timestamp: Annotated[int | None, typer.Option(help="Unix seconds (default now).")] = None,
) -> None:
    """Print the headers of a signed delivery as JSON."""
    body = body_file.read_bytes()
    ts = timestamp if timestamp is not None else int(datetime.now(UTC).timestamp())
    if _scheme(scheme) == "standard":
        if not msg_id:
            raise InvalidInputError("--msg-id is required for standard", field="msg_id")
        headers = StandardWebhook(_secret(secret_env)).headers(msg_id, ts, body)
    else:
        if not event_urn or not tenant:
            raise InvalidInputError("--event-urn and --tenant are required for nexa")
        headers = NexaWebhook(_secret(secret_env)).headers(
            event_urn=Urn.parse(event_urn), tenant=Urn.parse(tenant), timestamp=ts, body=body
        )
    emit(headers, as_json=True)


@webhooks_app.command("verify")
@handle_errors
def verify(
    body_file: BodyOpt,
    secret_env: SecretOpt,
    header: Annotated[
        list[str], typer.Option("--header", "-H", help="A received header, 'Name: value'.")
    ],
    scheme: SchemeOpt = "nexa",
) -> None:
    """Exit 0 and print ``ok`` when the delivery is authentic and fresh."""
    headers = _headers(header)
    body = body_file.read_bytes()
    if _scheme(scheme) == "standard":
        StandardWebhook(_secret(secret_env)).verify(body, headers)
    else:
        NexaWebhook(_secret(secret_env)).verify(body, headers)
    typer.echo("ok")


def _headers(header: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for h in header:
        name, sep, value = h.partition(":")
        if not sep:
            raise InvalidInputError(f"header {name!r} is not 'Name: value'", field="header")
        headers[name.strip()] = value.strip()
    return headers


@webhooks_app.command("receive")
@handle_errors
def receive(
    vendor: Annotated[str, typer.Argument(help="sendgrid, twilio, uber, cabify or pomelo.")],
    tenant: Annotated[str, typer.Option(help="Airline URN or code whose secrets verify it.")],
    body_file: BodyOpt,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="A received header, 'Name: value'.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The full URL the partner called (Twilio signs it).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Verify a partner's receipt and apply it; an unverifiable one is audited and refused."""
    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.receipts import ReceiptDesk

    headers = _headers(header or [])
    body = body_file.read_bytes()
    airline = Urn.parse(tenant) if tenant.startswith("urn:") else Urn("airline", tenant)

    async def main() -> dict[str, Any]:
        nexa = bootstrap()
        try:
            outcome = await ReceiptDesk.from_nexa(nexa).receive(
                airline, vendor.lower(), headers, body, url=url
            )
            return outcome.to_dict()
        finally:
            await nexa.aclose()

    result = anyio.run(main)
    emit(
        result,
        as_json=as_json,
        human=lambda r: (
            f"{r['vendor']}: {r['events']} event(s), {r['applied']} applied, "
            f"{r['acknowledged']} acknowledged"
        ),
    )


def register(app: typer.Typer) -> None:
    """Attach ``nexa webhooks``."""
    app.add_typer(webhooks_app, name="webhooks")

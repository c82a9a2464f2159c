"""Acceptance harness: run a pipeline under log capture, prove every line is clean and
carries the case's correlation URN.

Today's pipeline: an inbound ``traceparent`` → parse a manifest (with e-mails and phones)
→ open the case (state + audit + event) → move it through guarded services (one denial)
→ sandbox partner calls (card, message, transfer) → an outbound HTTP call with credentials
→ a failure whose message quotes a card number. Everything is logged carelessly on purpose
(contacts, headers, requests) so the masking is what keeps the lines clean. The lead's demo
pipeline plugs into the same fixture (see docs/security.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from nexa_adapters.documents.manifest import parse_manifest
from nexa_adapters.memory import MemoryStore
from nexa_adapters.observability import bind_correlation, get_logger, instrument_client
from nexa_adapters.observability.testing import LogCapture, assert_clean_logs, capture_logs
from nexa_adapters.sandbox.providers import SandboxMessages, SandboxPayments
from nexa_core.auth import AuditDenialSink, Principal, PrincipalKind, Role, install_denial_sink
from nexa_core.errors import PermissionDeniedError, ProviderRejectedError
from nexa_core.model import AuditEntry, Case, CaseStatus, Channel, DomainEvent
from nexa_core.ports import AuditQuery, CardIssueRequest, OutboundMessage
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.services.case_access import close_case, get_case, transition_case
from nexa_core.tenancy import TenantContext
from nexa_core.testing.strategies import manifests
from nexa_core.tracing import correlation_from_carrier, stamp_event
from nexa_core.urn import Urn

pytestmark = pytest.mark.anyio

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CLIENT_SECRET = "cs-live-9f8e7d6c5b4a"  # a secret the pipeline handles and must never log
PHONE = "+56912345678"


@pytest.fixture
def log_capture() -> Iterator[LogCapture]:
    """Every rendered log line of the test (production processors, JSON)."""
    with capture_logs(level="INFO") as logs:
        yield logs


async def run_pipeline(document: dict[str, object]) -> Urn:
    """The pipeline under test; returns the correlation URN it ran under."""
    log = get_logger("nexa.pipeline")
    std = logging.getLogger("nexa.pipeline.std")
    clock, ids = FixedClock(), SequentialIds()
    store = MemoryStore(clock=clock.now)
    previous = install_denial_sink(AuditDenialSink(store.audit, clock, ids))
    corr = correlation_from_carrier({"traceparent": TRACEPARENT})
    try:
        with bind_correlation(corr):
            log.info("request received", headers={"Authorization": f"Bearer {CLIENT_SECRET}"})
            manifest = parse_manifest(document)
            log.info("manifest parsed", groups=[attrs.asdict(g) for g in manifest.groups])
            operator = Principal(
                PrincipalKind.OPERATOR,
                Urn("user", "u-7"),
                manifest.airline_urn,
                {Role.AIRPORT_OPERATOR},
                {"SCL"},
                token_id="tok-1",
            )
            tenant = TenantContext.system(manifest.airline_urn, correlation_urn=corr)
            case = Case(
                urn=ids.new("case"),
                airline_urn=manifest.airline_urn,
                airport_urn=manifest.airport_urn,
                external_event_id=manifest.external_event_id,
                flight=manifest.flight,
                disrupted_at=manifest.disrupted_at,
                next_departure=manifest.next_departure,
                correlation_urn=corr,
            )
            async with store.transaction() as tx:
                stored = await tx.cases.add(tenant, case)
                await tx.audit.append(
                    tenant,
                    AuditEntry(
                        ids.new("audit"),
                        tenant.airline_urn,
                        tenant.actor,
                        "case.open",
                        stored.urn,
                        "manifest received",
                        clock.now(),
                        corr,
                    ),
                )
                await tx.outbox.append(
                    tenant,
                    stamp_event(
                        DomainEvent(
                            ids.new("event"),
                            tenant.airline_urn,
                            "case.created",
                            stored.urn,
                            clock.now(),
                        )
                    ),
                )
            log.info("case opened", case=stored)
            await transition_case(
                store,
                clock,
                ids,
                stored.urn,
                CaseStatus.ALLOCATING,
                "hotels",
                principal=operator,
            )
            with pytest.raises(PermissionDeniedError):
                await close_case(store, clock, ids, stored.urn, "done", principal=operator)
            await get_case(store, stored.urn, principal=operator)

            payments, messages = SandboxPayments(), SandboxMessages()
            lead = manifest.groups[0].passengers[0]
            card = await payments.issue_card(
                CardIssueRequest(
                    manifest.airline_urn,
                    ids.new("issued-card"),
                    stored.urn,
                    manifest.groups[0].group_id,
                    lead.urn,
                    "USD",
                    f"{stored.urn}:G1",
                )
            )
            log.info("card issued", card=card, pan_hint="4111 1111 1111 1111")
            message = OutboundMessage(
                manifest.airline_urn, Channel.SMS, PHONE, "Hotel", f"Call us at {PHONE}"
            )
            sent = await messages.send(message)
            std.info("message sent %s", message, extra={"result": sent, "to": lead.contact})

            async def partner(request: httpx.Request) -> httpx.Response:
                return httpx.Response(200, json={"email": lead.contact.email})

            async with httpx.AsyncClient(transport=httpx.MockTransport(partner)) as client:
                instrument_client(client)
                response = await client.post(
                    "https://partner.example/token",
                    data={"client_id": "acme", "client_secret": CLIENT_SECRET},
                    headers={"Authorization": f"Basic {CLIENT_SECRET}"},
                )
                log.info(
                    "partner answered",
                    request_headers=dict(response.request.headers),
                    body=response.json(),
                )
            try:
                raise ProviderRejectedError(
                    f"card 5500 0000 0000 0004 declined for {lead.contact.email}", vendor="x"
                )
            except ProviderRejectedError:
                log.exception("booking failed", client_secret=CLIENT_SECRET)
        denied = await store.audit.query(tenant, AuditQuery(action="auth.denied"))
        assert len(denied) == 1 and denied[0].correlation_urn == corr
    finally:
        install_denial_sink(previous)
    return corr


async def test_a_case_pipeline_logs_nothing_sensitive_and_correlates_every_line(
    log_capture: LogCapture,
) -> None:
    document = _document()
    corr = await run_pipeline(document)
    assert corr.id == "0af7651916cd43dd8448eb211c80319c"
    events = log_capture.events()
    for expected in (
        "manifest parsed",
        "case transitioned",
        "permission denied",
        "message sent",
        "partner answered",
        "booking failed",
    ):
        assert any(e.startswith(expected) for e in events), (expected, events)
    assert_clean_logs(log_capture.lines, corr, secrets=[CLIENT_SECRET, "ana@example.com", PHONE])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests(max_groups=3, max_group_size=3))
def test_any_manifest_run_through_the_pipeline_logs_clean(document: dict[str, object]) -> None:
    import anyio

    with capture_logs(level="INFO") as logs:
        corr = anyio.run(run_pipeline, document)
    assert_clean_logs(logs.lines, corr, secrets=[CLIENT_SECRET])


def _document() -> dict[str, object]:
    return {
        "airline": "urn:airline:LAN",
        "external_event_id": "EV-1",
        "airport": "SCL",
        "flight": {
            "urn": "urn:flight:LA500@20260505",
            "destination": "EZE",
            "scheduled_departure": "2026-05-05T18:00:00-04:00",
            "status": "CANCELLED",
        },
        "disrupted_at": "2026-05-05T17:00:00-04:00",
        "next_departure": "2026-05-06T10:00:00-04:00",
        "groups": [
            {
                "group_id": "G1",
                "pnr": "urn:pnr:XYZ123:vendor:amadeus",
                "passengers": [
                    {
                        "urn": "urn:passenger:p-1:vendor:latam",
                        "name": "Ana",
                        "email": "ana@example.com",
                        "phone": PHONE,
                        "language": "es",
                        "cabin": "BUSINESS",
                        "type": "ADT",
                    }
                ],
            }
        ],
    }


async def test_without_the_masking_processor_the_same_pipeline_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nexa_adapters.observability import logs as logs_module
    from nexa_adapters.observability.testing import log_problems

    monkeypatch.setattr(logs_module, "mask_event_dict", lambda logger, name, event: event)
    with capture_logs(level="INFO") as logs:
        corr = await run_pipeline(_document())
    found = " ".join(log_problems(logs.lines, corr, secrets=[CLIENT_SECRET]))
    for kind in ("e-mail", "phone", "card number", "secret"):
        assert kind in found

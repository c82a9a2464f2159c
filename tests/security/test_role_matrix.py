"""The role matrix: every declared service × every kind of caller → allowed or denied.

The expected outcome comes from an oracle written here from the issue's rules, not from
``nexa_core.auth.decide``; each service is called with arguments that explode when touched,
so a denial is proven to happen before any side effect.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import nexa_core
from nexa_core.auth import (
    SERVICE_ROLES,
    SERVICES,
    Denial,
    Principal,
    PrincipalKind,
    Role,
    ServiceDeclaration,
    install_denial_sink,
)
from nexa_core.errors import AuthenticationError, PermissionDeniedError
from nexa_core.urn import Urn


def _import_everything() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(nexa_core.__path__, prefix="nexa_core."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


MODULES = _import_everything()
SERVICE_PACKAGES = ("nexa_core.services", "nexa_core.care")
#: public async functions of the service packages that are pure helpers, not services
PURE_HELPERS: frozenset[str] = frozenset(
    {
        "nexa_core.services.triage.RuleBasedTriage.recommend",  # read-only tools only
        # the care deps' partner gate (rate limit + breaker around a partner call)
        "nexa_core.care.context.CallGate.allowed",
        "nexa_core.care.context.CallGate.call",
        "nexa_core.care.context.CareDeps.allowed",
        "nexa_core.care.context.CareDeps.call",
    }
)
#: system steps (saga steps, webhook and scheduler entry points, operator tools the CLI
#: audits under the operator's tenant context): they take the ``TenantContext`` the engine,
#: a verified webhook or the CLI built and never a caller's principal; each is checked
#: below to have a ``tenant`` parameter and no ``principal`` parameter
SYSTEM_STEPS: frozenset[str] = frozenset(
    f"nexa_core.care.{name}"
    for name in (
        "context.on_case_timeline",
        "context.open_review",
        "document.care_records",
        "document.publish_document",
        "document.read_document",
        "document.refresh_document",
        "meals.cancel_meal_card",
        "meals.card_ledger",
        "meals.issue_meal_card",
        "meals.load_due",
        "meals.load_due_drops",
        "meals.reconcile_meal_cards",
        "meals.record_card_event",
        "meals.run_due_drops",
        "notifications.announce_drop",
        "notifications.announce_transfer",
        "notifications.deliver",
        "notifications.deliver_voucher",
        "notifications.handle_delivery_receipt",
        "notifications.resend_notification",
        "passenger.arrange_transport",
        "passenger.voucher_of",
        "transport.cancel_sub_case_transport",
        "transport.cancel_transfer",
        "transport.dispatch_transport",
        "transport.handle_transfer_update",
    )
)

AIRLINE = Urn("airline", "LAN")
CASE = Urn("case", "c-matrix")


class Touched(Exception):
    """A service touched an argument: it got past the guard."""


class Poison:
    """Any use of this object raises :class:`Touched` (and is remembered)."""

    touches: ClassVar[list[str]] = []

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _touch(self, how: str) -> Touched:
        Poison.touches.append(f"{object.__getattribute__(self, '_name')}.{how}")
        return Touched(how)

    def __getattr__(self, item: str) -> Any:
        raise self._touch(item)

    def __getitem__(self, item: Any) -> Any:
        raise self._touch("[]")

    def __iter__(self) -> Iterator[Any]:
        raise self._touch("iter")

    def __bool__(self) -> bool:
        raise self._touch("bool")

    def __str__(self) -> str:
        raise self._touch("str")

    def __call__(self, *a: Any, **k: Any) -> Any:
        raise self._touch("call")

    def __len__(self) -> int:
        raise self._touch("len")

    def __index__(self) -> int:
        raise self._touch("index")

    def __float__(self) -> float:
        raise self._touch("float")

    def __hash__(self) -> int:
        raise self._touch("hash")

    def __await__(self) -> Any:
        raise self._touch("await")

    def __enter__(self) -> Any:
        raise self._touch("with")

    async def __aenter__(self) -> Any:
        raise self._touch("async with")

    def __contains__(self, item: Any) -> bool:
        raise self._touch("in")


def _operator(name: str) -> Any:
    def touched(self: Poison, *args: Any) -> Any:
        raise self._touch(name)

    return touched


for _op in (
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "add",
    "radd",
    "sub",
    "rsub",
    "mul",
    "rmul",
    "truediv",
    "floordiv",
    "mod",
    "neg",
    "abs",
    "and",
    "or",
):
    setattr(Poison, f"__{_op}__", _operator(_op))


ALL_SCOPES = frozenset().union(*(d.partner_scopes for d in SERVICES.values()))

CALLERS: dict[str, Principal] = {
    "admin": Principal(PrincipalKind.OPERATOR, Urn("user", "u-a"), AIRLINE, {Role.ADMIN}),
    "supervisor": Principal(
        PrincipalKind.OPERATOR, Urn("user", "u-s"), AIRLINE, {Role.OPS_SUPERVISOR}
    ),
    "operator": Principal(
        PrincipalKind.OPERATOR, Urn("user", "u-o"), AIRLINE, {Role.AIRPORT_OPERATOR}
    ),
    "finance": Principal(PrincipalKind.OPERATOR, Urn("user", "u-f"), AIRLINE, {Role.FINANCE_AUDIT}),
    "system": Principal(PrincipalKind.SYSTEM, Urn("user", "system"), AIRLINE, {Role.SYSTEM}),
    "no-role": Principal(PrincipalKind.OPERATOR, Urn("user", "u-n"), AIRLINE),
    "passenger": Principal(
        PrincipalKind.PASSENGER, Urn("passenger", "p-1"), AIRLINE, case_urn=CASE
    ),
    "passenger-other-case": Principal(
        PrincipalKind.PASSENGER, Urn("passenger", "p-2"), AIRLINE, case_urn=Urn("case", "c-x")
    ),
    "partner": Principal(
        PrincipalKind.PARTNER, Urn("user", "partner.acme"), AIRLINE, scopes=ALL_SCOPES
    ),
    "partner-no-scope": Principal(PrincipalKind.PARTNER, Urn("user", "partner.none"), AIRLINE),
}

#: minimum role → the operator roles it admits (the issue's hierarchy, written out)
ADMITS: dict[Role, set[str]] = {
    Role.AIRPORT_OPERATOR: {"admin", "supervisor", "operator", "system"},
    Role.OPS_SUPERVISOR: {"admin", "supervisor", "system"},
    Role.ADMIN: {"admin", "system"},
    Role.FINANCE_AUDIT: {"admin", "finance", "system"},
    Role.SYSTEM: {"system"},
}


def expected_allowed(decl: ServiceDeclaration, caller: str) -> bool:
    if caller == "passenger":
        return decl.passengers
    if caller == "passenger-other-case":  # without case_arg the body checks the case
        return decl.passengers and decl.case_arg is None
    if decl.passengers_only:
        return False
    if caller == "partner":
        return bool(decl.partner_scopes)
    if caller in ("partner-no-scope", "no-role"):
        return False
    if caller == "finance" and (decl.read_only or decl.minimum is Role.FINANCE_AUDIT):
        return True
    return caller in ADMITS[decl.minimum]


def _service(name: str) -> Any:
    module, _, qual = name.rpartition(".")
    obj: Any = None
    while module:
        try:
            obj = importlib.import_module(module)
            break
        except ModuleNotFoundError:
            module, _, head = module.rpartition(".")
            qual = f"{head}.{qual}"
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _arguments(fn: Any, decl: ServiceDeclaration) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name == "principal":
            continue
        if p.name == decl.case_arg:
            value: Any = CASE
        elif p.name == decl.airport_arg:
            value = "SCL"
        elif p.default is not inspect.Parameter.empty:
            continue
        else:
            value = Poison(p.name)
        if p.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


MATRIX = [(name, caller) for name in sorted(SERVICES) for caller in CALLERS]


def test_the_matrix_is_not_empty_and_covers_every_role() -> None:
    assert len(SERVICES) >= 5
    assert set(SERVICE_ROLES) == set(SERVICES)
    minimums = {d.minimum for d in SERVICES.values()}
    assert {Role.AIRPORT_OPERATOR, Role.OPS_SUPERVISOR, Role.FINANCE_AUDIT} <= minimums


class ListSink:
    def __init__(self) -> None:
        self.denials: list[Denial] = []

    async def record(self, denial: Denial) -> None:
        self.denials.append(denial)


@pytest.mark.anyio
@pytest.mark.parametrize(("service", "caller"), MATRIX, ids=[f"{s}-{c}" for s, c in MATRIX])
async def test_role_matrix(service: str, caller: str) -> None:
    decl = SERVICES[service]
    fn = _service(service)
    assert getattr(fn, "__nexa_service__", None) == decl, f"{service} is not the guarded callable"
    args, kwargs = _arguments(fn, decl)
    Poison.touches.clear()
    sink = ListSink()
    previous = install_denial_sink(sink)
    try:
        if expected_allowed(decl, caller):
            try:
                await fn(*args, principal=CALLERS[caller], **kwargs)
            except (PermissionDeniedError, AuthenticationError) as exc:  # pragma: no cover
                pytest.fail(f"{caller} was refused {service}: {exc}")
            except Touched:
                pass
            except Exception:  # past the guard: the body tripped over its poisoned arguments
                pass
            assert sink.denials == []
        else:
            with pytest.raises(PermissionDeniedError):
                await fn(*args, principal=CALLERS[caller], **kwargs)
            assert Poison.touches == [], f"{service} touched {Poison.touches} before denying"
            assert [d.service for d in sink.denials] == [service]
            assert sink.denials[0].principal == CALLERS[caller]
    finally:
        install_denial_sink(previous)


@pytest.mark.anyio
@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_service_refuses_an_anonymous_call(service: str) -> None:
    decl = SERVICES[service]
    fn = _service(service)
    args, kwargs = _arguments(fn, decl)
    Poison.touches.clear()
    with pytest.raises(AuthenticationError):
        await fn(*args, principal=None, **kwargs)
    assert Poison.touches == []


# --------------------------------------------------------------------------- enumeration


def unguarded_services(modules: list[types.ModuleType]) -> list[str]:
    """Public async functions (and public classes' async methods) without @requires."""
    out = []
    for mod in modules:
        for name, obj in vars(mod).items():
            if name.startswith("_"):
                continue
            candidates: list[tuple[str, Any]] = []
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                candidates.append((f"{mod.__name__}.{name}", obj))
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for mname, meth in vars(obj).items():
                    if not mname.startswith("_") and inspect.isfunction(meth):
                        candidates.append((f"{mod.__name__}.{name}.{mname}", meth))
            for qual, fn in candidates:
                if not inspect.iscoroutinefunction(fn):
                    continue
                if qual in PURE_HELPERS or qual in SYSTEM_STEPS:
                    continue
                if getattr(fn, "__nexa_service__", None) is None:
                    out.append(qual)
    return sorted(out)


def _service_modules() -> list[types.ModuleType]:
    return [
        importlib.import_module(m)
        for m in ["nexa_core", *MODULES]
        if m.startswith(SERVICE_PACKAGES) and m in {*SERVICE_PACKAGES, *MODULES}
    ]


def test_every_public_async_function_of_the_service_packages_is_guarded() -> None:
    modules = _service_modules()
    assert any(m.__name__.startswith("nexa_core.services.") for m in modules)
    assert unguarded_services(modules) == []


def test_the_enumeration_catches_an_unguarded_service() -> None:
    fake = types.ModuleType("nexa_core.services.fake")
    exec(
        "async def leak(store, *, principal):\n    return store\n"
        "def pure(x):\n    return x\n"
        "class Svc:\n    async def act(self, *, principal):\n        return None\n",
        fake.__dict__,
    )
    for obj in vars(fake).values():
        if inspect.isfunction(obj) or inspect.isclass(obj):
            obj.__module__ = fake.__name__
    assert unguarded_services([fake]) == [
        "nexa_core.services.fake.Svc.act",
        "nexa_core.services.fake.leak",
    ]


def test_whitelisted_helpers_exist() -> None:
    for name in PURE_HELPERS:
        assert _service(name) is not None


@pytest.mark.parametrize("name", sorted(SYSTEM_STEPS))
def test_system_steps_take_a_tenant_context_and_never_a_principal(name: str) -> None:
    params = inspect.signature(_service(name)).parameters
    assert "tenant" in params and "principal" not in params, name

"""The policy document (YAML or JSON, camelCase keys) validated with pydantic, then turned
into the attrs :class:`~nexa_core.policy.Policy`.

```yaml
name: SCL default
context: {airline: LAN, airport: SCL, country: CL}
tiers: [ECONOMY, BUSINESS, CREW]
currency: USD                      # default for rates, ceilings and allowances
constraints:                       # per tier, or one flat object for every tier
  ECONOMY: {minStars: 3, maxDistanceKm: 20, maxNightlyRate: 120}
  BUSINESS: {minStars: 4, maxDistanceKm: 15, maxNightlyRate: 350,
             requiredAmenities: [24H_RECEPTION, AIRPORT_SHUTTLE], excludedChains: [BUDGETCHAIN]}
buffers: {earlyCheckInMinutes: 60, lateCheckoutMinutes: 120}
allocationWeights: {cost: 0.60, distance: 0.25, consolidation: 0.15}
autoApproveDemand: true
maxAutomaticRoomsPerWave: 40
incrementalRequiresApproval: true
acceptedPayments: [GUARANTEE, CARD]
cardToken: tok_scl_ops
transport:
  mode: ON_DEMAND                  # default dispatch for every tier
  shuttleCapacity: 24
  minutesBeforePickup: 45
  perTier:
    BUSINESS: {dispatch: AUTOMATIC, vehicle: PRIVATE_CAR, costCeiling: 60}
  vendorPinning: {"SCL-*": transvip}
meals: {allowance: {ECONOMY: 25, BUSINESS: 45}, schedule: drops, dropTimes: ["07:30", "12:30", "19:30"]}
roomSharing: {oneRoomPerAdultTiers: [BUSINESS, FIRST], crewSingleRooms: true}
priorityWeights: {tiers: {CREW: 3.0}, specialNeeds: {WCHR: 1.0}}
regulations: [ANAC400]
```

Every problem is reported with its JSON path (``$.constraints.BUSINESS.minStars: …``) in
``PolicyValidationError.context['problems']``; unknown keys are errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from nexa_core.errors import InvalidInputError, PolicyValidationError
from nexa_core.model import DispatchMode, Money, PaymentMode, SpecialNeed, Tier, Vehicle
from nexa_core.pii import reject_card_numbers
from nexa_core.policy import (
    AllocationWeights,
    Buffers,
    DemandGates,
    MealRules,
    Policy,
    PolicyContext,
    RoomSharing,
    TierConstraints,
    TransportRules,
    normalize_amenity,
)
from nexa_core.regulation import PRESETS

__all__ = [
    "MAX_POLICIES_PER_FILE",
    "PolicyDocument",
    "parse_policies",
    "parse_policy",
    "policy_json_schema",
]

MAX_POLICIES_PER_FILE = 500
_TAGS = ("per_tier", "flat")
_CURRENCY = r"^[A-Z]{3}$"
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=256, populate_by_name=False)


class ContextDoc(_Doc):
    airline: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2,3}$")
    airport: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


def _amenity(tag: str) -> str:
    try:
        return normalize_amenity(tag)
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from None


class ConstraintsDoc(_Doc):
    minStars: int | None = Field(default=None, ge=1, le=5)
    maxDistanceKm: float | None = Field(default=None, gt=0, le=500)
    maxNightlyRate: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    currency: str | None = Field(default=None, pattern=_CURRENCY)
    requiredAmenities: list[Annotated[str, AfterValidator(_amenity)]] = Field(
        default_factory=list, max_length=32
    )
    excludedChains: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=200
    )


def _constraints_shape(value: Any) -> str:
    if isinstance(value, dict) and value and all(k in Tier.__members__ for k in value):
        return "per_tier"
    return "flat"


ConstraintsField = Annotated[
    Annotated[dict[Tier, ConstraintsDoc], Tag("per_tier")] | Annotated[ConstraintsDoc, Tag("flat")],
    Discriminator(_constraints_shape),
]


class BuffersDoc(_Doc):
    earlyCheckInMinutes: int = Field(default=60, ge=0, le=24 * 60)
    lateCheckoutMinutes: int = Field(default=120, ge=0, le=24 * 60)


class WeightsDoc(_Doc):
    cost: float = Field(default=0.60, ge=0, le=1)
    distance: float = Field(default=0.25, ge=0, le=1)
    consolidation: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> WeightsDoc:
        total = self.cost + self.distance + self.consolidation
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must add up to 1 (they add up to {total:g})")
        return self


class TierTransportDoc(_Doc):
    dispatch: DispatchMode | None = None
    vehicle: Vehicle | None = None
    costCeiling: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)


class TransportDoc(_Doc):
    mode: DispatchMode | None = None
    shuttleCapacity: int = Field(default=24, ge=1, le=100)
    minutesBeforePickup: int = Field(default=45, ge=0, le=600)
    currency: str | None = Field(default=None, pattern=_CURRENCY)
    perTier: dict[Tier, TierTransportDoc] = Field(default_factory=dict)
    vendorPinning: dict[
        Annotated[str, Field(min_length=1, max_length=64)],
        Annotated[str, Field(min_length=1, max_length=64)],
    ] = Field(default_factory=dict, max_length=200)


class MealsDoc(_Doc):
    allowance: dict[Tier, Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]] = Field(
        default_factory=dict
    )
    currency: str | None = Field(default=None, pattern=_CURRENCY)
    schedule: Literal["single", "drops"] = "single"
    dropTimes: list[str] = Field(default_factory=lambda: ["07:00", "12:00", "19:00"], max_length=6)

    @field_validator("dropTimes")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for t in value:
            if _HHMM.fullmatch(t) is None:
                raise ValueError(f"{t!r} is not a HH:MM time")
        if value != sorted(value):
            raise ValueError("drop times must be in order")
        return value


class RoomSharingDoc(_Doc):
    oneRoomPerAdultTiers: list[Tier] = Field(default_factory=lambda: [Tier.BUSINESS, Tier.FIRST])
    crewSingleRooms: bool = True


class PriorityDoc(_Doc):
    tiers: dict[Tier, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)
    specialNeeds: dict[SpecialNeed, Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=dict
    )


class PolicyDocument(_Doc):
    """The JSON schema of a policy document (``nexa schema policy`` prints it)."""

    name: str = Field(min_length=1, max_length=128)
    context: ContextDoc = Field(default_factory=lambda: ContextDoc())
    tiers: list[Tier] = Field(min_length=1)
    currency: str | None = Field(default=None, pattern=_CURRENCY)
    constraints: ConstraintsField | None = None
    buffers: BuffersDoc = Field(default_factory=lambda: BuffersDoc())
    allocationWeights: WeightsDoc = Field(default_factory=lambda: WeightsDoc())
    autoApproveDemand: bool = False
    maxAutomaticRoomsPerWave: int = Field(default=0, ge=0, le=10_000)
    incrementalRequiresApproval: bool = True
    acceptedPayments: list[PaymentMode] = Field(
        default_factory=lambda: [PaymentMode.GUARANTEE], min_length=1
    )
    cardToken: str | None = Field(default=None, pattern=r"^tok_[A-Za-z0-9_-]{1,64}$")
    mode: DispatchMode | None = None  # shorthand for transport.mode
    transport: TransportDoc = Field(default_factory=lambda: TransportDoc())
    meals: MealsDoc | None = None
    wallet: MealsDoc | None = None  # alias of meals
    roomSharing: RoomSharingDoc = Field(default_factory=lambda: RoomSharingDoc())
    priorityWeights: PriorityDoc = Field(default_factory=lambda: PriorityDoc())
    regulations: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("regulations")
    @classmethod
    def _regulations(cls, value: list[str]) -> list[str]:
        out = [v.upper() for v in value]
        unknown = [v for v in out if v not in PRESETS]
        if unknown:
            raise ValueError(
                f"unknown regulation {', '.join(unknown)}; known: {', '.join(PRESETS)}"
            )
        return out

    @model_validator(mode="after")
    def _cross(self) -> PolicyDocument:
        if self.meals is not None and self.wallet is not None:
            raise ValueError("give either meals or wallet, not both")
        return self


def _path(loc: tuple[int | str, ...], root: str) -> str:
    path = root
    for part in loc:
        if part in _TAGS:
            continue  # discriminated-union tags are not part of the document
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _problems(exc: ValidationError, root: str) -> list[str]:
    out = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{_path(tuple(err['loc']), root)}: {msg}")
    return out


def _money(amount: Decimal | None, currency: str | None, where: str, problems: list[str]) -> Any:
    if amount is None:
        return None
    if currency is None:
        problems.append(f"{where}: needs a currency (set it here or at the top level)")
        return None
    return Money(amount, currency)


def _to_policy(doc: PolicyDocument, root: str) -> Policy:
    problems: list[str] = []
    tiers = frozenset(doc.tiers)
    constraints: dict[Tier, TierConstraints] = {}
    raw = doc.constraints
    per_tier: dict[Tier, ConstraintsDoc]
    if raw is None:
        per_tier = {}
    elif isinstance(raw, ConstraintsDoc):
        per_tier = dict.fromkeys(doc.tiers, raw)
    else:
        per_tier = raw
        for tier in raw:
            if tier not in tiers:
                problems.append(f"{root}.constraints.{tier.value}: tier is not in $.tiers")
    for tier, c in per_tier.items():
        where = (
            f"{root}.constraints.{tier.value}.maxNightlyRate"
            if not isinstance(raw, ConstraintsDoc)
            else f"{root}.constraints.maxNightlyRate"
        )
        constraints[tier] = TierConstraints(
            min_stars=c.minStars,
            max_distance_km=c.maxDistanceKm,
            max_nightly_rate=_money(c.maxNightlyRate, c.currency or doc.currency, where, problems),
            required_amenities=frozenset(c.requiredAmenities),
            excluded_chains=frozenset(x.upper() for x in c.excludedChains),
        )
    t = doc.transport
    default_mode = t.mode or doc.mode
    dispatch = dict.fromkeys(doc.tiers, default_mode) if default_mode else {}
    vehicle: dict[Tier, Vehicle] = {}
    ceilings: dict[Tier, Money] = {}
    for tier, rule in t.perTier.items():
        if rule.dispatch is not None:
            dispatch[tier] = rule.dispatch
        if rule.vehicle is not None:
            vehicle[tier] = rule.vehicle
        ceiling = _money(
            rule.costCeiling,
            t.currency or doc.currency,
            f"{root}.transport.perTier.{tier.value}.costCeiling",
            problems,
        )
        if ceiling is not None:
            ceilings[tier] = ceiling
    meals_doc = doc.meals or doc.wallet
    meals = MealRules()
    if meals_doc is not None:
        currency = meals_doc.currency or doc.currency
        key = "meals" if doc.meals is not None else "wallet"
        if meals_doc.allowance and currency is None:
            problems.append(f"{root}.{key}.currency: needs a currency for the allowance")
        meals = MealRules(
            allowance=dict(meals_doc.allowance),
            currency=currency or "USD",
            schedule=meals_doc.schedule,
            drop_times=tuple(meals_doc.dropTimes),
        )
    if problems:
        raise PolicyValidationError(
            f"invalid policy: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        )
    w = doc.allocationWeights
    return Policy(
        name=doc.name,
        context=PolicyContext(doc.context.airline, doc.context.airport, doc.context.country),
        tiers=tiers,
        constraints=constraints,
        buffers=Buffers(doc.buffers.earlyCheckInMinutes, doc.buffers.lateCheckoutMinutes),
        weights=AllocationWeights(w.cost, w.distance, w.consolidation),
        demand=DemandGates(
            doc.autoApproveDemand, doc.maxAutomaticRoomsPerWave, doc.incrementalRequiresApproval
        ),
        accepted_payments=frozenset(doc.acceptedPayments),
        transport=TransportRules(
            dispatch=dispatch,
            vehicle=vehicle,
            shuttle_capacity=t.shuttleCapacity,
            minutes_before_pickup=t.minutesBeforePickup,
            cost_ceiling=ceilings,
            vendor_pinning=dict(t.vendorPinning),
        ),
        meals=meals,
        room_sharing=RoomSharing(
            frozenset(doc.roomSharing.oneRoomPerAdultTiers), doc.roomSharing.crewSingleRooms
        ),
        priority=dict(doc.priorityWeights.tiers),
        special_need_priority=dict(doc.priorityWeights.specialNeeds),
        regulations=frozenset(doc.regulations),
        card_token=doc.cardToken,
    )


def _parse_one(data: Any, root: str) -> Policy:
    if not isinstance(data, dict):
        raise PolicyValidationError(
            f"invalid policy: {root}: a policy must be an object",
            problems=[f"{root}: not an object"],
        )
    try:
        doc = PolicyDocument.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, root)
        raise PolicyValidationError(
            f"invalid policy: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        ) from None
    return _to_policy(doc, root)


def parse_policy(data: Any) -> Policy:
    """Validate one decoded policy document.

    Raises :class:`PolicyValidationError` (``context['problems']`` lists every problem as
    ``$.json.path: message``) or :class:`PIIRejectedError` (a card number in the document).
    """
    reject_card_numbers(data)
    return _parse_one(data, "$")


def parse_policies(data: Any) -> list[Policy]:
    """One policy, a list of policies or ``{"policies": [...]}`` → policies (problems of
    every entry are collected before raising)."""
    reject_card_numbers(data)
    if isinstance(data, dict) and set(data) == {"policies"}:
        data, root = data["policies"], "$.policies"
    elif isinstance(data, list):
        root = "$"
    else:
        return [_parse_one(data, "$")]
    if not isinstance(data, list) or not data:
        raise PolicyValidationError(
            f"invalid policy file: {root}: expected a non-empty list", problems=[f"{root}: empty"]
        )
    if len(data) > MAX_POLICIES_PER_FILE:
        raise PolicyValidationError(
            f"invalid policy file: {len(data)} policies; the limit is {MAX_POLICIES_PER_FILE}",
            problems=[f"{root}: too many policies"],
        )
    out: list[Policy] = []
    problems: list[str] = []
    for i, item in enumerate(data):
        try:
            out.append(_parse_one(item, f"{root}[{i}]"))
        except PolicyValidationError as exc:
            problems.extend(exc.context.get("problems", [str(exc)]))
    if problems:
        raise PolicyValidationError(
            f"invalid policy: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        )
    return out


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy document."""
    schema = PolicyDocument.model_json_schema()
    schema["title"] = "Nexa policy"
    return schema

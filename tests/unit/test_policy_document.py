"""The policy document loader: camelCase documents → Policy, problems with JSON paths."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from nexa_adapters.documents import parse_policies, parse_policy, policy_json_schema
from nexa_core.errors import PIIRejectedError, PolicyValidationError
from nexa_core.model import DispatchMode, Money, PaymentMode, SpecialNeed, Tier, Vehicle
from nexa_core.policy import normalize_amenity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def doc(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "MAD VIP",
        "context": {"airport": "MAD", "airline": "XX"},
        "tiers": ["BUSINESS", "FIRST"],
        "currency": "EUR",
    }
    return base | extra


def problems(data: Any) -> list[str]:
    with pytest.raises(PolicyValidationError) as info:
        parse_policies(data)
    return list(info.value.context["problems"])


def test_flat_constraints_apply_to_every_tier_with_normalised_amenities() -> None:
    p = parse_policy(
        doc(
            constraints={
                "minStars": 4,
                "maxDistanceKm": 15,
                "maxNightlyRate": 350,
                "requiredAmenities": ["24h reception", "Airport-Shuttle"],
                "excludedChains": ["budgetchain"],
            }
        )
    )
    for tier in (Tier.BUSINESS, Tier.FIRST):
        c = p.constraints_for(tier)
        assert c.min_stars == 4 and c.max_distance_km == 15
        assert c.max_nightly_rate == Money(Decimal(350), "EUR")
        assert c.required_amenities == {"24H_RECEPTION", "AIRPORT_SHUTTLE"}
        assert c.excluded_chains == {"BUDGETCHAIN"}


def test_defaults_follow_the_product_documentation() -> None:
    p = parse_policy(doc())
    assert (p.weights.cost, p.weights.distance, p.weights.consolidation) == (0.60, 0.25, 0.15)
    assert (p.buffers.early_check_in_minutes, p.buffers.late_checkout_minutes) == (60, 120)
    assert (p.transport.shuttle_capacity, p.transport.minutes_before_pickup) == (24, 45)
    assert p.accepted_payments == {PaymentMode.GUARANTEE}
    assert not p.demand.auto_approve_demand and p.demand.incremental_requires_approval


def test_example_scl_policy_loads_every_section() -> None:
    p = parse_policy(yaml.safe_load((EXAMPLES / "scl-default.yaml").read_text()))
    assert p.context.airport == "SCL" and p.regulations == {"ANAC400"}
    assert p.transport.dispatch_for(Tier.BUSINESS) is DispatchMode.AUTOMATIC
    assert p.transport.dispatch_for(Tier.ECONOMY) is DispatchMode.ON_DEMAND
    assert p.transport.vehicle_for(Tier.CREW) is Vehicle.SHUTTLE
    assert p.transport.cost_ceiling[Tier.FIRST] == Money(90, "USD")
    assert p.meals.allowance_for(Tier.BUSINESS) == Money(45, "USD")
    assert p.meals.schedule == "drops" and p.meals.drop_times[0] == "07:30"
    assert p.demand.auto_approve_demand and p.demand.max_automatic_rooms_per_wave == 60
    assert p.priority_for(Tier.ECONOMY, frozenset({SpecialNeed.WCHC})) == 2.5


def test_wallet_is_an_alias_of_meals() -> None:
    p = parse_policy(doc(wallet={"allowance": {"BUSINESS": 30}}))
    assert p.meals.allowance_for(Tier.BUSINESS) == Money(30, "EUR")


def test_every_problem_is_reported_with_its_json_path() -> None:
    found = problems(
        doc(
            tiers=["BUSINESS", "GOLD"],
            constraints={
                "BUSINESS": {"minStars": 7, "requiredAmenities": ["spa"], "colour": "red"}
            },
            allocationWeights={"cost": 0.9, "distance": 0.3, "consolidation": 0.1},
            regulations=["EU262"],
        )
    )
    paths = [p.split(":")[0] for p in found]
    assert paths == [
        "$.tiers[1]",
        "$.constraints.BUSINESS.minStars",
        "$.constraints.BUSINESS.requiredAmenities[0]",
        "$.constraints.BUSINESS.colour",
        "$.allocationWeights",
        "$.regulations",
    ]


def test_rates_need_a_currency() -> None:
    data = doc(constraints={"BUSINESS": {"maxNightlyRate": 200}})
    del data["currency"]
    assert problems(data) == [
        "$.constraints.BUSINESS.maxNightlyRate: needs a currency (set it here or at the top level)"
    ]


def test_constraints_for_a_tier_outside_the_policy_are_an_error() -> None:
    assert problems(doc(constraints={"ECONOMY": {"minStars": 3}})) == [
        "$.constraints.ECONOMY: tier is not in $.tiers"
    ]


def test_list_files_report_the_index_of_each_bad_policy() -> None:
    found = problems({"policies": [doc(), doc(name=""), doc(tiers=[])]})
    assert [p.split(":")[0] for p in found] == ["$.policies[1].name", "$.policies[2].tiers"]
    assert len(parse_policies([doc(), doc(name="other")])) == 2


def test_non_objects_and_card_numbers_are_rejected() -> None:
    with pytest.raises(PolicyValidationError):
        parse_policy(["not", "a", "policy"])
    with pytest.raises(PIIRejectedError):
        parse_policy(doc(name="4111 1111 1111 1111"))


def test_json_schema_describes_the_camel_case_keys() -> None:
    schema = policy_json_schema()
    assert schema["title"] == "Nexa policy"
    assert {"constraints", "allocationWeights", "autoApproveDemand", "transport"} <= set(
        schema["properties"]
    )


def test_unknown_amenities_are_refused_by_the_core_tag_set() -> None:
    assert normalize_amenity("free wifi") == "WIFI"
    with pytest.raises(Exception, match="unknown amenity"):
        normalize_amenity("helipad")


def test_demand_gates_and_vendor_pinning_from_the_document() -> None:
    p = parse_policy(
        doc(
            autoApproveDemand=True,
            maxAutomaticRoomsPerWave=10,
            incrementalRequiresApproval=True,
            transport={"vendorPinning": {"MAD-*": "cabify", "MAD-H1": "uber"}},
        )
    )
    assert p.demand.auto_approves(10) and not p.demand.auto_approves(11)
    assert not p.demand.auto_approves(3, incremental=True)
    assert p.transport.vendor_for("mad", "h1") == "uber"
    assert p.transport.vendor_for("MAD", "H2") == "cabify"
    assert p.transport.vendor_for("BCN", "H2") is None


def test_sandbox_hotel_amenities_use_the_normalised_tags() -> None:
    from nexa_adapters.sandbox import inventory
    from nexa_core.policy import AMENITY_TAGS

    assert set(inventory._AMENITIES) <= AMENITY_TAGS

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nexa_cli.app import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
MANIFEST = str(ROOT / "examples" / "manifests" / "scl-rooming.json")
INVENTORY = str(ROOT / "examples" / "inventory" / "scl-hotels.json")
POLICY = str(ROOT / "examples" / "policies" / "scl-default.yaml")


def _allocate(*extra: str, inventory: str = INVENTORY) -> object:
    return runner.invoke(
        app,
        ["allocate", "--manifest", MANIFEST, "--inventory", inventory, "--policy", POLICY, *extra],
    )


def test_allocate_prints_the_plan_and_totals_as_json() -> None:
    result = _allocate("--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert doc["totals"]["groupsAssigned"] == doc["totals"]["groups"] == 3
    hotels = {a["groupId"]: a["hotelUrn"] for a in doc["assignments"]}
    # business needs 4 stars, a shuttle and 24h reception: only the airport hotel qualifies
    assert hotels["EXEC"] == "urn:hotel:SCL-AEROPUERTO:vendor:amadeus"
    # the accessible need got the accessible room
    exec_rooms = next(a["rooms"] for a in doc["assignments"] if a["groupId"] == "EXEC")
    assert any(r["accessible"] for r in exec_rooms)
    # the Hotelbeds copy of the airport hotel was deduplicated away
    assert not any("HB-7781" in c["hotelUrn"] for c in doc["candidates"])
    assert any(c["reason"].startswith("filtered: stars 2") for c in doc["candidates"])


def test_allocate_prints_a_readable_plan() -> None:
    result = _allocate()
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "groups 3/3 assigned" in result.stdout  # type: ignore[attr-defined]
    assert "assignments:" in result.stdout  # type: ignore[attr-defined]


def test_allocate_reports_a_bad_inventory_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "inv.json"
    bad.write_text(json.dumps({"check_in": "2026-05-05", "check_out": "2026-05-04", "hotels": []}))
    result = _allocate(inventory=str(bad))
    assert result.exit_code == 2
    assert result.output.startswith("error: invalid inventory: $")  # type: ignore[attr-defined]


def test_schema_prints_each_document_schema() -> None:
    for name, title in (("manifest", "Nexa manifest"), ("inventory", "Nexa inventory")):
        result = runner.invoke(app, ["schema", name])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["title"] == title
    result = runner.invoke(app, ["schema", "policy"])
    assert result.exit_code == 0, result.output
    assert "properties" in json.loads(result.stdout)
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 2

"""The example third-party plugin installs, shows up in ``nexa plugins list`` and passes
the conformance kit.

The package is built into a wheel with its own pyproject (hatchling, no network), the
wheel is unpacked into a temporary directory put on ``sys.path`` — which is all an
installation does for entry-point discovery — and its tests run in a subprocess that
imports the package from that directory only.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_adapters.plugins import collect, get_plugin_manager, plugin_infos
from nexa_cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "nexa-acme-hotels"


def _synthesize(target: Path) -> None:
    """Fallback when no build backend is importable: the dist-info an install would write."""
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = target / f"nexa_acme_hotels-{meta['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    eps = "\n".join(f"{k} = {v}" for k, v in meta["entry-points"]["nexa"].items())
    (info / "entry_points.txt").write_text(f"[nexa]\n{eps}\n")
    (target / "nexa_acme_hotels").symlink_to(EXAMPLE / "nexa_acme_hotels")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    wheels = tmp_path_factory.mktemp("wheels")
    try:
        importlib.import_module("hatchling")
    except ImportError:
        _synthesize(site)
        return site
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(wheels),
            str(EXAMPLE),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    [wheel] = wheels.glob("nexa_acme_hotels-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(installed))
    importlib.invalidate_caches()
    yield installed
    for name in [m for m in sys.modules if m.startswith("nexa_acme_hotels")]:
        del sys.modules[name]


def test_the_wheel_declares_the_nexa_entry_point(installed: Path) -> None:
    [info] = installed.glob("nexa_acme_hotels-*.dist-info")
    assert "acme = nexa_acme_hotels.plugin" in (info / "entry_points.txt").read_text()


def test_the_installed_plugin_is_discovered_with_its_distribution(on_path: Path) -> None:
    infos = {p.name: p for p in plugin_infos(get_plugin_manager())}
    acme = infos["acme"]
    assert acme.distribution == "nexa-acme-hotels" and acme.version == "0.1.0"
    assert set(acme.hooks) == {"nexa_register_booking_providers", "nexa_register_hotel_providers"}
    pm = get_plugin_manager(allow=["acme"])
    assert "acme" in collect(pm, "nexa_register_hotel_providers")


def test_nexa_plugins_list_shows_the_example(on_path: Path) -> None:
    result = CliRunner().invoke(app, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["acme"]["distribution"] == "nexa-acme-hotels"


def test_the_example_passes_the_conformance_kit(installed: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXAMPLE,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout

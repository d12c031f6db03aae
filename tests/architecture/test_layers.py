"""The house's layers hold: import-linter's contracts (pyproject.toml) pass, and break on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["root_packages"]


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in _packages():
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_every_layer_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    tree = _copy(tmp_path)
    models = tree / "accounts" / "models.py"
    models.write_text(models.read_text() + "\nfrom domains.models import Domain  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "Layers: shell → entry points → features → delivery → tenancy BROKEN" in result.stdout
    assert "accounts.models -> domains.models" in result.stdout


def test_the_edge_agent_may_not_import_the_console(tmp_path):
    tree = _copy(tmp_path)
    signing = tree / "edge_agent" / "signing.py"
    signing.write_text(signing.read_text() + "\nimport django  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "The edge agent stands alone: it imports nothing of the console BROKEN" in result.stdout


def test_a_cycle_between_the_modules_of_an_app_breaks_the_contract(tmp_path):
    tree = _copy(tmp_path)
    delivery = tree / "edge" / "delivery.py"
    delivery.write_text(delivery.read_text() + "\nfrom edge import publish  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "No import cycles between the modules of an app BROKEN" in result.stdout


def test_no_module_of_the_application_is_over_450_lines():
    too_long = {}
    for package in _packages():
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = len(path.read_text().splitlines())
            if lines > 450:
                too_long[str(path.relative_to(ROOT))] = lines
    assert too_long == {}, "split these by job"

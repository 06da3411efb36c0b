"""The layers hold: import-linter checks the contracts in .importlinter (core imports no feature; ui
imports only core and auth; telephony only core; the features' domain modules form no cycle), so a
wrong arrow fails `make test` before review."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def test_the_architecture_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--config", str(CONFIG), "--no-cache", "--no-logo"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout


def _top_level_modules() -> set[str]:
    package = ROOT / "navaia_app"
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return {f"navaia_app.{name}" for name in names}


def _listed(contract: str, key: str) -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return set(parser[f"importlinter:contract:{contract}"][key].split())


def test_every_module_is_named_in_the_forbidden_lists():
    """A new feature folder must be added to the contracts, or core could start importing it unseen."""
    everything = _top_level_modules()
    for contract, allowed in (("core-imports-no-feature", {"navaia_app.core"}),
                              ("ui-imports-core-and-auth", {"navaia_app.core", "navaia_app.auth", "navaia_app.ui"}),
                              ("telephony-imports-core", {"navaia_app.core", "navaia_app.telephony"})):
        listed, wanted = _listed(contract, "forbidden_modules"), everything - allowed
        assert listed == wanted, (f"in .importlinter, contract {contract}: add {sorted(wanted - listed)} to "
                                  f"forbidden_modules, remove {sorted(listed - wanted)}")

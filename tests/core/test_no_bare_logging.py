"""Every log line goes through structlog (JSON in production, with the request/job context): no print()
and no bare `logging` calls in the app. The CLI prints its answers to the person who ran it, which is
its output, not logging."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "navaia_app"
PRINT_ALLOWED = {"cli.py"}
LOGGING_CALLS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "basicConfig"}


def _offences(source: str, rel: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=str(rel))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print" and rel.name not in PRINT_ALLOWED:
            found.append(f"{rel}:{node.lineno} print()")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "logging" \
                and func.attr in LOGGING_CALLS:
            found.append(f"{rel}:{node.lineno} logging.{func.attr}()")
        # a stdlib logger of our own (logging.getLogger(...).info) writes lines without our context
        if isinstance(func, ast.Attribute) and func.attr in LOGGING_CALLS and isinstance(func.value, ast.Call) \
                and isinstance(func.value.func, ast.Attribute) and func.value.func.attr == "getLogger":
            found.append(f"{rel}:{node.lineno} logging.getLogger().{func.attr}()")
    return found


def test_the_app_logs_only_through_structlog():
    offences = [o for path in sorted(APP.rglob("*.py")) for o in _offences(path.read_text(), path.relative_to(APP))]
    assert offences == []


def test_the_check_finds_what_it_looks_for():
    bad = "import logging\nprint('x')\nlogging.info('y')\nlogging.getLogger('z').warning('w')\n"
    assert len(_offences(bad, Path("feature/service.py"))) == 3
    assert _offences(bad, Path("cli.py")) == ["cli.py:3 logging.info()", "cli.py:4 logging.getLogger().warning()"]

"""The shape that keeps the services readable (docs/architecture.md, "Rules").

A service module fits on a screen or two and a function does one thing: billing was once 33
modules in one folder with 75-line functions, and the next services copy whatever shape the
first one has. Two classes of one name make every import a guess.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("billing", "maintenance", "notifications")
SERVICE_PACKAGES = [REPO_ROOT / "services" / s / "src" / f"lineblocs_{s}" for s in SERVICES]
SHARED_PACKAGE = REPO_ROOT / "shared" / "src" / "lineblocs_shared"
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40


def modules(*packages: Path) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in package.rglob("*.py")
        if "migrations" not in path.parts
    )


def test_the_service_packages_are_where_this_test_looks() -> None:
    assert all(package.is_dir() for package in SERVICE_PACKAGES)
    assert len(modules(*SERVICE_PACKAGES)) > 30


@pytest.mark.parametrize("path", modules(*SERVICE_PACKAGES), ids=lambda p: p.name)
def test_a_service_module_fits_on_a_screen_or_two(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(REPO_ROOT)} has {lines} lines"


def function_lengths(path: Path) -> dict[str, int]:
    """Each function's lines, decorators included."""
    lengths = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            lengths[f"{node.name}:{node.lineno}"] = node.end_lineno - first + 1
    return lengths


@pytest.mark.parametrize("path", modules(*SERVICE_PACKAGES), ids=lambda p: p.name)
def test_a_service_function_does_one_thing_in_at_most_40_lines(path: Path) -> None:
    long = {name: n for name, n in function_lengths(path).items() if n > MAX_FUNCTION_LINES}
    assert not long, f"{path.relative_to(REPO_ROOT)}: {long}"


def test_no_two_classes_share_a_name() -> None:
    defined: dict[str, list[str]] = defaultdict(list)
    for path in modules(SHARED_PACKAGE, *SERVICE_PACKAGES):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                defined[node.name].append(str(path.relative_to(REPO_ROOT)))
    assert {name: paths for name, paths in defined.items() if len(paths) > 1} == {}

"""The floors of the house, checked from the source (``lint-imports`` checks the same in CI):
bot > handlers > storage > kernel, nothing below ``bot/`` speaks to a platform, and the
kernel is a leaf (standard library and Babel only)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("bot", "handlers", "storage", "kernel")  # top to bottom
PLATFORM_CLIENTS = {"aiogram", "aiohttp", "httpx"}


def modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every absolute import in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def where(path: Path, line: int, name: str) -> str:
    return f"{path.relative_to(ROOT)}:{line} imports {name}"


@pytest.mark.parametrize("floor", FLOORS[1:])
def test_no_arrow_goes_up(floor: str) -> None:
    above = set(FLOORS[: FLOORS.index(floor)])
    wrong = [
        where(path, line, name)
        for path in modules(floor)
        for line, name in imported(path)
        if name.split(".")[0] in above | PLATFORM_CLIENTS
    ]
    assert wrong == []


def test_the_kernel_is_a_leaf() -> None:
    allowed = set(sys.stdlib_module_names) | {"babel", "kernel"}
    wrong = [
        where(path, line, name)
        for path in modules("kernel")
        for line, name in imported(path)
        if name.split(".")[0] not in allowed
    ]
    assert wrong == []


def test_the_scan_sees_imports(tmp_path: Path) -> None:
    """The scan itself finds both spellings of an import (so the tests above can fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text("import aiogram.types\nfrom bot.config import Settings\nfrom . import x\n")
    assert [name for _line, name in imported(sample)] == ["aiogram.types", "bot.config"]

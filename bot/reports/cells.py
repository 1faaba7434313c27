"""Spreadsheet cells from user or plan text: always text, never a formula.

An official may type ``6 vướng: =HYPERLINK("http://…"&A1,"…")`` and a plan may hold a line
starting with ``=``; in the coordinator's Excel either would run as a formula (a link that
leaks the sheet, or a DDE command). Every XLSX papi-bot writes is saved through
:func:`save_workbook`, which stores every text cell as a string; every CSV cell goes through
:func:`csv_cell`, which puts an apostrophe before text Excel would read as a formula (CSV has
no cell types). :func:`sanitize_text` removes the control characters XML cannot hold, which
openpyxl refuses with an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # only annotations here: the CSV writer needs no openpyxl
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# XML 1.0 cannot hold these (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE, kept in step).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

V = TypeVar("V")


def sanitize_text(text: str) -> str:
    """The text without the control characters a workbook cannot store."""
    return _ILLEGAL.sub("", text)


def cell_value(value: V) -> V | str:
    """A value ready for a workbook cell: text cleaned, anything else as it is."""
    return sanitize_text(value) if isinstance(value, str) else value


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """``sheet.append`` with every text value cleaned."""
    sheet.append([cell_value(value) for value in values])


def force_text(book: Workbook) -> None:
    """Every text cell stored as a string: openpyxl marks text starting with "=" a formula."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"


def save_workbook(book: Workbook, path: Path) -> Path:
    """Save ``book`` with no formula in it (see the module docstring)."""
    force_text(book)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def csv_cell(value: V) -> V | str:
    """A CSV cell: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str):
        text = sanitize_text(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]

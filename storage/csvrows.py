"""Reading the admin's CSV files: header check, line numbers, and all-or-nothing refusal.

A file is either imported whole or not at all: every problem is collected as a
:class:`RowError` (with the line number the admin sees in a spreadsheet) and the import
raises :class:`ImportRefused` carrying all of them before anything is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kernel.i18n import _
from kernel.textnorm import fold, nfc


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class CsvFileError(Exception):
    """The file cannot be read at all (missing, empty, not UTF-8): one clear line."""


class ImportRefused(Exception):
    """The file has bad rows; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def _delimiter(header_line: str) -> str:
    # Excel set to a Vietnamese or European locale saves "CSV" with semicolons.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_csv(text: str, columns: Sequence[str], source: str = "") -> list[CsvRow]:
    """Rows of ``text`` keyed by the expected ``columns`` (header names matched loosely).

    Extra columns are ignored; a missing column is a :class:`RowError` on line 1. Values are
    NFC-normalised and trimmed; rows that are entirely blank are skipped.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise CsvFileError(_("%(file)s is empty") % {"file": source or "CSV"})
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]))
    header = [fold(name).replace(" ", "_") for name in next(reader)]
    missing = [column for column in columns if column not in header]
    if missing:
        expected = ",".join(columns)
        raise ImportRefused(
            [
                RowError(
                    1,
                    _("missing column(s) %(missing)s; the header must be %(expected)s")
                    % {"missing": ", ".join(missing), "expected": expected},
                )
            ]
        )
    positions = {column: header.index(column) for column in columns}
    rows: list[CsvRow] = []
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        values = {
            column: nfc(record[index]) if index < len(record) else ""
            for column, index in positions.items()
        }
        rows.append(CsvRow(start, values))
    if not rows:
        raise CsvFileError(_("%(file)s has a header but no rows") % {"file": source or "CSV"})
    return rows


def read_csv(path: Path, columns: Sequence[str]) -> list[CsvRow]:
    """:func:`parse_csv` on a file; CsvFileError when it is missing or not UTF-8 text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CsvFileError(_("%(file)s: file not found") % {"file": path}) from exc
    except IsADirectoryError as exc:
        raise CsvFileError(_("%(file)s is a folder, not a CSV file") % {"file": path}) from exc
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            _('%(file)s is not UTF-8 text: save it as "CSV UTF-8"') % {"file": path}
        ) from exc
    return parse_csv(text, columns, str(path))

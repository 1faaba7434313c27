"""Published PAPI scores: from a CSV file, or from a plan's own text where it states them.

CSV columns: ``unit`` (unit code), ``year``, ``code`` ("3", "3.2" or "total"), ``score``,
optional ``index`` (default PAPI). A decimal comma is accepted ("4,86"). The whole file is
checked before anything is written: one bad line, nothing changes.

Plans state last year's scores in their opening paragraphs, in two ways (seeds 001, 004):
"Chỉ số nội dung 1: Tham gia của người dân ở cấp cơ sở: 5,48 điểm" (numbered), and
"Tham gia của người dân ở cấp cơ sở đạt 4,86/10 điểm" (by name, also for sub-dimensions:
"Tri thức công dân 0,66/2,5 điểm"). Matching is on folded text, so OCR that lost the
diacritics ("Chi s6 ndi dung 1 ... 5,48 diém") still matches.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from kernel.i18n import _
from kernel.textnorm import fold, nfc
from storage.models import Unit
from storage.scores import ScoreRow, save_scores
from storage.taxonomy import taxonomy_rows

TOTAL = "total"
_NUMBER = r"(\d{1,2}[,.]\d{1,3})"
_POINTS = r"\s*d\S?em"  # "điểm" folded, also OCR's "diém"/"dlem"
_NUMBERED = re.compile(
    r"chi s\S{0,2} n\S{0,3} dung (\d)\s*:[^:]{0,160}?:?\s*(?:dat\s+)?" + _NUMBER + _POINTS
)
_TOTAL = re.compile(
    r"papi[^.;]{0,80}?nam (\d{4})[^.;]{0,80}?dat " + _NUMBER + r"\s*(?:/\s*80\s*)?" + _POINTS
)
_YEAR = re.compile(r"papi (?:nam )?(20\d\d)")


class ScoreError(ValueError):
    """A score file line that cannot be used; the message names the line and the field."""


@dataclass(frozen=True, slots=True)
class StatedScores:
    year: int | None
    values: dict[str, float] = field(default_factory=dict)


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def papi_maxima() -> dict[str, float]:
    """code -> maximum score; "total" is 80."""
    maxima = {t.code: t.max_score or 10.0 for t in taxonomy_rows() if t.index_name == "PAPI"}
    maxima[TOTAL] = 80.0
    return maxima


def scores_from_text(text: str) -> StatedScores:
    """The PAPI scores a plan's text states, by code, with the year they belong to."""
    folded = fold(text)
    values: dict[str, float] = {}
    year: int | None = None
    if match := _TOTAL.search(folded):
        year, values[TOTAL] = int(match[1]), _float(match[2])
    elif match := _YEAR.search(folded):
        year = int(match[1])
    for match in _NUMBERED.finditer(folded):
        values.setdefault(match[1], _float(match[2]))
    for item in taxonomy_rows():
        if item.index_name != "PAPI":
            continue
        name = re.escape(fold(item.name_vi))
        ratio = r"\s*/\s*\d{1,2}(?:[,.]\d{1,2})?"
        found = re.search(rf"{name}\s*(?:dat\s+)?{_NUMBER}{ratio}{_POINTS}", folded)
        if found:
            values.setdefault(item.code, _float(found[1]))
    maxima = papi_maxima()
    return StatedScores(year, {k: v for k, v in values.items() if 0 <= v <= maxima.get(k, 80)})


def read_scores_csv(session: Session, path: Path) -> list[ScoreRow]:
    """Every line checked; raises ScoreError naming the first bad one."""
    maxima = papi_maxima()
    units = {u.code: u.id for u in session.exec(select(Unit))}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"unit", "year", "code", "score"} - set(reader.fieldnames or ())
        if missing:
            raise ScoreError(
                _("%(file)s: missing column(s): %(columns)s")
                % {"file": path.name, "columns": ", ".join(sorted(missing))}
            )
        rows = [_row(line, record, units, maxima) for line, record in enumerate(reader, start=2)]
    if not rows:
        raise ScoreError(_("%(file)s: no scores in the file") % {"file": path.name})
    return rows


def _row(
    line: int, record: dict[str, str], units: dict[str, int | None], maxima: dict[str, float]
) -> ScoreRow:
    unit_code = nfc(record.get("unit") or "")
    unit_id = units.get(unit_code)
    if unit_id is None:
        raise ScoreError(
            _("line %(line)d: unknown unit code %(code)r") % {"line": line, "code": unit_code}
        )
    index_name = nfc(record.get("index") or "PAPI").upper()
    code = nfc(record.get("code") or "").casefold()
    if index_name == "PAPI" and code not in maxima:
        raise ScoreError(
            _("line %(line)d: unknown PAPI code %(code)r (1..8, 1.1..8.3, total)")
            % {"line": line, "code": code}
        )
    try:
        year = int(nfc(record.get("year") or ""))
        score = _float(nfc(record.get("score") or ""))
    except ValueError as exc:
        raise ScoreError(
            _("line %(line)d: year and score must be numbers") % {"line": line}
        ) from exc
    if not 2000 <= year <= 2100:
        raise ScoreError(
            _("line %(line)d: year %(year)d out of range") % {"line": line, "year": year}
        )
    if score < 0 or (index_name == "PAPI" and score > maxima[code]):
        raise ScoreError(
            _("line %(line)d: score %(score)s outside 0..%(max)s")
            % {"line": line, "score": score, "max": maxima.get(code, "?")}
        )
    return ScoreRow(unit_id, index_name, year, code, score)


def save_stated(session: Session, unit_id: int, stated: StatedScores) -> tuple[int, int]:
    """Store what a plan states for its province (nothing when the year is unknown)."""
    if stated.year is None:
        return 0, 0
    rows = [ScoreRow(unit_id, "PAPI", stated.year, k, v) for k, v in stated.values.items()]
    return save_scores(session, rows)

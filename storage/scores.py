"""Published index scores of units (PAPI 2023 dimension 3 = 4.25): insert or replace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from storage.models import Score


@dataclass(frozen=True, slots=True)
class ScoreRow:
    unit_id: int
    index_name: str
    year: int
    code: str
    score: float


def save_scores(session: Session, rows: Sequence[ScoreRow]) -> tuple[int, int]:
    """Insert or replace (flushed); returns (added, updated)."""
    added = updated = 0
    for row in rows:
        existing = session.exec(
            select(Score).where(
                Score.unit_id == row.unit_id,
                Score.index_name == row.index_name,
                Score.year == row.year,
                Score.code == row.code,
            )
        ).first()
        if existing is None:
            session.add(Score(**{k: getattr(row, k) for k in ScoreRow.__slots__}))
            added += 1
        elif existing.score != row.score:
            existing.score = row.score
            session.add(existing)
            updated += 1
    session.flush()
    return added, updated

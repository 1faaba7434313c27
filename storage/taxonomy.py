"""PAPI dimensions, sub-dimensions and the PAR Index fields, loaded from ``data/taxonomy.csv``."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from sqlmodel import Session, select

from storage.models import TaxonomyItem

TAXONOMY_CSV = Path(__file__).resolve().parent / "data" / "taxonomy.csv"


@cache
def taxonomy_rows() -> tuple[TaxonomyItem, ...]:
    """The shipped taxonomy as detached rows (also usable without a database)."""
    with TAXONOMY_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(
            TaxonomyItem(
                index_name=row["index_name"],
                code=row["code"],
                parent_code=row["parent_code"] or None,
                name_vi=row["name_vi"],
                name_en=row["name_en"],
                max_score=float(row["max_score"]) if row["max_score"] else None,
            )
            for row in csv.DictReader(handle)
        )


def papi_name(code: str, locale: str = "vi") -> str:
    """The name of a PAPI dimension ("3") or sub-dimension ("3.2") in the given language."""
    for item in taxonomy_rows():
        if item.index_name == "PAPI" and item.code == code:
            return item.name_vi if locale == "vi" else item.name_en
    raise KeyError(code)


def sync_taxonomy(session: Session) -> int:
    """Insert missing items and refresh names of existing ones; returns how many were added."""
    existing = {(t.index_name, t.code): t for t in session.exec(select(TaxonomyItem)).all()}
    added = 0
    for row in taxonomy_rows():
        current = existing.get((row.index_name, row.code))
        if current is None:
            session.add(TaxonomyItem.model_validate(row.model_dump(exclude={"id"})))
            added += 1
        else:
            current.parent_code = row.parent_code
            current.name_vi, current.name_en = row.name_vi, row.name_en
            current.max_score = row.max_score
    return added

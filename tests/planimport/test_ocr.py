"""OCR-tolerant matching: scan damage of the kind seen in seed 001, applied to the clean
seed 000, still gives the same header, dimensions, deadlines and agencies."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.planimport import parse_plan
from bot.planimport.agencies import UnitIndex, display_name, normalise_name
from bot.planimport.ocr import looks_damaged, ocr_fold, similarity, starts_like
from bot.planimport.prose_agencies import canonical
from bot.planimport.store import province_units, resolve_plan
from kernel.textnorm import fold
from storage.models import Unit
from tests.planimport.conftest import make_province

SEED_000 = "000_6a26aac315758a40.txt"
SEED_001 = "001_4fec8051db42b886.txt"

_SHAPES = "\u0302\u031b\u0306"  # circumflex, horn, breve: part of the letter, not the tone
_LOOK_ALIKES = {"ô": ("6", "o"), "ư": ("ir", "u", "w"), "ơ": ("o", "&"), "ũ": ("ii",)}


def _swaps(ch: str) -> tuple[str, ...]:
    """The scanner's readings of a lower-case letter (nothing for the others)."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    shape = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _SHAPES))
    if shape == "u" and "\u0303" in marks:
        shape = "ũ"
    return _LOOK_ALIKES.get(shape, ()) if ch.islower() else ()


def ocr_damage(text: str, seed: int = 15, rate: float = 0.5) -> str:
    """Seed 001's kind of damage: every diacritic lost; "đ" read as "d" (or "P" at the start
    of a capitalised word); "ô" as "6", "ư" as "ir"/"u"/"w", "ơ" as "&", "ũ" as "ii", each
    at ``rate``; a few wrong accents ("é" for "e"). Deterministic for a given seed."""
    rng = random.Random(seed)
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        word_start = i == 0 or not text[i - 1].isalpha()
        swaps = _swaps(ch)
        if ch == "Đ":
            out.append("P" if word_start and rng.random() < rate else "D")
        elif ch == "đ":
            out.append("d")
        elif swaps and rng.random() < rate:
            out.append(rng.choice(swaps))
        else:
            plain = unicodedata.normalize("NFD", ch)[0]
            out.append("é" if plain == "e" and rng.random() < 0.1 else plain)
    return "".join(out)


def test_the_damage_function_damages(seeds_dir: Path) -> None:
    clean = (seeds_dir / SEED_000).read_text(encoding="utf-8")
    damaged = ocr_damage(clean)
    assert damaged == ocr_damage(clean)  # fixed seed
    assert "Nội vụ" in clean and "Nội vụ" not in damaged
    assert any(token in damaged for token in ("N6i vu", "Noi vu"))
    assert looks_damaged(damaged) and not looks_damaged(clean)


@pytest.mark.parametrize(
    ("scanned", "clean"),
    [
        ("Chi s6 ndi dung", "Chỉ số nội dung"),
        ("Pay manh", "Đẩy mạnh"),
        ("Sé Noi vu", "Sở Nội vụ"),
        ("S& Tai nguyén va Moi trirong", "Sở Tài nguyên và Môi trường"),
        ("tham nhiing", "tham nhũng"),
        ("dia phwong", "địa phương"),
        ("UBND cép x4", "UBND cấp xã"),
        ("Thirong xuyén", "Thường xuyên"),
    ],
)
def test_scanned_words_fold_like_the_clean_ones(scanned: str, clean: str) -> None:
    assert similarity(scanned, clean) >= 0.85
    assert starts_like(f"{scanned} và các việc khác", clean)


@pytest.mark.parametrize(
    "text",
    ["Quý III/2024", "Chỉ số PAPI", "Sở TN&MT", "UBND cấp huyện", "Phường 1", "Internet"],
)
def test_clean_text_folds_as_before(text: str) -> None:
    assert ocr_fold(text) == fold(text)


def test_scanned_agency_names_resolve_to_the_usual_spelling() -> None:
    assert canonical("Sé Noi vu") == "Sở Nội vụ"
    assert canonical("56 Y té") == "Sở Y tế"  # "6. Sở Y tế" as the scanner read it
    assert normalise_name("S& Y té") == normalise_name("Sở Y tế")
    assert display_name("UBND cép x4") == "UBND cấp xã"
    assert canonical("Báo Bắc Giang") is None  # not a known name: kept as written


def test_a_scanned_name_resolves_to_its_unit_but_never_to_two(engine: Engine) -> None:
    make_province(engine)
    with Session(engine) as session:
        province = session.exec(select(Unit).where(col(Unit.level) == "province")).one()
        index = UnitIndex.build(province_units(session, province))
    assert [u.name for u in index.resolve("Sé Noi vu")] == ["Sở Nội vụ"]
    assert [u.name for u in index.resolve("S& Tai nguyén va Moi trueong")] == [
        "Sở Tài nguyên và Môi trường"
    ]
    assert index.resolve("Sở Ngoại vụ") == []  # close to "Sở Nội vụ", but another body


def _resolved(engine: Engine, path: Path) -> list[tuple[set[str], set[str]]]:
    plan = parse_plan(path)
    with Session(engine) as session:
        province = session.exec(select(Unit).where(col(Unit.level) == "province")).one()
        resolutions = resolve_plan(session, plan, province)
        return [
            (
                {u.code for units in r.lead.values() for u in units},
                {u.code for units in r.coordinating.values() for u in units},
            )
            for r in resolutions
        ]


@pytest.mark.parametrize("seed", [15, 2021, 7])
def test_damaged_seed_000_resolves_the_same_dimensions_and_agencies(
    seed: int, engine: Engine, seeds_dir: Path, tmp_path: Path
) -> None:
    make_province(engine)
    clean_path = seeds_dir / SEED_000
    damaged_path = tmp_path / "scanned.txt"
    damaged_path.write_text(ocr_damage(clean_path.read_text(encoding="utf-8"), seed), "utf-8")
    clean, damaged = parse_plan(clean_path), parse_plan(damaged_path)
    assert len(damaged.tasks) == len(clean.tasks) == 22
    assert [t.text for t in damaged.tasks] != [t.text for t in clean.tasks]  # kept as is
    assert [(t.dimension, t.subdimension) for t in damaged.tasks] == [
        (t.dimension, t.subdimension) for t in clean.tasks
    ]
    assert [t.deadline.to_json() | {"raw": ""} for t in damaged.tasks] == [
        t.deadline.to_json() | {"raw": ""} for t in clean.tasks
    ]
    assert _resolved(engine, damaged_path) == _resolved(engine, clean_path)

"""Issue 12: text from any channel is cleaned before it is stored or echoed — a lone
surrogate (which UTF-8 and every database refuse) and control characters (a NUL ends a string
in PostgreSQL) would otherwise make the commit fail, and the update come back for ever."""

from __future__ import annotations

import pytest
from sqlmodel import select

from kernel.textnorm import clean
from storage.models import ProgressUpdate
from tests.handlers.helpers import World


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("xong", "xong"),
        ("thi\ud800ếu", "thi\ufffdếu"),  # a lone high surrogate
        ("\udc00", "\ufffd"),  # a lone low surrogate
        ("\ud83d\ude00 xong", "😀 xong"),  # a pair written as two halves is its character
        ("a\x00b\x07c\x1bd\x7fe\x9ff", "abcdef"),
        ("dòng 1\ndòng 2\tcột", "dòng 1\ndòng 2\tcột"),  # newline and tab stay
        ("\u200dzwj", "\u200dzwj"),  # format characters (emoji joiners) stay
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned
    clean(raw).encode("utf-8")  # always storable


def test_the_pipeline_cleans_every_channel(world: World) -> None:
    """Not only Telegram: whatever an adapter passes on is cleaned by the pipeline."""
    user = world.link("off1a", channel="console")
    number = world.assignments_of("off1a")[0]
    rows = world.send(user, f"{number} vướng: thi\ud800ếu\x00 kinh phí", channel="console")
    assert rows and all(row.text.encode("utf-8") for row in rows)
    with world.session() as session:
        notes = [row.note or "" for row in session.exec(select(ProgressUpdate)).all()]
    assert any("thi\ufffdếu kinh phí" in note for note in notes), notes

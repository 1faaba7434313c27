"""Crafted numbers and odd digits get the normal answer, never "something went wrong"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import AppConfig, Settings
from handlers import payloads
from tests.handlers.helpers import World

HUGE = "99999999999999999999999"


def test_giao_with_a_huge_number_is_no_such_task(world: World) -> None:
    chair = world.link("chair1")
    text = world.texts(chair, f"/giao {HUGE}")
    assert "lỗi" not in text.lower()
    assert "không" in text.lower()


def test_giao_with_odd_digits_is_the_usage(world: World) -> None:
    chair = world.link("chair1")
    text = world.texts(chair, "/giao ¹²")
    assert "/giao" in text


@pytest.mark.parametrize(
    "payload",
    [
        "a:99999999999999999999:done",
        "a:¹:done",
        "l:²",
        "x:³",
        "g:1:²",
        "g:99999999999999999999:0",
        "q:٣",
        "l:99999999999999999999",
    ],
)
def test_crafted_buttons_are_no_longer_valid(world: World, payload: str) -> None:
    assert payloads.parse(payload) is None
    chair = world.link("chair1")
    text = world.texts(chair, payload=payload)
    assert "Nút này không còn hiệu lực" in text


@pytest.mark.parametrize("text", [f"{HUGE} xong", "99999999999999999999 50%"])
def test_quick_reply_with_a_huge_task_number(world: World, text: str) -> None:
    official = world.link("off1a")
    answer = world.texts(official, text)
    assert "lỗi" not in answer.lower()


@pytest.mark.parametrize(
    "period", ["0001-01-01..9999-12-31", "9999-Q4", "0001", "99999999999999999999-Q1"]
)
def test_baocao_with_an_extreme_period_is_a_bad_period(
    world: World, tmp_path: Path, period: str
) -> None:
    world.settings = Settings(app=AppConfig(data_dir=tmp_path))
    coord = world.link("coord")
    text = world.texts(coord, f"/baocao {period}")
    assert "Không hiểu kỳ báo cáo" in text
    assert not (tmp_path / "reports").exists()

"""Agency cells: split, grouped, matched despite case, diacritics and abbreviations."""

from __future__ import annotations

import pytest

from bot.planimport.agencies import UnitIndex, display_name, group_level, split_agencies
from kernel.textnorm import fold
from storage.models import Unit


@pytest.mark.parametrize(
    ("cell", "agencies"),
    [
        (
            "Các sở, ban, ngành, UBND cấp huyện, UBND cấp xã",
            ["Các sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"],
        ),
        ("UBND cấp huyện, cấp xã", ["UBND cấp huyện", "UBND cấp xã"]),
        ("UBND cấp huyện Các sở, ban, ngành", ["UBND cấp huyện", "Các sở, ban, ngành"]),
        (
            "Bảo hiểm xã hội tỉnh; Bệnh viện tuyến tỉnh, tuyến huyện",
            ["Bảo hiểm xã hội tỉnh", "Bệnh viện tuyến tỉnh", "Bệnh viện tuyến huyện"],
        ),
        ("Sở Nội vụ, các sở, ban, ngành liên quan", ["Sở Nội vụ", "các sở, ban, ngành liên quan"]),
        ("UBND các huyện, thành phố", ["UBND các huyện, thành phố"]),
        ("Văn phòng UBND tỉnh; Sở Nội vụ.", ["Văn phòng UBND tỉnh", "Sở Nội vụ"]),
        ("UBND cấp huyện,;UBND cấp xã", ["UBND cấp huyện", "UBND cấp xã"]),
        (
            "Trung tâm Trợ giúp pháp lý nhà nước (Sở Tư pháp)",
            ["Trung tâm Trợ giúp pháp lý nhà nước (Sở Tư pháp)"],
        ),
        ("", []),
    ],
)
def test_split(cell: str, agencies: list[str]) -> None:
    assert split_agencies(cell) == agencies


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("UBND cấp xã", "commune"),
        ("Ủy ban nhân dân cấp xã", "commune"),
        ("UBND các xã, phường, thị trấn", "commune"),
        ("ubnd cap huyen", "district"),
        ("UBND các huyện, thành phố", "district"),
        ("Các sở, ban, ngành", "department"),
        ("Các sở, ngành", "department"),
        ("Sở Nội vụ", None),
        ("Ủy ban MTTQ cấp xã", None),
    ],
)
def test_group_names(name: str, level: str | None) -> None:
    assert group_level(name) == level


def _unit(uid: int, name: str, level: str) -> Unit:
    return Unit(id=uid, code=f"U{uid}", name=name, name_folded=fold(name), level=level)


@pytest.fixture
def index() -> UnitIndex:
    return UnitIndex.build(
        [
            _unit(1, "Tỉnh Bắc Giang", "province"),
            _unit(2, "Sở Tài nguyên và Môi trường", "department"),
            _unit(3, "Văn phòng UBND tỉnh", "department"),
            _unit(4, "Ủy ban MTTQ tỉnh", "department"),
            _unit(5, "Sở Nội vụ", "department"),
            _unit(6, "Xã Tân An", "commune"),
            _unit(7, "Xã Hòa Bình", "commune"),
            _unit(8, "Huyện Lạng Giang", "district"),
            _unit(9, "Sở Y tế tỉnh Bắc Giang", "department"),
        ]
    )


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("Sở TN&MT", [2]),
        ("Sở Tài Nguyên và Môi trường", [2]),
        ("so tai nguyen va moi truong", [2]),
        ("VP UBND tỉnh", [3]),
        ("Văn phòng Ủy ban nhân dân tỉnh", [3]),
        ("Ủy ban MTTQ VN tỉnh", [4]),
        ("Ủy ban Mặt trận Tổ quốc VN tỉnh", [4]),
        ("UBND cấp xã", [6, 7]),
        ("UBND cấp huyện", [8]),
        ("Các sở, ban, ngành", [2, 3, 4, 5, 9]),
        ("Sở Xây dựng", []),
        ("Sở Y tế", [9]),
        ("UBND xã Tân An", [6]),  # issue 10: the commune's people's committee is the commune
        ("Ủy ban nhân dân huyện Lạng Giang", [8]),
        ("UBND xã Không Có", []),
    ],
)
def test_resolution(index: UnitIndex, name: str, ids: list[int]) -> None:
    assert sorted(u.id for u in index.resolve(name) if u.id is not None) == ids


def test_display_names_of_section_rows() -> None:
    assert display_name("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG") == "Sở Tài nguyên và Môi trường"
    assert display_name("CÁC XÃ, PHƯỜNG, THỊ TRẤN") == "UBND cấp xã"
    assert display_name("VĂN PHÒNG UBND TỈNH") == "Văn phòng UBND tỉnh"
    assert display_name("BAN QUẢN LÝ DỰ ÁN") == "Ban quản lý dự án"

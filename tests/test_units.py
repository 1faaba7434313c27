"""The unit tree: helpers for other modules, paths, and the all-or-nothing CSV import."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, func, select

from kernel.i18n import use_locale
from storage.csvrows import CsvFileError, ImportRefused, parse_csv
from storage.models import Unit
from storage.units import (
    UNIT_COLUMNS,
    ImportCounts,
    add_unit,
    get_unit_by_code,
    import_units,
    list_units,
    parse_level,
    province_of,
    tree_order,
    units_under,
)

HEADER = "code,name,level,parent_code\n"
THREE_LEVELS = (
    HEADER + "07420,Xã Tân An,commune,213\n"  # child before its parent: resolved after reading
    "24,Tỉnh Bắc Giang,province,\n"
    "213,Huyện Yên Dũng,district,24\n"
    "07423,Xã Nham Sơn,commune,213\n"
    "SNV,Sở Nội vụ,department,24\n"
)
TWO_LEVELS = (
    HEADER + "19,Tỉnh Thái Nguyên,province,\n"
    "05500,Phường Phan Đình Phùng,commune,19\n"
    "05600,Xã Đại Phúc,commune,19\n"
)


def _import(session: Session, text: str) -> ImportCounts:
    with use_locale("en"):
        counts = import_units(session, parse_csv(text, UNIT_COLUMNS))
    session.commit()
    return counts


def _refused(session: Session, text: str) -> list[str]:
    with use_locale("en"), pytest.raises(ImportRefused) as caught:
        import_units(session, parse_csv(text, UNIT_COLUMNS))
    session.rollback()
    with use_locale("en"):
        return [str(error) for error in caught.value.errors]


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Unit)).one()


def _unit(session: Session, code: str) -> Unit:
    unit = get_unit_by_code(session, code)
    assert unit is not None, code
    return unit


# ---------------------------------------------------------------- helpers


def test_add_unit_sets_folded_name_and_path(session: Session) -> None:
    province = add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    district = add_unit(session, "213", "Huyện Yên Dũng", "district", province)
    commune = add_unit(session, "07420", "Xã Tân An", "commune", district)
    assert province.path == f"/{province.id}/"
    assert commune.path == f"/{province.id}/{district.id}/{commune.id}/"
    assert commune.name_folded == "xa tan an"
    assert province.name_folded == "tinh bac giang"


def test_add_unit_refuses_an_unknown_level(session: Session) -> None:
    with pytest.raises(ValueError, match="level"):
        add_unit(session, "1", "X", "town", None)


def test_units_under_and_province_of_three_levels(session: Session) -> None:
    _import(session, THREE_LEVELS)
    province, district = _unit(session, "24"), _unit(session, "213")
    assert {u.code for u in units_under(session, province)} == {"213", "07420", "07423", "SNV"}
    assert {u.code for u in units_under(session, province, "commune")} == {"07420", "07423"}
    assert {u.code for u in units_under(session, district)} == {"07420", "07423"}
    assert units_under(session, _unit(session, "07420")) == []
    for code in ("24", "213", "07420", "SNV"):
        found = province_of(session, _unit(session, code))
        assert found is not None and found.code == "24"


def test_two_level_tree(session: Session) -> None:
    _import(session, TWO_LEVELS)
    province = _unit(session, "19")
    communes = units_under(session, province, "commune")
    assert [u.code for u in sorted(communes, key=lambda u: u.code)] == ["05500", "05600"]
    found = province_of(session, _unit(session, "05600"))
    assert found is not None and found.code == "19"


def test_subtrees_of_two_provinces_do_not_mix(session: Session) -> None:
    _import(session, THREE_LEVELS)
    _import(session, TWO_LEVELS)
    assert {u.code for u in units_under(session, _unit(session, "19"))} == {"05500", "05600"}
    assert "05500" not in {u.code for u in units_under(session, _unit(session, "24"))}


def test_get_unit_by_code_unknown(session: Session) -> None:
    assert get_unit_by_code(session, "nope") is None


@pytest.mark.parametrize(
    ("text", "level"),
    [("province", "province"), ("Tỉnh", "province"), ("huyen", "district"), ("Xã", "commune"),
     ("Phường", "commune"), ("Sở", "department"), ("COMMUNE", "commune"), ("town", None)],
)  # fmt: skip
def test_parse_level(text: str, level: str | None) -> None:
    assert parse_level(text) == level


# ---------------------------------------------------------------- import


def test_import_resolves_parents_given_later_and_sets_paths(session: Session) -> None:
    counts = _import(session, THREE_LEVELS)
    assert counts == ImportCounts(added=5, updated=0, unchanged=0)
    province, district, commune = (_unit(session, c) for c in ("24", "213", "07420"))
    assert commune.parent_id == district.id and district.parent_id == province.id
    assert commune.path == f"/{province.id}/{district.id}/{commune.id}/"
    assert commune.name_folded == "xa tan an"
    assert _unit(session, "SNV").path == f"/{province.id}/{_unit(session, 'SNV').id}/"


def test_reimport_is_idempotent(session: Session) -> None:
    _import(session, THREE_LEVELS)
    assert _import(session, THREE_LEVELS) == ImportCounts(added=0, updated=0, unchanged=5)
    assert _count(session) == 5


def test_reimport_updates_name_level_parent_and_subtree_paths(session: Session) -> None:
    _import(session, THREE_LEVELS)
    # 2025 reform: the district goes, its commune moves under the province directly,
    # and a new district takes over the other commune (whose path must follow).
    counts = _import(
        session,
        HEADER + "07420,Xã Tân An mới,commune,24\n"
        "214,Huyện Mới,district,24\n"
        "213,Huyện Yên Dũng,district,24\n"
        "07423,Xã Nham Sơn,commune,214\n",
    )
    assert counts == ImportCounts(added=1, updated=2, unchanged=1)
    province, moved = _unit(session, "24"), _unit(session, "07420")
    assert moved.name == "Xã Tân An mới" and moved.name_folded == "xa tan an moi"
    assert moved.path == f"/{province.id}/{moved.id}/"
    new_district, other = _unit(session, "214"), _unit(session, "07423")
    assert other.path == f"/{province.id}/{new_district.id}/{other.id}/"


def test_moving_a_district_moves_its_communes(session: Session) -> None:
    _import(session, THREE_LEVELS)
    _import(session, TWO_LEVELS)
    _import(session, HEADER + "213,Huyện Yên Dũng,district,19\n")
    district, commune = _unit(session, "213"), _unit(session, "07420")
    assert commune.path.startswith(district.path)
    assert district.path.startswith(_unit(session, "19").path)
    assert "07420" in {u.code for u in units_under(session, _unit(session, "19"))}


def test_tree_order_and_list(session: Session) -> None:
    _import(session, THREE_LEVELS)
    ordered = [(depth, unit.code) for depth, unit in tree_order(list_units(session))]
    assert ordered == [(0, "24"), (1, "213"), (2, "07420"), (2, "07423"), (1, "SNV")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "24,Tỉnh,province,\n1,Xã A,commune,99\n",
         ["line 3: unknown parent 99: it is neither in the file nor in the database"]),
        (HEADER + "24,Tỉnh,province,\n24,Tỉnh khác,province,\n",
         ["line 3: code 24 already appears on line 2"]),
        (HEADER + "24,Tỉnh,town,\n",
         ["line 2: unknown level 'town' (expected province, district, commune or department)"]),
        (HEADER + "24,,province,\n", ["line 2: the name is empty"]),
        (HEADER + ",Tỉnh,province,\n", ["line 2: the code is empty"]),
        (HEADER + "24,Tỉnh,province,24\n", ["line 2: a unit cannot be its own parent"]),
        (HEADER + "1,Xã A,commune,\n", ["line 2: a unit of level commune needs a parent_code"]),
        (HEADER + "24,Tỉnh,province,\n1,Xã A,commune,24\n2,Xã B,commune,1\n",
         ["line 4: 2 (level commune) cannot be under 1 (level commune)"]),
        (HEADER + "24,Tỉnh,province,\n2,Tỉnh B,province,24\n",
         ["line 3: 2 (level province) cannot be under 24 (level province)"]),
        ("code,name,level\n24,Tỉnh,province\n",
         ["line 1: missing column(s) parent_code; the header must be code,name,level,parent_code"]),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_with_line_numbers(
    session: Session, text: str, expected: list[str]
) -> None:
    assert _refused(session, text) == expected
    assert _count(session) == 0


def test_all_problems_are_reported_and_nothing_is_written(session: Session) -> None:
    errors = _refused(
        session,
        HEADER + "24,Tỉnh,province,\n"
        "1,Xã A,commune,99\n"  # unknown parent
        "1,Xã A bis,commune,24\n"  # duplicate
        "2,,hamlet,24\n"  # two problems on one line
        "3,Xã C,commune,2\n",  # parent row is bad: only its own errors are reported
    )
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 4", "line 5", "line 5"]
    assert _count(session) == 0


def test_a_cycle_is_reported(session: Session) -> None:
    errors = _refused(
        session,
        HEADER + "24,Tỉnh,province,\n1,Huyện A,district,2\n2,Huyện B,district,1\n",
    )
    assert "line 3: the parents form a cycle: 1 → 2 → 1" in errors


def test_a_bad_file_leaves_existing_units_untouched(session: Session) -> None:
    _import(session, THREE_LEVELS)
    before = [(u.code, u.name, u.path) for u in list_units(session)]
    _refused(session, HEADER + "07420,Tên mới,commune,213\n9,Xã X,commune,404\n")
    assert [(u.code, u.name, u.path) for u in list_units(session)] == before


def test_changing_a_level_under_existing_children_is_refused(session: Session) -> None:
    _import(session, THREE_LEVELS)
    errors = _refused(session, HEADER + "213,Huyện Yên Dũng,commune,24\n")
    assert errors == [
        "line 2: 07420 (level commune) cannot be under 213 (level commune)",
        "line 2: 07423 (level commune) cannot be under 213 (level commune)",
    ]
    assert _unit(session, "213").level == "district"


def test_existing_parent_in_the_database_is_found(session: Session) -> None:
    _import(session, HEADER + "24,Tỉnh Bắc Giang,province,\n")
    _import(session, HEADER + "07420,Xã Tân An,commune,24\n")
    found = province_of(session, _unit(session, "07420"))
    assert found is not None and found.code == "24"
    assert session.exec(select(Unit).where(col(Unit.path) == "")).all() == []


# ---------------------------------------------------------------- CSV reading


def test_csv_semicolons_bom_blank_rows_and_loose_header(session: Session) -> None:
    rows = parse_csv(
        "\ufeffCode; Name ;LEVEL;parent_code;note\n24;Tỉnh Bắc Giang;province;;x\n;;;\n"
        "07420;Xa\u0303 Tân An;commune;24;\n",
        UNIT_COLUMNS,
    )
    assert [row.line for row in rows] == [2, 4]
    assert rows[1].get("name") == "Xã Tân An"  # NFC: the decomposed accent is composed


@pytest.mark.parametrize("text", ["", "  \n", "code,name,level,parent_code\n"])
def test_csv_empty(text: str) -> None:
    with use_locale("en"), pytest.raises(CsvFileError):
        parse_csv(text, UNIT_COLUMNS, "units.csv")

"""Phone numbers, adding and importing officials, listing by unit subtree."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select

from kernel.i18n import use_locale
from kernel.phones import mask_phone, national_format, normalize_phone
from storage.csvrows import ImportRefused, parse_csv
from storage.models import Official, Unit
from storage.officials import (
    OFFICIAL_COLUMNS,
    add_official,
    get_official_by_phone,
    import_officials,
    officials_in,
    parse_role,
)
from storage.units import ImportCounts, add_unit

NOW = datetime(2026, 6, 22, 2, 0, tzinfo=UTC)
HEADER = "name,phone,unit_code,role,locale\n"


@pytest.fixture
def units(session: Session) -> dict[str, Unit]:
    province = add_unit(session, "24", "Tỉnh Bắc Giang", "province", None)
    district = add_unit(session, "213", "Huyện Yên Dũng", "district", province)
    found = {
        "24": province,
        "213": district,
        "07420": add_unit(session, "07420", "Xã Tân An", "commune", district),
        "SNV": add_unit(session, "SNV", "Sở Nội vụ", "department", province),
        "19": add_unit(session, "19", "Tỉnh Thái Nguyên", "province", None),
    }
    session.commit()
    return found


def _import(session: Session, text: str) -> ImportCounts:
    with use_locale("en"):
        counts = import_officials(session, parse_csv(text, OFFICIAL_COLUMNS), NOW)
    session.commit()
    return counts


def _refused(session: Session, text: str) -> list[str]:
    with use_locale("en"), pytest.raises(ImportRefused) as caught:
        import_officials(session, parse_csv(text, OFFICIAL_COLUMNS), NOW)
    session.rollback()
    with use_locale("en"):
        return [str(error) for error in caught.value.errors]


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Official)).one()


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "raw",
    ["0912345678", "+84912345678", "84 912 345 678", "0912.345.678", "0912-345-678",
     " (+84) 912 345 678 ", "+84 0912 345 678", "0084912345678", "84912345678"],
)  # fmt: skip
def test_normalize_phone_one_number_many_spellings(raw: str) -> None:
    assert normalize_phone(raw) == "+84912345678"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("091234567", "10 digits"),  # one digit short
        ("09123456789", "10 digits"),  # one too many
        ("912345678", "starts with 0 or +84"),
        ("0243 826 1234", "10 digits"),  # a Hà Nội landline has 11 digits
        ("0243826123", "should start 03, 05, 07, 08 or 09"),  # 10 digits but 02x
        ("+1 202 555 0100", "only Vietnamese"),
        ("0912abc678", "only digits"),
        ("０９１２３４５６７８", "only digits"),  # full-width digits
    ],
)
def test_normalize_phone_refuses_with_a_reason(raw: str, reason: str) -> None:
    with use_locale("en"), pytest.raises(ValueError, match=re.escape(reason)):
        normalize_phone(raw)


def test_mask_phone() -> None:
    assert mask_phone("+84912345678") == "0912***678"
    assert national_format("+84912345678") == "0912345678"
    assert mask_phone("12") == "**"


def test_phone_reason_in_vietnamese() -> None:
    with use_locale("vi"), pytest.raises(ValueError, match="10 chữ số"):
        normalize_phone("091234")


# ---------------------------------------------------------------- add / list


def test_add_official_normalises_the_phone(session: Session, units: dict[str, Unit]) -> None:
    official = add_official(
        session, " Nguyễn Văn A ", "0912 345 678", units["07420"], "chair", "vi"
    )
    assert official.phone == "+84912345678"
    assert official.name == "Nguyễn Văn A"
    assert get_official_by_phone(session, "+84 912.345.678") == official


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"phone": "0912"}, "10 digits"),
        ({"role": "boss"}, "unknown role"),
        ({"locale": "fr"}, "unknown locale"),
        ({"name": "  "}, "name is empty"),
        ({"phone": "+84 912 345 678"}, "already belongs"),
    ],
)
def test_add_official_refuses(
    session: Session, units: dict[str, Unit], kwargs: dict[str, str], reason: str
) -> None:
    add_official(session, "Nguyễn Văn A", "0912345678", units["07420"], "official", "vi")
    args = {"name": "Trần B", "phone": "0987654321", "role": "official", "locale": "vi"} | kwargs
    with use_locale("en"), pytest.raises(ValueError, match=reason):
        add_official(session, unit=units["07420"], **args)
    assert _count(session) == 1


def test_officials_in_a_subtree(session: Session, units: dict[str, Unit]) -> None:
    _import(
        session,
        HEADER + "A,0912345678,07420,chair,vi\nB,0987654321,SNV,coordinator,en\n"
        "C,0333444555,19,official,vi\n",
    )
    assert {o.name for o, _ in officials_in(session, units["213"])} == {"A"}
    assert {o.name for o, _ in officials_in(session, units["24"])} == {"A", "B"}
    assert {o.name for o, _ in officials_in(session)} == {"A", "B", "C"}
    assert all(unit.id == o.unit_id for o, unit in officials_in(session))


# ---------------------------------------------------------------- import


def test_import_then_reimport_updates(session: Session, units: dict[str, Unit]) -> None:
    text = HEADER + "Nguyễn Văn A,0912.345.678,07420,chair,\nTrần Thị B,+84987654321,SNV,,en\n"
    assert _import(session, text) == ImportCounts(added=2, updated=0, unchanged=0)
    a = get_official_by_phone(session, "0912345678")
    b = get_official_by_phone(session, "0987654321")
    assert a is not None and (a.role, a.locale, a.unit_id) == ("chair", "vi", units["07420"].id)
    assert b is not None and (b.role, b.locale) == ("official", "en")
    assert a.created_at == NOW
    counts = _import(session, HEADER + "Nguyễn Văn A,84 912 345 678,SNV,Chủ tịch,vi\n")
    assert counts == ImportCounts(added=0, updated=1, unchanged=0)
    a = get_official_by_phone(session, "0912345678")
    assert a is not None and a.unit_id == units["SNV"].id
    assert _count(session) == 2


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A,0912345678,99999,official,vi",
         "line 2: unknown unit '99999': import the units first"),
        ("A,0912,07420,official,vi",
         "line 2: bad phone number '0912': a Vietnamese mobile number has 10 digits starting "
         "with 0 (or +84 and 9 digits)"),
        ("A,0912345678,07420,boss,vi",
         "line 2: unknown role 'boss' (expected official, chair, coordinator or admin)"),
        ("A,0912345678,07420,official,fr", "line 2: unknown locale 'fr' (expected vi or en)"),
        (",0912345678,07420,official,vi", "line 2: the name is empty"),
    ],
)  # fmt: skip
def test_bad_rows(session: Session, units: dict[str, Unit], row: str, expected: str) -> None:
    assert _refused(session, HEADER + row + "\n") == [expected]
    assert _count(session) == 0


def test_duplicate_phone_in_the_file(session: Session, units: dict[str, Unit]) -> None:
    errors = _refused(
        session, HEADER + "A,0912345678,07420,official,vi\nB,+84 912 345 678,SNV,official,vi\n"
    )
    # Masked: the admin finds the row by its line numbers, the terminal shows no full phone.
    assert errors == ["line 3: phone 0912***678 already appears on line 2"]
    assert _count(session) == 0


def test_every_bad_row_is_reported_and_nothing_written(
    session: Session, units: dict[str, Unit]
) -> None:
    errors = _refused(
        session,
        HEADER + "Good,0912345678,07420,official,vi\n"
        "Bad unit,0987654321,nope,official,vi\n"
        "Good too,0333444555,SNV,chair,en\n"
        "Bad all,123,nope,boss,xx\n",
    )
    assert [e.split(":")[0] for e in errors] == ["line 3"] + ["line 5"] * 4
    assert _count(session) == 0


def test_missing_column(session: Session, units: dict[str, Unit]) -> None:
    with use_locale("en"), pytest.raises(ImportRefused, match="line 1: missing column"):
        parse_csv("name,phone,unit_code\nA,0912345678,07420\n", OFFICIAL_COLUMNS)


@pytest.mark.parametrize(
    ("text", "role"),
    [("", "official"), ("chair", "chair"), ("Chủ tịch", "chair"), ("Cán bộ", "official"),
     ("COORDINATOR", "coordinator"), ("boss", None)],
)  # fmt: skip
def test_parse_role(text: str, role: str | None) -> None:
    assert parse_role(text) == role

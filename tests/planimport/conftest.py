"""A fictional province for store and CLI tests: departments named like the plans'
agencies, two districts with three communes each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel.i18n import use_locale
from kernel.textnorm import fold
from storage.db import session_scope
from storage.models import Unit

DEPARTMENTS = [
    "Sở Nội vụ",
    "Văn phòng UBND tỉnh",
    "Sở Y tế",
    "Sở Tài nguyên và Môi trường",
    "Sở Giáo dục và Đào tạo",
    "Sở Thông tin và Truyền thông",
    "Thanh tra tỉnh",
    "Ủy ban MTTQ tỉnh",
    "Sở Tài chính",
]


def _add(session: Session, code: str, name: str, level: str, parent: Unit | None) -> Unit:
    unit = Unit(
        code=code,
        name=name,
        name_folded=fold(name),
        level=level,
        parent_id=parent.id if parent else None,
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def make_province(engine: Engine, code: str = "TN") -> int:
    """Create the province; returns its id."""
    with session_scope(engine) as session:
        province = _add(session, code, f"Tỉnh Thử Nghiệm {code}", "province", None)
        for number, name in enumerate(DEPARTMENTS):
            _add(session, f"{code}-S{number}", name, "department", province)
        for d in range(2):
            district = _add(session, f"{code}-H{d}", f"Huyện {code}{d}", "district", province)
            for c in range(3):
                _add(session, f"{code}-X{d}{c}", f"Xã {code}{d}{c}", "commune", district)
        assert province.id is not None
        return province.id


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Library messages in English here, so tests match their text; the CLI picks its own."""
    with use_locale("en"):
        yield

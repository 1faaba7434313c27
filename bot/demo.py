"""Demo data for the console quick start: a fictional province, its communes, departments,
officials, and a plan (seed 000 when the shared seeds are beside the repo, else the shipped
fictional ``demo_plan.tsv``). Everything here is invented: names, phones, codes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.planimport import parse_plan, store_plan
from storage.models import Assignment, Official, Role, Task, Unit, UnitLevel
from storage.officials import add_official
from storage.progress import assign_officials
from storage.units import add_unit, get_unit_by_code

PROVINCE_CODE = "DEMO"
PROVINCE_NAME = "Tỉnh Demo"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PLAN = Path(__file__).resolve().parent / "demo_plan.tsv"
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"

DEPARTMENTS = (
    ("SNV", "Sở Nội vụ"),
    ("VP", "Văn phòng UBND tỉnh"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SYT", "Sở Y tế"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("STTTT", "Sở Thông tin và Truyền thông"),
    ("TTR", "Thanh tra tỉnh"),
    ("STP", "Sở Tư pháp"),
    ("STC", "Sở Tài chính"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("CA", "Công an tỉnh"),
)
# (code, commune name, chair, two officials) — invented names.
COMMUNES = (
    ("X01", "Xã An Lạc", "Trần Văn Bình", ("Lê Thị Hoa", "Phạm Minh Tuấn")),
    ("X02", "Xã Hòa Thuận", "Nguyễn Thị Mai", ("Đỗ Văn Nam", "Vũ Thị Lan")),
    ("X03", "Xã Tân Phúc", "Hoàng Văn Sơn", ("Bùi Thị Ngọc", "Đặng Quốc Huy")),
)
COORDINATOR = "Ngô Thị Thu"
TASKS_PER_OFFICIAL = 2


DEMO_DATABASE_NAME = "papi-bot-demo.db"


def demo_database_url(configured_url: str) -> str:
    """Where the console demo keeps its data: a SQLite file of its own, beside the configured
    SQLite file (``data/papi-bot.db`` → ``data/papi-bot-demo.db``), else in ``data/``. The
    configured database — perhaps a real province's — is never written by the demo."""
    parsed = make_url(configured_url)
    folder = Path("data")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        database = str(parsed.database)
        if not database.startswith("file:"):
            folder = Path(database).parent
    return f"sqlite:///{folder / DEMO_DATABASE_NAME}"


def demo_plan_path(seeds_dir: Path = SEEDS_DIR) -> Path:
    """Seed 000 if the shared seeds are there, else the shipped fictional plan."""
    found = sorted(seeds_dir.glob("000_*.txt")) if seeds_dir.is_dir() else []
    return found[0] if found else SHIPPED_PLAN


def _phone(number: int) -> str:
    return f"+8490000{number:04d}"  # not a real subscriber range used by anyone we know


def _official(session: Session, name: str, unit: Unit, role: str, number: int, locale: str) -> None:
    add_official(session, name, _phone(number), unit, role, locale)


def _assign_some(session: Session, commune: Unit, now: datetime) -> None:
    """Give each commune official a couple of the commune's tasks, so the demo has both."""
    officials = session.exec(
        select(Official)
        .where(Official.unit_id == commune.id)
        .where(Official.role == Role.OFFICIAL)
        .order_by(col(Official.id))
    ).all()
    assignments = session.exec(
        select(Assignment)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(Assignment.unit_id == commune.id)
        .order_by(col(Task.order))
    ).all()
    chair = session.exec(
        select(Official).where(Official.unit_id == commune.id).where(Official.role == Role.CHAIR)
    ).first()
    for n, assignment in enumerate(assignments[: TASKS_PER_OFFICIAL * len(officials)]):
        official = officials[n // TASKS_PER_OFFICIAL]
        assert assignment.id is not None and official.id is not None
        assign_officials(session, assignment.id, [official.id], chair.id if chair else None, now)


def ensure_demo_data(
    session: Session, settings: Settings, now: datetime, plan_path: Path | None = None
) -> bool:
    """Create the demo province, people and plan; False if they are already there."""
    if get_unit_by_code(session, PROVINCE_CODE) is not None:
        return False
    locale = settings.app.default_locale
    province = add_unit(session, PROVINCE_CODE, PROVINCE_NAME, UnitLevel.PROVINCE, None)
    number = 1
    departments = {}
    for code, name in DEPARTMENTS:
        departments[code] = add_unit(
            session, f"{PROVINCE_CODE}-{code}", name, UnitLevel.DEPARTMENT, province
        )
    communes = []
    for code, name, chair, officials in COMMUNES:
        commune = add_unit(session, f"{PROVINCE_CODE}-{code}", name, UnitLevel.COMMUNE, province)
        communes.append(commune)
        _official(session, chair, commune, Role.CHAIR, number, locale)
        number += 1
        for official in officials:
            _official(session, official, commune, Role.OFFICIAL, number, locale)
            number += 1
    _official(session, COORDINATOR, departments["SNV"], Role.COORDINATOR, number, locale)
    session.flush()
    parsed = parse_plan(plan_path or demo_plan_path())
    if parsed.year is None:
        parsed.year = now.year
    store_plan(session, parsed, province)
    session.flush()
    for commune in communes:
        _assign_some(session, commune, now)
    session.flush()
    return True


def demo_people(session: Session) -> list[Official]:
    """The demo's officials in the order the console offers them: chairs, officials,
    coordinator."""
    province = get_unit_by_code(session, PROVINCE_CODE)
    if province is None:
        return []
    rows = session.exec(
        select(Official, Unit)
        .join(Unit, col(Unit.id) == col(Official.unit_id))
        .where(col(Unit.path).startswith(province.path))
        .where(col(Official.active).is_(True))
        .order_by(col(Official.id))
    ).all()
    rank: dict[str, int] = {Role.CHAIR: 0, Role.OFFICIAL: 1, Role.COORDINATOR: 2, Role.ADMIN: 3}
    ordered = sorted(rows, key=lambda row: (rank.get(row[0].role, 9), row[0].id or 0))
    return [official for official, _unit in ordered]

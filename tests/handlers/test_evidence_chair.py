"""Evidence, the chair's commune view and assigning, the coordinator summary, /lang, /help."""

from __future__ import annotations

from sqlmodel import select

from handlers import payloads
from handlers.types import Attachment
from storage.models import AssignmentOfficial, Evidence, Official
from tests.handlers.helpers import World

PHOTO = Attachment(kind="photo", file_id="AgACphoto1", file_unique_id="u1", file_size=52000)
DOC = Attachment(
    kind="document", file_id="BQACdoc1", file_name="bien-ban.pdf", mime_type="application/pdf"
)


def _evidence(world: World) -> list[Evidence]:
    with world.session() as session:
        return list(session.exec(select(Evidence)).all())


def test_evidence_after_the_button(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    assert "gửi ảnh" in world.texts(user, payload=payloads.task_action(number, "evidence"))
    assert "đã lưu 1 tệp" in world.texts(user, attachments=(PHOTO,))
    assert "đã lưu 1 tệp" in world.texts(user, attachments=(DOC,))  # more files, same task
    first, second = _evidence(world)
    assert (first.assignment_id, first.file_id, first.file_size) == (number, "AgACphoto1", 52000)
    assert (second.file_name, second.mime_type) == ("bien-ban.pdf", "application/pdf")
    assert first.official_id == world.people["off1a"].id and first.channel == "telegram"


def test_evidence_with_the_task_number_as_caption(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[1]
    world.send(user, f"#{number} biên bản họp dân", attachments=(PHOTO,))
    [row] = _evidence(world)
    assert (row.assignment_id, row.caption) == (number, "biên bản họp dân")
    assert world.assignment(number).last_update_at is not None


def test_evidence_without_a_task_is_not_stored(world: World) -> None:
    user = world.link("off1a")
    assert "nhiệm vụ nào" in world.texts(user, attachments=(PHOTO,))
    assert _evidence(world) == []


def test_evidence_for_another_officials_task_is_refused(world: World) -> None:
    user = world.link("off1a")
    other = world.assignments_of("off2a")[0]
    assert "không thuộc phạm vi" in world.texts(user, str(other), attachments=(PHOTO,))
    assert _evidence(world) == []


def test_chair_commune_view(world: World) -> None:
    chair = world.link("chair1")
    off = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(off, f"{number} vướng: thiếu kinh phí")
    [row] = world.send(chair, "/xa")
    assert row.text.startswith("Xã An Lạc: 12 nhiệm vụ")
    assert "Vướng mắc: 1" in row.text
    assert "Lê Thị Hoa: 1 việc quá hạn hoặc vướng mắc" in row.text
    assert "Chưa giao cho ai: 8" in row.text
    assert "[Lê Thị Hoa]" in row.text


def test_chair_assigns_and_the_official_is_told(world: World) -> None:
    chair = world.link("chair1")
    off = world.link("off1b")
    unassigned = [
        n
        for n in world.unit_assignments("DEMO-X01")
        if n not in world.assignments_of("off1a") + world.assignments_of("off1b")
    ]
    number = unassigned[0]
    [menu] = world.send(chair, payload=payloads.assign(number, 0))
    assert "1. Lê Thị Hoa" in menu.text and "2. Phạm Minh Tuấn" in menu.text
    target = world.people["off1b"].id or 0
    rows = world.send(chair, payload=payloads.assign(number, target))
    assert "Đã giao nhiệm vụ" in rows[0].text and rows[0].chat_id == chair
    [notice] = [r for r in rows if r.chat_id == off]
    assert notice.official_id == target and notice.kind == "notice"
    assert notice.assignment_id == number
    assert "Trần Văn Bình đã giao cho đồng chí nhiệm vụ" in notice.text
    assert number in world.assignments_of("off1b")
    assert f"#{number}" in world.texts(off, "/nhiemvu")


def test_chair_assigns_several_by_typed_numbers(world: World) -> None:
    chair = world.link("chair1")
    number = world.unit_assignments("DEMO-X01")[-1]
    world.send(chair, f"/giao {number} 1 2")
    assert number in world.assignments_of("off1a") and number in world.assignments_of("off1b")
    assert "Không có cán bộ số 7" in world.texts(chair, f"/giao {number} 7")


def test_chair_cannot_assign_to_another_communes_official(world: World) -> None:
    chair = world.link("chair1")
    number = world.unit_assignments("DEMO-X01")[-1]
    stranger = world.people["off2a"].id or 0
    assert "Chưa có thay đổi" in world.texts(chair, payload=payloads.assign(number, stranger))
    with world.session() as session:
        rows = session.exec(
            select(AssignmentOfficial).where(AssignmentOfficial.assignment_id == number)
        ).all()
    assert rows == []


def test_coordinator_summary_command(world: World) -> None:
    coord = world.link("coord")
    assert "Tỉnh Demo" in world.texts(coord, "/tonghop")


def test_summary_and_commune_view_are_role_bound(world: World) -> None:
    off = world.link("off1a")
    summary = world.texts(off, "/tonghop")
    assert "Tỉnh Demo" not in summary and "Xã An Lạc" not in summary
    assert "Chủ tịch" in world.texts(off, "/xa")


def test_lang_switches_and_is_stored(world: World) -> None:
    user = world.link("off1a")
    assert world.texts(user, "/lang en") == "Language changed to English."
    with world.session() as session:
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None and official.locale == "en"
    assert "Your open tasks" in world.texts(user, "/nhiemvu")
    assert "Đã chuyển" in world.texts(user, "/lang tiếng việt")
    assert "Cách dùng" in world.texts(user, "/lang fr")
    with world.session() as session:  # an unknown language changes nothing
        official = session.get(Official, world.people["off1a"].id)
        assert official is not None and official.locale == "vi"


def test_help_by_role(world: World) -> None:
    official = world.texts(world.link("off1a"), "/help")
    chair = world.texts(world.link("chair1"), "/help")
    coord = world.texts(world.link("coord"), "/help")
    assert "/xa" not in official and "/tonghop" not in official
    assert "/xa" in chair and "/giao" in chair and "/tonghop" in chair  # own commune
    assert "/tonghop" in coord and "/xa" not in coord
    assert '"12 50% đã họp dân"' in official  # '%%' rendered once

"""The quick-reply table: with and without diacritics, with a task number, and the
ambiguous ones that must become a question."""

from __future__ import annotations

import pytest

from handlers.quickreply import Ambiguous, QuickReply, parse_quick_reply

PARSED = [
    ("xong", QuickReply(None, "done", 100, None)),
    ("Xong", QuickReply(None, "done", 100, None)),
    ("xong rồi", QuickReply(None, "done", 100, None)),
    ("hoàn thành", QuickReply(None, "done", 100, None)),
    ("hoan thanh", QuickReply(None, "done", 100, None)),
    ("HOÀN THÀNH", QuickReply(None, "done", 100, None)),
    ("đã hoàn thành", QuickReply(None, "done", 100, None)),
    ("ht", QuickReply(None, "done", 100, None)),
    ("100%", QuickReply(None, "done", 100, None)),
    ("50%", QuickReply(None, "in_progress", 50, None)),
    ("50 %", QuickReply(None, "in_progress", 50, None)),
    ("0%", QuickReply(None, "in_progress", 0, None)),
    ("đang làm 50% đã họp dân", QuickReply(None, "in_progress", 50, "đã họp dân")),
    ("dang lam 50% da hop dan", QuickReply(None, "in_progress", 50, "da hop dan")),
    ("đang thực hiện", QuickReply(None, "in_progress", None, None)),
    ("50% đã họp 2 thôn", QuickReply(None, "in_progress", 50, "đã họp 2 thôn")),
    ("vướng: thiếu kinh phí", QuickReply(None, "blocked", None, "thiếu kinh phí")),
    ("vuong thieu kinh phi", QuickReply(None, "blocked", None, "thieu kinh phi")),
    ("Vướng mắc - chưa có mẫu biểu", QuickReply(None, "blocked", None, "chưa có mẫu biểu")),
    ("khó khăn: thiếu người", QuickReply(None, "blocked", None, "thiếu người")),
    ("vướng", QuickReply(None, "blocked", None, None)),
    ("12 xong", QuickReply(12, "done", 100, None)),
    ("#12 xong", QuickReply(12, "done", 100, None)),
    ("12. hoàn thành", QuickReply(12, "done", 100, None)),
    ("12 50%", QuickReply(12, "in_progress", 50, None)),
    ("12 đang làm 30% đã họp dân", QuickReply(12, "in_progress", 30, "đã họp dân")),
    ("12 vướng: thiếu kinh phí", QuickReply(12, "blocked", None, "thiếu kinh phí")),
    ("12", QuickReply(12, None, None, None)),
    ("ghi chú: đã gửi công văn", QuickReply(None, None, None, "đã gửi công văn")),
    ("12 ghi chu da gui cong van", QuickReply(12, None, None, "da gui cong van")),
    ("done", QuickReply(None, "done", 100, None)),
]

AMBIGUOUS = [
    ("xong 50%", "done_with_percent"),
    ("12 hoàn thành 80%", "done_with_percent"),
    ("chưa xong", "negated"),
    ("chua hoan thanh", "negated"),
    ("150%", "percent_over_100"),
    ("đang làm 100%", "in_progress_at_100"),
    ("xong nhưng vướng kinh phí", "done_and_blocked"),
    ("50% nhưng vướng: thiếu người", "progress_and_blocked"),
]

NOT_QUICK = ["xin chào", "cho hỏi hạn nộp báo cáo", "", "   ", "12 abc", "họp dân xong"]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parses(text: str, expected: QuickReply) -> None:
    assert parse_quick_reply(text) == expected


@pytest.mark.parametrize(("text", "reason"), AMBIGUOUS)
def test_ambiguous_replies_are_questions(text: str, reason: str) -> None:
    result = parse_quick_reply(text)
    assert isinstance(result, Ambiguous)
    assert result.reason == reason


def test_ambiguous_keeps_the_task_number() -> None:
    assert parse_quick_reply("7 xong 40%") == Ambiguous("done_with_percent", 7)


@pytest.mark.parametrize("text", NOT_QUICK)
def test_other_text_is_not_a_quick_reply(text: str) -> None:
    assert parse_quick_reply(text) is None


def test_decomposed_unicode_matches_like_composed() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "hoàn thành")
    assert parse_quick_reply(decomposed) == QuickReply(None, "done", 100, None)

"""The few typed words an official answers with: "xong", "50%", "vướng: thiếu kinh phí".

Matching is on folded words (``textnorm.fold``: no diacritics, lower case), so "hoàn thành",
"Hoàn Thành" and "hoan thanh" are the same; the note keeps the words exactly as typed.
A reply may start with a task number ("12 xong"). Anything contradictory ("xong 50%",
"xong nhưng vướng", "chưa xong", "120%") is :class:`Ambiguous`: the bot asks, never guesses.
Text that is not a quick reply at all gives ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kernel.textnorm import fold, nfc
from storage.models import AssignmentStatus

DONE = AssignmentStatus.DONE
IN_PROGRESS = AssignmentStatus.IN_PROGRESS
BLOCKED = AssignmentStatus.BLOCKED

# Folded word sequences, longest first within each meaning.
_PHRASES: dict[str, tuple[tuple[str, ...], ...]] = {
    DONE: (
        ("da", "hoan", "thanh"),
        ("hoan", "thanh"),
        ("da", "xong"),
        ("xong", "roi"),
        ("xong",),
        ("ht",),
        ("done",),
        ("finished",),
        ("completed",),
        ("complete",),
    ),
    IN_PROGRESS: (
        ("dang", "thuc", "hien"),
        ("dang", "trien", "khai"),
        ("dang", "lam"),
        ("in", "progress"),
        ("working",),
        ("doing",),
    ),
    BLOCKED: (
        ("vuong", "mac"),
        ("bi", "vuong"),
        ("kho", "khan"),
        ("vuong",),
        ("blocked",),
        ("stuck",),
    ),
    "note": (("ghi", "chu"), ("note",)),
}
_NEGATIONS = ("chua", "not", "khong")
_PUNCT = ":;,.!?-–—()[]\"'"
_PERCENT = re.compile(r"^(\d{1,4})%$")
_NUMBER = re.compile(r"^#?(\d{1,9})[.:)]?$")


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A parsed reply. ``status`` None with a ``note``: a note only; everything None but
    ``task_number``: the official typed just a task number."""

    task_number: int | None = None
    status: str | None = None
    percent: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Ambiguous:
    reason: str  # "done_with_percent", "done_and_blocked", "percent_over_100", "negated", ...
    task_number: int | None = None


def _key(word: str) -> str:
    return fold(word).strip(_PUNCT)


def _match(keys: list[str], start: int) -> tuple[str, int] | None:
    """The meaning and length of the longest phrase starting at ``start``."""
    best: tuple[str, int] | None = None
    for meaning, phrases in _PHRASES.items():
        for phrase in phrases:
            end = start + len(phrase)
            if tuple(keys[start:end]) == phrase and (best is None or len(phrase) > best[1]):
                best = (meaning, len(phrase))
    return best


def _percent(words: list[str], keys: list[str], at: int) -> tuple[int, int] | None:
    """A percent at ``at`` ("50%" or "50 %"): its value and how many words it took."""
    if at >= len(words):
        return None
    token = fold(words[at]).rstrip(_PUNCT.replace("%", ""))
    found = _PERCENT.match(token)
    if found:
        return int(found.group(1)), 1
    if at + 1 < len(words) and keys[at].isdigit() and words[at + 1] == "%":
        return int(keys[at]), 2
    return None


def _mentions(keys: list[str], meaning: str) -> bool:
    for start in range(len(keys)):
        found = _match(keys, start)
        if found is not None and found[0] == meaning:
            return True
    return False


def _note(words: list[str]) -> str | None:
    text = " ".join(words).strip(" :-–—,;.")
    return text or None


def parse_quick_reply(text: str) -> QuickReply | Ambiguous | None:
    words = nfc(text).split()
    if not words:
        return None
    keys = [_key(word) for word in words]
    at = 0
    task_number = None
    number = _NUMBER.match(fold(words[0]))
    if number and not (len(words) > 1 and words[1] == "%"):
        task_number, at = int(number.group(1)), 1
        if at == len(words):
            return QuickReply(task_number=task_number)
    if keys[at] in _NEGATIONS and (found := _match(keys, at + 1)) and found[0] == DONE:
        return Ambiguous("negated", task_number)  # "chưa xong": not done — but how far?
    status: str | None = None
    found = _match(keys, at)
    if found is not None:
        meaning, length = found
        status = None if meaning == "note" else meaning
        at += length
        if meaning == "note":
            note = _note(words[at:])
            return QuickReply(task_number, None, None, note) if note else None
    percent_found = _percent(words, keys, at)
    percent = None
    if percent_found is not None:
        percent, length = percent_found
        at += length
    elif found is None:
        return None  # neither a keyword nor a percent up front: not a quick reply
    rest = keys[at:]
    if percent is not None and percent > 100:
        return Ambiguous("percent_over_100", task_number)
    if status == DONE and percent is not None and percent < 100:
        return Ambiguous("done_with_percent", task_number)
    if status == IN_PROGRESS and percent == 100:
        return Ambiguous("in_progress_at_100", task_number)
    if status in (DONE, IN_PROGRESS, None) and _mentions(rest, BLOCKED):
        return Ambiguous(
            "done_and_blocked" if status == DONE else "progress_and_blocked", task_number
        )
    if status is None:
        status = DONE if percent == 100 else IN_PROGRESS
    if status == DONE:
        percent = 100
    return QuickReply(task_number, status, percent, _note(words[at:]))

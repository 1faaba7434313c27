"""Split long text into messages at the largest text limit a channel declares (no channel
takes more in one message; the outbox splits further where a channel's limit is smaller),
at line breaks where possible, numbering the parts "(1/3)" so the reader knows more is
coming."""

from __future__ import annotations

from bot.channels.registry import default_registry
from bot.config import Settings

MAX_CHARS = default_registry().max_text_limit(Settings())
_MARK_ROOM = 12  # room for " (99/99)" and a newline


def _pieces(line: str, limit: int) -> list[str]:
    """A line that alone is too long is cut at the last space before the limit."""
    out: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        out.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    out.append(line)
    return out


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """``[text]`` if it fits, else parts that each fit, split between lines."""
    if len(text) <= limit:
        return [text]
    room = limit - _MARK_ROOM
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in (p for raw in text.split("\n") for p in _pieces(raw, room)):
        extra = len(line) + (1 if current else 0)
        if current and size + extra > room:
            parts.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current))
    total = len(parts)
    return [f"{part}\n({index}/{total})" for index, part in enumerate(parts, start=1)]

"""The one text splitter of the channels: pieces that fit a channel's declared text limit."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break where there is one."""
    if limit < 1:
        raise ValueError("a text limit is at least one character")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return pieces

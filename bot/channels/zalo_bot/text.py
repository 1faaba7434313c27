"""Splitting long text for platforms with a small limit (Zalo Bot: 2000 characters)."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.types import Button

MAX_TEXT = 2000


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters: cut at the last line break that fits, else at
    the last space, else hard; the line breaks and spaces at a cut are dropped."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def numbered_menu(text: str, buttons: Sequence[Button]) -> str:
    """A button menu as text: "1. …" lines the user answers with a number (the registry's
    shared numbered menu maps the number back to the payload, as the console does)."""
    lines = [f"{number}. {button.label}" for number, button in enumerate(buttons, 1)]
    return "\n".join([text, "", *lines]) if lines else text

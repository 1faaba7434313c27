"""Text matching the way officials type: NFC, case-folded, with or without diacritics.

"hoàn thành", "Hoàn Thành" and "hoan thanh" must all match; so must "Sở TN&MT" after
abbreviation expansion elsewhere. Everything that compares user or document text uses
:func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d + a combining mark: NFD does not split them.
_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    """NFC-normalise and trim; Vietnamese keyboards emit both composed and decomposed forms."""
    return unicodedata.normalize("NFC", text).strip()


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def fold(text: str) -> str:
    """The matching key: no diacritics, lower case, single spaces."""
    return _SPACES.sub(" ", strip_diacritics(nfc(text)).casefold()).strip()

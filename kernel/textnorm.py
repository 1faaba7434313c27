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


# C0 controls (but tab and newline), DEL and the C1 controls: never meant as text, and a NUL
# ends a string in PostgreSQL.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])


def clean(text: str) -> str:
    """``text`` safe to store and to echo: a lone surrogate (half of a UTF-16 pair, which a
    platform's JSON may carry but UTF-8 and every database refuse) becomes U+FFFD, a pair
    written as two halves becomes its character, and control characters other than tab and
    newline are dropped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.translate(_CONTROLS)

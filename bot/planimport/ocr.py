"""OCR-tolerant matching: the folded form of scanned text, and how damaged a text looks.

A scanned plan (seed 001, Bắc Giang 2021) loses or garbles diacritics in typical ways: "ô"
read as "6" ("Chi s6"), "đ" as "d" or "P" ("Pay manh" = "Đẩy mạnh"), "ư" as "u" or "ir"
("chirc" = "chức"), "ũ" as "ii" ("tham nhiing"), "ở" as "&" ("S& Noi vu"), "l" as "1"
("1a" = "là"), "ã" as "3"/"4" ("cap x4" = "cấp xã"), "ư" as "w" ("phwong"). :func:`ocr_fold`
undoes these on top of :func:`kernel.textnorm.fold`, so headings, dimension names, agency
names and deadline words match whether or not the text was scanned. Vietnamese writes none of
"ii", "ir", "w", "z", "j", a letter glued to a digit, or "p" before a vowel (except a few
loanwords), so clean text folds exactly as :func:`fold` folds it.

The task text itself is never changed: only the matching key is.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

from kernel.textnorm import fold, nfc, strip_diacritics

# Characters a scanner puts in place of a letter, inside a word that also has letters.
_IN_WORD = str.maketrans({"0": "o", "1": "l", "3": "a", "4": "a", "5": "s", "6": "o"})
_SYMBOLS = str.maketrans({"¢": "c", "@": "u", "¥": "y", "$": "s", "©": "c", "€": "e"})
_WORD = re.compile(r"\w+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_DIGIT = re.compile(r"\d")
# "S& " (Sở), "v&i" (với): an ampersand glued to a single letter or inside a lower-case word;
# "TN&MT" (capitals on both sides) is an abbreviation and stays.
_AMP_AFTER_LETTER = re.compile(r"(?<![\w&])([A-Za-z])&(?![A-Z0-9])")
_AMP_IN_WORD = re.compile(r"(?<=[a-z])&(?=[a-z])")
# Loanwords and acronyms that really start with "p" + vowel.
_P_WORDS = {"papi", "papl", "par", "pin", "pano", "pa"}
_ROMAN = re.compile(r"^[ivxl]+$", re.IGNORECASE)


def _fix_word(word: str) -> str:
    """One word (diacritics already gone, case kept) repaired and lower-cased."""
    if _HAS_DIGIT.search(word) and _HAS_LETTER.search(word):
        word = word.translate(_IN_WORD)
    if (word.isupper() and len(word) > 1) or _ROMAN.match(word):
        return word.lower()  # "II", "III/2024", "UBND": numerals and acronyms, not damage
    word = word.lower()
    word = word.replace("ir", "u").replace("ii", "u").replace("w", "u").replace("z", "u")
    word = word.replace("j", "i")
    if (
        len(word) > 1
        and word[0] == "p"
        and word[1] in "aeiouy"
        and word not in _P_WORDS
        and not word.startswith("papi")
    ):
        word = "d" + word[1:]
    return word


@lru_cache(maxsize=8192)  # headings and names are folded again and again
def ocr_fold(text: str) -> str:
    """The matching key of possibly scanned text: :func:`fold` plus the usual OCR repairs."""
    text = nfc(text).translate(_SYMBOLS)
    text = _AMP_AFTER_LETTER.sub(r"\1o", text)
    text = _AMP_IN_WORD.sub("o", text)
    return fold(_WORD.sub(lambda m: _fix_word(m.group(0)), strip_diacritics(text)))


def ocr_chars(text: str) -> str:
    """A folded key of ``text`` with exactly its length (for finding phrases by position):
    diacritics gone, lower case, and the one-for-one scanner swaps undone ("s&" → "so",
    "s6" → "so"); "ii"/"ir" are left, being two letters for one."""
    key = strip_diacritics(text).lower().translate(_SYMBOLS)
    if len(key) != len(text):
        return key  # the caller compares lengths and gives up
    key = _AMP_AFTER_LETTER.sub(r"\1o", key)
    key = _AMP_IN_WORD.sub("o", key)
    return _WORD.sub(
        lambda m: m.group(0).translate(_IN_WORD) if _HAS_LETTER.search(m.group(0)) else m.group(0),
        key,
    )


def words(text: str) -> list[str]:
    """The folded words of ``text`` (punctuation dropped)."""
    return _WORD.findall(ocr_fold(text))


def similarity(a: str, b: str) -> float:
    """0–1: how alike two texts are once folded (difflib's ratio on the folded words)."""
    return _ratio(" ".join(words(a)), " ".join(words(b)))


def _ratio(left: str, right: str) -> float:
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def starts_like(text: str, phrase: str, threshold: float = 0.8) -> bool:
    """True when ``text`` begins with ``phrase``, allowing OCR damage in either."""
    head = words(text)
    want = words(phrase)
    if not want or len(head) < len(want):
        return False
    best = 0.0
    for extra in (0, -1, 1):  # a word split or glued by the scanner
        size = len(want) + extra
        if size <= 0 or size > len(head):
            continue
        best = max(best, _ratio(" ".join(head[:size]), " ".join(want)))
    return best >= threshold


def find_like(text: str, phrase: str, threshold: float = 0.8) -> int | None:
    """Index (in folded words) where ``phrase`` occurs in ``text``, allowing damage."""
    have = words(text)
    want = " ".join(words(phrase))
    size = len(want.split())
    if not size:
        return None
    for start in range(0, max(len(have) - size + 1, 0)):
        if _ratio(" ".join(have[start : start + size]), want) >= threshold:
            return start
    return None


# Letters Vietnamese writes with diacritics; clean prose has one on most of its words.
_VIETNAMESE_MARKED = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợ"
    r"ùúủũụưừứửữựỳýỷỹỵ]",
    re.IGNORECASE,
)
_GLYPHS = re.compile(r"[¢@¥$©€]|[^\W\d_]\d|\d[^\W\d_]")  # "s6", "1a", "¢6": never a word
_SPELLING = re.compile(r"ii|ir|w|z|j|^p[aeiouy]")  # no Vietnamese word is spelt so
# A Vietnamese syllable, folded: onset, one to three vowels, coda. Scanned words often are
# not one ("cta", "hodc", "ctia").
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnprstvx])?"
    r"[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$"
)
_ALLOWED_SUSPECTS = {
    "internet", "website", "zalo", "papi", "wifi", "covid", "email", "web", "index", "par",
    "viettel", "online", "camera", "video", "led",
}  # fmt: skip


def damage_ratio(text: str) -> float:
    """Share of the words of ``text`` that look like OCR damage (0 for clean Vietnamese)."""
    tokens = nfc(text).split()
    letters = [t for t in tokens if _HAS_LETTER.search(t)]
    if not letters:
        return 0.0
    return sum(1 for token in letters if _suspect(token)) / len(letters)


def _suspect(token: str) -> bool:
    bare = token.strip(".,;:()\"'“”…/-")
    key = fold(bare)
    if key in _ALLOWED_SUSPECTS or key in _P_WORDS:
        return False
    if _GLYPHS.search(bare):
        return True
    if not bare.isalpha() or bare.isupper() or len(bare) == 1:
        return False  # acronyms ("UBND", "TTHC", "III") and numbers are not syllables
    return bool(_SPELLING.search(key)) or not _SYLLABLE.match(key)


def marked_ratio(text: str) -> float:
    """Share of the words of ``text`` that carry a Vietnamese diacritic."""
    tokens = [t for t in nfc(text).split() if _HAS_LETTER.search(t)]
    if not tokens:
        return 0.0
    return sum(1 for t in tokens if _VIETNAMESE_MARKED.search(t)) / len(tokens)


def looks_damaged(text: str) -> bool:
    """True when a text looks OCR-damaged: words no Vietnamese spelling allows ("s6",
    "chirc", "Pay"), or, in a longer text, hardly any diacritics left."""
    tokens = [t for t in text.split() if _HAS_LETTER.search(t)]
    if not tokens:
        return False
    if damage_ratio(text) >= 0.04:
        return True
    return len(tokens) >= 8 and marked_ratio(text) < 0.3

"""Agency names in a prose plan's "Tổ chức thực hiện" paragraphs, OCR-tolerant.

"2. Sở Nội vụ", "6. Sở Y tế" (scanned as "6.56 Y té"), "10. Đề nghị Ủy ban Mặt trận Tổ quốc
Việt Nam tỉnh chủ trì, phối hợp …", "đ) Ngoài các nhiệm vụ trên, UBND cấp huyện:": the
agencies are the words before the first duty verb ("chủ trì", "đẩy mạnh", "tham mưu" …),
split on commas. Each is matched against the usual names (folded, abbreviations expanded,
tolerating scan damage) and then spelt the usual way ("Sé Noi vu" → "Sở Nội vụ"); a name
that matches none is kept as written when it starts like an agency ("Báo Bắc Giang") and
dropped when it is only a vague group ("các cơ quan, đơn vị có liên quan").
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import cache

from bot.planimport.agencies import KNOWN_AGENCIES, display_name, group_level, normalise_name
from bot.planimport.ocr import ocr_fold

MATCH = 0.86  # folded names this alike are the same agency (one or two damaged letters)

EXTRA_AGENCIES = (
    "UBND tỉnh",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Sở Ngoại vụ",
    "Sở Giao thông vận tải",
    "Ban Dân tộc tỉnh",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Cục Thuế tỉnh",
    "Kho bạc Nhà nước tỉnh",
    "Tỉnh đoàn",
    "Hội Liên hiệp Phụ nữ tỉnh",
    "Hội Nông dân tỉnh",
    "Liên đoàn Lao động tỉnh",
)
# Other wordings of the group names, and the name the plans' tables use for them.
ALIASES = {
    "Các sở, cơ quan chuyên môn trực thuộc UBND tỉnh": "Các sở, ban, ngành",
    "Các sở, cơ quan chuyên môn thuộc UBND tỉnh": "Các sở, ban, ngành",
    "Các sở, cơ quan thuộc UBND tỉnh": "Các sở, ban, ngành",
    "Các sở, ngành": "Các sở, ban, ngành",
    "UBND các huyện, thành phố": "UBND cấp huyện",
    "UBND các xã, phường, thị trấn": "UBND cấp xã",
    "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh": "Ủy ban MTTQ Việt Nam tỉnh",
    "Mặt trận Tổ quốc tỉnh": "Ủy ban MTTQ Việt Nam tỉnh",
}
# Folded first words of an agency name: a piece starting otherwise is not an agency.
_STARTS = (
    "so ",
    "cac so",
    "ubnd",
    "uy ban",
    "van phong",
    "thanh tra",
    "dai ",
    "bao ",
    "benh vien",
    "cong an",
    "ban ",
    "hoi ",
    "tinh doan",
    "lien doan",
    "cuc ",
    "chi cuc",
    "kho bac",
    "ngan hang",
    "trung tam",
    "phong ",
    "toa an",
    "vien ",
    "bo chi huy",
    "mat tran",
)
# Two-word duty verbs (folded) that end the agency part of a heading.
_VERBS = {
    "chu tri",
    "phoi hop",
    "day manh",
    "co trach",
    "chiu trach",
    "la co",
    "thuc hien",
    "tham muu",
    "to chuc",
    "xay dung",
    "huong dan",
    "tang cuong",
    "trien khai",
    "chi dao",
    "nang cao",
    "kiem tra",
    "theo doi",
    "can cu",
    "tiep tuc",
    "ra soat",
}
_PLEASE = ("de nghi", "giao")
_PUNCT = ".,;:()\"'“”"


def _key(name: str) -> str:
    key = normalise_name(name)
    return " ".join(re.sub(r"\b(?:tinh|viet nam)\b", " ", key).split())


@cache
def _candidates() -> tuple[tuple[str, str], ...]:
    names = {name: name for name in (*KNOWN_AGENCIES, *EXTRA_AGENCIES)} | ALIASES
    return tuple((_key(written), usual) for written, usual in names.items())


@cache
def canonical(name: str) -> str | None:
    """The usual spelling of the agency ``name`` stands for, or None."""
    tokens = name.split()
    if tokens and tokens[0].isdigit() and len(tokens[0]) <= 2:
        tokens[0] = ocr_fold("x" + tokens[0])[1:]  # "56 Y té": "Sở" read as digits
    text = " ".join(tokens)
    if group_level(text) is not None:
        return display_name(text)
    key = _key(text)
    if not key:
        return None
    best, usual = 0.0, None
    for other, spelt in _candidates():
        score = SequenceMatcher(None, key, other, autojunk=False).ratio()
        if score > best:
            best, usual = score, spelt
    return usual if best >= MATCH else None


def _looks_like_agency(piece: str) -> bool:
    key = ocr_fold(piece) + " "
    return any(key.startswith(start) for start in _STARTS)


def _clean(piece: str) -> str:
    return " ".join(piece.split()).strip(" " + _PUNCT)


def _resolve_pieces(pieces: list[str]) -> list[str]:
    found: list[str] = []
    i = 0
    while i < len(pieces):
        if i + 1 < len(pieces) and (both := canonical(f"{pieces[i]}, {pieces[i + 1]}")):
            found.append(both)  # "Các sở, cơ quan chuyên môn …": a comma inside one name
            i += 2
            continue
        piece = pieces[i]
        i += 1
        if name := canonical(piece):
            found.append(name)
            continue
        parts = [_clean(p) for p in re.split(r"\s+(?:và|va)\s+", piece) if _clean(p)]
        if len(parts) > 1 and any(canonical(p) or _looks_like_agency(p) for p in parts):
            found.extend(canonical(p) or p for p in parts if canonical(p) or _looks_like_agency(p))
        elif _looks_like_agency(piece):
            found.append(piece)
    unique: list[str] = []
    for name in found:
        if name not in unique:
            unique.append(name)
    return unique


def agencies_in(text: str) -> list[str]:
    """The agencies listed in ``text`` ("Sở A, Sở B và UBND cấp huyện")."""
    return _resolve_pieces([_clean(p) for p in re.split(r"[,;]", text) if _clean(p)])


def split_heading(text: str) -> tuple[list[str], str]:
    """(agencies, duty) of a "Tổ chức thực hiện" heading: the agencies named before the
    first duty verb, and the rest ("" when the heading is only the names)."""
    raw = text.split()
    keys = [ocr_fold(token).strip(_PUNCT) for token in raw]
    start = 2 if " ".join(keys[:2]) in _PLEASE else 1 if keys[:1] == ["giao"] else 0
    end = len(raw)
    for i in range(start + 1, len(raw)):
        if raw[i - 1].endswith(":"):
            end = i
            break
        if _is_verb(" ".join(keys[i : i + 2])):
            end = i
            break
    names = agencies_in(" ".join(raw[start:end]).rstrip(":"))
    return names, " ".join(raw[end:])


@cache
def _is_verb(pair: str) -> bool:
    return pair in _VERBS or any(
        SequenceMatcher(None, pair, verb, autojunk=False).ratio() >= MATCH for verb in _VERBS
    )


def intro_agencies(text: str) -> list[str]:
    """The agencies an intro names before its colon ("Ngoài các nhiệm vụ trên, UBND cấp
    huyện:")."""
    head = text.rstrip().rstrip(":")
    return [name for name in agencies_in(head) if canonical(name) or _looks_like_agency(name)]


def lead_named_in(text: str) -> list[str]:
    """Agencies an item itself puts in charge: "Sở Nội vụ chủ trì", "Giao Sở Y tế …"."""
    raw = text.split()
    keys = [ocr_fold(token).strip(_PUNCT) for token in raw]
    found: list[str] = []
    for i in range(1, len(raw)):
        if " ".join(keys[i : i + 2]) not in {"chu tri", "phu trach"}:
            continue
        for size in range(min(i, 8), 0, -1):  # the longest name just before the verb
            name = canonical(" ".join(raw[i - size : i]).strip(_PUNCT))
            if name:
                found.append(name)
                break
    return found

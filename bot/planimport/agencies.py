"""Agency cells: split into agencies, and resolve each agency to units of the province.

Group names fan out: "UBND cấp xã" (and "UBND các xã, phường, thị trấn") = every commune,
"UBND cấp huyện" = every district, "Các sở, ban, ngành" = every department. Named bodies match
a unit's name despite case, diacritics and the usual abbreviations ("Sở TN&MT", "VP UBND
tỉnh", "Ủy ban MTTQ VN tỉnh"). A name that matches nothing is kept (and flagged by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.planimport.ocr import ocr_chars, ocr_fold
from kernel.textnorm import fold, nfc
from storage.models import Unit

# Phrases whose commas do not separate agencies (folded, as regular expressions).
_ATOMIC = [
    r"cac so, ban, nganh(?: (?:co )?lien quan| thuoc tinh)?",
    r"cac so, nganh(?: (?:co )?lien quan)?",
    r"(?:ubnd )?cac xa, phuong, thi tran",
    r"(?:ubnd )?cac huyen, (?:thi xa, )?thanh pho",
    r"cac phong, ban",
    r"cac co quan, don vi",
    r"cac cap, cac nganh",
    r"to chuc chinh tri, xa hoi",
]
_ATOMIC_RE = re.compile("|".join(f"(?:{p})" for p in _ATOMIC))
# Words that begin an agency name when written with a capital: where a run-together cell
# ("UBND cấp huyện Các sở, ban, ngành") is cut in two.
AGENCY_WORDS = (
    "Sở|Các sở|UBND|Ủy ban|Uỷ ban|Văn phòng|Thanh tra|Đài|Báo|Bảo hiểm|Bệnh viện|Công an|Ban|"
    "Hội|Tỉnh đoàn|Liên đoàn|Cục|Chi cục|Kho bạc|Ngân hàng|Trung tâm|Phòng|Công ty|Tòa án|Viện"
)
_STARTS = re.compile(rf"(?<![\w(])(?:{AGENCY_WORDS})\b")
# A left part ending in one of these is an unfinished name ("Văn phòng | UBND tỉnh").
_UNFINISHED = {"va", "phong", "vp", "ban", "so", "cap", "tuyen", "cua", "thuoc", "&", "-", "tam"}

_ABBREVIATIONS = [
    (r"\btn ?& ?mt\b|\btnmt\b|\btn va mt\b", "tai nguyen va moi truong"),
    (r"\bgd ?& ?dt\b|\bgddt\b|\bgd va dt\b", "giao duc va dao tao"),
    (r"\btt ?& ?tt\b|\btttt\b|\btt va tt\b", "thong tin va truyen thong"),
    (r"\bkh ?& ?dt\b|\bkhdt\b|\bkh va dt\b", "ke hoach va dau tu"),
    (r"\bnn ?& ?ptnt\b|\bnn va ptnt\b", "nong nghiep va phat trien nong thon"),
    (r"\bptnt\b", "phat trien nong thon"),
    (r"\blđtb ?& ?xh\b|\bldtb ?& ?xh\b|\bldtbxh\b", "lao dong thuong binh va xa hoi"),
    (r"\bvh ?, ?tt ?& ?dl\b|\bvhttdl\b", "van hoa the thao va du lich"),
    (r"\bmttq\b", "mat tran to quoc"),
    (r"\bubnd\b", "uy ban nhan dan"),
    (r"\bhdnd\b", "hoi dong nhan dan"),
    (r"\bvp\b", "van phong"),
    (r"\bbhxh\b", "bao hiem xa hoi"),
    (r"\bpt ?- ?th\b|\bpt ?va ?th\b", "phat thanh va truyen hinh"),
    (r"\bvn\b", "viet nam"),
    (r"&", " va "),
]
_ABBREVIATIONS_RE = [(re.compile(p), r) for p, r in _ABBREVIATIONS]
_NOISE = re.compile(r"\b(?:viet nam|tinh)\b")


def _protect_atomic(text: str) -> str:
    """Replace commas inside group phrases by NUL so a split on "," leaves them whole."""
    key = ocr_chars(text)  # "Cac s&, ban, nganh" (scanned) is a group name too
    if len(key) != len(text):
        return text
    chars = list(text)
    for match in _ATOMIC_RE.finditer(key):
        for i in range(match.start(), match.end()):
            if chars[i] == ",":
                chars[i] = "\0"
    return "".join(chars)


def split_at_starts(text: str) -> list[str]:
    """Cut ``text`` where a capitalised agency name begins after a finished one."""
    pieces: list[str] = []
    start = 0
    depth_ok = True
    for match in _STARTS.finditer(text):
        if match.start() == 0:
            continue
        left = text[start : match.start()].strip()
        depth_ok = text[: match.start()].count("(") == text[: match.start()].count(")")
        last_word = fold(left).split(" ")[-1] if left else ""
        if left and depth_ok and last_word not in _UNFINISHED:
            pieces.append(left)
            start = match.start()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _clean(piece: str) -> str:
    return piece.replace("\0", ",").strip(" .;,:-\t").strip()


def split_agencies(cell: str) -> list[str]:
    """The agencies named in one lead or coordinating cell, in order."""
    text = " ".join(nfc(cell).split())
    if not text:
        return []
    result: list[str] = []
    for part in re.split(r"[;,\n]", _protect_atomic(text)):
        for piece in split_at_starts(part.strip()):
            name = _clean(piece)
            if not name:
                continue
            key = fold(name)
            if result and (key.startswith("cap ") or key.startswith("tuyen ")):
                # "UBND cấp huyện, cấp xã": the second takes the head of the first.
                # "cấp" and "tuyến" also as scanned ("cap", "cép", "tuyen").
                head = re.split(r"\s(?:c\S{1,2}p|tuy\S{1,2}n)\s", result[-1], maxsplit=1)[0]
                if head != result[-1]:
                    name = f"{head} {name}"
            result.append(name)
    return result


def normalise_name(name: str) -> str:
    """The matching key of an agency or unit name: folded, abbreviations expanded."""
    key = ocr_fold(name)  # scanned plans: "Sé Noi vu", "S& Tai nguyén" fold like "Sở …"
    for pattern, replacement in _ABBREVIATIONS_RE:
        key = pattern.sub(replacement, key)
    key = re.sub(r"[^\w]+", " ", key)
    return " ".join(key.split())


def _loose(key: str) -> str:
    """The key without "tỉnh" and "Việt Nam", which plans add or drop at will."""
    return " ".join(_NOISE.sub(" ", key).split())


# "Ủy ban nhân dân" before a local unit's own name: the plan means the unit itself.
_PEOPLES_COMMITTEE = re.compile(
    r"^uy ban nhan dan (?=(?:xa|phuong|thi tran|huyen|quan|thi xa|thanh pho|tinh) )"
)
_RELEVANT = r"(?: (?:co )?lien quan| thuoc tinh)?$"
# "c[a-z]p": "cấp" as scanned ("cép", "cip") too.
GROUP_LEVELS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^(?:uy ban nhan dan )?(?:c[a-z]p xa|(?:cac )?xa phuong thi tran)" + _RELEVANT),
        "commune",
    ),
    (
        re.compile(
            r"^(?:uy ban nhan dan )?(?:c[a-z]p huyen|cac huyen(?: thi xa)? thanh pho)" + _RELEVANT
        ),
        "district",
    ),
    (re.compile(r"^cac so(?: ban)? nganh" + _RELEVANT), "department"),
]


def group_level(name: str) -> str | None:
    """The unit level a group name stands for ("UBND cấp xã" → "commune"), if it is one."""
    key = normalise_name(name)
    for pattern, level in GROUP_LEVELS:
        if pattern.match(key):
            return level
    return None


@dataclass
class UnitIndex:
    """The units of one province, indexed for agency matching."""

    by_level: dict[str, list[Unit]] = field(default_factory=dict)
    by_key: dict[str, list[Unit]] = field(default_factory=dict)
    by_loose: dict[str, list[Unit]] = field(default_factory=dict)

    @classmethod
    def build(cls, units: Iterable[Unit]) -> UnitIndex:
        units = list(units)
        # "Sở Nội vụ tỉnh Bắc Giang" is "Sở Nội vụ" in the province's own plan.
        places = {
            re.sub(r"^(tinh|thanh pho) ", "", normalise_name(u.name))
            for u in units
            if u.level == "province"
        }
        index = cls()
        for unit in units:
            index.by_level.setdefault(unit.level, []).append(unit)
            key = normalise_name(unit.name)
            index.by_key.setdefault(key, []).append(unit)
            loose = {_loose(key)} | {
                _loose(key.removesuffix(f" {place}")) for place in places if place
            }
            for variant in loose:
                index.by_loose.setdefault(variant, []).append(unit)
        return index

    def resolve(self, name: str) -> list[Unit]:
        """The units an agency name stands for; empty when nothing matches."""
        level = group_level(name)
        if level is not None:
            return list(self.by_level.get(level, []))
        key = normalise_name(name)
        found = self._by_name(key)
        if not found and (short := _PEOPLES_COMMITTEE.sub("", key)) != key:
            found = self._by_name(short)  # "UBND xã An Hà" is the unit "Xã An Hà"
        return found

    def _by_name(self, key: str) -> list[Unit]:
        if key in self.by_key:
            return list(self.by_key[key])
        loose = _loose(key)
        if loose in self.by_loose:
            return list(self.by_loose[loose])
        nearest = _nearest(loose, self.by_loose)  # a scanned name ("Sé Noi vu")
        return list(self.by_loose[nearest]) if nearest else []


def _word_alike(a: str, b: str) -> bool:
    """One scanned word for another: equal, one letter swapped ("se"/"so"), or, in a
    longer word, one letter more or fewer ("trueong"/"truong")."""
    if a == b:
        return True
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if abs(len(a) - len(b)) == 1 and min(len(a), len(b)) >= 4:
        shorter, longer = sorted((a, b), key=len)
        return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
    return False


def _scan_alike(key: str, other: str) -> bool:
    """Word by word alike, at most two words damaged, and at least one word intact."""
    left, right = key.split(), other.split()
    if len(left) != len(right) or len(left) < 2:
        return False
    damaged = sum(a != b for a, b in zip(left, right, strict=True))
    return damaged <= min(2, len(left) - 1) and all(
        _word_alike(a, b) for a, b in zip(left, right, strict=True)
    )


def _nearest(key: str, keys: Iterable[str]) -> str:
    """The one key a scanned name is nearly equal to ("" when none, or two, come close)."""
    alike = [other for other in keys if _scan_alike(key, other)]
    return alike[0] if len(alike) == 1 else ""


# Usual spellings of bodies that plans name in capitals or abbreviations, for display.
KNOWN_AGENCIES = (
    "UBND cấp xã",
    "UBND cấp huyện",
    "Các sở, ban, ngành",
    "Sở Nội vụ",
    "Văn phòng UBND tỉnh",
    "Sở Tài nguyên và Môi trường",
    "Sở Tư pháp",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Thông tin và Truyền thông",
    "Sở Tài chính",
    "Sở Kế hoạch và Đầu tư",
    "Sở Xây dựng",
    "Sở Giao thông vận tải",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ",
    "Thanh tra tỉnh",
    "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Ủy ban MTTQ Việt Nam tỉnh",
)


def display_name(name: str) -> str:
    """A name as the plans usually spell it: "SỞ TƯ PHÁP" → "Sở Tư pháp", "CÁC XÃ, PHƯỜNG,
    THỊ TRẤN" → "UBND cấp xã"; an unknown all-capitals name is put in sentence case."""
    text = " ".join(nfc(name).split())
    level = group_level(text)
    if level is not None:
        return {"commune": "UBND cấp xã", "district": "UBND cấp huyện"}.get(
            level, "Các sở, ban, ngành"
        )
    key = normalise_name(text)
    for known in KNOWN_AGENCIES:
        if normalise_name(known) == key:
            return known
    if text.isupper():
        return text[:1] + text[1:].lower()
    return text

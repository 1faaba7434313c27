"""Which PAPI dimension (1–8) and sub-dimension a task serves.

Where the plan's table says so (grouped appendices such as Bắc Kạn 2022) the dimension and
sub-dimension are read from it by name (:func:`match_taxonomy`, confidence 1.0). Otherwise a
keyword classifier infers them: every keyword found in the folded task text (no diacritics,
lower case) adds its weight to its dimension, once per occurrence; the best dimension wins,
and its sub-dimension is the best-scoring sub-dimension keyword inside it. Confidence is the
winner's share of all points (0–1); below :data:`LOW_CONFIDENCE` the task is flagged for
review. The table is documented in ``docs/import.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.planimport.ocr import ocr_fold
from kernel.textnorm import fold
from storage.taxonomy import taxonomy_rows

LOW_CONFIDENCE = 0.5

# (dimension, sub-dimension or None, folded keyword, weight)
KEYWORDS: list[tuple[int, str | None, str, float]] = [
    # 1 Participation at local levels
    (1, "1.1", "chi so papi", 1.0),
    (1, "1.1", "tuyen truyen", 0.5),
    (1, "1.1", "tri thuc cong dan", 2.0),
    (1, "1.2", "dan chu o co so", 2.0),
    (1, "1.2", "dan chu co so", 2.0),
    (1, "1.2", "quy che dan chu", 2.0),
    (1, "1.2", "dan chu o xa", 2.0),
    (1, "1.2", "co hoi tham gia", 2.0),
    (1, "1.2", "tham gia cua nguoi dan", 1.5),
    (1, "1.3", "bau cu", 2.0),
    (1, "1.3", "truong thon", 1.5),
    (1, "1.4", "dong gop tu nguyen", 2.0),
    (1, "1.4", "dong gop cua nhan dan", 1.5),
    # 2 Transparency in local decision-making
    (2, "2.1", "tiep can thong tin", 2.0),
    (2, "2.1", "nhan dan biet", 1.5),
    (2, "2.1", "dua tin", 1.0),
    (2, "2.1", "cong khai", 0.5),
    (2, "2.2", "ho ngheo", 2.0),
    (2, "2.3", "ngan sach", 1.0),
    (2, "2.3", "thu, chi", 1.0),
    (2, "2.4", "quy hoach", 1.0),
    (2, "2.4", "ke hoach su dung dat", 2.0),
    (2, "2.4", "khung gia dat", 2.0),
    (2, "2.4", "thu hoi dat", 1.5),
    (2, "2.4", "giai phong mat bang", 1.0),
    # 3 Vertical accountability
    (3, "3.1", "doi thoai", 1.5),
    (3, "3.1", "tiep cong dan", 1.5),
    (3, "3.1", "trach nhiem giai trinh", 2.0),
    (3, "3.1", "ban thanh tra nhan dan", 1.5),
    (3, "3.1", "giam sat dau tu cong dong", 1.0),
    (3, "3.2", "khieu nai", 1.0),
    (3, "3.2", "to cao", 1.0),
    (3, "3.3", "tro giup phap ly", 2.0),
    (3, "3.3", "tu phap", 1.0),
    # 4 Control of corruption
    (4, "4.1", "tham nhung", 2.0),
    (4, "4.1", "tieu cuc", 1.0),
    (4, "4.2", "lot tay", 1.5),
    (4, "4.2", "voi vinh", 1.0),
    (4, "4.3", "tuyen dung", 1.5),
    # 5 Public administrative procedures
    (5, "5.4", "tthc", 1.0),
    (5, "5.4", "thu tuc hanh chinh", 1.0),
    (5, "5.4", "mot cua", 1.5),
    (5, "5.1", "chung thuc", 1.5),
    (5, "5.2", "giay phep xay dung", 2.0),
    (5, "5.3", "giay chung nhan quyen su dung dat", 2.0),
    # 6 Public service delivery
    (6, "6.1", "y te", 1.0),
    (6, "6.1", "benh vien", 1.0),
    (6, "6.1", "kham, chua benh", 1.0),
    (6, "6.1", "kham chua benh", 1.0),
    (6, "6.1", "y duc", 1.5),
    (6, "6.1", "nguoi benh", 1.0),
    (6, "6.2", "giao duc", 1.0),
    (6, "6.2", "truong hoc", 1.0),
    (6, "6.2", "hoc sinh", 1.0),
    (6, "6.2", "di hoc", 1.0),
    (6, "6.3", "dien sinh hoat", 1.5),
    (6, "6.3", "nuoc sach", 1.0),
    (6, "6.3", "duong giao thong", 1.0),
    (6, "6.3", "ha tang", 1.0),
    (6, "6.3", "rac thai", 0.5),
    (6, "6.4", "an ninh trat tu", 1.5),
    (6, "6.4", "toi pham", 1.5),
    (6, None, "cung ung dich vu cong", 1.5),
    (6, None, "muc do hai long", 1.0),
    # 7 Environmental governance
    (7, "7.1", "moi truong", 1.0),
    (7, "7.1", "o nhiem", 1.0),
    (7, "7.1", "diem nong", 0.5),
    (7, "7.2", "khong khi", 1.5),
    (7, "7.2", "khi thai", 1.5),
    (7, "7.3", "nguon nuoc", 1.5),
    (7, "7.3", "song, suoi", 1.0),
    # 8 E-governance
    (8, "8.1", "thong tin dien tu", 2.0),
    (8, "8.1", "cong thong tin", 1.5),
    (8, "8.1", "dich vu cong truc tuyen", 1.0),
    (8, "8.2", "internet", 2.0),
    (8, "8.3", "phan hoi", 1.0),
    (8, "8.3", "phuc dap", 1.5),
    (8, "8.3", "hoi dap", 1.5),
]
_COMPILED = [(d, s, re.compile(r"\b" + re.escape(k) + r"\b"), w) for d, s, k, w in KEYWORDS]


@dataclass(frozen=True)
class Classification:
    dimension: int | None
    subdimension: str | None
    confidence: float


def classify(text: str) -> Classification:
    """Infer the PAPI dimension of a task from its text."""
    key = ocr_fold(text)  # OCR-damaged text ("tham nhiing") matches the keywords too
    by_dimension: dict[int, float] = {}
    by_sub: dict[str, float] = {}
    for dimension, sub, pattern, weight in _COMPILED:
        hits = len(pattern.findall(key))
        if not hits:
            continue
        by_dimension[dimension] = by_dimension.get(dimension, 0.0) + hits * weight
        if sub:
            by_sub[sub] = by_sub.get(sub, 0.0) + hits * weight
    total = sum(by_dimension.values())
    if not total:
        return Classification(None, None, 0.0)
    # Ties go to the lower dimension number: deterministic, and documented.
    best = max(sorted(by_dimension), key=lambda d: by_dimension[d])
    subs = {s: v for s, v in by_sub.items() if s.split(".")[0] == str(best)}
    sub = max(sorted(subs), key=lambda s: subs[s]) if subs else None
    return Classification(best, sub, round(by_dimension[best] / total, 2))


def _name_key(name: str) -> str:
    """Folded words, without the "Dịch vụ" / "Sử dụng" that plans add or drop in front."""
    key = " ".join(re.sub(r"[^\w]+", " ", fold(name)).split())
    return re.sub(r"^(?:dich vu|su dung) ", "", key)


@cache
def _papi_items() -> tuple[tuple[str, str | None, str], ...]:
    """(code, parent code, name key) of every PAPI item."""
    return tuple(
        (item.code, item.parent_code, _name_key(item.name_vi))
        for item in taxonomy_rows()
        if item.index_name == "PAPI"
    )


@cache
def match_taxonomy(name: str, dimension: int | None = None) -> str | None:
    """The PAPI code ("2" or "2.4") whose name is ``name``, as written in a plan's table.

    Names are compared folded; a plan's shortened or extended wording ("Công khai, minh
    bạch" for dimension 2, "Dịch vụ hành chính cấp xã/phường", "Chất lượng không khí; nguồn
    nước sinh hoạt") matches the item whose name starts like it or that it starts like.
    Within a dimension only its own sub-dimensions are considered.
    """
    key = _name_key(name)
    if not key:
        return None
    parent = str(dimension) if dimension is not None else None
    candidates = [(code, other) for code, up, other in _papi_items() if up == parent]
    for code, other in candidates:
        if other == key:
            return code
    best: tuple[int, str] | None = None
    for code, other in candidates:
        shared = _common_prefix_words(key, other)
        if shared >= 2 and (best is None or shared > best[0]):
            best = (shared, code)
    return best[1] if best else None


def _common_prefix_words(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a.split(), b.split(), strict=False):
        if left != right:
            break
        count += 1
    return count

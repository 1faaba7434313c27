"""A prose plan's text as blocks: headings, lettered and dashed items, paragraphs.

The lines of a scanned or typed plan are wrapped at the page width, broken by page breaks,
and carry page numbers, web links and the "Nơi nhận" footer. This module drops those and
joins wrapped lines back into blocks, each starting where the plan starts one:

- a part heading: a Roman numeral (as the scanner read it: "I.", "I11.", even "1.") and a
  text in capitals ("II. NỘI DUNG THỰC HIỆN");
- a numbered heading ("1. Chỉ số nội dung 1: …", "2. Sở Nội vụ");
- a lettered item ("a) …", also "đ)" and the scanner's "¢)") or a dashed item ("- …");
- a plain paragraph: a line after a finished sentence that starts with a capital, after a
  blank line or indented.

Anything else continues the block above (a wrapped line, or the rest of a sentence after a
page break). Within a block, paragraphs are kept apart by "\\n"; a word hyphenated at a line
end is joined without a space.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bot.planimport.ocr import ocr_fold, starts_like
from kernel.textnorm import nfc

PART, NUMBERED, LETTERED, DASHED, PARAGRAPH = "part", "numbered", "lettered", "dashed", "para"

_URL = re.compile(r"^\s*(?:https?://|www\.)\S*\s*$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^\s*[-–—]?\s*(?:trang\s*)?\d{1,3}(?:\s*/\s*\d{1,3})?\s*[-–—]?\s*$")
_SEPARATOR = re.compile(r"^[\s\-–—_=*.·•]+$")
_PART = re.compile(r"^\s*(?:phan\s+)?([IVXLivxl1]{1,4})\s*[.,:]\s+(\S.*)$", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})?)\s*[.)]\s*(\S.*)$")
_LETTERED = re.compile(r"^\s*([a-zđ¢])\s*\)\s*(\S.*)$", re.IGNORECASE)
_DASHED = re.compile(r"^\s*[-–—•+*]\s*(\S.*)$")
_SENTENCE_END = re.compile(r"[.;:!?…\"”')/]\s*$")
_END_WORDS = ("noi nhan",)


@dataclass
class Block:
    kind: str  # PART, NUMBERED, LETTERED, DASHED, PARAGRAPH
    label: str  # "II", "2", "a", "" as printed (letters OCR-repaired: "¢" → "c")
    line: int  # 1-based line number where the block starts
    paragraphs: list[list[str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The block's text: wrapped lines joined, paragraphs apart by "\\n"."""
        return "\n".join(_join(lines) for lines in self.paragraphs if lines)

    @property
    def flat(self) -> str:
        return " ".join(self.text.split())

    def add(self, line: str, *, new_paragraph: bool = False) -> None:
        if new_paragraph or not self.paragraphs:
            self.paragraphs.append([])
        self.paragraphs[-1].append(line)


def _join(lines: list[str]) -> str:
    text = ""
    for line in lines:
        line = line.strip()
        if text.endswith("-") and len(text) > 1 and text[-2].isalnum() and line[:1].isalnum():
            text += line  # "PL-" / "UBTVQH11": a word (or number) hyphenated at the line end
        else:
            text = f"{text} {line}" if text else line
    return " ".join(text.split())


def _mostly_capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def _noise_lines(lines: list[str]) -> set[str]:
    """Short lines repeated on many pages: running headers and footers."""
    counts = Counter(" ".join(line.split()) for line in lines if line.strip())
    return {text for text, n in counts.items() if n >= 3 and len(text) <= 60}


def _is_noise(line: str, repeated: set[str]) -> bool:
    text = " ".join(line.split())
    return bool(
        _URL.match(line) or _PAGE_NUMBER.match(line) or _SEPARATOR.match(line) or text in repeated
    )


def _starter(line: str) -> tuple[str, str, str] | None:
    """(kind, label, rest) when ``line`` starts a heading or an item."""
    if (match := _PART.match(line)) and _mostly_capitals(match.group(2)):
        return PART, match.group(1).upper().replace("1", "I").replace("L", "I"), match.group(2)
    if match := _NUMBERED.match(line):
        return NUMBERED, match.group(1), match.group(2)
    if match := _LETTERED.match(line):
        letter = match.group(1).lower()
        return LETTERED, "c" if letter == "¢" else letter, match.group(2)
    if match := _DASHED.match(line):
        return DASHED, "", match.group(1)
    return None


def _short_heading(block: Block) -> bool:
    """A heading or label on a line of its own ("2. Sở Nội vụ", "IV. TỔ CHỨC THỰC HIỆN",
    "Nội dung cần thực hiện"): the next paragraph does not continue it."""
    limit = 12 if block.kind in (PART, NUMBERED) else 7
    return (
        len(block.paragraphs) == 1
        and len(block.paragraphs[0]) == 1
        and len(block.paragraphs[0][0].split()) <= limit
    )


def _starts_paragraph(line: str, previous: str, blank_before: bool, after: Block) -> bool:
    stripped = line.lstrip()
    indented = len(line) - len(stripped) >= 1
    first = stripped[:1]
    finished = bool(_SENTENCE_END.search(previous)) or (blank_before and _short_heading(after))
    return (
        (blank_before or indented)
        and finished
        and (first.isupper() or first.isdigit() or first in '“"(')
    )


def read_blocks(raw_lines: list[str]) -> list[Block]:
    """The blocks of a plan's text, up to its "Nơi nhận" footer."""
    repeated = _noise_lines(raw_lines)
    blocks: list[Block] = []
    previous = ""
    blank_before = True
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.replace("\t", " ").rstrip()
        if not line.strip():
            blank_before = True
            continue
        if _is_noise(line, repeated):
            continue  # a page number, a link, a running header: not part of any sentence
        if line.lstrip()[:1] in "Nn" and any(starts_like(line, w, 0.85) for w in _END_WORDS):
            break
        line = line[: len(line) - len(line.lstrip())] + nfc(line)
        ends_sentence = bool(_SENTENCE_END.search(previous)) or not blocks
        starter = _starter(line) if (blank_before or ends_sentence) else None
        if starter is not None:
            kind, label, rest = starter
            block = Block(kind=kind, label=label, line=number)
            block.add(rest)
            blocks.append(block)
        elif not blocks or _starts_paragraph(line, previous, blank_before, blocks[-1]):
            block = Block(kind=PARAGRAPH, label="", line=number)
            block.add(line.strip())
            blocks.append(block)
        else:
            blocks[-1].add(line.strip())
        previous, blank_before = line.rstrip(), False
    return blocks


def heading_key(block: Block) -> str:
    """The folded text of a heading, for matching."""
    return ocr_fold(block.flat)

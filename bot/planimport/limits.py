"""Size limits for plan files, checked before a reader opens them.

A DOCX or XLSX is a zip archive: 1 MB can unpack to gigabytes, and python-docx and openpyxl
build the whole document in memory. So before either opens a file, the archive's own table
of contents is checked (total unpacked size, how strongly each large part is compressed),
then the rows and cells of its tables are counted by streaming the XML, which costs a few
milliseconds per megabyte and no memory. Python's zipfile never unpacks a part beyond the
size its header declares (it fails the CRC check instead), so the declared sizes can be
trusted. A refused file raises :class:`PlanFormatError` and nothing is imported.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.numbers import format_decimal

from bot.config import ImportsConfig
from bot.planimport.model import PlanFormatError
from kernel.i18n import _, current_locale

MB = 1024 * 1024
_CHUNK = MB
_TAG_END = rb"[\s/>]"
_PREFIX = rb"<(?:[A-Za-z_][\w.-]{0,15}:)?"  # "<c", "<x:c": some producers prefix the namespace
_OVERLAP = 32  # longer than any match of the tags below
# XLSX: a <row> per sheet row and a <c> per cell; DOCX: a <w:tr> per table row, <w:tc> per cell.
XLSX_TAGS = (re.compile(_PREFIX + rb"row" + _TAG_END), re.compile(_PREFIX + rb"c" + _TAG_END))
DOCX_TAGS = (re.compile(_PREFIX + rb"tr" + _TAG_END), re.compile(_PREFIX + rb"tc" + _TAG_END))
XLSX_PARTS = re.compile(r"^xl/worksheets/[^/]+\.xml$")
DOCX_PARTS = re.compile(r"^word/document\.xml$")
# A part smaller than this may be compressed any amount: tiny XML files often are.
RATIO_FLOOR_BYTES = MB


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_file_bytes: int = 20 * MB
    max_unzipped_bytes: int = 50 * MB
    max_compression_ratio: int = 100
    max_rows: int = 5000
    max_cells: int = 100_000

    @classmethod
    def from_config(cls, config: ImportsConfig) -> ImportLimits:
        return cls(
            max_file_bytes=int(config.max_file_mb * MB),
            max_unzipped_bytes=int(config.max_unzipped_mb * MB),
            max_compression_ratio=config.max_compression_ratio,
            max_rows=config.max_rows,
            max_cells=config.max_cells,
        )


def _mb(size: int) -> str:
    """Megabytes as people read them: "20", "60,5" in Vietnamese."""
    return format_decimal(size / MB, format="0.#", locale=current_locale())


def check_file_size(path: Path, limits: ImportLimits) -> None:
    """The file itself is not larger than ``max_file_bytes`` (checked before reading it)."""
    size = path.stat().st_size if path.is_file() else 0
    if size > limits.max_file_bytes:
        raise PlanFormatError(
            _("%(file)s: the file is too large (%(size)s MB; at most %(limit)s MB)")
            % {"file": path, "size": _mb(size), "limit": _mb(limits.max_file_bytes)}
        )


def check_rows(path: Path, rows: int, cells: int, limits: ImportLimits) -> None:
    if rows > limits.max_rows:
        raise PlanFormatError(
            _("%(file)s: too many rows (%(count)s; at most %(limit)s): nothing was imported")
            % {"file": path, "count": rows, "limit": limits.max_rows}
        )
    if cells > limits.max_cells:
        raise PlanFormatError(
            _("%(file)s: too many cells (%(count)s; at most %(limit)s): nothing was imported")
            % {"file": path, "count": cells, "limit": limits.max_cells}
        )


def _bomb(path: Path) -> PlanFormatError:
    return PlanFormatError(
        _(
            "%(file)s: the archive unpacks to far more than its size; refused, nothing was "
            "imported (a damaged or deliberately crafted file)"
        )
        % {"file": path}
    )


def _check_members(path: Path, members: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    total = sum(member.file_size for member in members)
    if total > limits.max_unzipped_bytes:
        raise PlanFormatError(
            _("%(file)s: unpacked, the file is too large (%(size)s MB; at most %(limit)s MB)")
            % {"file": path, "size": _mb(total), "limit": _mb(limits.max_unzipped_bytes)}
        )
    for member in members:
        if member.file_size < RATIO_FLOOR_BYTES:
            continue
        if member.file_size > limits.max_compression_ratio * max(member.compress_size, 1):
            raise _bomb(path)


def _count(archive: zipfile.ZipFile, name: str, tags: Iterable[re.Pattern[bytes]]) -> list[int]:
    """How often each tag opens in one part, read in chunks.

    A match starting in the last ``_OVERLAP`` bytes of what was read is left for the next
    round (those bytes are kept), so a tag cut between two chunks is counted once.
    """
    patterns = list(tags)
    counts = [0] * len(patterns)
    tail = b""
    with archive.open(name) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            limit = max(len(data) - _OVERLAP, 0)
            for index, pattern in enumerate(patterns):
                counts[index] += sum(1 for found in pattern.finditer(data) if found.start() < limit)
            tail = data[limit:]
    for index, pattern in enumerate(patterns):
        counts[index] += len(pattern.findall(tail))
    return counts


def check_archive(
    path: Path,
    limits: ImportLimits,
    parts: re.Pattern[str],
    tags: tuple[re.Pattern[bytes], re.Pattern[bytes]],
) -> None:
    """Refuse a zip bomb, or tables too big, before the DOCX/XLSX reader opens the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(path, members, limits)
            rows = cells = 0
            for member in members:
                if parts.match(member.filename):
                    more_rows, more_cells = _count(archive, member.filename, tags)
                    rows, cells = rows + more_rows, cells + more_cells
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError) as exc:
        # Also what a part that unpacks beyond its declared size ends in ("Bad CRC-32").
        raise PlanFormatError(
            _("%(file)s: cannot read the archive: %(error)s") % {"file": path, "error": exc}
        ) from exc
    check_rows(path, rows, cells, limits)

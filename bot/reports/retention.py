"""Deleting rendered report files after ``[retention] days`` (the nightly retention job).

/baocao renders its XLSX/DOCX files under ``data_dir/reports`` (``bot.reports.requests``) and
nothing else writes there; once sent they are only copies of what the database can render
again. A file is deleted when it was last written before the cut-off and no outbox row that
is still to be sent names it. Only regular files directly in that folder are touched (never a
link, never a sub-folder): evidence lives elsewhere (``data_dir/evidence``) and is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

REPORTS_FOLDER = "reports"


def reports_folder(data_dir: Path) -> Path:
    return data_dir / REPORTS_FOLDER


def prune_report_files(folder: Path, before: datetime, keep: Collection[str] = ()) -> int:
    """Delete the report files in ``folder`` last written before ``before``, except those in
    ``keep`` (paths as the outbox holds them); how many were deleted."""
    if not folder.is_dir():
        return 0
    kept = {Path(path).resolve() for path in keep}
    cutoff = before.timestamp()
    deleted = 0
    for path in folder.iterdir():
        try:
            if path.is_symlink() or not path.is_file() or path.resolve() in kept:
                continue
            if path.stat().st_mtime >= cutoff:
                continue
            path.unlink()
            deleted += 1
        except OSError as exc:  # one file that cannot go must not stop the others
            log.warning("retention: report file %s not deleted (%s)", path.name, exc.strerror)
    return deleted

"""Output files named on the command line: the folder must exist (a typo should not create
a folder tree somewhere), and a file that cannot be written is one clear line, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from bot.cli.common import fail
from kernel.i18n import _


def require_folder(path: Path, option: str) -> None:
    """Fail unless the folder ``path`` goes into exists (``option`` names the CLI option)."""
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        fail(
            _("%(option)s: the folder %(folder)s does not exist; create it first.")
            % {"option": option, "folder": folder}
        )


def cannot_write(path: Path, error: OSError) -> NoReturn:
    fail(
        _("cannot write %(path)s: %(reason)s")
        % {"path": path, "reason": error.strerror or type(error).__name__}
    )

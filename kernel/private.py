"""Folders and files only the bot's own user can read.

The data folder holds the SQLite database (every official's phone number) and the rendered
reports; on a shared server the usual umask (022) would leave them readable by every local
user. Folders this creates are 0700 and files 0600, whatever the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700; folders that exist are left alone."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a file only its owner can read or write.

    A new file is created empty with mode 0600 before anything is written into it, so there
    is no moment at which it is readable by others; writers that truncate and rewrite it
    (openpyxl, python-docx, SQLite) keep the mode. An existing file loses group and other
    permissions.
    """
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(descriptor)
        os.chmod(path, FILE_MODE)  # as for folders, the umask filtered the mode
    return path


def tighten(path: Path) -> None:
    """Remove group and other permissions from an existing file of ours.

    A missing file, or one another user owns (the admin's CLI on the bot's database), is
    left as it is: that is the operator's to set, and the caller goes on either way.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except (FileNotFoundError, PermissionError):
        return

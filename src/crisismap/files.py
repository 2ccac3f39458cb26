"""Files that hold records: created readable by their owner only, whatever the umask.

Rejected records, internal exports, joined tables, the audit log and scratch
partitions all carry victims' and witnesses' details; on a shared machine a 0644 file
is readable by every account. Everything that writes such a file goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["private_dir", "write_private"]


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` as an owner-only (0600) file.

    A new file is created 0600; an existing one is set back to 0600 before it is
    truncated and overwritten, so a file once shared does not stay shared.
    """
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as an owner-only (0700) folder, created (with its parents) when missing."""
    folder = Path(path)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is masked by the umask; an existing folder is narrowed
    return folder

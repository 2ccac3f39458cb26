"""Backups with SQLite's online backup API: a consistent copy while sessions keep working.

A backup is one self-contained, owner-only SQLite file (rollback-journal mode, no
``-wal`` companion) holding every dataset, the trash, the audit log and the
workspace's secret; restoring one copies it back page by page into the live file,
after keeping the workspace as it was beside it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from crisismap.errors import InputError, StoreError
from crisismap.i18n import _
from crisismap.store.db import SCHEMA_VERSION, create_private_file

REQUIRED_TABLES = {"meta", "datasets", "blobs"}


def write_backup(conn: sqlite3.Connection, target: Path) -> int:
    """Copy the database behind ``conn`` into the new file ``target``; returns its size.

    An existing ``target`` is refused (a backup never overwrites anything), and the
    copy is checked with ``PRAGMA quick_check`` before it is reported written.
    """
    create_private_file(target, exclusive=True)
    try:
        with closing(sqlite3.connect(target, isolation_level=None)) as copy:
            conn.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            result = [r[0] for r in copy.execute("PRAGMA quick_check").fetchall()]
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if result != ["ok"]:
        target.unlink(missing_ok=True)
        raise StoreError(
            _(
                "The backup written to {target} failed SQLite's check ({values}): "
                "it was removed. Run `crisismap workspace check` on the workspace."
            ).format(target=target, values="; ".join(result[:3]))
        )
    return target.stat().st_size


def check_backup(source: Path) -> int:
    """The schema version of the workspace backup ``source``; InputError if it is not one."""
    if not source.is_file():
        raise InputError(
            _("The backup {source} does not exist or is not a file.").format(source=source)
        )
    try:
        with closing(_read_only(source)) as conn:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            version = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")
                version = row.fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(
            _(
                "{source} is not a crisismap workspace backup ({exc}): choose a "
                "file written by `crisismap workspace backup`."
            ).format(source=source, exc=exc)
        ) from exc
    if result != ["ok"]:
        raise InputError(
            _("The backup {source} is damaged ({values}): choose another backup.").format(
                source=source, values="; ".join(result[:3])
            )
        )
    if not REQUIRED_TABLES <= tables or version is None:
        raise InputError(
            _(
                "{source} is an SQLite file but not a crisismap workspace (no "
                "datasets table or schema version): choose a file written by "
                "`crisismap workspace backup`."
            ).format(source=source)
        )
    if int(version[0]) > SCHEMA_VERSION:
        raise InputError(
            _(
                "The backup {source} was written by a newer crisismap (schema "
                "{version}, this version reads {SCHEMA_VERSION}): restore it with "
                "that version."
            ).format(source=source, version=int(version[0]), SCHEMA_VERSION=SCHEMA_VERSION)
        )
    return int(version[0])


def copy_into(source: Path, conn: sqlite3.Connection) -> None:
    """Replace the database behind ``conn``, page by page, with the backup ``source``."""
    with closing(_read_only(source)) as backup:
        backup.backup(conn)
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        conn.execute("PRAGMA journal_mode=WAL")


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

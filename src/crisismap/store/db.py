"""The workspace file: where it lives, how it is opened, its schema and its migrations."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crisismap.errors import InputError, StoreError
from crisismap.i18n import _

DATA_DIR_ENV = "CRISISMAP_DATA_DIR"
DB_NAME = "workspace.sqlite3"
TEAMS_DIR = "teams"
KINDS = ("incidents", "boundaries")
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 60_000  # a writer holding the lock for a 200 MB upload takes seconds
MAX_NAME_CHARS = 200
TEAM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")

# Version 1: meta, datasets, blobs. Version 2 adds the trash (deleted_at, deleted_by),
# the append-only audit log and the purges still waiting for a clean checkpoint.
_TABLES_V1 = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    """CREATE TABLE IF NOT EXISTS datasets (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('incidents', 'boundaries')),
        name TEXT NOT NULL,
        filename TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        created TEXT NOT NULL,
        options TEXT NOT NULL,
        report TEXT NOT NULL,
        UNIQUE (kind, sha256)
    )""",
    """CREATE TABLE IF NOT EXISTS blobs (
        id TEXT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    )""",
]
_TO_V2 = [
    "ALTER TABLE datasets ADD COLUMN deleted_at TEXT",
    "ALTER TABLE datasets ADD COLUMN deleted_by TEXT",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        details TEXT NOT NULL
    )""",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TABLE purge_pending (
        id TEXT PRIMARY KEY,
        requested TEXT NOT NULL,
        actor TEXT NOT NULL
    )""",
]
AUDIT_TRIGGERS = ("audit_no_update", "audit_no_delete")


def now() -> str:
    """The current time, ISO 8601 UTC to the second (how every timestamp is stored)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- where the workspace lives ----------------------------------------------------------


def default_data_dir() -> Path:
    """``$CRISISMAP_DATA_DIR``, else ``$XDG_DATA_HOME/crisismap`` (``~/.local/share``)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "crisismap"


def check_team(team: str) -> str:
    """A team id as the teams file spells it (``alpha``, ``field-2``), or InputError."""
    text = str(team).strip()
    if not TEAM_ID.fullmatch(text):
        raise InputError(
            _(
                "{text!r} is not a team id: use 1 to 40 lowercase letters, digits "
                "and hyphens (starting with a letter or digit), as in the teams "
                "file, e.g. 'alpha'."
            ).format(text=text)
        )
    return text


def database_path(path: str | os.PathLike[str] | None, team: str | None) -> Path:
    """The database file of the local workspace, or of ``team``'s, under data dir ``path``."""
    target = Path(path).expanduser() if path is not None else default_data_dir()
    if target.suffix in (".sqlite3", ".sqlite", ".db"):
        if team is not None:
            raise InputError(
                _(
                    "{target} is a workspace file, so it cannot hold team {team!r}'s "
                    "workspace: give the data directory instead."
                ).format(target=target, team=team)
            )
        return target
    if team is None:
        return target / DB_NAME
    return target / TEAMS_DIR / check_team(team) / DB_NAME


def make_private_dirs(folder: Path, top: Path | None = None) -> None:
    """Create ``folder`` owner-only (0700), with every missing folder below ``top`` too."""
    top = top or folder
    chain = [folder, *[p for p in folder.parents if p.is_relative_to(top)]]
    try:
        for level in reversed(chain):
            if not level.is_dir():
                level.mkdir(mode=0o700, parents=True, exist_ok=True)
                level.chmod(0o700)  # mkdir's mode is masked by the umask
    except OSError as exc:
        raise StoreError(
            _(
                "The data directory {folder} cannot be created ({strerror}): set "
                "{DATA_DIR_ENV} to a folder this program may write to."
            ).format(folder=folder, strerror=exc.strerror, DATA_DIR_ENV=DATA_DIR_ENV)
        ) from exc


def create_private_file(path: Path, *, exclusive: bool = False) -> None:
    """Create ``path`` readable by its owner only (SQLite copies the mode to -wal, -shm)."""
    flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if exclusive else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(
            _("{path} already exists: choose a new file name (nothing is overwritten).").format(
                path=path
            )
        ) from None
    except OSError as exc:
        raise StoreError(
            _(
                "The file {path} cannot be created ({strerror}): choose a folder "
                "this program may write to (the data directory is set by "
                "{DATA_DIR_ENV})."
            ).format(path=path, strerror=exc.strerror, DATA_DIR_ENV=DATA_DIR_ENV)
        ) from exc
    os.close(fd)


# --- connections and transactions ----------------------------------------------------------


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection with the store's settings; SQLite errors become one-sentence StoreErrors."""
    try:
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(
            _("The workspace {db_path} cannot be opened: {exc}.").format(db_path=db_path, exc=exc)
        ) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")  # committed means on disk
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")  # freed pages and cells are zeroed
        yield conn
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(
                _(
                    "The workspace {db_path} stayed locked by another writer for "
                    "{seconds} s: try again in a moment."
                ).format(db_path=db_path, seconds=BUSY_TIMEOUT_MS // 1000)
            ) from exc
        raise StoreError(
            _("The workspace {db_path} cannot be used: {exc}.").format(db_path=db_path, exc=exc)
        ) from exc
    finally:
        conn.close()


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock up front (no deadlock on upgrade)."""
    retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def retry_locked(action: Callable[[], Any], attempts: int = 5) -> Any:
    """Run ``action``; retry a few times when SQLite reports the file locked."""
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


# --- schema ----------------------------------------------------------------------------------


def initialise(conn: sqlite3.Connection, db_path: Path) -> int | None:
    """WAL mode, then the tables: created, or migrated to :data:`SCHEMA_VERSION`.

    Returns the version migrated from (None when nothing was migrated). A workspace
    already at this version is only read, so opening takes no write lock.
    """
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
    if _version(conn, db_path) == SCHEMA_VERSION:
        return None
    with write(conn):
        found = _version(conn, db_path)  # another process may have done it meanwhile
        if found == SCHEMA_VERSION:
            return None
        if found is None:
            for statement in _TABLES_V1 + _TO_V2:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            return None
        for statement in _TO_V2:
            conn.execute(statement)
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )
        conn.execute(
            "INSERT INTO audit(time, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
            (now(), "system", "migrate", None, f'{{"from": {found}, "to": {SCHEMA_VERSION}}}'),
        )
        return found


def _version(conn: sqlite3.Connection, db_path: Path) -> int | None:
    """The file's schema version; None for a new, empty file."""
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if has_meta is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None else 1
    if version > SCHEMA_VERSION:
        raise StoreError(
            _(
                "The workspace {db_path} was written by a newer crisismap (schema "
                "{version}, this version reads {SCHEMA_VERSION}): upgrade "
                "crisismap, or choose another data directory."
            ).format(db_path=db_path, version=version, SCHEMA_VERSION=SCHEMA_VERSION)
        )
    return version


def check_name(name: str) -> str:
    """A dataset name with its whitespace collapsed; blank or over-long names are refused."""
    text = " ".join(str(name).split())
    if not text:
        raise InputError(_("A dataset needs a name: give it a few words, e.g. the file's name."))
    if len(text) > MAX_NAME_CHARS:
        raise InputError(
            _(
                "The dataset name is {n} characters long, over the limit of "
                "{MAX_NAME_CHARS}: choose a shorter name."
            ).format(n=len(text), MAX_NAME_CHARS=MAX_NAME_CHARS)
        )
    return text


def check_kind(kind: str) -> str:
    text = str(kind).strip().lower()
    if text not in KINDS:
        raise ValueError(f"Unknown dataset kind {kind!r}: expected one of {', '.join(KINDS)}.")
    return text

"""The persistent workspace: uploaded files kept as immutable datasets in one SQLite file.

Why SQLite in WAL mode (and not DuckDB or GeoPackage): it ships with Python, so the
workspace needs no extra dependency and no server; its transactions are atomic and
durable across a killed process (a half-written dataset is rolled back on the next
open); in WAL mode readers never block the one writer, and several *processes* (a
shared deployment runs several) may write to the same file, queuing on a lock instead
of losing each other's rows. DuckDB allows a single writing process at a time, and a
GeoPackage is SQLite with a schema this store has no use for: the datasets are kept as
the original bytes, never as parsed geometry.

Layout: ``<data dir>/workspace.sqlite3`` (plus its ``-wal``/``-shm`` companions). The
data directory is ``$CRISISMAP_DATA_DIR`` when set, else ``$XDG_DATA_HOME/crisismap``
(``~/.local/share/crisismap``). It is created on first use with owner-only permissions:
these files hold victims' and witnesses' records.

Rules kept here:

* A dataset is the original bytes plus what was decided about them (mapping options,
  the validation report's summary); the bytes never change. Saving the same bytes
  again returns the dataset already saved, never a copy.
* Every write is one ``BEGIN IMMEDIATE`` transaction on its own connection, so the
  store is safe across threads (Streamlit sessions) and processes alike.
* Deleting a dataset overwrites its bytes on disk (``secure_delete``) and empties the
  write-ahead log, so a deleted file does not linger in free pages or in the log.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from crisismap.errors import InputError, StoreError
from crisismap.records.combine import Combined, combine_records

__all__ = [
    "DATA_DIR_ENV",
    "DB_NAME",
    "KINDS",
    "DatasetInfo",
    "StoreError",
    "Workspace",
    "default_data_dir",
]

DATA_DIR_ENV = "CRISISMAP_DATA_DIR"
DB_NAME = "workspace.sqlite3"
KINDS = ("incidents", "boundaries")
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000  # a writer holding the lock for a 200 MB upload takes seconds
CHECKPOINT_WAIT_MS = 2_000
MAX_NAME_CHARS = 200
_ID_PREFIX = {"incidents": "inc-", "boundaries": "bnd-"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
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
);
CREATE TABLE IF NOT EXISTS blobs (
    id TEXT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
    data BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class DatasetInfo:
    """One saved dataset (its bytes are fetched separately with ``get_bytes``).

    ``already_saved`` is True when ``save_dataset`` found the same bytes already in the
    workspace and returned that dataset instead of storing a copy.
    """

    id: str
    kind: str
    name: str
    filename: str
    sha256: str
    size: int
    created: str  # ISO 8601, UTC
    options: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    already_saved: bool = False


def default_data_dir() -> Path:
    """``$CRISISMAP_DATA_DIR``, else ``$XDG_DATA_HOME/crisismap`` (``~/.local/share``)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "crisismap"


class Workspace:
    """Datasets on disk, shared by every session and process that opens the same path.

    Open with :meth:`Workspace.open`; the object holds no connection, so one instance
    may be shared by threads (``st.cache_resource``) and each process may open its own.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._secret: bytes | None = None

    # -- opening --------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open (creating on first use) the workspace in data directory ``path``.

        ``path`` is a directory (the database file inside is ``workspace.sqlite3``) or
        the path of a ``.sqlite3`` file; by default :func:`default_data_dir`.
        """
        target = Path(path).expanduser() if path is not None else default_data_dir()
        db_path = target if target.suffix in (".sqlite3", ".sqlite", ".db") else target / DB_NAME
        _make_private_dir(db_path.parent)
        if not db_path.exists():
            _create_private_file(db_path)
        workspace = cls(db_path)
        workspace._initialise()
        return workspace

    def _initialise(self) -> None:
        """WAL mode (persistent, so set once, when the file is new) and the tables."""
        with self._connect() as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
            with _write(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO meta(key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                elif int(row[0]) > SCHEMA_VERSION:
                    raise StoreError(
                        f"The workspace {self.db_path} was written by a newer crisismap "
                        f"(schema {int(row[0])}, this version reads {SCHEMA_VERSION}): "
                        "upgrade crisismap, or choose another data directory."
                    )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(
                self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"The workspace {self.db_path} cannot be opened: {exc}.") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = FULL")  # committed means on disk
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
            yield conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreError(
                    f"The workspace {self.db_path} stayed locked by another writer for "
                    f"{BUSY_TIMEOUT_MS // 1000} s: try again in a moment."
                ) from exc
            raise StoreError(f"The workspace {self.db_path} cannot be used: {exc}.") from exc
        finally:
            conn.close()

    # -- the per-workspace secret -----------------------------------------------------

    @property
    def secret(self) -> bytes:
        """32 random bytes created once per workspace (keys for stable location masking)."""
        if self._secret is None:
            with self._connect() as conn, _write(conn):
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('secret', ?)",
                    (secrets.token_bytes(32),),
                )
                value = conn.execute("SELECT value FROM meta WHERE key='secret'").fetchone()[0]
            self._secret = bytes(value)
        return self._secret

    # -- datasets -------------------------------------------------------------------

    def save_dataset(
        self,
        name: str,
        data: bytes,
        *,
        kind: str = "incidents",
        filename: str | None = None,
        options: Mapping[str, Any] | None = None,
        report_summary: Mapping[str, Any] | None = None,
    ) -> DatasetInfo:
        """Store ``data`` as a new immutable dataset, or return the one with the same bytes.

        Parameters
        ----------
        name
            What the dashboard lists (can be changed later with :meth:`rename`).
        data
            The file's original bytes, stored unchanged; their SHA-256 identifies them.
        kind
            ``"incidents"`` (a CSV) or ``"boundaries"`` (a boundary file).
        filename
            The uploaded file's name (defaults to ``name``).
        options
            How the file was read (preset, column overrides, date order, encoding...):
            passing them back to the pipeline reproduces the analysis.
        report_summary
            The validation report's summary (``Report.summary()``) as shown at upload.
        """
        kind = _check_kind(kind)
        name = _check_name(name)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, got {type(data).__name__}.")
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        dataset_id = _ID_PREFIX[kind] + digest[:16]
        options_json = _to_json(options or {}, "options")
        report_json = _to_json(report_summary or {}, "report_summary")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn, _write(conn):
            existing = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE kind = ? AND sha256 = ?",
                (kind, digest),
            ).fetchone()
            if existing is not None:
                return _info(existing, already_saved=True)
            conn.execute(
                "INSERT INTO datasets(id, kind, name, filename, sha256, size, created, options,"
                " report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset_id,
                    kind,
                    name,
                    str(filename or name),
                    digest,
                    len(data),
                    created,
                    options_json,
                    report_json,
                ),
            )
            conn.execute("INSERT INTO blobs(id, data) VALUES (?, ?)", (dataset_id, data))
        return DatasetInfo(
            id=dataset_id,
            kind=kind,
            name=name,
            filename=str(filename or name),
            sha256=digest,
            size=len(data),
            created=created,
            options=json.loads(options_json),
            report=json.loads(report_json),
        )

    def list_datasets(self, kind: str | None = None) -> list[DatasetInfo]:
        """Saved datasets, newest first (only one kind when ``kind`` is given)."""
        query = f"SELECT {_INFO_COLUMNS} FROM datasets"
        params: tuple[str, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (_check_kind(kind),)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY created DESC, rowid DESC", params).fetchall()
        return [_info(row) for row in rows]

    def info(self, dataset_id: str) -> DatasetInfo:
        """The dataset's description; :class:`InputError` when there is no such dataset."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
        if row is None:
            raise self._missing(dataset_id)
        return _info(row)

    def get_bytes(self, dataset_id: str, *, verify: bool = True) -> bytes:
        """The dataset's original bytes, checked against their SHA-256 unless ``verify=False``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT b.data, d.sha256 FROM blobs b JOIN datasets d USING (id) WHERE id = ?",
                (dataset_id,),
            ).fetchone()
        if row is None:
            raise self._missing(dataset_id)
        data = bytes(row[0])
        if verify and hashlib.sha256(data).hexdigest() != row[1]:
            raise StoreError(
                f"Dataset {dataset_id} in {self.db_path} no longer matches its SHA-256: the "
                "file was damaged on disk. Restore the workspace from a backup."
            )
        return data

    def rename(self, dataset_id: str, name: str) -> DatasetInfo:
        """Give a dataset a new display name (its bytes and id do not change)."""
        name = _check_name(name)
        with self._connect() as conn, _write(conn):
            changed = conn.execute(
                "UPDATE datasets SET name = ? WHERE id = ?", (name, dataset_id)
            ).rowcount
        if not changed:
            raise self._missing(dataset_id)
        return self.info(dataset_id)

    def delete(self, dataset_id: str) -> None:
        """Remove a dataset and overwrite its bytes on disk; unknown ids raise InputError."""
        with self._connect() as conn:
            with _write(conn):
                conn.execute("DELETE FROM blobs WHERE id = ?", (dataset_id,))
                removed = conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,)).rowcount
            if not removed:
                raise self._missing(dataset_id)
            # The deleted bytes may still sit in the write-ahead log: copy it into the
            # (overwritten) database and empty it. Sessions reading at this moment make
            # the checkpoint give up after a short wait; the next one catches up.
            conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def combine(self, records: Mapping[str, pd.DataFrame]) -> Combined:
        """Records of several saved datasets (``{dataset id: validated records}``) as one.

        The first dataset in ``records`` wins when two hold the same id; see
        :func:`combine_records`. Ids must be saved datasets.
        """
        names = {i: self.info(i).name for i in records}
        combined = combine_records(list(records.items()))
        if len(combined.conflicts):
            combined.conflicts.insert(
                1, "dataset_name", combined.conflicts["dataset"].map(names).astype("str")
            )
            combined.conflicts.insert(
                3, "kept_name", combined.conflicts["kept_dataset"].map(names).astype("str")
            )
        return combined

    def check(self) -> list[str]:
        """Problems found by SQLite's integrity check and by re-hashing every dataset.

        An empty list means the store is sound and every dataset reads back byte for byte.
        """
        problems: list[str] = []
        with self._connect() as conn:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems.extend(f"integrity_check: {r}" for r in result)
            orphans = conn.execute(
                "SELECT d.id FROM datasets d LEFT JOIN blobs b USING (id) WHERE b.id IS NULL"
            ).fetchall()
            problems.extend(f"{r[0]}: dataset without bytes" for r in orphans)
            for dataset_id, digest in conn.execute("SELECT id, sha256 FROM datasets").fetchall():
                row = conn.execute("SELECT data FROM blobs WHERE id = ?", (dataset_id,)).fetchone()
                if row is not None and hashlib.sha256(row[0]).hexdigest() != digest:
                    problems.append(f"{dataset_id}: bytes do not match their SHA-256")
        return problems

    def _missing(self, dataset_id: str) -> InputError:
        return InputError(
            f"There is no dataset {dataset_id!r} in the workspace {self.db_path.parent}: it "
            "may have been deleted in another session. Reload the list of saved datasets."
        )


# --- helpers --------------------------------------------------------------------------

_INFO_COLUMNS = "id, kind, name, filename, sha256, size, created, options, report"


def _info(row: Sequence[Any], *, already_saved: bool = False) -> DatasetInfo:
    return DatasetInfo(
        id=row[0],
        kind=row[1],
        name=row[2],
        filename=row[3],
        sha256=row[4],
        size=int(row[5]),
        created=row[6],
        options=json.loads(row[7]),
        report=json.loads(row[8]),
        already_saved=already_saved,
    )


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock up front (no deadlock on upgrade)."""
    _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _retry_locked(action: Any, attempts: int = 5) -> Any:
    """Run ``action``; retry a few times when SQLite reports the file locked."""
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


def _check_kind(kind: str) -> str:
    text = str(kind).strip().lower()
    if text not in KINDS:
        raise ValueError(f"Unknown dataset kind {kind!r}: expected one of {', '.join(KINDS)}.")
    return text


def _check_name(name: str) -> str:
    text = " ".join(str(name).split())
    if not text:
        raise InputError("A dataset needs a name: give it a few words, e.g. the file's name.")
    if len(text) > MAX_NAME_CHARS:
        raise InputError(
            f"The dataset name is {len(text)} characters long; the limit is {MAX_NAME_CHARS}. "
            "Choose a shorter name."
        )
    return text


def _to_json(value: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from exc


def _make_private_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"The data directory {path} cannot be created ({exc.strerror}): set "
            f"{DATA_DIR_ENV} to a folder this program may write to."
        ) from exc


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite copies the mode)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise StoreError(
            f"The workspace file {path} cannot be created ({exc.strerror}): set "
            f"{DATA_DIR_ENV} to a folder this program may write to."
        ) from exc
    os.close(fd)

"""The :class:`Workspace`: datasets, their trash and their audit log, in one SQLite file."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from crisismap.errors import InputError, InvalidValueError, StoreError
from crisismap.i18n import _
from crisismap.records.combine import Combined, combine_records
from crisismap.store import audit, backup, db, trash
from crisismap.store.audit import AuditEntry
from crisismap.store.db import check_kind, check_name, now, write
from crisismap.store.trash import PurgeResult

DEFAULT_TRASH_DAYS = 7.0
PURGE_WAIT_S = 2.0  # how long a purge retries the checkpoint before saying "pending"
OPEN_PURGE_WAIT_S = 0.2  # the automatic purge at opening waits less: it retries next time
_ID_PREFIX = {"incidents": "inc-", "boundaries": "bnd-"}
_INFO_COLUMNS = (
    "id, kind, name, filename, sha256, size, created, options, report, deleted_at, deleted_by"
)


@dataclass(frozen=True)
class DatasetInfo:
    """One saved dataset (its bytes are fetched separately with ``get_bytes``).

    ``already_saved`` is True when ``save_dataset`` found the same bytes already in the
    workspace and returned that dataset instead of storing a copy. ``deleted_at`` (ISO
    8601, UTC) and ``deleted_by`` are set while the dataset is in the trash.
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
    deleted_at: str | None = None
    deleted_by: str | None = None


class Workspace:
    """Datasets on disk, shared by every session and process that opens the same path.

    Open with :meth:`Workspace.open`; the object holds no connection, so one instance
    may be shared by threads (``st.cache_resource``) and each process may open its own.
    Every method that changes something takes the ``actor`` who asked for it (an
    e-mail address, ``cli:USER``; ``local`` in single-user mode) and writes an audit
    entry in the same transaction.
    """

    def __init__(self, db_path: Path, *, team: str | None = None) -> None:
        self.db_path = db_path
        self.team = team
        self.trash_days = DEFAULT_TRASH_DAYS
        self.previous_copy: Path | None = None  # set by restore_backup
        self._secret: bytes | None = None

    # -- opening --------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        team: str | None = None,
        trash_days: float | None = None,
    ) -> Workspace:
        """Open (creating on first use, migrating an older one) a workspace.

        Parameters
        ----------
        path
            The data directory (by default :func:`default_data_dir`), or the path of a
            ``.sqlite3`` file.
        team
            None: the local single-user workspace, ``<data dir>/workspace.sqlite3``. A
            team id: that team's, ``<data dir>/teams/<team>/workspace.sqlite3``.
        trash_days
            How long a deleted dataset stays restorable. Given, it is remembered in the
            workspace (so the CLI, which has no teams file, keeps the app's setting);
            None uses the remembered value (7 days until one is set).

        Trash older than ``trash_days`` is purged here, as actor ``system``.
        """
        db_path = db.database_path(path, team)
        top = db_path.parent if team is None else db_path.parents[2]
        db.make_private_dirs(db_path.parent, top)
        if not db_path.exists():
            db.create_private_file(db_path)
        workspace = cls(db_path, team=None if team is None else db.check_team(team))
        with workspace._connect() as conn:
            db.initialise(conn, db_path)
            workspace.trash_days = _trash_days(conn, trash_days)
            _make_secret(conn)  # with the workspace, never later by an export
        workspace.purge_due(actor="system", wait=OPEN_PURGE_WAIT_S)
        return workspace

    @staticmethod
    def exists(path: str | os.PathLike[str] | None = None, *, team: str | None = None) -> bool:
        """Whether the workspace is already on disk (checked without creating anything)."""
        return db.database_path(path, team).is_file()

    def _connect(self) -> Any:
        return db.connect(self.db_path)

    @contextmanager
    def _change(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction (the change and its audit entry)."""
        with self._connect() as conn, write(conn):
            yield conn

    # -- the per-workspace secret -----------------------------------------------------

    @property
    def secret(self) -> bytes:
        """32 random bytes made once with the workspace (keys for stable location masking)."""
        if self._secret is None:
            with self._connect() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            if row is None:  # opened by an older version since: make it now
                with self._connect() as conn:
                    _make_secret(conn)
                return self.secret
            self._secret = bytes(row[0])
        return self._secret

    @property
    def secret_created(self) -> datetime | None:
        """When the secret was made (None: before crisismap recorded it, so long ago)."""
        with self._connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='secret_created'").fetchone()
        return None if row is None else datetime.fromisoformat(str(row[0]))

    def export_secret(self, started: datetime) -> bytes:
        """The secret for an export that began at ``started`` (an aware UTC time).

        Refuses a secret made after the export began, such as one a fresh data
        directory's workspace gets when this very export opens it: points displaced
        with a secret made for one export can be averaged with those of other exports
        made the same way, each a new independent draw around the true location.
        """
        secret = self.secret
        created = self.secret_created
        if created is not None and created >= started:
            raise InputError(
                _(
                    "The workspace {db_path} got its displacement secret just now "
                    "({isoformat}), during this export: points displaced with a secret "
                    "made for one export can be averaged with other such exports, each "
                    "a new draw around the true place. Export from the workspace your "
                    "team always uses, or create this one once with `crisismap "
                    "workspace init` (--data-dir/--team as needed) and export again."
                ).format(db_path=self.db_path, isoformat=created.isoformat(timespec="seconds"))
            )
        return secret

    # -- a member's own settings ----------------------------------------------------------

    def preference(self, actor: str, name: str) -> str | None:
        """A setting ``actor`` chose for themselves (the dashboard's language); None if never."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT value FROM meta WHERE key=?", (_preference_key(actor, name),)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_preference(self, actor: str, name: str, value: str) -> None:
        """Remember ``value`` as ``actor``'s ``name`` setting (not audited: it changes no data)."""
        with self._change() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (_preference_key(actor, name), str(value)),
            )

    # -- the audit log ------------------------------------------------------------------

    def log(self, actor: str, action: str, target: str | None = None, **details: Any) -> None:
        """Append an entry to the audit log (sign-in, open, export, denied...)."""
        with self._change() as conn:
            audit.record(conn, actor, action, target, details)

    def audit_log(self, limit: int | None = None) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (all when None), newest first."""
        with self._connect() as conn:
            return audit.entries(conn, limit)

    def audit_csv(self) -> bytes:
        """The whole audit log as CSV, newest first, safe to open in a spreadsheet."""
        from crisismap.export import to_csv_bytes

        return to_csv_bytes(audit.to_frame(self.audit_log()))

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
        actor: str = "local",
        restore_from_trash: bool = True,
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
        actor
            Who saves it (the audit entry's actor).

        The same bytes saved again while their dataset is in the trash bring it back
        under the new name (logged ``save`` with ``from_trash``), unless
        ``restore_from_trash`` is False (a member who may not restore): then an
        :class:`~crisismap.errors.InputError` says so and nothing changes.
        """
        kind = check_kind(kind)
        name = check_name(name)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, got {type(data).__name__}.")
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        dataset_id = _ID_PREFIX[kind] + digest[:16]
        filename = str(filename or name)
        options_json = _to_json(options or {}, "options")
        report_json = _to_json(report_summary or {}, "report_summary")
        logged = {"name": name, "kind": kind, "sha256": digest, "size": len(data)}
        with self._change() as conn:
            existing = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE kind = ? AND sha256 = ?",
                (kind, digest),
            ).fetchone()
            if existing is not None and existing[9] is None:
                audit.record(conn, actor, "save", existing[0], logged | {"already_saved": True})
                return _info(existing, already_saved=True)
            if existing is not None and not restore_from_trash:
                raise InputError(
                    _(
                        "This file is the dataset {existing!r}, which is in the trash: an "
                        "admin can restore it from the trash; saving it again cannot."
                    ).format(existing=existing[2])
                )
            if existing is not None:
                conn.execute(
                    "UPDATE datasets SET name = ?, deleted_at = NULL, deleted_by = NULL "
                    "WHERE id = ?",
                    (name, existing[0]),
                )
                audit.record(conn, actor, "save", existing[0], logged | {"from_trash": True})
                row = conn.execute(
                    f"SELECT {_INFO_COLUMNS} FROM datasets WHERE id = ?", (existing[0],)
                ).fetchone()
                return _info(row)
            conn.execute(
                "INSERT INTO datasets(id, kind, name, filename, sha256, size, created, options,"
                " report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (dataset_id, kind, name, filename, digest, len(data), now())
                + (options_json, report_json),
            )
            conn.execute("INSERT INTO blobs(id, data) VALUES (?, ?)", (dataset_id, data))
            audit.record(conn, actor, "save", dataset_id, logged | {"filename": filename})
            row = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
        return _info(row)

    def list_datasets(self, kind: str | None = None) -> list[DatasetInfo]:
        """Saved datasets not in the trash, newest first (one kind when ``kind`` is given)."""
        query = f"SELECT {_INFO_COLUMNS} FROM datasets WHERE deleted_at IS NULL"
        params: tuple[str, ...] = ()
        if kind is not None:
            query += " AND kind = ?"
            params = (check_kind(kind),)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY created DESC, rowid DESC", params).fetchall()
        return [_info(row) for row in rows]

    def info(self, dataset_id: str) -> DatasetInfo:
        """The dataset's description (``deleted_at`` set when it is in the trash)."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
        if row is None:
            raise self._missing(dataset_id)
        return _info(row)

    def get_bytes(self, dataset_id: str, *, verify: bool = True, actor: str | None = None) -> bytes:
        """The dataset's original bytes, checked against their SHA-256 unless ``verify=False``.

        With ``actor``, the read is logged as ``open`` before the bytes are returned (a
        read that cannot be logged fails). A dataset in the trash is not opened.
        """
        with self._connect() as conn:
            found = conn.execute(
                "SELECT b.data, d.sha256, d.deleted_at, d.name FROM blobs b JOIN datasets d "
                "USING (id) WHERE id = ?",
                (dataset_id,),
            ).fetchall()
            if not found:
                raise self._missing(dataset_id)
            row = found[0]
            if row[2] is not None:
                raise self._in_trash(dataset_id, row[2])
            data = bytes(row[0])
            if verify and hashlib.sha256(data).hexdigest() != row[1]:
                raise StoreError(
                    _(
                        "Dataset {dataset_id} in {db_path} no longer matches its SHA-256: "
                        "the file was damaged on disk. Restore the workspace from a backup."
                    ).format(dataset_id=dataset_id, db_path=self.db_path)
                )
            if actor is not None:
                with write(conn):
                    audit.record(conn, actor, "open", dataset_id, {"name": row[3]})
        return data

    def rename(self, dataset_id: str, name: str, *, actor: str = "local") -> DatasetInfo:
        """Give a dataset a new display name (its bytes and id do not change)."""
        name = check_name(name)
        with self._change() as conn:
            row = conn.execute(
                "SELECT name, deleted_at FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                raise self._missing(dataset_id)
            if row[1] is not None:
                raise self._in_trash(dataset_id, row[1])
            conn.execute("UPDATE datasets SET name = ? WHERE id = ?", (name, dataset_id))
            audit.record(conn, actor, "rename", dataset_id, {"from": row[0], "to": name})
        return self.info(dataset_id)

    # -- trash ------------------------------------------------------------------------

    def delete(self, dataset_id: str, *, actor: str = "local") -> DatasetInfo:
        """Move a dataset to the trash: unlisted, bytes kept, restorable for ``trash_days``."""
        with self._change() as conn:
            row = conn.execute(
                "SELECT name, kind, deleted_at FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                raise self._missing(dataset_id)
            if row[2] is not None:
                raise self._in_trash(dataset_id, row[2])
            conn.execute(
                "UPDATE datasets SET deleted_at = ?, deleted_by = ? WHERE id = ?",
                (now(), audit.check_actor(actor), dataset_id),
            )
            audit.record(
                conn,
                actor,
                "delete",
                dataset_id,
                {"name": row[0], "kind": row[1], "trash_days": self.trash_days},
            )
        return self.info(dataset_id)

    def trash(self) -> list[DatasetInfo]:
        """Datasets in the trash, most recently deleted first."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_INFO_COLUMNS} FROM datasets WHERE deleted_at IS NOT NULL "
                "ORDER BY deleted_at DESC, rowid DESC"
            ).fetchall()
        return [_info(row) for row in rows]

    def purge_due_at(self, info: DatasetInfo) -> str | None:
        """When the automatic purge will erase a dataset in the trash (ISO 8601, UTC)."""
        if info.deleted_at is None:
            return None
        deleted = datetime.fromisoformat(info.deleted_at)
        return (deleted + timedelta(days=self.trash_days)).isoformat(timespec="seconds")

    def restore(self, dataset_id: str, *, actor: str = "local") -> DatasetInfo:
        """Take a dataset out of the trash, as it was."""
        with self._change() as conn:
            row = conn.execute(
                "SELECT name, deleted_at, deleted_by FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                raise self._not_restorable(conn, dataset_id)
            if row[1] is None:
                raise InputError(
                    _("{dataset_id} is not in the trash: there is nothing to restore.").format(
                        dataset_id=dataset_id
                    )
                )
            conn.execute(
                "UPDATE datasets SET deleted_at = NULL, deleted_by = NULL WHERE id = ?",
                (dataset_id,),
            )
            audit.record(
                conn,
                actor,
                "restore",
                dataset_id,
                {"name": row[0], "deleted_at": row[1], "deleted_by": row[2]},
            )
        return self.info(dataset_id)

    def purge(
        self,
        dataset_id: str | None = None,
        *,
        actor: str = "local",
        older_than_days: float | None = None,
        wait: float = PURGE_WAIT_S,
    ) -> PurgeResult:
        """Erase datasets in the trash: rows deleted, bytes overwritten, the log emptied.

        Parameters
        ----------
        dataset_id
            One dataset in the trash; None: every dataset in the trash.
        actor
            Who purges (the audit entries' actor).
        older_than_days
            Only datasets deleted at least this many days ago.
        wait
            Seconds to retry the WAL checkpoint while a reader holds an older snapshot.

        Returns the datasets whose bytes are verifiably gone and those still pending (a
        reader outlasted ``wait``; every later purge and opening retries them).
        Purges left pending earlier are retried here too.
        """
        if older_than_days is not None and not float(older_than_days) >= 0:
            raise InvalidValueError(
                _(
                    "The age of datasets to purge must be 0 or more days, got {older_than_days!r}."
                ).format(older_than_days=older_than_days)
            )
        with self._connect() as conn:
            with write(conn):
                rows = trash.select(conn, dataset_id, older_than_days)
                trash.remove(conn, rows, actor, older_than_days)
            return trash.finish(conn, actor, wait)

    def purge_due(self, *, actor: str = "system", wait: float = OPEN_PURGE_WAIT_S) -> PurgeResult:
        """Purge the trash older than ``trash_days`` and retry pending purges (at opening)."""
        limit = trash.cutoff(self.trash_days)
        with self._connect() as conn:
            due = conn.execute(
                "SELECT 1 FROM datasets WHERE deleted_at IS NOT NULL AND deleted_at <= ? "
                "UNION ALL SELECT 1 FROM purge_pending LIMIT 1",
                (limit,),
            ).fetchone()
        if due is None:
            return PurgeResult()
        return self.purge(actor=actor, older_than_days=self.trash_days, wait=wait)

    def pending_purges(self) -> list[tuple[str, str, str]]:
        """(id, requested at, by whom) of purges waiting for readers to let go."""
        with self._connect() as conn:
            return trash.pending_ids(conn)

    # -- backups ----------------------------------------------------------------------

    def backup(self, target: str | os.PathLike[str], *, actor: str = "local") -> Path:
        """Copy the whole workspace (trash and audit log included) into the new file ``target``.

        Uses SQLite's online backup API, so sessions keep reading and writing meanwhile.
        The file is owner-only (0600); an existing file is never overwritten.
        """
        path = Path(target).expanduser()
        with self._connect() as conn:
            size = backup.write_backup(conn, path)
            with write(conn):
                audit.record(conn, actor, "backup", None, {"path": str(path), "bytes": size})
        return path

    @classmethod
    def restore_backup(
        cls,
        source: str | os.PathLike[str],
        path: str | os.PathLike[str] | None = None,
        team: str | None = None,
        *,
        actor: str = "local",
        trash_days: float | None = None,
    ) -> Workspace:
        """Replace a workspace with the backup ``source`` (see :meth:`backup`).

        The workspace as it was is first backed up beside it, in ``backups/``
        (``previous_copy`` on the returned workspace), so a restore can be undone. A
        backup from an older version is migrated; the restore is logged in the
        restored audit log.
        """
        source = Path(source).expanduser()
        version = backup.check_backup(source)
        current = cls.open(path, team=team, trash_days=trash_days)
        folder = current.db_path.parent / "backups"
        db.make_private_dirs(folder)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        previous = current.backup(folder / f"before-restore-{stamp}.sqlite3", actor=actor)
        with current._connect() as conn:
            backup.copy_into(source, conn)
            db.initialise(conn, current.db_path)  # a version-1 backup is migrated here
            with write(conn):
                audit.record(
                    conn,
                    actor,
                    "restore-backup",
                    None,
                    {"source": str(source), "schema": version, "previous": str(previous)},
                )
        restored = cls.open(path, team=team, trash_days=trash_days)
        restored.previous_copy = previous
        return restored

    # -- reading several ----------------------------------------------------------------

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
        """Problems found by SQLite's integrity check, by re-hashing every dataset (the
        trash included) and in the audit log's protection.

        An empty list means the store is sound and every dataset reads back byte for byte.
        """
        problems: list[str] = []
        with self._connect() as conn:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems.extend(
                    _("SQLite integrity check: {result}").format(result=r) for r in result
                )
            orphans = conn.execute(
                "SELECT d.id FROM datasets d LEFT JOIN blobs b USING (id) WHERE b.id IS NULL"
            ).fetchall()
            problems.extend(_("{id}: dataset without bytes").format(id=r[0]) for r in orphans)
            for dataset_id, digest in conn.execute("SELECT id, sha256 FROM datasets").fetchall():
                row = conn.execute("SELECT data FROM blobs WHERE id = ?", (dataset_id,)).fetchone()
                if row is not None and hashlib.sha256(row[0]).hexdigest() != digest:
                    problems.append(
                        _("{id}: bytes do not match their SHA-256").format(id=dataset_id)
                    )
            triggers = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            }
            problems.extend(
                _("audit log: trigger {name} is missing, so entries could be changed").format(
                    name=name
                )
                for name in db.AUDIT_TRIGGERS
                if name not in triggers
            )
        return problems

    # -- messages -----------------------------------------------------------------------

    def _missing(self, dataset_id: str) -> InputError:
        return InputError(
            _(
                "There is no dataset {dataset_id!r} in the workspace {parent}: it "
                "may have been deleted in another session. Reload the list of "
                "saved datasets."
            ).format(dataset_id=dataset_id, parent=self.db_path.parent)
        )

    def _in_trash(self, dataset_id: str, deleted_at: str) -> InputError:
        return InputError(
            _(
                "{dataset_id} is in the trash (deleted {deleted_at}): restore it "
                "first (`crisismap workspace restore {dataset_id}`, or Restore in "
                "the app)."
            ).format(dataset_id=dataset_id, deleted_at=deleted_at)
        )

    def _not_restorable(self, conn: sqlite3.Connection, dataset_id: str) -> InputError:
        purged = conn.execute(
            "SELECT time FROM audit WHERE action = 'purge' AND target = ? ORDER BY id DESC",
            (dataset_id,),
        ).fetchone()
        if purged is not None:
            return InputError(
                _(
                    "{dataset_id} was purged on {purged}, so it cannot be restored: "
                    "only a backup taken before then still holds it."
                ).format(dataset_id=dataset_id, purged=purged[0])
            )
        return self._missing(dataset_id)


# --- helpers --------------------------------------------------------------------------


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
        deleted_at=row[9],
        deleted_by=row[10],
    )


def _make_secret(conn: sqlite3.Connection) -> None:
    """Give the workspace its secret (and its creation time) if it has none yet."""
    if conn.execute("SELECT 1 FROM meta WHERE key='secret'").fetchone() is not None:
        return
    with write(conn):
        made = datetime.now(UTC).isoformat(timespec="microseconds")
        inserted = conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('secret', ?)",
            (secrets.token_bytes(32),),
        ).rowcount
        if inserted:  # another process may have made it meanwhile
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('secret_created', ?)", (made,)
            )


def _trash_days(conn: sqlite3.Connection, given: float | None) -> float:
    """The workspace's remembered trash period; ``given`` replaces it (and is logged)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'trash_days'").fetchone()
    stored = float(row[0]) if row is not None else None
    if given is None:
        return stored if stored is not None else DEFAULT_TRASH_DAYS
    days = float(given)
    if not days >= 0:
        raise InvalidValueError(
            _("Days in the trash before purging must be 0 or more, got {given!r}.").format(
                given=given
            )
        )
    if days != stored:
        with write(conn):
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('trash_days', ?)", (str(days),)
            )
            audit.record(conn, "system", "settings", None, {"trash_days": days, "was": stored})
    return days


def _to_json(value: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from exc


def _preference_key(actor: str, name: str) -> str:
    return f"preference:{name}:{actor}"

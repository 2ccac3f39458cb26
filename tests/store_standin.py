"""TEMPORARY stand-in for the store side of issue 11 (branch ``teams-store``), tests only.

The app codes against the Store API of /work/ISSUE11_CONTRACT.md (per-team workspaces,
audit log, trash). Until that branch is merged, main's ``Workspace`` lacks it, so the
app's tests patch this thin version onto it: extra tables in the same SQLite file, no
purge verification, no migration. :func:`install` does nothing once the real API is
there; then delete this file, the ``store_contract`` fixture and the launcher below.

Run as ``python -m tests.store_standin run app.py ...`` it is ``streamlit run`` with the
stand-in installed, for the browser tests' app servers.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crisismap.store import DatasetInfo, Workspace, default_data_dir

_TABLES = """
CREATE TABLE IF NOT EXISTS standin_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT, details TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS standin_trash (id TEXT PRIMARY KEY, deleted_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrashedInfo(DatasetInfo):
    deleted_at: str = ""


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]
    pending: list[str]


def needed() -> bool:
    """True while the real Store API is missing (also once this stand-in is patched in)."""
    return Workspace.__dict__.get("audit_log") in (None, audit_log)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _tables(ws: Workspace) -> None:
    with ws._connect() as conn:
        conn.executescript(_TABLES)


def _open(cls, path=None, *, team: str | None = None):
    if team is not None:
        base = Path(path).expanduser() if path is not None else default_data_dir()
        path = base / "teams" / team
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    ws = _ORIGINAL["open"].__func__(cls, path)
    _tables(ws)
    return ws


def log(self, actor: str, action: str, target: str | None = None, **details: Any) -> None:
    with self._connect() as conn:
        conn.execute(
            "INSERT INTO standin_audit(time, actor, action, target, details) VALUES (?,?,?,?,?)",
            (_now(), actor, action, target, json.dumps(details, default=str, sort_keys=True)),
        )


def audit_log(self, limit: int | None = None) -> list[AuditEntry]:
    query = "SELECT id, time, actor, action, target, details FROM standin_audit ORDER BY id DESC"
    with self._connect() as conn:
        rows = conn.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
    return [AuditEntry(*row[:5], details=json.loads(row[5])) for row in reversed(rows)]


def audit_csv(self) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(["id", "time", "actor", "action", "target", "details"])
    for e in self.audit_log():
        writer.writerow([e.id, e.time, e.actor, e.action, e.target or "", json.dumps(e.details)])
    return buffer.getvalue().encode()


def _trashed(self) -> dict[str, str]:
    with self._connect() as conn:
        return dict(conn.execute("SELECT id, deleted_at FROM standin_trash").fetchall())


def list_datasets(self, kind: str | None = None) -> list[DatasetInfo]:
    gone = _trashed(self)
    return [d for d in _ORIGINAL["list_datasets"](self, kind) if d.id not in gone]


def save_dataset(self, name, data, *, actor: str = "local", **kwargs) -> DatasetInfo:
    info = _ORIGINAL["save_dataset"](self, name, data, **kwargs)
    if not info.already_saved:
        self.log(actor, "save", info.id, name=info.name, sha256=info.sha256, size=info.size)
    return info


def rename(self, dataset_id: str, name: str, *, actor: str = "local") -> DatasetInfo:
    old = self.info(dataset_id).name
    info = _ORIGINAL["rename"](self, dataset_id, name)
    self.log(actor, "rename", dataset_id, old=old, new=info.name)
    return info


def delete(self, dataset_id: str, *, actor: str = "local") -> None:
    info = self.info(dataset_id)
    with self._connect() as conn:
        conn.execute("INSERT OR REPLACE INTO standin_trash VALUES (?, ?)", (dataset_id, _now()))
    self.log(actor, "delete", dataset_id, name=info.name)


def trash(self) -> list[TrashedInfo]:
    gone = _trashed(self)
    return [
        TrashedInfo(**{**d.__dict__, "deleted_at": gone[d.id]})
        for d in _ORIGINAL["list_datasets"](self, None)
        if d.id in gone
    ]


def restore(self, dataset_id: str, *, actor: str = "local") -> DatasetInfo:
    with self._connect() as conn:
        conn.execute("DELETE FROM standin_trash WHERE id = ?", (dataset_id,))
    self.log(actor, "restore", dataset_id)
    return replace(self.info(dataset_id))


def purge(self, dataset_id=None, *, actor: str = "local", older_than_days=None) -> PurgeResult:
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days or 0)
    targets = [
        i
        for i, at in _trashed(self).items()
        if (dataset_id is None or i == dataset_id) and datetime.fromisoformat(at) <= cutoff
    ]
    for target in targets:
        _ORIGINAL["delete"](self, target)
        with self._connect() as conn:
            conn.execute("DELETE FROM standin_trash WHERE id = ?", (target,))
        self.log(actor, "purge", target)
    return PurgeResult(purged=targets, pending=[])


_ORIGINAL: dict[str, Any] = {}
_PATCHES = {
    "log": log,
    "audit_log": audit_log,
    "audit_csv": audit_csv,
    "list_datasets": list_datasets,
    "save_dataset": save_dataset,
    "rename": rename,
    "delete": delete,
    "trash": trash,
    "restore": restore,
    "purge": purge,
}


def install(monkeypatch: Any | None = None) -> bool:
    """Patch the contract's API onto ``Workspace`` when it is missing; True if patched."""
    if not needed():
        return False
    for name in [*_PATCHES, "open"]:
        if name in Workspace.__dict__:
            _ORIGINAL.setdefault(name, Workspace.__dict__[name])

    def setter(name: str, value: Any) -> None:
        if monkeypatch is not None:
            monkeypatch.setattr(Workspace, name, value, raising=False)
        else:
            setattr(Workspace, name, value)

    setter("open", classmethod(_open))
    for name, function in _PATCHES.items():
        setter(name, function)
    return True


if __name__ == "__main__":  # ``streamlit ...`` with the stand-in installed
    install()
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(main())

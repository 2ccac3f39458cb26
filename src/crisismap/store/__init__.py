"""The persistent workspace: uploaded files kept as immutable datasets in one SQLite file.

Why SQLite in WAL mode (and not DuckDB or GeoPackage): it ships with Python, so the
workspace needs no extra dependency and no server; its transactions are atomic and
durable across a killed process (a half-written dataset is rolled back on the next
open); in WAL mode readers never block the one writer, and several *processes* (a
shared deployment runs several) may write to the same file, queuing on a lock instead
of losing each other's rows. DuckDB allows a single writing process at a time, and a
GeoPackage is SQLite with a schema this store has no use for: the datasets are kept as
the original bytes, never as parsed geometry.

Layout: the data directory is ``$CRISISMAP_DATA_DIR`` when set, else
``$XDG_DATA_HOME/crisismap`` (``~/.local/share/crisismap``). The local, single-user
workspace is ``<data dir>/workspace.sqlite3``; each team's is
``<data dir>/teams/<team>/workspace.sqlite3`` (plus their ``-wal``/``-shm``
companions). Folders are created owner-only (0700) and files 0600: they hold victims'
and witnesses' records.

Rules kept here:

* A dataset is the original bytes plus what was decided about them (mapping options,
  the validation report's summary); the bytes never change. Saving the same bytes
  again returns the dataset already saved, never a copy.
* Every write is one ``BEGIN IMMEDIATE`` transaction on its own connection, so the
  store is safe across threads (Streamlit sessions) and processes alike.
* Every change names its actor and writes an audit entry in the same transaction; the
  audit table refuses UPDATE and DELETE (``audit.py``).
* Nothing is deleted without a way back: deleting moves a dataset to the trash, where
  it stays restorable for ``trash_days``. Purging (by hand, or automatically after
  ``trash_days``) overwrites the bytes and proves the write-ahead log empty, or says
  the purge is pending while a reader holds the file (``trash.py``).
* Backups use SQLite's online backup API (``backup.py``); restoring one keeps the
  workspace as it was beside it.

Schema history: 1 = datasets and their bytes; 2 = trash, audit log, pending purges
(a version-1 workspace is migrated when it is opened).
"""

from __future__ import annotations

from crisismap.errors import StoreError
from crisismap.records.combine import combine_records
from crisismap.store.audit import ACTIONS, AuditEntry
from crisismap.store.db import (
    DATA_DIR_ENV,
    DB_NAME,
    KINDS,
    MAX_NAME_CHARS,
    SCHEMA_VERSION,
    check_name,
    check_team,
    default_data_dir,
)
from crisismap.store.trash import PurgeResult
from crisismap.store.workspace import DEFAULT_TRASH_DAYS, DatasetInfo, Workspace

__all__ = [
    "ACTIONS",
    "DATA_DIR_ENV",
    "DB_NAME",
    "DEFAULT_TRASH_DAYS",
    "KINDS",
    "MAX_NAME_CHARS",
    "SCHEMA_VERSION",
    "AuditEntry",
    "DatasetInfo",
    "PurgeResult",
    "StoreError",
    "Workspace",
    "check_name",
    "check_team",
    "combine_records",
    "default_data_dir",
]

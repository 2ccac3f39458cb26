"""The audit log: who did what to which dataset, when; append-only inside the workspace.

Entries are written in the same transaction as the change they record, so a change
without its entry cannot be committed. SQLite triggers refuse every UPDATE and DELETE
on the table (see ``db._TO_V2``): the store's code cannot rewrite history, and neither
can anyone who opens the file with ordinary SQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crisismap.store.db import now

# The words the store and the app write (the log accepts any word of this shape).
ACTIONS = (
    "sign-in",
    "sign-out",
    "upload",
    "save",
    "open",
    "export",
    "rename",
    "delete",
    "restore",
    "purge",
    "backup",
    "restore-backup",
    "denied",
    "audit",
    "migrate",
    "settings",
)
_ACTION = re.compile(r"[a-z][a-z-]{0,39}")
MAX_ACTOR_CHARS = 320  # an e-mail address at its longest


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log; ``time`` is ISO 8601 UTC, ``details`` what was done."""

    id: int
    time: str
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] = field(default_factory=dict)


def record(
    conn: sqlite3.Connection,
    actor: str,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO audit(time, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
        (
            now(),
            check_actor(actor),
            check_action(action),
            None if target is None else str(target),
            json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str),
        ),
    )


def entries(conn: sqlite3.Connection, limit: int | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries (all when None), newest first."""
    query = "SELECT id, time, actor, action, target, details FROM audit ORDER BY id DESC"
    params: tuple[int, ...] = ()
    if limit is not None:
        query += " LIMIT ?"
        params = (max(int(limit), 0),)
    return [
        AuditEntry(
            id=row[0],
            time=row[1],
            actor=row[2],
            action=row[3],
            target=row[4],
            details=json.loads(row[5]),
        )
        for row in conn.execute(query, params).fetchall()
    ]


def to_frame(log: list[AuditEntry]) -> pd.DataFrame:
    """The entries as a table (details as JSON text), for the CSV export and the app."""
    return pd.DataFrame(
        {
            "id": [e.id for e in log],
            "time": [e.time for e in log],
            "actor": [e.actor for e in log],
            "action": [e.action for e in log],
            "target": [e.target or "" for e in log],
            "details": [json.dumps(e.details, ensure_ascii=False, sort_keys=True) for e in log],
        }
    )


def check_actor(actor: str) -> str:
    text = str(actor).strip()
    if not text or len(text) > MAX_ACTOR_CHARS:
        raise ValueError(
            f"An audit entry needs an actor of 1 to {MAX_ACTOR_CHARS} characters (who did it: "
            f"an e-mail address, 'cli:USER', 'local' or 'system'), got {actor!r}."
        )
    return text


def check_action(action: str) -> str:
    text = str(action)
    if not _ACTION.fullmatch(text):
        raise ValueError(
            f"An audit action is one lowercase word (hyphens allowed), e.g. "
            f"{', '.join(ACTIONS[:6])}; got {action!r}."
        )
    return text

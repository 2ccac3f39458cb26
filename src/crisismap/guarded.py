"""A workspace as one signed-in member sees it: every action checked, then logged.

The app shows a member only the controls their role allows (``may``); this object checks
again on every call, so a control that should not have been there still does nothing
(and leaves a ``denied`` entry in the audit log). It has the ``Workspace`` methods the
app uses, under the same names, each passing the member as ``actor`` to the store, plus
the audit log, the members list, and downloads that are checked and logged when they
are built (that is, when the member clicks, not when the button is drawn).

Local mode uses the same object with :func:`crisismap.access.local_access`: every action
allowed, logged as ``"local"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import pandas as pd

from crisismap.access import Access, AccessDenied, Action, TeamsConfig
from crisismap.schema import View
from crisismap.store import DatasetInfo, Workspace
from crisismap.store.audit import to_frame as audit_frame

__all__ = ["Download", "GuardedWorkspace"]


class Download(Protocol):
    """What the app offers as a download (``crisismap.dashboard.ExportItem``)."""

    label: str
    filename: str
    make: Callable[[], bytes]


D = TypeVar("D", bound=Download)


class GuardedWorkspace:
    """``workspace`` as the member ``who`` may use it (see the module docstring)."""

    def __init__(self, workspace: Workspace, who: Access) -> None:
        self.workspace = workspace
        self.access = who

    @property
    def actor(self) -> str:
        return self.access.actor or "anonymous"

    @property
    def team(self) -> str | None:
        return self.access.team

    def may(self, action: Action) -> bool:
        return self.access.may(action)

    def check(self, action: Action, target: str | None = None) -> None:
        """Raise :class:`AccessDenied` (and log ``denied``) unless ``action`` is allowed now."""
        try:
            self.access.require(action)
        except AccessDenied:
            role = str(self.access.role) if self.access.role else None
            self.workspace.log(self.actor, "denied", target, tried=action.value, role=role)
            raise

    # -- reading -------------------------------------------------------------------

    def list_datasets(self, kind: str | None = None) -> list[DatasetInfo]:
        self.check(Action.VIEW)
        return self.workspace.list_datasets(kind)

    def get_bytes(self, dataset_id: str) -> bytes:
        """A saved dataset's bytes, logged as ``open`` (by the store, before it returns them)."""
        self.check(Action.VIEW, dataset_id)
        return self.workspace.get_bytes(dataset_id, actor=self.actor)

    # -- sessions and uploads ----------------------------------------------------------

    def note_sign_in(self, memory: MutableMapping[str, Any]) -> None:
        """Log ``sign-in`` once per session and team (team mode only)."""
        if self.team is None or memory.get("_signed_in_logged"):
            return
        when = self.access.signed_in_at
        self.workspace.log(
            self.actor,
            "sign-in",
            None,
            team=self.team,
            role=str(self.access.role),
            signed_in_at=when.isoformat() if when else None,
        )
        memory["_signed_in_logged"] = True

    def note_sign_out(self) -> None:
        if self.team is not None:
            self.workspace.log(self.actor, "sign-out", None, team=self.team)

    def note_uploads(
        self,
        uploads: Sequence[tuple[str, bytes]],
        memory: MutableMapping[str, Any],
        *,
        kind: str = "incidents",
    ) -> None:
        """Log each new upload, given as ``(upload id, bytes)``, once per session.

        An upload is recorded by its SHA-256 and size, not its name: a file nobody saved
        leaves neither its name nor its content in the workspace (saving logs the name).
        """
        seen = memory.setdefault("_uploads_logged", set())
        fresh = [u for u in uploads if u[0] not in seen]
        if fresh:
            self.check(Action.UPLOAD)
        for upload_id, data in fresh:
            digest = hashlib.sha256(data).hexdigest()
            self.workspace.log(self.actor, "upload", f"sha256:{digest}", kind=kind, size=len(data))
            seen.add(upload_id)

    # -- changing ------------------------------------------------------------------

    def save_dataset(self, name: str, data: bytes, **options: Any) -> DatasetInfo:
        self.check(Action.SAVE, name)
        return self.workspace.save_dataset(
            name,
            data,
            actor=self.actor,
            restore_from_trash=self.may(Action.RESTORE),  # else saving would undo a delete
            **options,
        )

    def rename(self, dataset_id: str, name: str) -> DatasetInfo:
        self.check(Action.RENAME, dataset_id)
        return self.workspace.rename(dataset_id, name, actor=self.actor)

    def delete(self, dataset_id: str) -> None:
        """Move a dataset to the team's trash (an admin can restore it)."""
        self.check(Action.DELETE, dataset_id)
        self.workspace.delete(dataset_id, actor=self.actor)

    def trash(self) -> list[DatasetInfo]:
        self.check(Action.RESTORE)
        return self.workspace.trash()

    def restore(self, dataset_id: str) -> DatasetInfo:
        self.check(Action.RESTORE, dataset_id)
        return self.workspace.restore(dataset_id, actor=self.actor)

    def purge(self, dataset_id: str) -> Any:
        """Overwrite a trashed dataset's bytes now (the store's ``PurgeResult``)."""
        self.check(Action.PURGE, dataset_id)
        return self.workspace.purge(dataset_id, actor=self.actor)

    # -- admin -----------------------------------------------------------------------

    def audit_table(self, limit: int = 1000) -> pd.DataFrame:
        """The newest ``limit`` audit entries, newest first, details as JSON text."""
        self.check(Action.AUDIT)
        return audit_frame(self.workspace.audit_log(limit=limit))

    def members_table(self, config: TeamsConfig | None) -> pd.DataFrame:
        """Who belongs to this team according to the teams file, admins first."""
        self.check(Action.MEMBERS)
        members = config.members_of(self.team) if config and self.team else []
        rows = [{"member": m.who, "role": str(m.role)} for m in members]
        return pd.DataFrame(rows, columns=["member", "role"])

    # -- downloads ---------------------------------------------------------------------

    def exports(
        self, items: Sequence[D], *, public: bool, k: int, view: View, sources: Sequence[str]
    ) -> list[D]:
        """The view's downloads, each checked and logged with the view's parameters."""
        action = Action.EXPORT_PUBLIC if public else Action.EXPORT_INTERNAL
        self.check(action)
        details = {"public": public, "k": k, "view": view.to_dict(), "sources": list(sources)}
        return [self._logged(item, action, details) for item in items]

    def internal_export(self, item: D, *, sources: Sequence[str]) -> D:
        """An internal download outside the view's exports (the rejected records)."""
        self.check(Action.EXPORT_INTERNAL)
        return self._logged(item, Action.EXPORT_INTERNAL, {"public": False, "sources": [*sources]})

    def audit_csv(self) -> tuple[str, Callable[[], bytes]]:
        """The audit log's file name and a maker of its CSV (logged as an export)."""
        self.check(Action.AUDIT)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
        filename = f"SENSITIVE_audit_{self.team or 'local'}_{stamp}.csv"

        def make() -> bytes:
            self.check(Action.AUDIT, filename)
            data = self.workspace.audit_csv()
            self._log_export(filename, "Audit log (CSV)", data, {"public": False})
            return data

        return filename, make

    def _logged(self, item: D, action: Action, details: dict[str, Any]) -> D:
        """``item`` whose bytes are built only after a fresh check, then logged as ``export``.

        The check runs when the member clicks, not when the button was drawn: a sign-in
        that expired in between gets nothing (and a ``denied`` entry).
        """
        build = item.make

        def make() -> bytes:
            self.check(action, item.filename)
            data = build()
            self._log_export(item.filename, item.label, data, details)
            return data

        return replace(item, make=make)  # type: ignore[type-var]

    def _log_export(self, filename: str, label: str, data: bytes, details: dict[str, Any]) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self.workspace.log(
            self.actor, "export", filename, label=label, size=len(data), sha256=digest, **details
        )

"""GuardedWorkspace: each action checked against the member's role, then logged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from crisismap.access import Access, AccessDenied, Action, Role, Step, TeamsConfig, local_access
from crisismap.errors import InputError
from crisismap.guarded import GuardedWorkspace
from crisismap.schema import View
from crisismap.store import Workspace

CSV = b"id,date,latitude,longitude,category\nw1,2024-03-05,15.6,32.5,killing\n"
VIEW = View.parse(level=1, period="month", start="2024-03-01", categories=["killing"])


@dataclass(frozen=True)
class Item:
    label: str
    filename: str
    mime: str
    make: object


def member(role: Role, *, team="alpha", hours_left=1.0) -> Access:
    now = datetime.now(UTC)
    return Access(
        Step.READY,
        actor=f"{role}@alpha.org",
        team=team,
        role=role,
        teams={team: role},
        team_names={team: "Team Alpha"},
        signed_in_at=now - timedelta(hours=1),
        expires_at=now + timedelta(hours=hours_left),
    )


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(tmp_path, team="alpha")


def entries(ws: Workspace) -> list[tuple]:
    """The audit log oldest first, without the store's own (system) entries."""
    return [(e.actor, e.action, e.target) for e in reversed(ws.audit_log()) if e.actor != "system"]


def last(ws: Workspace):
    return ws.audit_log(limit=1)[0]


def test_a_viewer_reads_and_opening_is_logged(ws):
    info = ws.save_dataset("field notes", CSV, actor="analyst@alpha.org")
    viewer = GuardedWorkspace(ws, member(Role.VIEWER))
    assert [d.name for d in viewer.list_datasets("incidents")] == ["field notes"]
    assert viewer.get_bytes(info.id) == CSV
    assert entries(ws)[-1] == ("viewer@alpha.org", "open", info.id)


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda g, i: g.save_dataset("x", b"a,b\n1,2\n"), "save"),
        (lambda g, i: g.rename(i, "new name"), "rename"),
        (lambda g, i: g.delete(i), "delete"),
        (lambda g, i: g.trash(), "restore"),
        (lambda g, i: g.restore(i), "restore"),
        (lambda g, i: g.purge(i), "purge"),
        (lambda g, i: g.audit_table(), "audit"),
        (lambda g, i: g.members_table(None), "members"),
        (lambda g, i: g.note_uploads([("u1", b"x")], {}), "upload"),
    ],
)
def test_a_viewer_is_refused_and_the_refusal_is_logged(ws, call, action):
    info = ws.save_dataset("field notes", CSV)
    before = ws.list_datasets()
    viewer = GuardedWorkspace(ws, member(Role.VIEWER))
    with pytest.raises(AccessDenied, match="not allowed for the viewer role"):
        call(viewer, info.id)
    assert ws.list_datasets() == before and ws.trash() == []
    entry = last(ws)
    assert (entry.actor, entry.action, entry.details["tried"]) == (
        "viewer@alpha.org",
        "denied",
        action,
    )


def test_an_analyst_saves_and_renames_under_their_name(ws):
    analyst = GuardedWorkspace(ws, member(Role.ANALYST))
    info = analyst.save_dataset("upload.csv", CSV, kind="incidents", filename="upload.csv")
    analyst.rename(info.id, "March reports")
    assert [e[:2] for e in entries(ws)] == [
        ("analyst@alpha.org", "save"),
        ("analyst@alpha.org", "rename"),
    ]
    assert last(ws).details == {"from": "upload.csv", "to": "March reports"}
    with pytest.raises(AccessDenied):
        analyst.delete(info.id)


def test_an_admin_deletes_restores_and_reads_the_audit_log(ws):
    info = ws.save_dataset("field notes", CSV)
    admin = GuardedWorkspace(ws, member(Role.ADMIN))
    admin.delete(info.id)
    assert admin.list_datasets() == [] and [d.id for d in admin.trash()] == [info.id]
    admin.restore(info.id)
    table = admin.audit_table()
    assert list(table["action"][:2]) == ["restore", "delete"]  # newest first
    name, make = admin.audit_csv()
    assert name.startswith("SENSITIVE_audit_alpha_") and b"restore" in make()
    assert entries(ws)[-1] == ("admin@alpha.org", "export", name)


def test_uploads_are_logged_once_by_hash_not_by_name(ws):
    analyst = GuardedWorkspace(ws, member(Role.ANALYST))
    memory: dict = {}
    analyst.note_uploads([("id-1", CSV)], memory)
    analyst.note_uploads([("id-1", CSV)], memory)  # a rerun: the same upload
    analyst.note_uploads([("id-2", b"lat,lon\n")], memory, kind="boundaries")
    logged = ws.audit_log()[::-1]
    assert [e.target for e in logged] == [
        f"sha256:{hashlib.sha256(CSV).hexdigest()}",
        f"sha256:{hashlib.sha256(b'lat,lon' + bytes([10])).hexdigest()}",
    ]
    assert logged[1].details == {"kind": "boundaries", "size": 8}


def test_exports_are_logged_when_built_with_the_view(ws):
    viewer = GuardedWorkspace(ws, member(Role.VIEWER))
    items = [Item("Summary (CSV)", "crisismap_admin1_month.csv", "text/csv", lambda: b"a,b\n")]
    wrapped = viewer.exports(items, public=True, k=5, view=VIEW, sources=["inc-1"])
    assert entries(ws) == []  # drawing the button logs nothing
    assert wrapped[0].make() == b"a,b\n"
    entry = last(ws)
    assert (entry.actor, entry.action, entry.target) == (
        "viewer@alpha.org",
        "export",
        "crisismap_admin1_month.csv",
    )
    assert entry.details["view"] == VIEW.to_dict() and entry.details["public"] is True
    assert entry.details["sources"] == ["inc-1"] and entry.details["k"] == 5
    with pytest.raises(AccessDenied):
        viewer.exports(items, public=False, k=5, view=VIEW, sources=[])
    with pytest.raises(AccessDenied):
        viewer.internal_export(items[0], sources=[])


def test_a_download_clicked_after_the_sign_in_expired_gets_nothing(ws):
    who = member(Role.ANALYST, hours_left=-0.01)
    analyst = GuardedWorkspace(ws, who)
    built = []
    item = Item("Rejected", "SENSITIVE_rejected_records.csv", "text/csv", lambda: built.append(1))
    wrapped = analyst._logged(item, Action.EXPORT_INTERNAL, {})
    with pytest.raises(AccessDenied, match="expired"):
        wrapped.make()
    assert built == [] and last(ws).action == "denied"


def test_members_and_sign_in_entries(ws):
    config = TeamsConfig.parse(
        '[teams.alpha]\n[teams.beta]\n[[members]]\nemail = "a@x.org"\nteam = "alpha"\n'
        'role = "viewer"\n[[members]]\nemail = "b@x.org"\nteam = "beta"\nrole = "admin"\n'
    )
    admin = GuardedWorkspace(ws, member(Role.ADMIN))
    assert admin.members_table(config).to_dict("records") == [
        {"member": "a@x.org", "role": "viewer"}
    ]
    memory: dict = {}
    admin.note_sign_in(memory)
    admin.note_sign_in(memory)
    admin.note_sign_out()
    assert [e[1] for e in entries(ws)] == ["sign-in", "sign-out"]
    assert ws.audit_log()[1].details["role"] == "admin"


def test_local_mode_may_do_everything_as_local(tmp_path):
    ws = Workspace.open(tmp_path)
    local = GuardedWorkspace(ws, local_access())
    info = local.save_dataset("x.csv", CSV)
    local.delete(info.id)
    local.restore(info.id)
    local.note_sign_in({})  # no sign-in in local mode
    assert [e[:2] for e in entries(ws)] == [
        ("local", "save"),
        ("local", "delete"),
        ("local", "restore"),
    ]


def test_saving_a_deleted_file_again_does_not_undo_an_admins_delete(ws):
    info = ws.save_dataset("witness list", CSV, actor="analyst@alpha.org")
    GuardedWorkspace(ws, member(Role.ADMIN)).delete(info.id)
    analyst = GuardedWorkspace(ws, member(Role.ANALYST))
    with pytest.raises(InputError, match="in the trash: an admin can restore it"):
        analyst.save_dataset("witness list (again)", CSV)
    assert [d.id for d in ws.trash()] == [info.id] and ws.list_datasets() == []
    admin = GuardedWorkspace(ws, member(Role.ADMIN))
    assert admin.save_dataset("witness list", CSV).id == info.id  # an admin may bring it back
    assert [d.id for d in ws.list_datasets()] == [info.id]

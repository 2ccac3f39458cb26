"""Access control: every role × every action × its own team and another team's data.

Sessions are decided by the functions the app calls on every rerun
(``dashboard.team_access`` → ``access.decide``) from a teams file and the claims a
provider would send, and act through the object the app acts through
(``GuardedWorkspace`` over ``dashboard.open_workspace(team)``, opened once per team as
the app's cache does). Each action is tried
on the session's own team and, with the targets of another team (its dataset and trash
ids, its audit entries and members), on that team.

Counted as an unauthorised success: an action the role does not allow that returned;
any call that returned another team's bytes, names or audit entries (by a marker
in every name and byte of each team's data); any call after
which another team's workspace changed. Counted as an authorised refusal: an allowed
action on the own team that raised. Both must be 0.

Besides the fixed matrix, generated sessions (scaled by ``CRISISMAP_RELIABILITY_SCALE``)
mix members, strangers, case variants, unverified emails, group claims, expired and
missing sign-in times, a missing ``[auth]`` section and a broken teams file; an
independent reference says which team and role each should get.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from crisismap import dashboard
from crisismap.access import Access, AccessDenied, Action, Role, allowed
from crisismap.errors import InputError
from crisismap.guarded import GuardedWorkspace
from crisismap.schema import View
from crisismap.store import Workspace
from tests.adversarial import figures

pytestmark = pytest.mark.slow  # hundreds of workspace writes
SUITE = figures.ACCESS
TEAMS = ("own", "other")
AUTH = {
    "redirect_uri": "https://crisismap.example.org/oauth2callback",
    "cookie_secret": "k" * 40,
    "client_id": "crisismap",
    "client_secret": "secret",
    "server_metadata_url": "https://id.example.org/.well-known/openid-configuration",
}
TEAMS_FILE = """\
session_hours = 8
[teams.own]
name = "Own team"
[teams.other]
name = "Other team"
""" + "".join(
    f'[[members]]\nemail = "{role}@{team}.org"\nteam = "{team}"\nrole = "{role}"\n'
    f'[[members]]\ngroup = "{team}-{role}s"\nteam = "{team}"\nrole = "{role}"\n'
    for team in TEAMS
    for role in ("viewer", "analyst", "admin")
)
VIEW = View.parse(level=1, period="month")
CHANGING = {Action.RENAME, Action.DELETE, Action.RESTORE, Action.PURGE}


@dataclass
class Item:
    label: str
    filename: str
    mime: str
    make: Any


@dataclass
class Team:
    id: str
    marker: str  # in every name and byte of this team's data
    dataset: str = ""
    trashed: str = ""
    ws: Workspace | None = None  # opened once, as the app's cache does


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two teams' workspaces with a dataset and a trashed dataset each."""
    root = tmp_path_factory.mktemp("access")
    (root / "teams.toml").write_text(TEAMS_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRISISMAP_DATA_DIR", str(root / "data"))
        patch.setenv("CRISISMAP_TEAMS_FILE", str(root / "teams.toml"))
        teams = {
            t: Team(t, f"MARK-{t.upper()}-{uuid.uuid4().hex[:8]}", ws=dashboard.open_workspace(t))
            for t in TEAMS
        }
        for team in teams.values():
            _stock(team)
        yield teams


def _stock(team: Team) -> None:
    """(Re)create the team's dataset and trashed dataset, as the store's system user."""
    ws = team.ws
    data = f"id,note\n1,{team.marker}\n".encode()
    team.dataset = ws.save_dataset(f"{team.marker} dataset", data, actor="system").id
    gone = ws.save_dataset(f"{team.marker} old", data + b"2,x\n", actor="system").id
    if gone not in {d.id for d in ws.trash()}:
        ws.delete(gone, actor="system")
    team.trashed = gone
    for dataset in ws.list_datasets():  # undo renames
        if dataset.id == team.dataset:
            ws.rename(team.dataset, f"{team.marker} dataset", actor="system")
    if team.trashed not in {d.id for d in ws.trash()}:
        ws.delete(team.trashed, actor="system")


def _state(team: Team) -> tuple:
    """What another team's attempt must leave unchanged."""
    ws = team.ws
    return (
        [(d.id, d.name) for d in ws.list_datasets()],
        [d.id for d in ws.trash()],
        len(ws.audit_log()),
    )


def claims(email: str | None, *, groups=(), hours_ago=1.0, verified=True, iat=True) -> dict:
    found: dict[str, Any] = {"is_logged_in": True, "sub": f"sub-{uuid.uuid4().hex[:6]}"}
    if email is not None:
        found["email"] = email
    if not verified:
        found["email_verified"] = False
    if groups:
        found["groups"] = list(groups)
    if iat:
        found["iat"] = time.time() - hours_ago * 3600
    return found


def attempt(g: GuardedWorkspace, action: Action, target: Team, teams: dict) -> Any:
    """Try ``action`` with ``target``'s ids; the result (what the caller would get)."""
    if action is Action.VIEW:
        return (g.list_datasets(), g.get_bytes(target.dataset))
    if action in (Action.EXPORT_PUBLIC, Action.EXPORT_INTERNAL):  # the target's figures
        item = Item("Summary (CSV)", "summary.csv", "text/csv", lambda: g.get_bytes(target.dataset))
        public = action is Action.EXPORT_PUBLIC
        made = g.exports([item], public=public, k=5, view=VIEW, sources=[target.dataset])
        return made[0].make()
    if action is Action.UPLOAD:
        return g.note_uploads([(uuid.uuid4().hex, target.marker.encode())], {})
    if action is Action.SAVE:
        unique = f"id\n{uuid.uuid4().hex}\n".encode()
        return g.save_dataset("saved.csv", unique, kind="incidents", filename="saved.csv")
    if action is Action.RENAME:
        return g.rename(target.dataset, "renamed by someone")
    if action is Action.DELETE:
        return g.delete(target.dataset)
    if action is Action.RESTORE:
        return (g.trash(), g.restore(target.trashed))
    if action is Action.PURGE:
        return g.purge(target.trashed)
    if action is Action.AUDIT:
        return (g.audit_table(), g.audit_csv()[1]())
    if action is Action.MEMBERS:
        return g.members_table(dashboard.load_teams()[0])
    raise AssertionError(action)


def _mentions(result: Any, team: Team) -> bool:
    """The team's names or content (ids are not secrets: a caller may send any id)."""
    return team.marker in repr(result)


@dataclass
class Tally:
    sessions: int = 0
    tried: int = 0
    unauthorised: int = 0
    unauthorised_succeeded: int = 0
    authorised_refused: int = 0


def run_session(who: Access, expected: tuple[str, Role] | None, teams: dict, tally: Tally):
    """Every action of one session on its own team's ids and on the other team's."""
    tally.sessions += 1
    got = (who.team, who.role) if who.open else None
    assert got == expected, (who, expected)
    home = teams[who.team] if who.team else teams["own"]
    for action in Action:
        for target in teams.values():
            tally.tried += 1
            foreign = target.id != home.id
            permitted = who.open and allowed(who.role, action) and not foreign
            tally.unauthorised += not permitted
            before = {t.id: _state(t) for t in teams.values() if t.id != home.id}
            guarded = GuardedWorkspace(home.ws, who)
            try:
                result = attempt(guarded, action, target, teams)
                returned = True
            except (AccessDenied, InputError):
                result, returned = None, False
            others_changed = any(_state(teams[t]) != s for t, s in before.items())
            leaked = any(_mentions(result, t) for t in teams.values() if t.id != home.id)
            if not permitted:
                succeeded = others_changed or leaked or (returned and not foreign)
                tally.unauthorised_succeeded += succeeded
                assert not succeeded, (who.actor, who.role, action, target.id)
            elif not returned:
                tally.authorised_refused += 1
                pytest.fail(f"{who.actor} ({who.role}) was refused {action} on its own team")
            if returned and action in CHANGING:
                for team in teams.values():
                    _stock(team)


def test_every_role_every_action_own_and_other_team(world):
    tally = Tally()
    for team in TEAMS:
        for role in Role:
            for chosen in TEAMS:  # choosing another team must not give it
                who = dashboard.team_access(
                    auth=AUTH, claims=claims(f"{role}@{team}.org"), chosen=chosen
                )
                run_session(who, (team, role), world, tally)
    _report(tally)


def test_generated_sessions(world):
    rng = random.Random(11)
    tally = Tally()
    for _ in range(figures.scaled(12)):
        who, expected = _generated(rng)
        run_session(who, expected, world, tally)
    _report(tally)


def _generated(rng: random.Random) -> tuple[Access, tuple[str, Role] | None]:
    """One session of a random kind, and the (team, role) a reference gives it."""
    team, role = rng.choice(TEAMS), rng.choice(list(Role))
    kind = rng.choice(
        [
            "email",
            "upper",
            "group",
            "group-case",
            "stranger",
            "unverified",
            "expired",
            "no-iat",
            "no-auth",
            "both",
        ]
    )
    chosen = rng.choice([None, *TEAMS])
    email = f"{role}@{team}.org"
    auth = AUTH
    expected: tuple[str, Role] | None = (team, role)
    if kind == "upper":
        email = email.upper()
    elif kind == "group":
        given = claims(f"x{rng.randrange(999)}@nowhere.org", groups=[f"{team}-{role}s"])
    elif kind == "group-case":
        given = claims("y@nowhere.org", groups=[f"{team}-{role}s".upper()])
        expected = None
    elif kind == "stranger":
        email, expected = f"{role}@{team}.org.evil.example", None
    elif kind == "unverified":
        given, expected = claims(email, verified=False), None
    elif kind == "expired":
        given, expected = claims(email, hours_ago=8.01), None
    elif kind == "no-iat":
        given, expected = claims(email, iat=False), None
    elif kind == "no-auth":
        auth, expected = None, None
    elif kind == "both":  # member of both teams by email and group: must choose
        other = "other" if team == "own" else "own"
        given = claims(email, groups=[f"{other}-viewers"])
        expected = (chosen, role if chosen == team else Role.VIEWER) if chosen else None
    if kind in ("email", "upper", "stranger", "no-auth"):
        given = claims(email)
    who = dashboard.team_access(auth=auth, claims=given, chosen=chosen)
    return who, expected


def _report(tally: Tally) -> None:
    figures.put(SUITE, "actions", len(Action))
    figures.put(SUITE, "teams", len(TEAMS))
    figures.add(SUITE, "sessions", tally.sessions)
    figures.add(SUITE, "actions tried (every action on own and other team)", tally.tried)
    figures.add(SUITE, "unauthorised actions tried", tally.unauthorised)
    figures.add(SUITE, "unauthorised actions that succeeded", tally.unauthorised_succeeded)
    figures.add(SUITE, "authorised actions refused", tally.authorised_refused)
    assert tally.unauthorised_succeeded == 0 and tally.authorised_refused == 0

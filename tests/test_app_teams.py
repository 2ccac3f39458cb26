"""Team mode through Streamlit's AppTest: the gate, roles, teams and the audit log.

AppTest seeds ``st.user`` with claims as a real sign-in would (the real OpenID flow is
in test_browser_teams.py). A teams file in the environment switches the app to team
mode whatever address it runs on.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap.store import Workspace
from tests.helpers.teams import teams_toml

pytestmark = pytest.mark.slow  # every test runs the whole app script (AppTest)
ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 60
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "c" * 40,
    "client_id": "crisismap-test",
    "client_secret": "not-a-secret",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}
TEAMS = teams_toml(
    session_hours=2,
    extra='[[members]]\nemail = "ana@alpha.org"\nteam = "beta"\nrole = "viewer"\n',
)
CSV = b"id,date,latitude,longitude,category\nw1,2024-03-05,15.6,32.5,killing\n"


@pytest.fixture
def team_mode(tmp_path, monkeypatch):
    """A fresh data directory with a teams file: the app runs in team mode."""
    teams = tmp_path / "teams.toml"
    teams.write_text(TEAMS)
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRISISMAP_TEAMS_FILE", str(teams))
    return tmp_path


def session(email: str | None, *, groups=(), hours_ago=0.1, auth=AUTH, team=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if auth is not None:
        at.secrets["auth"] = auth
    if email is None:
        at.user = {"is_logged_in": False}
    else:
        at.user = {
            "is_logged_in": True,
            "sub": email,
            "email": email,
            "groups": list(groups),
            "iat": time.time() - hours_ago * 3600,
        }
    if team is not None:
        at.session_state["team"] = team
    at.run()
    assert not at.exception, at.exception
    return at


def labels(at: AppTest) -> set[str]:
    widgets = [*at.button, *at.toggle, *at.checkbox, *at.multiselect, *at.selectbox]
    found = {w.label for w in widgets}
    found |= {f"download:{d.proto.label}" for d in at.get("download_button")}
    found |= {"uploader" for _ in at.get("file_uploader")}
    return found


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("title", "info", "error", "warning", "caption", "markdown")
        for e in at.get(kind)
        if hasattr(e, "value")
    ]
    return "\n".join(str(p) for p in parts)


def audit(team: str) -> list[tuple[str, str, str | None]]:
    """The team's audit log, oldest first, without the store's own (system) entries."""
    ws = Workspace.open(team=team)
    return [(e.actor, e.action, e.target) for e in reversed(ws.audit_log()) if e.actor != "system"]


def test_without_auth_the_server_refuses_with_one_sentence(team_mode):
    at = session("ana@alpha.org", auth=None)
    assert [e.value for e in at.error] == [
        "This server needs sign-in but has no sign-in configuration: add an [auth] section "
        "to .streamlit/secrets.toml (see “Deploying for a team” in the README; until then "
        "this server shows no data)."
    ]
    assert labels(at) == set() and not at.metric and not at.sidebar.children


def test_before_sign_in_only_the_sign_in_button(team_mode):
    at = session(None)
    assert labels(at) == {"Sign in"}
    assert not at.metric and not at.dataframe and not at.sidebar.children
    assert "demo" not in texts(at).lower()


def test_an_old_sign_in_must_sign_in_again(team_mode):
    at = session("ali@alpha.org", hours_ago=2.5)
    assert labels(at) == {"Sign in"}
    assert "more than 2 hours old" in texts(at)


def test_a_stranger_is_told_and_sees_nothing(team_mode):
    at = session("eve@example.org")
    assert labels(at) == {"Sign out"}
    assert "not a member of any team" in texts(at) and not at.metric


def test_roles_decide_the_controls(team_mode):
    viewer, analyst, admin = (
        session(f"{who}@alpha.org", team="alpha") for who in ("vic", "ali", "ana")
    )
    assert "uploader" not in labels(viewer)
    assert not any(
        label.startswith(("Public export", "Save uploads", "Delete", "Rename"))
        for label in labels(viewer)
    )
    assert "download:Rejected records with reasons (CSV)" not in labels(viewer)
    assert "Prepare the downloads of this view" in labels(viewer)  # public exports
    assert "uploader" in labels(analyst)
    assert (
        "Public export: suppress figures under k incidents, drop free text, sources and ids"
        in labels(analyst)
    )
    assert "download:Rejected records with reasons (CSV)" in labels(analyst)
    assert "download:Audit log (CSV)" not in labels(analyst)
    assert "download:Audit log (CSV)" in labels(admin)
    members = admin.dataframe[-1].value
    assert list(members["member"]) == ["ana@alpha.org", "ali@alpha.org", "vic@alpha.org"]
    assert "Team Alpha (admin)" in texts(admin)


def test_each_team_sees_only_its_own_workspace(team_mode):
    analyst = session("ali@alpha.org")
    analyst.file_uploader[0].set_value(("alpha-secret.csv", CSV, "text/csv")).run()
    next(b for b in analyst.button if b.label == "Save uploads to the workspace").click().run()
    assert any("saved as" in s.value for s in analyst.success)
    beta = session("bo@beta.org", groups=["beta-analysts"])
    saved = next(m for m in beta.multiselect if m.label.startswith("Saved datasets"))
    assert saved.options == []
    alpha_viewer = session("vic@alpha.org")
    saved = next(m for m in alpha_viewer.multiselect if m.label.startswith("Saved datasets"))
    assert [o.split(" · ")[0] for o in saved.options] == ["alpha-secret.csv"]
    saved.set_value([saved.options[0]]).run()
    assert next(m.value for m in alpha_viewer.metric if m.label == "Records") == "1"
    entries = audit("alpha")
    assert ("ali@alpha.org", "sign-in", None) in entries
    digest = hashlib.sha256(CSV).hexdigest()
    assert ("ali@alpha.org", "upload", f"sha256:{digest}") in entries  # no name until saved
    assert any(e[:2] == ("ali@alpha.org", "save") for e in entries)
    assert any(e[:2] == ("vic@alpha.org", "open") for e in entries)
    assert all(e[0] != "bo@beta.org" for e in entries)
    assert [e[:2] for e in audit("beta")] == [("bo@beta.org", "sign-in")]


def test_a_member_of_two_teams_chooses_and_can_switch(team_mode):
    at = session("ana@alpha.org")
    assert labels(at) == {"Open this team", "Sign out"}
    assert at.radio[0].options == ["Team Alpha", "Team Beta"]
    at.radio[0].set_value("beta")
    next(b for b in at.button if b.label == "Open this team").click().run()
    assert "Team Beta (viewer)" in texts(at)
    assert "uploader" not in labels(at)  # a viewer in beta, an admin in alpha
    next(b for b in at.button if b.label == "Switch team").click().run()
    assert labels(at) == {"Open this team", "Sign out"}

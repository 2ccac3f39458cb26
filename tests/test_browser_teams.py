"""Team mode end to end: a real OpenID provider, the app, and chromium signing in.

``oidc-provider-mock`` (a real OpenID Connect provider) runs on 127.0.0.1; the app runs
in team mode with a teams file of two teams and three roles and an ``[auth]`` section
pointing at the provider (a secrets file in a temporary folder, ``--secrets.files``).
Each user signs in through the provider's page in their own browser context. Every
WebSocket frame the app sends is recorded: team A's dataset names must appear nowhere
in team B's page or frames, and nothing but the sign-in button before sign-in. Every
request that leaves the machine fails the test. The last test reads the audit log
back and finds every action the others took.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crisismap.store import Workspace
from tests.adversarial import figures
from tests.helpers.appserver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    keep_offline,
    running_app,
    running_oidc_provider,
)
from tests.helpers.teams import teams_toml

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian chromium not installed (apt-get install chromium)",
    ),
]

MARK = f"alpha-secret-{uuid.uuid4().hex[:8]}"  # in team Alpha's dataset name and content
TEAMS = teams_toml(session_hours=1)
USERS = [
    {"sub": "ana@alpha.org", "email": "ana@alpha.org"},
    {"sub": "ali@alpha.org", "email": "ali@alpha.org"},
    {"sub": "vic@alpha.org", "email": "vic@alpha.org"},
    {"sub": "bo@beta.org", "email": "bo@beta.org", "groups": ["beta-analysts"]},
]
TAKEN: list[tuple[str, str]] = []  # (actor, action) done through the browser, in order


@dataclass
class Servers:
    app: str
    provider: str
    data_dir: Path
    folder: Path


@dataclass
class Session:
    page: object
    frames: list[bytes] = field(default_factory=list)

    @classmethod
    def recording(cls, page) -> Session:
        """A session of ``page`` that records every WebSocket frame the app sends it."""
        session = cls(page)

        def record(frame: bytes | str) -> None:
            session.frames.append(frame if isinstance(frame, bytes) else frame.encode())

        page.on("websocket", lambda ws: ws.on("framereceived", record))
        return session

    def sent(self) -> str:
        """Every WebSocket frame the app sent to this page, as text."""
        assert self.frames, "no WebSocket frame was recorded"
        return b"\n".join(self.frames).decode("utf-8", "replace")

    def seen(self) -> str:
        """The page's HTML (frames included) and every WebSocket frame, as text."""
        html = [self.page.content()] + [f.content() for f in self.page.frames[1:]]
        return "\n".join(html) + self.sent()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("team-mode")
    (folder / "teams.toml").write_text(TEAMS)
    with running_oidc_provider(USERS) as provider:
        (folder / "secrets.toml").write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "crisismap-test"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        )
        with running_app(
            folder / "data",
            args=["--secrets.files", str(folder / "secrets.toml")],
            env={"CRISISMAP_TEAMS_FILE": str(folder / "teams.toml")},
        ) as app:
            yield Servers(app, provider, folder / "data", folder)


@pytest.fixture(scope="module")
def browser(servers):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_session(browser, servers):
    """Opens browser contexts (one per user); checks none of them left the machine."""
    guards = []

    def start(email: str | None) -> Session:
        context = browser.new_context(
            viewport={"width": 1400, "height": 1200}, accept_downloads=True
        )
        # the provider's own page links a CDN stylesheet: refused, not the app's request
        guards.append(
            keep_offline(context, servers.app, servers.provider, quiet_from=(servers.provider,))
        )
        session = Session.recording(context.new_page())
        page = session.page
        page.goto(servers.app)
        if email is not None:
            sign_in(page, email)
        figures.add(figures.ACCESS, "browser sessions (signed in through the provider or not)")
        return session

    yield start
    for guard in guards:
        assert guard.outside == [], f"requests left the machine: {guard.outside}"
        assert guard.dialogs == [], guard.dialogs


def sign_in(page, email: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.get_by_role("button", name=email, exact=True).click(timeout=60_000)  # provider's page
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stMetricValue").first).to_be_visible(timeout=60_000)
    TAKEN.append((email, "sign-in"))
    figures.add(figures.ACCESS, "browser sign-ins through the OpenID provider")


def hidden(what: str, found: bool) -> None:
    """Assert that a session does not get ``what``; counted for scripts/reliability.py."""
    figures.add(figures.ACCESS, "browser checks of what a session must not get")
    figures.add(figures.ACCESS, "browser checks that found it", int(found))
    assert not found, what


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def download(page, name: str) -> Path:
    """Click a download button until the file comes: a click that lands while the map's
    own rerun replaces the button's deferred file gets "Deferred file ... not found" in
    Streamlit 1.67 (the server log says so), and the user clicks again."""
    for _attempt in range(3):
        try:
            with page.expect_download(timeout=20_000) as started:
                button(page, name).click()
            return Path(started.value.path())
        except Exception:  # Playwright's TimeoutError: try again on the settled page
            time.sleep(1)
    pytest.fail(f"the {name!r} download never started")


# --------------------------------------------------------------------------- tests


def test_before_sign_in_only_the_sign_in_button(open_session):
    from playwright.sync_api import expect

    session = open_session(None)
    page = session.page
    expect(button(page, "Sign in")).to_be_visible(timeout=60_000)
    time.sleep(2)  # anything else the server would send arrives by now
    hidden("any button but Sign in", page.get_by_role("button").all_inner_texts() != ["Sign in"])
    assert "Sign in to see your team" in session.sent()
    hidden("an uploader", page.locator('input[type="file"]').count() > 0)
    hidden("the sidebar", page.get_by_test_id("stSidebar").count() > 0)
    seen = session.seen()
    for absent in ("demo_sudan", "synthetic demo", "Saved datasets", "Records", "Team Alpha"):
        hidden(absent, absent in seen)


def test_an_analyst_uploads_and_saves_for_team_alpha(open_session, servers):
    from playwright.sync_api import expect

    session = open_session("ali@alpha.org")
    page = session.page
    csv = servers.folder / f"{MARK}.csv"
    csv.write_text(
        f"id,date,latitude,longitude,category,description\n1,2024-03-05,15.6,32.5,killing,{MARK}\n"
    )
    page.locator('input[type="file"]').first.set_input_files(str(csv))
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("1", timeout=60_000)
    TAKEN.append(("ali@alpha.org", "upload"))
    button(page, "Save uploads to the workspace").click()
    expect(page.get_by_text("saved as")).to_be_visible(timeout=60_000)
    TAKEN.append(("ali@alpha.org", "save"))
    assert MARK in session.seen()  # the marker is there to be found


def test_team_beta_sees_nothing_of_team_alpha(open_session):
    from playwright.sync_api import expect

    session = open_session("bo@beta.org")
    page = session.page
    expect(page.get_by_text("Team Beta (analyst)")).to_be_visible()
    page.get_by_text("Saved datasets (team workspace)").click()  # open the list
    time.sleep(1.5)
    seen = session.seen()
    for absent in (MARK, "Team Alpha", "ali@alpha.org"):
        hidden(f"team Alpha's {absent}", absent in seen)


def test_a_viewer_sees_alpha_data_but_no_uploader_save_delete_or_internal_export(
    open_session,
):
    from playwright.sync_api import expect

    session = open_session("vic@alpha.org")
    page = session.page
    assert MARK in session.sent()  # the team's dataset is listed for its viewer
    hidden("an uploader", page.locator('input[type="file"]').count() > 0)
    for absent in (
        "Save uploads to the workspace",
        "Rejected records with reasons (CSV)",
        "Delete (to the trash)",
        "Rename",
        "Audit log (CSV)",
    ):
        hidden(absent, button(page, absent).count() > 0)
    hidden("the internal export switch", page.get_by_text("Public export: suppress").count() > 0)
    hidden("dataset management", page.get_by_text("Manage saved datasets").count() > 0)
    button(page, "Prepare the downloads of this view").click()
    expect(page.get_by_text("The downloads are ready.")).to_be_visible(timeout=120_000)
    header = download(page, "Summary (CSV)").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "suppressed" in header and "description" not in header  # public
    TAKEN.append(("vic@alpha.org", "export"))
    expect(page.get_by_text("Team Alpha (viewer)")).to_be_visible()


def test_an_admin_deletes_restores_reads_the_log_and_signs_out(open_session, servers):
    from playwright.sync_api import expect

    session = open_session("ana@alpha.org")
    page = session.page
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Manage saved datasets").click()
    sidebar.get_by_text("I want to delete this dataset").click()
    button(page, "Delete (to the trash)").click()
    TAKEN.append(("ana@alpha.org", "delete"))
    sidebar.get_by_text("Trash (1)").click(timeout=60_000)
    button(page, "Restore").click()
    TAKEN.append(("ana@alpha.org", "restore"))
    expect(sidebar.get_by_text("Trash (1)")).to_have_count(0, timeout=60_000)
    page.get_by_text("Audit log", exact=True).click()
    log = download(page, "Audit log (CSV)").read_text(encoding="utf-8-sig")
    assert "ali@alpha.org" in log and "restore" in log
    TAKEN.append(("ana@alpha.org", "export"))
    button(page, "Sign out").click()
    TAKEN.append(("ana@alpha.org", "sign-out"))
    page.wait_for_url("**/oauth2/end_session**", timeout=60_000)  # the provider's sign-out
    page.goto(servers.app)
    expect(button(page, "Sign in")).to_be_visible(timeout=60_000)  # the cookie is gone


def test_a_server_listening_beyond_loopback_without_a_teams_file_refuses(browser, tmp_path):
    """Bound to every interface with no teams file and no [auth]: one sentence, no data."""
    from playwright.sync_api import expect

    with running_app(tmp_path / "data", address="0.0.0.0") as app:
        context = browser.new_context()
        guard = keep_offline(context, app)
        session = Session.recording(context.new_page())
        session.page.goto(app)
        refusal = session.page.get_by_test_id("stAlertContentError")
        expect(refusal).to_contain_text("listens beyond this machine", timeout=60_000)
        time.sleep(1)
        hidden("any button", session.page.get_by_role("button").count() > 0)
        for absent in ("demo_sudan", "Saved datasets", "Records", "Sign in"):
            hidden(absent, absent in session.seen())
        context.close()
    assert guard.outside == []


def test_the_audit_log_holds_every_action_taken(servers):
    def log(team: str) -> list[tuple[str, str]]:  # without the store's own (system) entries
        entries = Workspace.open(servers.data_dir, team=team).audit_log()
        return [(e.actor, e.action) for e in entries if e.actor != "system"]

    alpha, beta = log("alpha"), log("beta")
    missing = [t for t in TAKEN if t not in (beta if t[0] == "bo@beta.org" else alpha)]
    figures.add(figures.ACCESS, "browser actions taken", len(TAKEN))
    figures.add(figures.ACCESS, "browser actions missing from the audit log", len(missing))
    assert missing == []
    assert all(actor == "bo@beta.org" for actor, _ in beta)
    assert not any(actor == "bo@beta.org" for actor, _ in alpha)
    assert not [entry for entry in alpha if entry[1] == "denied"]

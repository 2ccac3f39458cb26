"""Teams, roles and the sign-in decision (crisismap.access), on hand-written teams files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crisismap.access import (
    Access,
    AccessDenied,
    Action,
    Identity,
    Mode,
    Role,
    Step,
    TeamsConfig,
    allowed,
    auth_problem,
    auth_provider,
    decide,
    is_loopback,
    local_access,
    local_request_problem,
    mode_for,
    teams_file,
)
from crisismap.errors import InputError

TEAMS = """\
session_hours = 12          # sign-in lifetime
trash_days = 7

[teams.alpha]
name = "Team Alpha"

[teams.beta-2]
name = "Team Beta"

[[members]]                 # by email (case-insensitive) ...
email = "Ana@Example.org"
team = "alpha"
role = "admin"

[[members]]                 # ... or by the provider's group claim
group = "field-officers"
team = "alpha"
role = "analyst"

[[members]]
email = "ana@example.org"
team = "beta-2"
role = "viewer"

[[members]]
group = "field-officers"
team = "alpha"
role = "viewer"
"""

AUTH = {
    "redirect_uri": "https://crisismap.example.org/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "crisismap",
    "client_secret": "s3cret",
    "server_metadata_url": "https://id.example.org/.well-known/openid-configuration",
}
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def claims(email="ana@example.org", hours_ago=1.0, **more):
    issued = (NOW - timedelta(hours=hours_ago)).timestamp()
    return {"is_logged_in": True, "sub": "u-1", "email": email, "iat": issued, **more}


@pytest.fixture
def config() -> TeamsConfig:
    return TeamsConfig.parse(TEAMS)


# ------------------------------------------------------------------ roles and actions


def test_roles_are_ordered_and_parsed_case_insensitively():
    assert Role.VIEWER < Role.ANALYST < Role.ADMIN
    assert max([Role.ANALYST, Role.ADMIN, Role.VIEWER]) is Role.ADMIN
    assert Role.parse(" Admin ") is Role.ADMIN
    with pytest.raises(ValueError, match="use one of viewer, analyst, admin"):
        Role.parse("owner")


def test_the_permission_table():
    table = {role.value: sorted(a.value for a in Action if allowed(role, a)) for role in Role}
    assert table == {
        "viewer": ["export_public", "view"],
        "analyst": ["export_internal", "export_public", "rename", "save", "upload", "view"],
        "admin": sorted(a.value for a in Action),
    }
    assert not allowed(None, Action.VIEW)
    assert not allowed(Role.ADMIN, "format_disk")
    assert allowed("analyst", "save")


# ------------------------------------------------------------------ the teams file


def test_a_teams_file_is_read(config):
    assert config.session_hours == 12 and config.trash_days == 7
    assert {t: team.name for t, team in config.teams.items()} == {
        "alpha": "Team Alpha",
        "beta-2": "Team Beta",
    }
    assert config.members[0].email == "ana@example.org"  # stored lower-case
    assert config.groups_claim == "groups"
    assert [m.who for m in config.members_of("alpha")] == [
        "ana@example.org",
        "group: field-officers",
        "group: field-officers",
    ]


def test_memberships_by_email_and_group_highest_role_wins(config):
    assert config.memberships("ANA@example.ORG") == {"alpha": Role.ADMIN, "beta-2": Role.VIEWER}
    assert config.memberships("bob@example.org", ["field-officers"]) == {"alpha": Role.ANALYST}
    assert config.memberships("bob@example.org", ["Field-Officers"]) == {}  # groups are exact
    assert config.memberships(None, []) == {}
    assert config.memberships("", ["nobody"]) == {}


def test_defaults_when_only_teams_and_members_are_given():
    config = TeamsConfig.parse(
        '[teams.a]\n[[members]]\nemail = "x@y.org"\nteam = "a"\nrole = "viewer"\n'
    )
    assert (config.session_hours, config.trash_days) == (12, 7)
    assert config.team_name("a") == "a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[teams.alpha]\nname = "A\n',
            r"teams.toml is not valid TOML: .*line 2.*Fix that line",
        ),
        ("session_hours = 12\n", r"teams.toml: declares no team; add at least one"),
        (
            '[teams.Alpha]\nname = "x"\n',
            r"teams.toml, line 1: team id 'Alpha' is not allowed; use 1-40 lower-case",
        ),
        (
            '[teams.a]\n\n[[members]]\nemail = "x@y.org"\nteam = "a"\nrole = "viewer"\n\n'
            '[[members]]\nemail = "z@y.org"\nteam = "b"\nrole = "viewer"\n',
            r"teams.toml, line 8: \[\[members\]\] entry 2: team 'b' is not declared; "
            r"use one of a, or add a \[teams.b\] section",
        ),
        (
            '[teams.a]\n[[members]]\nemail = "x@y.org"\nteam = "a"\nrole = "owner"\n',
            r"line 2: \[\[members\]\] entry 1: role 'owner' is not a role: "
            r"use one of viewer, analyst, admin",
        ),
        (
            '[teams.a]\n[[members]]\nemail = "x@y.org"\nteam = "a"\n',
            r"line 2: \[\[members\]\] entry 1 has no role; add role = ",
        ),
        (
            '[teams.a]\n[[members]]\nemail = "x@y.org"\ngroup = "g"\nteam = "a"\nrole = "viewer"\n',
            r"entry 1 needs exactly one of 'email' or 'group'",
        ),
        (
            '[teams.a]\n[[members]]\nemail = "not an address"\nteam = "a"\nrole = "viewer"\n',
            r"email 'not an address' is not an email address",
        ),
        (
            '[teams.a]\n[[members]]\nemial = "x@y.org"\nteam = "a"\nrole = "viewer"\n',
            r"line 2: unknown key 'emial' in \[\[members\]\] entry 1; the keys there are "
            r"email, group, team, role \(a typo\?\)",
        ),
        (
            "[teams.a]\n\nsesion_hours = 3\n",
            r"unknown key 'sesion_hours' in \[teams.a\]",
        ),
        (
            "sesion_hours = 3\n[teams.a]\n",
            r"teams.toml, line 1: unknown key 'sesion_hours' at the top of the file",
        ),
        (
            "session_hours = 0\n[teams.a]\n",
            r"line 1: session_hours = 0 is not a number above 0 up to 720; "
            r"e.g. session_hours = 12",
        ),
        (
            'session_hours = "12h"\n[teams.a]\n',
            r"line 1: session_hours = '12h' is not a number",
        ),
        (
            "trash_days = -1\n[teams.a]\n",
            r"trash_days = -1 is not a number from 0 up to 3650",
        ),
        (
            '[teams.a]\nname = ""\n',
            r"line 1: \[teams.a\] name must be text of 1-100 characters",
        ),
        (
            'members = "everyone"\n[teams.a]\n',
            r"line 1: 'members' must be a list of \[\[members\]\] entries",
        ),
    ],
)
def test_bad_teams_files_say_where_and_how_to_fix(text, expected):
    with pytest.raises(InputError, match=expected):
        TeamsConfig.parse(text)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "teams.toml"
    with pytest.raises(InputError, match=f"The teams file {path} cannot be read"):
        TeamsConfig.load(path)
    path.write_bytes(b'[teams.a]\nname = "\xff"\n')
    with pytest.raises(InputError, match="is not UTF-8 text"):
        TeamsConfig.load(path)
    path.write_text("[teams.a]\n\n[[members]]\nteam = 'a'\nrole = 'admin'\n")
    with pytest.raises(InputError, match=f"^{path}, line 3: "):
        TeamsConfig.load(path)


def test_the_teams_file_is_found_by_environment_or_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("CRISISMAP_TEAMS_FILE", raising=False)
    assert teams_file(tmp_path) == tmp_path / "teams.toml"
    monkeypatch.setenv("CRISISMAP_TEAMS_FILE", str(tmp_path / "etc" / "t.toml"))
    assert teams_file(tmp_path) == tmp_path / "etc" / "t.toml"


# ------------------------------------------------------------------ mode


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("", False),
        (None, False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("crisismap.example.org", False),
        ("unix:///run/crisismap.sock", False),
    ],
)
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_team_mode_when_listening_beyond_loopback_or_with_a_teams_file():
    assert mode_for("127.0.0.1", False) is Mode.LOCAL
    assert mode_for("127.0.0.1", True) is Mode.TEAM  # a reverse proxy on the same machine
    assert mode_for("0.0.0.0", False) is Mode.TEAM
    assert mode_for("", False) is Mode.TEAM  # Streamlit's default binds everything


def test_local_mode_refuses_requests_relayed_from_elsewhere():
    assert local_request_problem({}) is None
    assert local_request_problem({"Host": "127.0.0.1:8501"}) is None
    assert local_request_problem({"host": "localhost:8501"}) is None
    assert local_request_problem({"Host": "[::1]:8501"}) is None
    assert "another machine or through a proxy" in local_request_problem(
        {"Host": "crisismap.example.org"}
    )
    assert local_request_problem({"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.9"})


# ------------------------------------------------------------------ [auth]


def test_a_complete_auth_section_passes():
    assert auth_problem(AUTH) is None
    assert auth_provider(AUTH) == "default"
    local = {**AUTH, "redirect_uri": "http://127.0.0.1:8501/oauth2callback"}
    assert auth_problem(local) is None  # plain http only on loopback
    named = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    named["keycloak"] = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    assert auth_problem(named) is None
    assert auth_provider(named) == "keycloak"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (None, "has no sign-in configuration: add an [auth] section to .streamlit/secrets.toml"),
        ({"cookie_secret": ""}, "lacks cookie_secret: add them"),
        ({"client_secret": None}, "lacks client_secret (in [auth])"),
        ({"redirect_uri": "https://x.example.org/callback"}, "must end with /oauth2callback"),
        (
            {"redirect_uri": "http://crisismap.example.org/oauth2callback"},
            "sign-in cookies would travel unencrypted",
        ),
        ({"cookie_secret": "short"}, "cookie_secret is shorter than 32 characters"),
        ({"a": {"client_id": "1"}, "b": {"client_id": "2"}}, "names 2 providers (a, b)"),
    ],
)
def test_an_unusable_auth_section_is_one_sentence(change, expected):
    if change is None:
        auth = None
    elif "a" in change:
        auth = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"]}
        auth.update(change)
    else:
        auth = {k: v for k, v in {**AUTH, **change}.items() if v is not None}
    message = auth_problem(auth)
    assert expected in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert "README" in message and "shows no data" in message


# ------------------------------------------------------------------ identity


def test_identity_from_claims():
    who = Identity.from_claims(claims(email="Ana@Example.org", groups=["g1", "g2"]))
    assert who.email == "ana@example.org" and who.actor == "ana@example.org"
    assert who.groups == ("g1", "g2")
    assert who.signed_in_at == NOW - timedelta(hours=1)
    unverified = Identity.from_claims(claims(email_verified=False))
    assert unverified.email is None and unverified.actor == "sub:u-1"
    single = Identity.from_claims(claims(roles="g1"), groups_claim="roles")
    assert single.groups == ("g1",)
    assert Identity.from_claims({"sub": "s", "iat": "garbage"}).signed_in_at is None


# ------------------------------------------------------------------ the decision


def test_refusals_come_before_sign_in(config):
    bad = decide(config=None, config_error="teams.toml, line 3: ...", auth=AUTH, claims=None)
    assert bad.step is Step.REFUSE and "line 3" not in bad.message and bad.detail
    none = decide(config=None, auth=AUTH, claims=claims(), now=NOW)
    assert none.step is Step.REFUSE and "no teams file" in none.message
    unconfigured = decide(config=config, auth=None, claims=claims(), now=NOW)
    assert unconfigured.step is Step.REFUSE and "[auth]" in unconfigured.message
    for access in (bad, none, unconfigured):
        assert not access.open and not any(access.may(a) for a in Action)


def test_sign_in_expiry_membership_and_team_choice(config):
    assert decide(config=config, auth=AUTH, claims=None).step is Step.SIGN_IN
    assert decide(config=config, auth=AUTH, claims={"is_logged_in": False}).step is Step.SIGN_IN
    old = decide(config=config, auth=AUTH, claims=claims(hours_ago=12.01), now=NOW)
    assert old.step is Step.SIGN_IN and "more than 12 hours old" in old.message
    timeless = {k: v for k, v in claims().items() if k != "iat"}
    assert decide(config=config, auth=AUTH, claims=timeless, now=NOW).step is Step.SIGN_IN
    stranger = decide(config=config, auth=AUTH, claims=claims("eve@example.org"), now=NOW)
    assert stranger.step is Step.NO_TEAM and "eve@example.org" in stranger.message
    assert not stranger.may(Action.VIEW)
    two = decide(config=config, auth=AUTH, claims=claims(), now=NOW)
    assert two.step is Step.CHOOSE and set(two.teams) == {"alpha", "beta-2"}
    assert two.team_names["beta-2"] == "Team Beta" and not two.may(Action.VIEW)
    beta = decide(config=config, auth=AUTH, claims=claims(), chosen="beta-2", now=NOW)
    assert (beta.step, beta.team, beta.role) == (Step.READY, "beta-2", Role.VIEWER)
    assert beta.expires_at == NOW + timedelta(hours=11)
    forged = decide(config=config, auth=AUTH, claims=claims("bob@x.org"), chosen="beta-2", now=NOW)
    assert forged.step is Step.NO_TEAM  # a chosen team is only taken from memberships
    one = decide(
        config=config, auth=AUTH, claims=claims("bob@x.org", groups=["field-officers"]), now=NOW
    )
    assert (one.step, one.team, one.role, one.actor) == (
        Step.READY,
        "alpha",
        Role.ANALYST,
        "bob@x.org",
    )


def test_require_refuses_after_expiry_and_beyond_the_role(config):
    viewer = decide(config=config, auth=AUTH, claims=claims(), chosen="beta-2", now=NOW)
    viewer.require(Action.EXPORT_PUBLIC, now=NOW)
    with pytest.raises(AccessDenied, match="export internal is not allowed for the viewer role"):
        viewer.require(Action.EXPORT_INTERNAL, now=NOW)
    with pytest.raises(AccessDenied, match="expired"):
        viewer.require(Action.VIEW, now=NOW + timedelta(hours=11))
    with pytest.raises(AccessDenied):
        Access(Step.SIGN_IN).require(Action.VIEW)


def test_local_mode_is_the_single_user_with_every_action():
    local = local_access()
    assert local.open and local.actor == "local" and local.team is None
    assert all(local.may(a) for a in Action)
    assert local.valid(datetime(2999, 1, 1, tzinfo=UTC))

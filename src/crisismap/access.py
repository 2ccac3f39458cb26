"""Who may do what: teams, roles, and the sign-in rules of a shared server.

A leaf: the vocabulary (:class:`Role`, :class:`Action`), the one permission table
(:func:`allowed`), the teams file (:class:`TeamsConfig`) and the decision the app takes on
every rerun (:func:`decide`): refuse, ask for sign-in, ask for a team, or let a user in
with one team and one role. The app and the tests call the same functions, so what the
tests prove about them is what the app does.

Two modes:

* **local** — the README's command: the server listens on loopback only and there is no
  teams file. One user, no sign-in, the local workspace, actor ``"local"``.
* **team** — the server listens beyond loopback, or a teams file exists (a reverse proxy
  on the same machine reaches a loopback server, so the teams file alone must be enough).
  Sign-in through OpenID Connect is required; without a usable ``[auth]`` configuration
  the app refuses to show anything.

The teams file (TOML; ``$CRISISMAP_TEAMS_FILE``, else ``<data dir>/teams.toml``)::

    session_hours = 12          # sign-in lifetime
    trash_days = 7              # how long a deleted dataset can be restored
    groups_claim = "groups"     # the provider's claim that lists a user's groups

    [teams.alpha]
    name = "Team Alpha"

    [[members]]                 # by email (case-insensitive) ...
    email = "ana@example.org"
    team = "alpha"
    role = "admin"              # viewer | analyst | admin

    [[members]]                 # ... or by the provider's group claim
    group = "field-officers"
    team = "alpha"
    role = "analyst"
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from crisismap.errors import CrisismapError, InputError
from crisismap.i18n import N_, _

__all__ = [
    "LOCAL_ACTOR",
    "TEAMS_FILE_ENV",
    "Access",
    "AccessDenied",
    "Action",
    "Identity",
    "Member",
    "Mode",
    "Role",
    "Step",
    "Team",
    "TeamsConfig",
    "allowed",
    "auth_problem",
    "auth_provider",
    "decide",
    "is_loopback",
    "local_access",
    "local_request_problem",
    "mode_for",
    "teams_file",
]

TEAMS_FILE_ENV = "CRISISMAP_TEAMS_FILE"
TEAMS_FILE_NAME = "teams.toml"
LOCAL_ACTOR = "local"
TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DEFAULT_SESSION_HOURS = 12.0
MAX_SESSION_HOURS = 30 * 24.0  # Streamlit's identity cookie lives 30 days
DEFAULT_TRASH_DAYS = 7.0
DEFAULT_GROUPS_CLAIM = "groups"
MIN_COOKIE_SECRET_CHARS = 32
README_SECTION = N_("“Deploying for a team” in the README")


class AccessDenied(CrisismapError):
    """A signed-in user tried something their role does not allow (logged as ``denied``)."""


# ----------------------------------------------------------------------------- vocabulary


class Role(StrEnum):
    """What a member may do in a team, ordered ``viewer < analyst < admin``."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def __lt__(self, other: object) -> bool:
        return self.rank < Role(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= Role(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > Role(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= Role(other).rank

    @classmethod
    def parse(cls, value: object) -> Role:
        """A role from text, case-insensitively; the message lists the roles."""
        text = str(value).strip().lower()
        try:
            return cls(text)
        except ValueError:
            raise ValueError(
                _("{value!r} is not a role: use one of {roles}.").format(
                    value=value, roles=", ".join(r.value for r in cls)
                )
            ) from None


class Action(StrEnum):
    """Everything a member can do to a team's workspace, each checked by :func:`allowed`."""

    VIEW = "view"  # open saved datasets, see the map, charts and tables
    EXPORT_PUBLIC = "export_public"  # suppressed, allow-listed exports
    UPLOAD = "upload"  # bring incident or boundary files into the session
    SAVE = "save"  # keep uploads in the team's workspace
    RENAME = "rename"  # change a saved dataset's name
    EXPORT_INTERNAL = "export_internal"  # exact counts, rejected records (SENSITIVE_)
    DELETE = "delete"  # move a dataset to the trash
    RESTORE = "restore"  # see the trash and bring a dataset back
    PURGE = "purge"  # overwrite a trashed dataset's bytes now
    AUDIT = "audit"  # read and export the audit log
    MEMBERS = "members"  # see who belongs to the team


MINIMUM_ROLE: Mapping[Action, Role] = {
    Action.VIEW: Role.VIEWER,
    Action.EXPORT_PUBLIC: Role.VIEWER,
    Action.UPLOAD: Role.ANALYST,
    Action.SAVE: Role.ANALYST,
    Action.RENAME: Role.ANALYST,
    Action.EXPORT_INTERNAL: Role.ANALYST,
    Action.DELETE: Role.ADMIN,
    Action.RESTORE: Role.ADMIN,
    Action.PURGE: Role.ADMIN,
    Action.AUDIT: Role.ADMIN,
    Action.MEMBERS: Role.ADMIN,
}


def allowed(role: Role | str | None, action: Action | str) -> bool:
    """Whether ``role`` may take ``action``: the one permission table of the app.

    No role (not signed in, not a member) may do nothing; an unknown action is refused.
    """
    if role is None:
        return False
    try:
        needed = MINIMUM_ROLE[Action(action)]
        return Role(role) >= needed
    except ValueError:
        return False


# ----------------------------------------------------------------------------- teams file


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class Member:
    """One ``[[members]]`` entry: an email or a provider group, in one team, with one role."""

    team: str
    role: Role
    email: str | None = None
    group: str | None = None

    @property
    def who(self) -> str:
        return self.email if self.email is not None else f"group: {self.group}"


@dataclass(frozen=True)
class TeamsConfig:
    """The teams file: teams, who belongs to them with which role, and the time limits."""

    teams: Mapping[str, Team]
    members: tuple[Member, ...]
    session_hours: float = DEFAULT_SESSION_HOURS
    trash_days: float = DEFAULT_TRASH_DAYS
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    source: str = TEAMS_FILE_NAME

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TeamsConfig:
        """Read and check a teams file; :class:`InputError` says what to fix and where."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(
                _("The teams file {path} is not UTF-8 text: save it as UTF-8.").format(path=path)
            ) from None
        except OSError as exc:
            raise InputError(
                _(
                    "The teams file {path} cannot be read ({strerror}): check the path "
                    "(${TEAMS_FILE_ENV} or <data dir>/{TEAMS_FILE_NAME}) and its "
                    "permissions."
                ).format(
                    path=path,
                    strerror=exc.strerror,
                    TEAMS_FILE_ENV=TEAMS_FILE_ENV,
                    TEAMS_FILE_NAME=TEAMS_FILE_NAME,
                )
            ) from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = TEAMS_FILE_NAME) -> TeamsConfig:
        """Check the text of a teams file (see the module docstring for its shape)."""
        return _Parser(text, source).config()

    def memberships(self, email: str | None, groups: Iterable[str] = ()) -> dict[str, Role]:
        """The teams ``email`` and ``groups`` belong to, each with the highest role given."""
        address = (email or "").strip().lower()
        held = {str(g) for g in groups}
        found: dict[str, Role] = {}
        for member in self.members:
            if (member.email is not None and member.email == address and address) or (
                member.group is not None and member.group in held
            ):
                if member.team not in found or member.role > found[member.team]:
                    found[member.team] = member.role
        return found

    def team_name(self, team_id: str) -> str:
        team = self.teams.get(team_id)
        return team.name if team else team_id

    def members_of(self, team_id: str) -> list[Member]:
        """The entries of one team, admins first, then by email or group."""
        entries = [m for m in self.members if m.team == team_id]
        return sorted(entries, key=lambda m: (-m.role.rank, m.email is None, m.who))


_TOP_KEYS = ("session_hours", "trash_days", "groups_claim", "teams", "members")
_TEAM_KEYS = ("name",)
_MEMBER_KEYS = ("email", "group", "team", "role")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class _Parser:
    """Checks one teams file; every message names the file, the line and the key."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.lines = text.splitlines()

    def config(self) -> TeamsConfig:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(
                _(
                    "The teams file {source} is not valid TOML: {exc}. Fix that line "
                    "(strings need quotes, each [[members]] entry its own header)."
                ).format(source=self.source, exc=exc)
            ) from None
        self._known(data, _TOP_KEYS, _("at the top of the file"), self._key_line)
        teams = self._teams(data.get("teams"))
        members = tuple(
            self._member(i, entry, teams) for i, entry in enumerate(self._members(data))
        )
        return TeamsConfig(
            teams=teams,
            members=members,
            session_hours=self._number(
                data, "session_hours", DEFAULT_SESSION_HOURS, 0, MAX_SESSION_HOURS
            ),
            trash_days=self._number(data, "trash_days", DEFAULT_TRASH_DAYS, 0, 3650, zero=True),
            groups_claim=self._text(data, "groups_claim", DEFAULT_GROUPS_CLAIM),
            source=self.source,
        )

    # -- sections ------------------------------------------------------------------

    def _teams(self, value: Any) -> dict[str, Team]:
        example = '[teams.alpha]\nname = "Team Alpha"'
        if value is None or value == {}:
            raise self._error(
                None,
                _("declares no team"),
                _("add at least one, e.g.\n{example}").format(example=example),
            )
        if not isinstance(value, dict):
            raise self._error(
                self._key_line("teams"),
                _("'teams' must be a table of teams"),
                _("write\n{example}").format(example=example),
            )
        teams = {}
        for team_id, body in value.items():
            line = self._header_line(rf"teams\.{re.escape(team_id)}")
            if not TEAM_ID.match(team_id):
                raise self._error(
                    line,
                    _("team id {team_id!r} is not allowed").format(team_id=team_id),
                    _(
                        "use 1-40 lower-case letters, digits and hyphens, starting with a "
                        "letter or digit (it names the team's folder)"
                    ),
                )
            if not isinstance(body, dict):
                raise self._error(
                    line,
                    _("[teams.{team_id}] must be a table").format(team_id=team_id),
                    _("write\n{example}").format(example=example),
                )
            self._known(
                body,
                _TEAM_KEYS,
                _("in [teams.{team_id}]").format(team_id=team_id),
                lambda _k, ln=line: ln,
            )
            name = body.get("name", team_id)
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise self._error(
                    line,
                    _("[teams.{team_id}] name must be text of 1-100 characters").format(
                        team_id=team_id
                    ),
                    _('e.g. name = "Team Alpha"'),
                )
            teams[team_id] = Team(team_id, " ".join(name.split()))
        return teams

    def _members(self, data: Mapping[str, Any]) -> list[Any]:
        value = data.get("members", [])
        if not isinstance(value, list):
            raise self._error(
                self._key_line("members"),
                _("'members' must be a list of [[members]] entries"),
                _(
                    'write each as\n[[members]]\nemail = "ana@example.org"\nteam = '
                    '"alpha"\nrole = "analyst"'
                ),
            )
        return value

    def _member(self, index: int, entry: Any, teams: Mapping[str, Team]) -> Member:
        line = self._header_line(r"\[\s*members\s*\]", nth=index)
        where = _("[[members]] entry {n}").format(n=index + 1)
        if not isinstance(entry, dict):
            raise self._error(
                line,
                _("{where} must be a table").format(where=where),
                _("give it email, team and role"),
            )
        self._known(entry, _MEMBER_KEYS, _("in {where}").format(where=where), lambda _k: line)
        email, group = entry.get("email"), entry.get("group")
        if (email is None) == (group is None):
            raise self._error(
                line,
                _("{where} needs exactly one of 'email' or 'group'").format(where=where),
                _("write one line of the two"),
            )
        if email is not None and (not isinstance(email, str) or not _EMAIL.match(email.strip())):
            raise self._error(
                line,
                _("{where}: email {email!r} is not an email address").format(
                    where=where, email=email
                ),
                _("e.g. ana@example.org"),
            )
        if group is not None and (not isinstance(group, str) or not group.strip()):
            raise self._error(
                line,
                _("{where}: group must be the group's name as the provider sends it").format(
                    where=where
                ),
                "",
            )
        team = entry.get("team")
        if team not in teams:
            known = ", ".join(sorted(teams))
            raise self._error(
                line,
                _("{where}: team {team!r} is not declared").format(where=where, team=team),
                _("use one of {known}, or add a [teams.{value}] section").format(
                    known=known, value=team if isinstance(team, str) else "id"
                ),
            )
        if "role" not in entry:
            raise self._error(
                line,
                _("{where} has no role").format(where=where),
                _('add role = "viewer", "analyst" or "admin"'),
            )
        try:
            role = Role.parse(entry["role"])
        except ValueError as exc:
            raise self._error(
                line, _("{where}: role {exc}").format(where=where, exc=exc), ""
            ) from None
        return Member(
            team=team,
            role=role,
            email=email.strip().lower() if email is not None else None,
            group=group.strip() if group is not None else None,
        )

    # -- values --------------------------------------------------------------------

    def _number(
        self,
        data: Mapping[str, Any],
        key: str,
        default: float,
        low: float,
        high: float,
        *,
        zero: bool = False,
    ) -> float:
        value = data.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            ok
            and math.isfinite(value)
            and (low < value or (zero and value == low))
            and value <= high
        ):
            return float(value)
        if zero:
            said = _("{key} = {value!r} is not a number from {low:g} up to {high:g}")
        else:
            said = _("{key} = {value!r} is not a number above {low:g} up to {high:g}")
        raise self._error(
            self._key_line(key),
            said.format(key=key, value=value, low=low, high=high),
            _("e.g. {key} = {default:g}").format(key=key, default=default),
        )

    def _text(self, data: Mapping[str, Any], key: str, default: str) -> str:
        value = data.get(key, default)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise self._error(
            self._key_line(key),
            _("{key} must be text").format(key=key),
            _('e.g. {key} = "{default}"').format(key=key, default=default),
        )

    def _known(self, table: Mapping[str, Any], keys: tuple[str, ...], where: str, line_of) -> None:
        for key in table:
            if key not in keys:
                raise self._error(
                    line_of(key),
                    _("unknown key {key!r} {where}").format(key=key, where=where),
                    _("the keys there are {values} (a typo?)").format(values=", ".join(keys)),
                )

    # -- locations -----------------------------------------------------------------

    def _key_line(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=|^\s*\[+\s*{re.escape(key)}\b")
        return next((n for n, text in enumerate(self.lines, 1) if pattern.match(text)), None)

    def _header_line(self, name: str, nth: int = 0) -> int | None:
        pattern = re.compile(rf"^\s*\[\s*{name}\s*\]")
        hits = [n for n, text in enumerate(self.lines, 1) if pattern.match(text)]
        return hits[nth] if nth < len(hits) else None

    def _error(self, line: int | None, problem: str, fix: str) -> InputError:
        where = _("{source}, line {line}").format(source=self.source, line=line)
        said = _("{where}: {problem}; {fix}.") if fix else _("{where}: {problem}.")
        return InputError(
            said.format(where=where if line else self.source, problem=problem, fix=fix)
        )


def teams_file(data_dir: str | os.PathLike[str]) -> Path:
    """Where the teams file is: ``$CRISISMAP_TEAMS_FILE``, else ``<data dir>/teams.toml``."""
    configured = os.environ.get(TEAMS_FILE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(data_dir) / TEAMS_FILE_NAME


# ----------------------------------------------------------------------------- mode


class Mode(StrEnum):
    LOCAL = "local"
    TEAM = "team"


def is_loopback(address: str | None) -> bool:
    """Whether a server address reaches this machine only ("" binds every interface)."""
    text = (address or "").strip().strip("[]")
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def mode_for(address: str | None, teams_file_configured: bool) -> Mode:
    """Team mode when the server listens beyond loopback or a teams file is configured."""
    return Mode.TEAM if teams_file_configured or not is_loopback(address) else Mode.LOCAL


_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def local_request_problem(headers: Mapping[str, str]) -> str | None:
    """Why a request must not be served in local mode, or None.

    Local mode has no sign-in, so it serves only this machine: a request relayed by a
    proxy or addressed to another name means the server is reachable from elsewhere.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    host = lowered.get("host", "")
    hostname = urlparse(f"//{host}").hostname if host else None
    if any(h in lowered for h in _PROXY_HEADERS) or (hostname and not is_loopback(hostname)):
        return _(
            "This crisismap runs in local mode (no sign-in) but the request came from another "
            "machine or through a proxy: create a teams file and an [auth] section to serve "
            "a team (see {section})."
        ).format(section=_(README_SECTION))
    return None


# ----------------------------------------------------------------------------- sign-in


_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def _provider_table(auth: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """``("default", auth)`` or ``(NAME, auth[NAME])``; ``("", {})`` for several providers."""
    named = {k: v for k, v in auth.items() if isinstance(v, Mapping)}
    if any(k in auth for k in _PROVIDER_KEYS) or not named:
        return "default", auth
    if len(named) == 1:
        return next(iter(named.items()))
    return "", {}


def auth_provider(auth: Mapping[str, Any]) -> str:
    """The provider name ``st.login`` takes: ``"default"`` or the one ``[auth.NAME]`` table."""
    return _provider_table(auth)[0] or "default"


def auth_problem(auth: Mapping[str, Any] | None) -> str | None:
    """One sentence saying why sign-in cannot work with this ``[auth]`` section, or None."""
    fix = _("see {section}; until then this server shows no data").format(section=_(README_SECTION))
    if not auth:
        return _(
            "This server needs sign-in but has no sign-in configuration: add an [auth] "
            "section to .streamlit/secrets.toml ({fix})."
        ).format(fix=fix)
    name, provider = _provider_table(auth)
    if not name:
        named = sorted(k for k, v in auth.items() if isinstance(v, Mapping))
        return _(
            "The [auth] section names {n} providers ({names}); crisismap signs in with one: "
            "keep one [auth.NAME] table ({fix})."
        ).format(n=len(named), names=", ".join(named), fix=fix)
    where = "[auth]" if name == "default" else f"[auth.{name}]"
    missing = [k for k in ("redirect_uri", "cookie_secret") if not auth.get(k)]
    missing += [
        _("{key} (in {where})").format(key=k, where=where)
        for k in _PROVIDER_KEYS
        if not provider.get(k)
    ]
    if missing:
        return _("The [auth] section lacks {keys}: add them ({fix}).").format(
            keys=", ".join(missing), fix=fix
        )
    redirect = urlparse(str(auth["redirect_uri"]))
    if not redirect.path.endswith("/oauth2callback"):
        return _(
            "The [auth] redirect_uri must end with /oauth2callback, like "
            "https://crisismap.example.org/oauth2callback ({fix})."
        ).format(fix=fix)
    if redirect.scheme != "https" and not is_loopback(redirect.hostname):
        return _(
            "The [auth] redirect_uri uses {scheme}:// for {host}: sign-in cookies would travel "
            "unencrypted; serve the app over https behind a reverse proxy and use an https:// "
            "redirect_uri ({fix})."
        ).format(scheme=redirect.scheme or _("no scheme"), host=redirect.hostname, fix=fix)
    if len(str(auth["cookie_secret"])) < MIN_COOKIE_SECRET_CHARS:
        return _(
            "The [auth] cookie_secret is shorter than {n} characters: make one with "
            'python -c "import secrets; print(secrets.token_urlsafe(32))" ({fix}).'
        ).format(n=MIN_COOKIE_SECRET_CHARS, fix=fix)
    return None


@dataclass(frozen=True)
class Identity:
    """Who signed in, from the provider's claims (what ``st.user`` holds)."""

    subject: str
    email: str | None  # None when absent or when the provider says it is not verified
    groups: tuple[str, ...] = ()
    signed_in_at: datetime | None = None  # the ID token's issue time

    @property
    def actor(self) -> str:
        """The name the audit log records: the email, else the provider's subject."""
        return self.email or f"sub:{self.subject}"

    @classmethod
    def from_claims(
        cls, claims: Mapping[str, Any], groups_claim: str = DEFAULT_GROUPS_CLAIM
    ) -> Identity:
        """Read the claims; an email the provider marks unverified is not used."""
        email = claims.get("email")
        verified = claims.get("email_verified", True) not in (False, "false", "False")
        groups = claims.get(groups_claim) or ()
        if isinstance(groups, str):
            groups = (groups,)
        issued = claims.get("iat")
        try:
            signed_in_at = datetime.fromtimestamp(float(issued), UTC) if issued else None
        except (TypeError, ValueError, OverflowError, OSError):
            signed_in_at = None
        return cls(
            subject=str(claims.get("sub") or ""),
            email=email.strip().lower() if isinstance(email, str) and verified else None,
            groups=tuple(str(g) for g in groups if isinstance(g, str | int)),
            signed_in_at=signed_in_at,
        )


# ----------------------------------------------------------------------------- decision


class Step(StrEnum):
    """What the page shows on this rerun."""

    LOCAL = "local"  # the single local user: everything, no sign-in
    REFUSE = "refuse"  # team mode cannot run safely: one sentence, nothing else
    SIGN_IN = "sign-in"  # only the sign-in button
    NO_TEAM = "no-team"  # signed in, but a member of no team
    CHOOSE = "choose"  # a member of several teams, none chosen yet
    READY = "ready"  # one team, one role


@dataclass(frozen=True)
class Access:
    """The outcome of :func:`decide`: what this session may see and do, and as whom."""

    step: Step
    message: str = ""
    detail: str = ""  # for the server's log only (may name files and members)
    actor: str | None = None
    team: str | None = None
    role: Role | None = None
    teams: Mapping[str, Role] = field(default_factory=dict)
    team_names: Mapping[str, str] = field(default_factory=dict)
    signed_in_at: datetime | None = None
    expires_at: datetime | None = None
    trash_days: float | None = None  # the teams file's, for the team's workspace

    @property
    def open(self) -> bool:
        """Whether the page may show data (local mode, or a member inside one team)."""
        return self.step in (Step.LOCAL, Step.READY)

    def may(self, action: Action | str) -> bool:
        return self.open and allowed(self.role, action)

    def valid(self, now: datetime | None = None) -> bool:
        """Still signed in at ``now`` (a download clicked after expiry is refused)."""
        return self.expires_at is None or (now or datetime.now(UTC)) < self.expires_at

    def require(self, action: Action | str, now: datetime | None = None) -> None:
        """Raise :class:`AccessDenied` unless this session may take ``action`` now."""
        if not self.valid(now):
            raise AccessDenied(_("Your sign-in has expired: sign in again."))
        if not self.may(action):
            who = _("the {role} role").format(role=self.role) if self.role else _("this session")
            raise AccessDenied(
                _(
                    "{action} is not allowed for {who}; ask your team's admin if you need it."
                ).format(action=Action(action).value.replace("_", " "), who=who)
            )


def local_access() -> Access:
    """The README's single-user mode: everything, as ``"local"``, in the local workspace."""
    return Access(Step.LOCAL, actor=LOCAL_ACTOR, role=Role.ADMIN)


def decide(
    *,
    config: TeamsConfig | None,
    config_error: str | None = None,
    auth: Mapping[str, Any] | None,
    claims: Mapping[str, Any] | None,
    chosen: str | None = None,
    now: datetime | None = None,
) -> Access:
    """What a team-mode session may see, from the server's configuration and the user's claims.

    Order matters: a broken configuration refuses before anyone signs in; the claims are
    only read once sign-in works; the team is only taken from the user's memberships.
    """
    now = now or datetime.now(UTC)
    if config_error is not None:
        return Access(
            Step.REFUSE,
            _(
                "This server's teams file cannot be used, so it shows no data: the "
                "administrator finds the reason in the server's log."
            ),
            detail=config_error,
        )
    if config is None:
        return Access(
            Step.REFUSE,
            _(
                "This server listens beyond this machine but has no teams file, so "
                "it shows no data: create one (see {section})."
            ).format(section=_(README_SECTION)),
        )
    problem = auth_problem(auth)
    if problem is not None:
        return Access(Step.REFUSE, problem)
    if not claims or not claims.get("is_logged_in"):
        return Access(Step.SIGN_IN, _("Sign in to see your team's workspace."))
    who = Identity.from_claims(claims, config.groups_claim)
    if who.signed_in_at is None:
        return Access(Step.SIGN_IN, _("Your sign-in carries no time: sign in again."))
    expires = who.signed_in_at + timedelta(hours=config.session_hours)
    if now >= expires:
        return Access(
            Step.SIGN_IN,
            _("Your sign-in is more than {session_hours:g} hours old: sign in again.").format(
                session_hours=config.session_hours
            ),
        )
    teams = config.memberships(who.email, who.groups)
    names = {t: config.team_name(t) for t in teams}
    base = dict(actor=who.actor, teams=teams, team_names=names, signed_in_at=who.signed_in_at)
    if not teams:
        return Access(
            Step.NO_TEAM,
            _(
                "You are signed in as {actor}, who is not a member of any team on "
                "this server: ask your team's admin to add you, or sign out."
            ).format(actor=who.actor),
            **base,
        )
    if chosen not in teams:
        chosen = next(iter(teams)) if len(teams) == 1 else None
    if chosen is None:
        return Access(Step.CHOOSE, _("You are a member of several teams: choose one."), **base)
    return Access(
        Step.READY,
        team=chosen,
        role=teams[chosen],
        expires_at=expires,
        trash_days=config.trash_days,
        **base,
    )

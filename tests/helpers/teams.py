"""The teams file the team-mode suites sign in against: two teams, three roles."""

from __future__ import annotations

_MEMBERS = """\
[teams.alpha]
name = "Team Alpha"
[teams.beta]
name = "Team Beta"
[[members]]
email = "ana@alpha.org"
team = "alpha"
role = "admin"
[[members]]
email = "ali@alpha.org"
team = "alpha"
role = "analyst"
[[members]]
email = "vic@alpha.org"
team = "alpha"
role = "viewer"
[[members]]
group = "beta-analysts"
team = "beta"
role = "analyst"
"""


def teams_toml(*, session_hours: int, extra: str = "") -> str:
    """Alpha (admin ana, analyst ali, viewer vic) and Beta (the beta-analysts group)."""
    return f"session_hours = {session_hours}\n" + _MEMBERS + extra

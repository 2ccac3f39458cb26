"""Who is signed in, for the dashboard: local or team mode, the teams file, the
session's scope. Part of the dashboard's view-model (:mod:`crisismap.dashboard`
re-exports it); no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from crisismap import access
from crisismap.access import Access, Mode, TeamsConfig
from crisismap.errors import InputError
from crisismap.store import default_data_dir

# ----------------------------------------------------------------------------- sign-in


def teams_file() -> Path:
    """The teams file this server reads (``$CRISISMAP_TEAMS_FILE`` or the data directory)."""
    return access.teams_file(default_data_dir())


def _teams_configured() -> bool:
    """A teams file is named in the environment or lies in the data directory."""
    return bool(os.environ.get(access.TEAMS_FILE_ENV, "").strip()) or teams_file().exists()


def app_mode(address: str | None) -> Mode:
    """Local (the README's command) or team mode for a server bound to ``address``."""
    return access.mode_for(address, _teams_configured())


def load_teams() -> tuple[TeamsConfig | None, str | None]:
    """The teams file and None, or None and why it cannot be used (None, None: no file)."""
    if not _teams_configured():
        return None, None
    try:
        return TeamsConfig.load(teams_file()), None
    except InputError as exc:
        return None, str(exc)


def team_access(
    *,
    auth: Mapping[str, Any] | None,
    claims: Mapping[str, Any] | None,
    chosen: str | None,
    now: dt.datetime | None = None,
) -> Access:
    """What this team-mode session may do now (see :func:`crisismap.access.decide`)."""
    config, error = load_teams()
    return access.decide(
        config=config, config_error=error, auth=auth, claims=claims, chosen=chosen, now=now
    )


def enter_scope(state: MutableMapping[str, Any], who: Access, keep: Sequence[str] = ()) -> bool:
    """Forget this session's data when its user or team changed; True if it did.

    A member of two teams must not carry team A's opened datasets, analysis or uploads
    into team B's page, exports or audit log.
    """
    scope = (who.actor, who.team, who.signed_in_at)
    if state.get("_scope") == scope:
        return False
    for key in [k for k in state if k not in keep]:
        del state[key]
    state["_scope"] = scope
    return True

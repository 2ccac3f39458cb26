"""Who is signed in, for the dashboard: local or team mode, the teams file, the
session's scope. Part of the dashboard's view-model (:mod:`crisismap.dashboard`
re-exports it); no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from crisismap import access, bilingual, escape, i18n
from crisismap.access import Access, Mode, TeamsConfig
from crisismap.errors import InputError, StoreError
from crisismap.i18n import N_
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


# ----------------------------------------------------------------------------- language

LANGUAGE_KEY = "language"  # the session's choice (the sidebar's menu) and the setting's name
SHOWN_LANGUAGE_KEY = "_shown_language"  # the language the page was last drawn in


def use_language(lang: str) -> str:
    """Set this run's language, and show bilingual category labels in it where they have it
    (``Penurie d'eau | Water shortage`` reads "Water shortage" in English; exports too)."""
    i18n.set_language(lang)
    bilingual.set_display(bilingual.AUTO)
    return i18n.language()


def browser_language(locale: str | None, accept_language: str | None) -> str:
    """The shipped language nearest the browser's: its locale (``st.context.locale``), else
    its ``Accept-Language`` header, else English."""
    return i18n.negotiate(locale, default=i18n.negotiate(accept_language))


def remembered_language(workspace: Any, actor: str | None) -> str | None:
    """The language ``actor`` chose before in this workspace (None: never, or not shipped)."""
    try:
        stored = workspace.preference(actor or "local", LANGUAGE_KEY)
        return i18n.check(stored) if stored else None
    except (i18n.UnknownLanguage, StoreError):
        return None


def settle_language(
    state: MutableMapping[str, Any], workspace: Any, actor: str | None, browser: str
) -> str:
    """The session's language once the workspace is open: its own choice, else the user's
    remembered one, else the browser's; set for this run."""
    if LANGUAGE_KEY not in state:
        state[LANGUAGE_KEY] = remembered_language(workspace, actor) or browser
    return use_language(state[LANGUAGE_KEY])


def remember_language(workspace: Any, actor: str | None, lang: str) -> None:
    """Keep ``actor``'s choice in the workspace: their team's, or the local data directory's."""
    workspace.set_preference(actor or "local", LANGUAGE_KEY, i18n.check(lang))


def switch_language(state: MutableMapping[str, Any], workspace: Any, actor: str | None) -> None:
    """The language menu changed: keep the page's choices and remember the user's."""
    new = state[LANGUAGE_KEY]
    carry_over(state, state.get(SHOWN_LANGUAGE_KEY), new)
    remember_language(workspace, actor, new)


def keyed(name: str, lang: str) -> str:
    """A widget's key in ``lang`` (see :func:`carry_over`)."""
    return f"{name}@{lang}"


def carry_over(state: MutableMapping[str, Any], old: str | None, new: str) -> None:
    """Copy the choices made in language ``old``'s widgets to ``new``'s (a menu keeps its
    choice when the page changes language; Streamlit would show the old words)."""
    if not old or old == new:
        return
    suffix = "@" + old
    for key in [k for k in state if isinstance(k, str) and k.endswith(suffix)]:
        if state[key] is not None:  # None: nothing chosen (the new menu's default)
            state[key[: -len(suffix)] + "@" + new] = state[key]


def language_options(current: str) -> list[str]:
    """The languages the menu offers (the pseudo-language only to a session already in it)."""
    return [*i18n.LANGUAGES, *([i18n.PSEUDO] if current == i18n.PSEUDO else [])]


def language_name(lang: str) -> str:
    """A language named in itself (what its speakers look for in a menu)."""
    return i18n.LANGUAGES.get(lang, "⟦pseudo⟧")


# Streamlit's own words on the page (the file uploader's, the menus'), put in the user's
# language by the page script below: Streamlit does not translate them itself.
STREAMLIT_WORDS = (
    N_("Drag and drop file here"),
    N_("Drag and drop files here"),
    N_("Browse files"),
    N_("Upload"),
    N_("Choose an option"),
    N_("Choose options"),
    N_("No results"),
    N_("Running..."),
    N_("Stop"),
    N_("Clear all"),
    N_("Press Enter to apply"),
    N_("Skip to main content"),
)
LIMIT_WORDS = N_("{size} per file")
"""The file uploader's size line (``200MB per file • CSV, TSV``)."""


def page_language_script(lang: str) -> str:
    """A script for a same-origin frame that sets the page's ``lang`` and ``dir`` (Arabic
    right to left) and puts Streamlit's own words into ``lang``, also as the page changes.

    Each of Streamlit's words in any shipped language maps to ``lang``'s, so switching
    from French to Arabic turns the French words Arabic too.
    """
    words: dict[str, str] = {}
    limits: list[str] = []
    with i18n.using(lang):
        wanted = [i18n.gettext(w) for w in STREAMLIT_WORDS]
        limit = i18n.gettext(LIMIT_WORDS)
    for other in [*i18n.LANGUAGES, i18n.PSEUDO]:
        with i18n.using(other):
            for word, translated in zip(STREAMLIT_WORDS, wanted, strict=True):
                words.setdefault(i18n.gettext(word), translated)
            pattern = re.escape(i18n.gettext(LIMIT_WORDS)).replace(re.escape("{size}"), "(\\S+)")
            limits.append("^" + pattern)
    data = {
        "lang": "en" if lang == i18n.PSEUDO else lang,
        "dir": i18n.direction(lang),
        "words": {k: v for k, v in words.items() if k != v},
        "limits": sorted(set(limits)),
        "limit": limit.replace("{size}", "$1"),
    }
    return _PAGE_SCRIPT.replace("DATA", escape.js_data(data))


_PAGE_SCRIPT = """<script>
(function () {
  var data = DATA, top = window.parent, doc = top.document, busy = false, me = {};
  top.crisismapPageScript = me;  // a newer run's script (another language) takes over
  doc.documentElement.setAttribute("lang", data.lang);
  doc.documentElement.setAttribute("dir", data.dir);
  var limits = data.limits.map(function (p) { return new RegExp(p); });
  function translate() {
    busy = true;
    var walk = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT), node;
    while ((node = walk.nextNode())) {
      var text = node.nodeValue.trim();
      if (!text) continue;
      var better = data.words[text];
      if (better === undefined) {
        for (var i = 0; i < limits.length; i++) {
          if (limits[i].test(text)) {
            better = text.replace(limits[i], data.limit);
            break;
          }
        }
      }
      if (better !== undefined && better !== text) node.nodeValue = better;
    }
    doc.querySelectorAll("[placeholder]").forEach(function (field) {
      var better = data.words[field.getAttribute("placeholder").trim()];
      if (better !== undefined) field.setAttribute("placeholder", better);
    });
    busy = false;
  }
  translate();
  var pending = null;
  var watch = new MutationObserver(function () {
    if (top.crisismapPageScript !== me) { watch.disconnect(); return; }
    if (busy || pending) return;
    pending = setTimeout(function () { pending = null; translate(); }, 30);
  });
  watch.observe(doc.body, {childList: true, subtree: true, characterData: true,
                          attributes: true, attributeFilter: ["placeholder"]});
})();
</script>"""

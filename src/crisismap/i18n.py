"""The user's language: translated text, right-to-left layout, numbers and dates per locale.

Text is marked with :func:`_` (``gettext``), :func:`ngettext` for counts and :func:`pgettext`
where one English word needs two translations. Strings defined at import time (labels in
module constants) are marked with :func:`N_`, which only marks them for extraction, and are
translated where they are shown: ``_(LABEL)``.

The catalogues are gettext ``.po`` files under ``crisismap/locale/<lang>/LC_MESSAGES/``, one
per *area* of the code (``dashboard.po``, ``report.po``…, see ``scripts/i18n.py``), so that
each area's strings are reviewed together. They are compiled in memory the first time a
language is used in a process (Babel), so a checkout needs no build step.

The language is a context variable, not a process-wide setting: each Streamlit session runs
its script in its own thread and sets its user's language at the top of each run; the CLI
sets it once from ``--lang``. Work handed to threads must carry the context along
(:mod:`crisismap.parallel` does). English needs no catalogue and loads nothing.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext as _gettext
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT = "en"
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "es": "Español",
    "uk": "Українська",
}
"""The shipped languages, each named in itself (how a language menu should show them)."""

RIGHT_TO_LEFT = frozenset({"ar"})
PSEUDO = "qps"
"""A pseudo-language for tests: every translated string comes back as ``⟦…⟧``, so that a
screen or a file in it shows at a glance which text escaped translation."""

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAINS = ("core", "problems", "cli", "dashboard", "report", "exports")
"""The catalogues' areas, one ``.po`` file each per language (see ``scripts/i18n.py``)."""

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "crisismap_language", default=DEFAULT
)
_lock = threading.Lock()


class UnknownLanguage(ValueError):
    """A language crisismap does not ship."""


# --- which language --------------------------------------------------------------------------


def language() -> str:
    """The language of the current context (``en`` unless set)."""
    return _current.get()


def check(lang: str) -> str:
    """``lang`` normalised (``fr-FR`` → ``fr``) or :class:`UnknownLanguage` with the choices."""
    code = str(lang).strip().replace("_", "-").split("-")[0].lower()
    if code in LANGUAGES or code == PSEUDO:
        return code
    choices = ", ".join(f"{k} ({v})" for k, v in LANGUAGES.items())
    raise UnknownLanguage(f"Unknown language {lang!r}: crisismap speaks {choices}.")


def set_language(lang: str) -> contextvars.Token:
    """Set the current context's language (the app calls it at the top of every run)."""
    return _current.set(check(lang))


@contextmanager
def using(lang: str) -> Iterator[str]:
    """Run a block in ``lang`` and restore the previous language after it."""
    token = set_language(lang)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def negotiate(preferred: Iterable[str] | str | None, default: str = DEFAULT) -> str:
    """The best shipped language for a browser's ``Accept-Language`` list (or one tag)."""
    if not preferred:
        return default
    if isinstance(preferred, str):
        preferred = [p.split(";")[0].strip() for p in preferred.split(",")]
    for tag in preferred:
        try:
            code = check(tag)
        except UnknownLanguage:
            continue
        if code != PSEUDO:
            return code
    return default


def is_rtl(lang: str | None = None) -> bool:
    """Whether ``lang`` (the current language by default) is written right to left."""
    return (lang or language()) in RIGHT_TO_LEFT


def direction(lang: str | None = None) -> str:
    """``"rtl"`` or ``"ltr"``, for HTML's ``dir`` attribute."""
    return "rtl" if is_rtl(lang) else "ltr"


# --- text ------------------------------------------------------------------------------------


def gettext(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    lang = _current.get()
    if lang == DEFAULT or not message:
        return message
    if lang == PSEUDO:
        return _pseudo(message)
    return _translations(lang).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language (Arabic and Ukrainian have more than two)."""
    lang = _current.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    if lang == PSEUDO:
        return _pseudo(singular if n == 1 else plural)
    return _translations(lang).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as translated in ``context`` (one English word, two meanings)."""
    lang = _current.get()
    if lang == DEFAULT:
        return message
    if lang == PSEUDO:
        return _pseudo(message)
    return _translations(lang).pgettext(context, message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it (module constants)."""
    return message


def _pseudo(message: str) -> str:
    return f"⟦{message}⟧"


_loaded: dict[str, _gettext.NullTranslations] = {}


def _translations(lang: str) -> _gettext.NullTranslations:
    """The language's catalogues: a dictionary read once loaded (every translated string
    passes here), compiled under the lock the first time."""
    found = _loaded.get(lang)
    if found is None:
        with _lock:
            found = _loaded.get(lang)
            if found is None:
                found = _loaded[lang] = _load(lang)
    return found


def _load(lang: str) -> _gettext.NullTranslations:
    """Every area's catalogue of ``lang``, compiled in memory and chained into one."""
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    merged: _gettext.NullTranslations | None = None
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    for domain in DOMAINS:
        path = folder / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=domain)
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        one = _gettext.GNUTranslations(buffer)
        if merged is None:
            merged = one
        else:
            merged.add_fallback(one)
    return merged if merged is not None else _gettext.NullTranslations()


# --- numbers and dates -----------------------------------------------------------------------


def babel_locale(lang: str | None = None) -> str:
    """The Babel locale used for numbers and dates (``en`` for the pseudo-language)."""
    lang = lang or language()
    return DEFAULT if lang == PSEUDO else lang


def format_number(value: Any, lang: str | None = None) -> str:
    """A count or amount with the locale's separators (``1 234,5`` in French)."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=babel_locale(lang))


def format_percent(value: float, lang: str | None = None, digits: int = 0) -> str:
    """A share (0.25 → ``25 %`` in French)."""
    from babel.numbers import format_percent as _format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _format_percent(value, format=pattern, locale=babel_locale(lang))


def format_date(value: dt.date, lang: str | None = None, form: str = "medium") -> str:
    """A date in the locale's words (``5 mars 2024``); ``form`` is Babel's (short…full)."""
    from babel.dates import format_date as _format_date

    return _format_date(value, format=form, locale=babel_locale(lang))


def format_month(value: dt.date, lang: str | None = None) -> str:
    """A month and year as a title (``mars 2024``, ``березень 2024``: the standalone form)."""
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", value, locale=babel_locale(lang))

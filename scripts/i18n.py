"""The translation catalogues: extract the marked strings, update the ``.po`` files, check them.

    uv run python scripts/i18n.py update      # after marking or changing strings
    uv run python scripts/i18n.py check       # what CI checks: nothing missing, nothing stale
    uv run python scripts/i18n.py check dashboard report   # only these areas

Each area of the code has its own catalogue (``crisismap/locale/<lang>/LC_MESSAGES/<area>.po``,
template ``crisismap/locale/templates/<area>.pot``), so that the dashboard's strings, the
report's and the problem catalogue's can be reviewed (and edited) apart. :data:`AREAS` says
which files feed which area; the first matching rule wins. Besides the strings marked in the
code with ``_``, ``ngettext``, ``pgettext`` and ``N_``, the problem catalogue's messages and
descriptions (``crisismap.problems.CODES``) are read from the catalogue itself.

``check`` fails when a marked string is missing from a shipped language, is untranslated or
fuzzy, when a translation drops or invents a ``{placeholder}``, or when a ``.po`` holds
strings the code no longer has (run ``update``).
"""

from __future__ import annotations

import datetime
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crisismap import i18n  # noqa: E402

LOCALE = i18n.LOCALE_DIR
TEMPLATES = LOCALE / "templates"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
}

# (glob relative to the repository, area); first match wins, every source file has an area.
AREAS: list[tuple[str, str]] = [
    ("src/crisismap/problems.py", "problems"),
    ("src/crisismap/cli/*.py", "cli"),
    ("src/crisismap/report/*.py", "report"),
    ("src/crisismap/releases.py", "report"),
    ("app.py", "dashboard"),
    ("pages/*.py", "dashboard"),
    ("src/crisismap/dashboard.py", "dashboard"),
    ("src/crisismap/page.py", "dashboard"),
    ("src/crisismap/choices.py", "dashboard"),
    ("src/crisismap/session.py", "dashboard"),
    ("src/crisismap/layers.py", "dashboard"),
    ("src/crisismap/basemap.py", "dashboard"),
    ("src/crisismap/prepared.py", "dashboard"),
    ("src/crisismap/guarded.py", "dashboard"),
    ("src/crisismap/fit.py", "dashboard"),
    ("src/crisismap/export.py", "exports"),
    ("src/crisismap/record_table.py", "exports"),
    ("src/crisismap/trends.py", "exports"),
    ("src/crisismap/**.py", "core"),
]
assert {area for _, area in AREAS} == set(i18n.DOMAINS)


def sources() -> Iterator[Path]:
    yield ROOT / "app.py"
    yield from sorted((ROOT / "pages").glob("*.py"))
    yield from sorted((ROOT / "src" / "crisismap").rglob("*.py"))


def area_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    for pattern, area in AREAS:
        if fnmatch(relative, pattern):
            return area
    raise LookupError(f"{relative} matches no area in scripts/i18n.py AREAS")


def extract() -> dict[str, Catalog]:
    """The template catalogue of every area, from the code as it is now."""
    catalogs = {area: _new_catalog(area) for area in i18n.DOMAINS}
    for path in sources():
        area = area_of(path)
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file(
            "python", path, keywords=KEYWORDS, comment_tags=("Translators:",)
        ):
            catalogs[area].add(
                message,
                locations=[(relative, lineno)],
                auto_comments=comments,
                context=context,
                flags=_flags(message),
            )
    _add_problem_catalogue(catalogs["problems"])
    return catalogs


# A fixed date in the headers: regenerating must not change files whose strings did not.
_EPOCH = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)


def _new_catalog(area: str, lang: str | None = None) -> Catalog:
    return Catalog(
        locale=lang,
        domain=area,
        project="crisismap",
        version="",
        copyright_holder="crisismap contributors",
        msgid_bugs_address="https://github.com/crisismap/crisismap/issues",
        creation_date=_EPOCH,
        revision_date=_EPOCH,
        language_team=f"{i18n.LANGUAGES[lang]} <needs review by a native speaker>"
        if lang
        else None,
    )


def _add_problem_catalogue(catalog: Catalog) -> None:
    from crisismap.problems import CODES

    for kind in CODES.values():
        where = [("src/crisismap/problems.py", 0)]
        catalog.add(kind.description, locations=where, auto_comments=[f"{kind.code}: description"])
        for name, template in (("message", kind.template), *kind.variants.items()):
            catalog.add(
                template,
                locations=where,
                auto_comments=[f"{kind.code}: {name}"],
                flags=_flags(template),
            )


def _flags(message: str | tuple[str, ...]) -> tuple[str, ...]:
    text = message if isinstance(message, str) else " ".join(message)
    return ("python-brace-format",) if fields_of(text) else ()


def fields_of(text: str) -> set[str]:
    """The ``{placeholders}`` of a :meth:`str.format` template (empty when it is not one)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


def po_path(lang: str, area: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{area}.po"


def languages() -> list[str]:
    return [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def update() -> None:
    """Write the templates and bring every language's catalogues in line with them."""
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    for area, template in extract().items():
        _write(TEMPLATES / f"{area}.pot", template)
        for lang in languages():
            path = po_path(lang, area)
            if path.exists():
                with path.open("rb") as f:
                    catalog = read_po(f, locale=lang, domain=area)
            else:
                catalog = _new_catalog(area, lang)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, catalog)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as f:
        # Sorted by message, files without line numbers: moving code or marking strings in
        # one area does not touch the lines of another, so branches merge cleanly.
        write_po(f, catalog, width=100, sort_output=True, include_lineno=False)


@dataclass(frozen=True)
class Gap:
    lang: str
    area: str
    kind: str  # missing | untranslated | fuzzy | placeholders | stale
    msgid: str

    def __str__(self) -> str:
        return f"{self.lang}/{self.area}.po: {self.kind}: {self.msgid[:90]!r}"


def gaps(catalogs: dict[str, Catalog] | None = None, areas: set[str] | None = None) -> list[Gap]:
    """Everything that keeps a shipped language from being complete (in ``areas``, or all)."""
    catalogs = catalogs or extract()
    found: list[Gap] = []
    for lang in languages():
        for area, template in catalogs.items():
            if areas is not None and area not in areas:
                continue
            path = po_path(lang, area)
            catalog = Catalog(locale=lang, domain=area)
            if path.exists():
                with path.open("rb") as f:
                    catalog = read_po(f, locale=lang, domain=area)
            wanted = {(m.id, m.context) for m in template if m.id}
            for message in template:
                if not message.id:
                    continue
                have = catalog.get(message.id, context=message.context)
                key = _key(message.id)
                if have is None:
                    found.append(Gap(lang, area, "missing", key))
                elif have.fuzzy:
                    found.append(Gap(lang, area, "fuzzy", key))
                elif not _translated(have.string):
                    found.append(Gap(lang, area, "untranslated", key))
                elif not _same_fields(message.id, have.string):
                    found.append(Gap(lang, area, "placeholders", key))
            for message in catalog:
                if message.id and (message.id, message.context) not in wanted:
                    found.append(Gap(lang, area, "stale", _key(message.id)))
    return found


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _translated(text: str | tuple[str, ...]) -> bool:
    return all(text) if isinstance(text, tuple) else bool(text)


def _same_fields(msgid: str | tuple[str, ...], text: str | tuple[str, ...]) -> bool:
    wanted = fields_of(" ".join(msgid) if isinstance(msgid, tuple) else msgid)
    forms = text if isinstance(text, tuple) else (text,)
    # A plural form may leave out the count ("one record" in Arabic's singular, no "{n}").
    return all(fields_of(form) <= wanted for form in forms) and (
        isinstance(text, tuple) or fields_of(forms[0]) == wanted
    )


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    areas = set(argv[1:]) or None
    if command == "update":
        update()
        return 0
    if command in {"check", "stats"}:
        catalogs = extract()
        problems = gaps(catalogs, areas)
        for area, template in catalogs.items():
            print(f"{area}: {sum(1 for m in template if m.id)} strings")
        for gap in problems[:200]:
            print(gap)
        print(f"{len(problems)} gaps in {', '.join(languages())}")
        return 1 if problems and command == "check" else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

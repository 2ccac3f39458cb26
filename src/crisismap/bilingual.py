"""Bilingual category labels: ``Penurie d'eau | Water shortage``, ``Arrestation arbitraire /
Arbitrary arrest``, as Kobo forms and Ushahidi deployments in two languages write them.

A column is bilingual when every label is two parts around one separator and the parts are
translations of each other, not labels of their own:

- *shape*: every distinct label holds the separator exactly once, with text on both sides;
- *pairing*: each first part goes with one second part only, and no part is found on both
  sides (labels of a multi-label column combine freely: ``Killing / Looting``,
  ``Looting / Arson``);
- *languages*: the first parts, read together, are in another language than the second
  parts, told by script (Arabic, Cyrillic, Latin), letters (é, ñ, ї), short words
  (de, the, y, и) and endings (-aire, -ing, -ción), or as the user says.

The full label always stays in the data; showing one language is a display choice
(:func:`shown`, :func:`displayed`), held in a context variable like the interface language.
Leaf module: imports only the i18n leaf (the interface language, for ``auto``).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from crisismap.i18n import _, language

PAIR_SEPARATORS = ("|", "/")
"""What joins the two languages of a label (with or without spaces around it)."""

FULL = "full"
FIRST = "first"
SECOND = "second"
AUTO = "auto"
"""Display choices besides a language code: the whole label, one side by position, or the
side in the interface language when the column has it (else the whole label)."""

_MIN_LABELS = 1  # one label: its two parts must still be told apart by language


@dataclass(frozen=True)
class Bilingual:
    """A bilingual column: its pair separator and the language of each side (``None`` when
    the words do not tell: the side is then chosen by position)."""

    separator: str
    first: str | None
    second: str | None

    def side(self, choice: str | None) -> int | None:
        """0 or 1 for the side ``choice`` (a language, ``first``/``second``) names, else None."""
        if choice in (FIRST, self.first) and choice is not None:
            return 0
        if choice in (SECOND, self.second) and choice is not None:
            return 1
        return None

    def part(self, label: str, choice: str | None) -> str:
        """``label``'s part in ``choice``; the whole label when it has no such part."""
        side = self.side(choice)
        if side is None or self.separator not in label:
            return label
        parts = label.split(self.separator)
        if len(parts) != 2:
            return label
        return parts[side].strip() or label

    def describe(self) -> str:
        """``fr | en`` (``first | second`` where a side's language is not known)."""
        return f"{self.first or FIRST} {self.separator} {self.second or SECOND}"


def detect(labels: Iterable[str], separators: Sequence[str] = PAIR_SEPARATORS) -> Bilingual | None:
    """The column's bilingual shape, or None when its labels are not all in two languages."""
    distinct = sorted({str(x).strip() for x in labels if str(x).strip()})
    if len(distinct) < _MIN_LABELS:
        return None
    for separator in separators:
        pairs = _pairs(distinct, separator)
        if pairs is None:
            continue
        first_text = " ".join(a for a, _b in pairs)
        second_text = " ".join(b for _a, b in pairs)
        first, second = guess_language(first_text), guess_language(second_text)
        if first is not None and second is not None and first != second:
            return Bilingual(separator, first, second)
        if _script(first_text) != _script(second_text):  # Cyrillic | Latin: told by script
            return Bilingual(separator, first, second)
    return None


def declared(separator: str, languages: str | None = None) -> Bilingual:
    """A bilingual shape the user states: ``declared("|", "fr,en")``."""
    first = second = None
    if languages:
        found = [x.strip().lower() for x in re.split(r"[,;|/ ]+", languages) if x.strip()]
        if len(found) != 2 or found[0] == found[1]:
            raise ValueError(
                _(
                    "Expected the two languages of the labels as two different codes such as "
                    "'fr,en', got {languages!r}."
                ).format(languages=languages)
            )
        first, second = found
    return Bilingual(separator.strip() or "|", first, second)


def _pairs(labels: Sequence[str], separator: str) -> list[tuple[str, str]] | None:
    """Each label's two parts when every label has the shape and the parts pair one-to-one."""
    pairs = []
    for label in labels:
        parts = label.split(separator)
        if len(parts) != 2:
            return None
        a, b = parts[0].strip(), parts[1].strip()
        if not a or not b:
            return None
        pairs.append((a, b))
    firsts = {a.casefold() for a, _b in pairs}
    seconds = {b.casefold() for _a, b in pairs}
    if len(firsts) != len(pairs) or len(seconds) != len(pairs) or firsts & seconds:
        return None
    return pairs


# --- which language a text is in ------------------------------------------------------------

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Letters only one of the two has, and the noun endings -ння / -ття (uk) and -ние (ru).
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]|(?:нн|тт)я\b")
_RUSSIAN = re.compile(r"[ыэъёЫЭЪЁ]|ние\b")
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)  # not the a of 1a.

# Per Latin-script language: letters, short words and endings that are frequent in it and
# rare in the others, each worth one point a time it is found.
_LATIN = {
    "fr": (
        "éèêàçùâîôûëïœ",
        {"de", "du", "des", "la", "le", "les", "et", "au", "aux", "par", "pour", "sur", "un",
         "une", "contre", "sans", "d", "l", "eau"},
        ("aire", "eux", "euse", "ée", "ées", "ement", "ité", "ique", "eur", "oir", "ès",
         "ees", "ee"),
    ),
    "es": (
        "ñáíóú¿¡",
        {"de", "del", "la", "el", "los", "las", "y", "por", "para", "con", "contra", "sin",
         "un", "una"},
        ("ción", "cion", "ado", "ada", "ados", "adas", "idad", "miento", "ario", "aria",
         "encia", "ente", "ía"),
    ),
    "pt": (
        "ãõçâêô",
        {"de", "do", "da", "dos", "das", "e", "por", "para", "com", "contra", "sem", "um",
         "uma"},
        ("ção", "ções", "ado", "ada", "idade", "mento", "ário"),
    ),
    "en": (
        "wk",
        {"of", "the", "and", "in", "by", "for", "to", "on", "with", "against", "without",
         "an"},
        ("ing", "ed", "ness", "ship", "ary", "ery", "th", "ths", "ful", "less", "age", "y"),
    ),
}  # fmt: skip


def _script(text: str) -> str:
    """``arabic``, ``cyrillic`` or ``latin``: the script of most of ``text``'s letters."""
    letters = sum(ch.isalpha() for ch in text) or 1
    if len(_ARABIC.findall(text)) > letters / 2:
        return "arabic"
    return "cyrillic" if len(_CYRILLIC.findall(text)) > letters / 2 else "latin"


def guess_language(text: str) -> str | None:
    """The language of ``text`` (ISO 639-1) when its script, letters or words tell, else None."""
    letters = sum(ch.isalpha() for ch in text)
    if not letters:
        return None
    arabic, cyrillic = len(_ARABIC.findall(text)), len(_CYRILLIC.findall(text))
    if arabic > letters / 2:
        return "ar"
    if cyrillic > letters / 2:
        if _UKRAINIAN.search(text):
            return "uk"
        return "ru" if _RUSSIAN.search(text) else None
    scores = dict.fromkeys(_LATIN, 0.0)
    lowered = text.lower()
    words = [w.replace("'", " ").split()[0] if "'" in w else w for w in _WORD.findall(lowered)]
    elided = re.findall(r"\b([dlj])'", lowered)
    for lang, (marks, stopwords, endings) in _LATIN.items():
        scores[lang] += 2 * sum(lowered.count(ch) for ch in marks if ch not in "wk")
        scores[lang] += sum(1 for w in words if w in stopwords)
        scores[lang] += sum(1 for w in words if len(w) > 3 and w.endswith(endings))
    scores["fr"] += 2 * len(elided)
    scores["en"] += 0.5 * sum(lowered.count(ch) for ch in "wk")
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), runner = ranked[0], ranked[1][1]
    return best if top >= 1 and top >= 1.5 * runner else None


# --- the display choice ---------------------------------------------------------------------


@dataclass(frozen=True)
class Display:
    """How bilingual labels are shown: ``choice`` (:data:`FULL`, :data:`AUTO`, :data:`FIRST`,
    :data:`SECOND` or a language code) and the shape the user declared, if any (else
    detected from the labels)."""

    choice: str = FULL
    declared: Bilingual | None = None

    def record(self) -> dict[str, str]:
        """What an output's manifest says about it (empty when labels are shown whole)."""
        if self.choice == FULL:
            return {}
        out = {"category_labels_shown": self.choice}
        if self.declared is not None:
            out["category_labels_declared"] = self.declared.describe()
        return out


_display: contextvars.ContextVar[Display] = contextvars.ContextVar(
    "crisismap_category_display",
    default=Display(),  # noqa: B039 (frozen: never changed in place)
)


def check_choice(choice: str | None) -> str:
    """``full``, ``auto``, ``first``, ``second`` or a two-letter language code, normalised."""
    text = (choice or FULL).strip().lower()
    if text in (FULL, AUTO, FIRST, SECOND) or re.fullmatch(r"[a-z]{2}", text):
        return text
    raise ValueError(
        _(
            "Unknown category language {choice!r}: expected full (the whole label), auto (the "
            "interface language when the labels have it), first, second, or a language code "
            "such as fr or en."
        ).format(choice=choice)
    )


def parse_pair(text: str) -> Bilingual:
    """``"|"``, ``"/:fr,en"``: the separator of bilingual labels and, after ``:``, their
    two languages in order (the form of the CLI's ``--category-pair``)."""
    separator, _colon, languages = str(text).partition(":")
    if separator.strip() not in PAIR_SEPARATORS:
        raise ValueError(
            _(
                "Expected the separator between the two languages of the labels ({choices}), "
                "optionally followed by ':' and their languages (e.g. '|:fr,en'), got {text!r}."
            ).format(choices=" or ".join(PAIR_SEPARATORS), text=text)
        )
    return declared(separator, languages or None)


def display() -> Display:
    """This context's display of bilingual labels (whole labels unless set)."""
    return _display.get()


def set_display(choice: str | None, declared: Bilingual | None = None) -> contextvars.Token:
    """Set this context's display (the CLI from its options, the app at each run)."""
    return _display.set(Display(check_choice(choice), declared))


@contextmanager
def showing(choice: str | None, declared: Bilingual | None = None) -> Iterator[Display]:
    """Run a block with bilingual labels shown as ``choice``."""
    token = set_display(choice, declared)
    try:
        yield _display.get()
    finally:
        _display.reset(token)


def _language() -> str:
    return language()


def effective(shape: Bilingual | None, language: str, choice: str) -> str | None:
    """The side of ``shape`` to show under ``choice`` in interface ``language``: a language
    code, ``first``/``second``, or None (whole labels)."""
    if shape is None or choice == FULL:
        return None
    if choice == AUTO:
        return language if shape.side(language) is not None else None
    return choice if shape.side(choice) is not None else None


def shown(
    labels: Sequence[str], *, language: str | None = None, ignore: Iterable[str] = ()
) -> list[str]:
    """``labels`` as this context displays them: one side of each when they are bilingual
    (declared, or detected from ``labels`` less the ``ignore`` ones) and the choice names a
    side they have; otherwise unchanged. The data keeps the full labels."""
    current = display()
    if current.choice == FULL:
        return list(labels)
    skip = set(ignore)
    shape = current.declared or detect([x for x in labels if x not in skip])
    side = effective(shape, language or _language(), current.choice)
    if shape is None or side is None:
        return list(labels)
    return [x if x in skip else shape.part(x, side) for x in labels]


def displayed(frame: Any, column: str = "category", *, ignore: Iterable[str] = ()) -> Any:
    """``frame`` with its ``column`` of category labels as this context displays them (the
    frame itself when nothing changes): what a table, a chart or an export shows."""
    if column not in getattr(frame, "columns", ()) or display().choice == FULL:
        return frame
    values = frame[column]
    distinct = [str(x) for x in values.dropna().unique()]
    mapped = dict(zip(distinct, shown(distinct, ignore=ignore), strict=True))
    if all(k == v for k, v in mapped.items()):
        return frame
    return frame.assign(
        **{column: values.map(lambda x: mapped.get(x, x) if isinstance(x, str) else x)}
    )

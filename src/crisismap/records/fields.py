"""Checks of the text fields: ids (given or generated, repeated), categories (split,
de-duplicated, decoded), free text, and the admin names and codes the file states."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap import bilingual
from crisismap.i18n import _
from crisismap.problems import CATEGORY_MISSING, CATEGORY_UNKNOWN_CODE, ID_DUPLICATE, ID_MISSING
from crisismap.records.checks import Checks
from crisismap.records.columns import TEXT, arrow, blank, strip, text_take
from crisismap.schema import CATEGORY_SEPARATOR, stated_code_column, stated_name_column


def check_ids(checks: Checks) -> pd.Series:
    """The ids as given, generated (``gen-`` + a hash of the fields) where there is none."""
    column = checks.col("id")
    frame = checks.raw.frame
    if column is None:
        checks.notes.append(
            _(
                "No id column: ids were generated as 'gen-' + a hash of each "
                "record's fields (the same record always gets the same id)."
            )
        )
        ids = pd.Series(_content_ids(frame, np.arange(checks.n)), dtype="str")
    else:
        ids = strip(frame[column])
        empty = (ids == "").to_numpy(dtype=bool)
        if empty.any():
            filled = ids.to_numpy(dtype=object)
            filled[empty] = _content_ids(frame, np.flatnonzero(empty))
            ids = pd.Series(filled, dtype="str")
            checks.flag(empty, ID_MISSING, column, frame[column], extra=ids)
    _duplicate_ids(checks, ids, column)
    return ids


def _duplicate_ids(checks: Checks, ids: pd.Series, column: str | None) -> None:
    series = ids
    if _strictly_monotonic(series):
        return  # sorted ids (a common export order) cannot repeat
    if _all_distinct(series):
        return  # counted in Arrow: pandas would first make a Python string of every id
    dup = series.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first_line = pd.Series(checks.raw.lines).groupby(series).transform("first").to_numpy()
    variant = None if column else "generated"
    checks.flag(dup, ID_DUPLICATE, column, ids, extra=first_line, variant=variant)


def _all_distinct(series: pd.Series) -> bool:
    """No id repeats: as integers when they all read as such (equal ids give equal numbers,
    so distinct numbers mean distinct ids), else counted in Arrow (a hash table of every id)."""
    arr = arrow(series)
    if arr.null_count == 0:
        try:
            numbers = pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            numbers = np.sort(numbers)
            return bool((numbers[1:] != numbers[:-1]).all())
    return bool(pc.count_distinct(arr, mode="all").as_py() == len(arr))


def _strictly_monotonic(series: pd.Series) -> bool:
    """Strictly increasing or decreasing text (cheaper than hashing a million ids)."""
    if len(series) < 2 or series.isna().any():
        return False
    arr = arrow(series)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    head, tail = arr.slice(0, len(arr) - 1), arr.slice(1)
    return bool(pc.all(pc.less(head, tail)).as_py()) or bool(pc.all(pc.greater(head, tail)).as_py())


def _content_ids(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``gen-`` + 16 hex digits of SHA-1 over the record's fields (unit-separator joined)."""
    if not len(rows):
        return np.array([], dtype=object)
    sub = frame.iloc[rows]
    columns = list(sub.columns)
    if columns:
        joined = sub[columns[0]].str.cat([sub[c] for c in columns[1:]], sep="\x1f")
    else:
        joined = pd.Series([""] * len(rows))
    return np.array(
        ["gen-" + hashlib.sha1(t.encode("utf-8")).hexdigest()[:16] for t in joined],
        dtype=object,
    )


def check_categories(checks: Checks) -> pd.Series:
    """Category labels split, trimmed, de-duplicated (and decoded) per record."""
    column = checks.col("category")
    if column is None:
        checks.notes.append(_("No category column: every record has category ''."))
        return pd.Series([""] * checks.n, dtype="str")
    text = strip(checks.values(column))
    codes, uniques = pd.factorize(text)
    uniques = [str(u) for u in uniques]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    separator = _category_separator(checks, uniques, counts)
    labels = checks.mapping.category_labels or {}
    joined, unknown = [], []
    for value in uniques:
        parts = value.split(separator) if separator else [value]
        seen: dict[str, None] = {}
        bad = False
        for part in (p.strip() for p in parts):
            if not part:
                continue
            if labels:
                bad |= part not in labels
                part = labels.get(part, part)
            seen.setdefault(part, None)
        joined.append(CATEGORY_SEPARATOR.join(seen))
        unknown.append(bad)
    empty = np.array([j == "" for j in joined] + [True], dtype=bool)[codes]
    checks.flag(empty, CATEGORY_MISSING, column, text)
    if labels:
        allowed = ", ".join(f"{k} ({v})" for k, v in labels.items())
        unknown_code = np.array(unknown + [False], dtype=bool)[codes] & ~empty
        checks.flag(unknown_code, CATEGORY_UNKNOWN_CODE, column, text, allowed=allowed)
    return text_take(joined + [""], np.where(codes < 0, len(joined), codes))


def _category_separator(checks: Checks, uniques: Sequence[str], counts: np.ndarray) -> str | None:
    separator = checks.mapping.category_separator
    if separator != "auto":
        if separator in bilingual.PAIR_SEPARATORS:  # asked for, unless it is inside labels
            separator, why = _bilingual_kept_whole(uniques, counts, separator, "", asked=True)
            if why:
                checks.notes.append(why.strip())
        checks.category_separator_used = _separator_name(separator)
        return separator
    choice, why = _bilingual_kept_whole(uniques, counts, *choose_separator(uniques, counts))
    checks.category_separator_used = _separator_name(choice)
    checks.notes.append(why)
    if choice is None and checks.mapping.category_split_on_space:
        if any(" " in u for u in uniques) and all(
            re.fullmatch(r"[a-z0-9_]+( [a-z0-9_]+)*", u) for u in uniques if u
        ):
            checks.notes.append(_("Category values are Kobo choice names: split on spaces."))
            checks.category_separator_used = "space (Kobo)"
            return " "
    return choice


SEPARATOR_CANDIDATES = (";", "|", ",")


def _separator_name(separator: str | None) -> str:
    return repr(separator) if separator else "none"


def _bilingual_kept_whole(
    uniques: Sequence[str], counts: np.ndarray, choice: str | None, why: str, asked: bool = False
) -> tuple[str | None, str]:
    """Never split a label inside itself where its two parts are one category in two
    languages (``Penurie d'eau | Water shortage``): see :mod:`crisismap.bilingual`."""
    if choice not in bilingual.PAIR_SEPARATORS:
        return choice, why
    declared = bilingual.display().declared
    if declared is not None and declared.separator == choice:
        shape: bilingual.Bilingual | None = declared
    else:
        shape = bilingual.detect(uniques, [choice])
    if shape is None:
        return choice, why
    others = tuple(c for c in SEPARATOR_CANDIDATES if c != choice)
    if not asked and any(c in u for c in others for u in uniques):
        choice, why = choose_separator(uniques, counts, candidates=others)
    else:
        choice, why = None, _("Category labels were not split.")
    kept = _(
        "Category labels hold one category in two languages around {separator!r} ({shape}): "
        "each label is kept whole."
    ).format(separator=shape.separator, shape=shape.describe())
    return choice, f"{kept} {why}"


def choose_separator(
    uniques: Sequence[str],
    counts: Sequence[int],
    candidates: Sequence[str] | None = None,
) -> tuple[str | None, str]:
    """The multi-label separator of a column, decided from the labels each candidate gives.

    Each separator present (``;``, ``|``, ``,``) splits every distinct value; a label held
    by one record only is a "one-off". The separator leaving clearly fewer one-off labels
    wins (``,`` over ``|`` in ``2b. Penurie d'eau | Water shortage, 2a. …``, where ``|``
    cuts labels inside themselves); when the evidence is thin (a few labels apart), the
    order ``;``, ``|``, ``,`` decides. Then no split is chosen when the separator's pieces
    never recur apart (no piece in two different values, no empty or repeated piece) while
    whole values holding it recur: the character is part of the labels. ``counts[i]`` is
    how many records hold ``uniques[i]``. Returns the separator (None: no split) and why.
    """
    present = [
        c
        for c in SEPARATOR_CANDIDATES
        if (candidates is None or c in candidates) and any(c in u for u in uniques)
    ]
    if not present:
        return None, _("Category labels were not split (no value holds ';', '|' or ',').")
    stats = {c: _split_stats(uniques, counts, c) for c in present}
    best = min(present, key=lambda c: (stats[c][0], stats[c][1], present.index(c)))
    default = present[0]
    gain = stats[default][0] - stats[best][0]
    if best != default and gain < max(_CLEAR_GAIN, 0.1 * stats[default][0]):
        best = default
        reason = _("the labels give no clear reason to prefer another separator")
    elif best != default:
        reason = _("it leaves clearly fewer labels held by one record only")
    else:
        reason = _("it leaves the fewest labels held by one record only")
    once, size, evidence, whole_repeats = stats[best]
    if evidence == 0 and whole_repeats >= _CLEAR_GAIN + 2:
        best = None
        reason = _(
            "no piece between the {separator!r} recurs apart from its value while "
            "{n:,} whole values recur, so the character is part of the labels"
        ).format(separator=present[0], n=whole_repeats)
    described = "; ".join(
        _("{separator!r}: {n:,} labels, {once:,} held by one record only").format(
            separator=c, n=n, once=o
        )
        for c, (o, n, _e, _w) in stats.items()
    )
    if best:
        said = _("Category labels were split on {separator!r}: {reason} ({described}).")
    else:
        said = _("Category labels were not split: {reason} ({described}).")
    return best, said.format(separator=best, reason=reason, described=described)


_CLEAR_GAIN = 3  # one-off labels fewer than this apart are no evidence either way


def _split_stats(
    uniques: Sequence[str], counts: Sequence[int], separator: str
) -> tuple[int, int, int, int]:
    """One-off labels, labels, evidence for splitting, and recurring values holding it.

    Evidence: pieces found in two different values, plus values with an empty or a
    repeated piece (a label does not start with its separator or repeat itself).
    """
    held: dict[str, int] = {}
    values_with: dict[str, int] = {}
    evidence = whole_repeats = 0
    for value, n in zip(uniques, counts, strict=True):
        if separator not in value:
            pieces = [value.strip()] if value.strip() else []
        else:
            pieces = [p.strip() for p in value.split(separator)]
            evidence += int("" in pieces or len(set(pieces)) < len(pieces))
            whole_repeats += int(n >= 2)
        for label in set(pieces) - {""}:
            held[label] = held.get(label, 0) + int(n)
            values_with[label] = values_with.get(label, 0) + 1
    once = sum(1 for n in held.values() if n == 1)
    evidence += sum(1 for n in values_with.values() if n >= 2)
    return once, len(held), evidence, whole_repeats


def check_text(checks: Checks, name: str) -> pd.Series:
    """A free-text field as written, blank values as missing."""
    column = checks.col(name)
    if column is None:
        return pd.Series(pd.array(pa.nulls(checks.n, pa.large_string()), dtype=TEXT))
    values = checks.values(column)
    empty = blank(values)
    return values.where(~empty) if empty.any() else values


# How approval / verification flags and post statuses read (lower case, trimmed).
FLAG_VALUES = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "approved", "verified", "published"), True),
    **dict.fromkeys(
        ("no", "n", "false", "f", "0", "unapproved", "unverified", "draft", "in review",
         "review", "pending", "archived"),
        False,
    ),
}  # fmt: skip
FLAG_FIELDS = ("approved", "verified")


def check_flags(checks: Checks) -> dict[str, pd.Series]:
    """``approved`` / ``verified`` as true/false (NA when blank or unreadable), when mapped.

    The report says how many records are not approved or not verified, so a user knows
    what the ``approved only`` / ``verified only`` filters leave out.
    """
    out: dict[str, pd.Series] = {}
    for name in FLAG_FIELDS:
        column = checks.col(name)
        if column is None:
            continue
        text = strip(checks.values(column)).str.lower()
        codes, uniques = pd.factorize(text)
        read = [FLAG_VALUES.get(str(u)) for u in uniques] + [None]
        values = pd.array([read[c] for c in codes], dtype="boolean")
        out[name] = pd.Series(values)
        no, unknown = int((values == False).sum()), int(values.isna().sum())  # noqa: E712
        if unknown:
            said = _(
                "{no:,} of {n:,} records are not {name} (column {column!r}); {unknown:,} have "
                "no readable value (counted as not {name} by the '{name} only' filter)."
            )
        else:
            said = _("{no:,} of {n:,} records are not {name} (column {column!r}).")
        checks.notes.append(
            said.format(no=no, n=checks.n, name=name, column=column, unknown=unknown)
        )
    return out


def check_stated(checks: Checks) -> dict[str, pd.Series]:
    """The admin names and codes the file states, kept as text for the join to compare."""
    out: dict[str, pd.Series] = {}
    for level in range(5):
        for kind, name_of in (("name", stated_name_column), ("code", stated_code_column)):
            column = checks.col(f"adm{level}_{kind}")
            if column is None:
                continue
            values = strip(checks.values(column))
            out[name_of(level)] = values.where(values != "")
    return out

"""Text → physical lines, and the header among them: where it starts (after blank lines
and Excel's ``sep=`` line), its delimiter, and unique column names.

Lines are split lazily: finding the header of a 100 MB file reads only its first megabyte.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from functools import cached_property

from crisismap.errors import InputError
from crisismap.i18n import _

DELIMITERS = (",", ";", "\t", "|")


class Lines:
    """Physical lines (LF, CRLF or CR ends) of the text, split into a list only when needed.

    The first lines (``head``) come from a small prefix, so finding the header of a
    100 MB file does not copy the whole text.
    """

    HEAD_CHARS = 1 << 20

    def __init__(self, text: str) -> None:
        self.text = text
        prefix = text[: self.HEAD_CHARS]
        head = list(io.StringIO(prefix, newline=""))
        self.complete = len(prefix) == len(text)
        if not self.complete and head:
            head.pop()  # may be cut short (or be the CR of a CRLF)
        self.head = head
        self.head_chars = sum(map(len, head))

    @cached_property
    def count(self) -> int:
        text = self.text
        ends_open = bool(text) and text[-1] not in "\r\n"
        cr = text.count("\r")
        return text.count("\n") + cr - (text.count("\r\n") if cr else 0) + ends_open

    @cached_property
    def all(self) -> list[str]:
        if self.complete:
            return self.head
        return self.head + list(io.StringIO(self.text[self.head_chars :], newline=""))

    def __getitem__(self, index: int) -> str:
        return self.head[index] if index < len(self.head) else self.all[index]

    def slice(self, start: int, stop: int) -> list[str]:
        return self.all[start:stop] if stop > len(self.head) else self.head[start:stop]

    def iter_from(self, start: int) -> Iterator[str]:
        # by index: islice would step over the first ``start`` lines on every call,
        # quadratic when a file has a broken quote on every line
        if "all" in self.__dict__ or start > len(self.head):
            lines = self.all
            return map(lines.__getitem__, range(start, len(lines)))
        head = self.head
        return itertools.chain(map(head.__getitem__, range(start, len(head))), self._tail())

    def _tail(self) -> Iterator[str]:
        if not self.complete:
            yield from io.StringIO(self.text[self.head_chars :], newline="")


def first_content_line(lines: list[str]) -> int | None:
    """Index of the first line that is not blank, or None."""
    for i, line in enumerate(lines):
        if line.strip():
            return i
    return None


def sep_line(
    lines: Lines, first: int, delimiter: str | None, notes: list[str]
) -> tuple[int, str | None]:
    """Honour Excel's ``sep=;`` first line."""
    match = re.fullmatch(r"sep=(.)", lines[first].rstrip("\r\n"))
    if not match:
        return first, delimiter
    notes.append(
        _("Line {line} ({strip!r}) names the delimiter; skipped.").format(
            line=first + 1, strip=lines[first].strip()
        )
    )
    nxt = first_content_line(lines.slice(first + 1, lines.count))
    if nxt is None:
        raise InputError(_("The file has a 'sep=' line but no header line after it."))
    return first + 1 + nxt, delimiter or match.group(1)


def detect_delimiter(header_line: str) -> str:
    """The most frequent candidate outside quotes in the header; comma on a tie or none."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties
    return best if counts[best] else ","


def unique_header(names: list[str], notes: list[str]) -> tuple[list[str], int]:
    """Strip names, name blanks ``column_N``, number repeats ``name.2``; count trailing blanks."""
    stripped = [n.strip() for n in names]
    trailing = len(stripped) - len(list(itertools.dropwhile(lambda n: not n, stripped[::-1])))
    result: list[str] = []
    seen: set[str] = set()
    blanks, repeats = [], []
    for i, name in enumerate(stripped):
        if not name:
            name = f"column_{i + 1}"
            blanks.append(i + 1)
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        if name != (stripped[i] or name):
            repeats.append(f"{stripped[i]!r} → {name!r}")
        seen.add(name)
        result.append(name)
    interior = [b for b in blanks if b <= len(stripped) - trailing]
    if interior:
        notes.append(
            _(
                "Header has blank column name(s) at position(s) {short}; named "
                "column_N after their position."
            ).format(short=_short(interior))
        )
    if repeats:
        notes.append(
            _("Repeated column names were made unique: {values}.").format(
                values=", ".join(repeats[:10])
            )
        )
    return result, trailing


def _short(items: list[int], limit: int = 10) -> str:
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f" … ({len(items)} in all)" if len(items) > limit else "")

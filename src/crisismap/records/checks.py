"""What every record check shares: the table being checked and the problems it flags.

A check flags a problem type for many rows at once (an :class:`Issue`: one code, one
column, the rows and their values); messages are rendered only for the problems the
report lists. Checks are independent of each other, so :meth:`Checks.run_all` runs them
on two threads on large tables and merges their findings back in a fixed order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crisismap import parallel
from crisismap.i18n import _
from crisismap.problems import ProblemType, localized
from crisismap.records.columns import take, value_at
from crisismap.schema import Severity

# Tables at least this long are checked on two threads (below, threads cost more than they save).
_PARALLEL_MIN_ROWS = 50_000


@dataclass
class Issue:
    """One check's findings: the same code for many rows, messages rendered lazily."""

    rows: np.ndarray
    code: str
    severity: Severity
    column: str | None
    template: str
    values: np.ndarray | pa.Array  # Arrow for text columns: no Python string per row
    extra: np.ndarray | pa.Array | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # the same for every row

    def message(self, k: int, template: str | None = None) -> str:
        """Row ``k``'s message in the current language (``template``: already localized,
        when rendering many rows)."""
        extra = value_at(self.extra, k) if self.extra is not None else ""
        template = localized(self.template) if template is None else template
        return template.format(value=value_at(self.values, k), extra=extra, **self.fields)

    def messages(self, a: int, b: int) -> list[str]:
        """The messages of rows ``a``..``b``, the template looked up once."""
        template = localized(self.template)
        return [self.message(k, template) for k in range(a, b)]


@dataclass
class Checks:
    """The raw table and its column mapping, and what the checks found so far."""

    raw: Any
    mapping: Any
    today: dt.date
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_order_used: str | None = None
    category_separator_used: str | None = None

    @property
    def n(self) -> int:
        return len(self.raw.frame)

    def run_all(self, *steps: Callable[[Checks], Any]) -> list[Any]:
        """Run independent checks, two at a time on large tables, as if one after another.

        Each check gets its own problem and note lists, merged back in the order the
        checks are given, so the report is the same whatever finishes first. Most of the
        work is in Arrow kernels, which release the GIL: two cores check in parallel.
        """
        parts = [replace(self, issues=[], notes=[]) for _ in steps]
        calls = [partial(step, part) for step, part in zip(steps, parts, strict=True)]
        results = parallel.run_all(calls, size=self.n, min_size=_PARALLEL_MIN_ROWS)
        for part in parts:
            self.issues.extend(part.issues)
            self.notes.extend(part.notes)
            self.date_order_used = part.date_order_used or self.date_order_used
            self.category_separator_used = (
                part.category_separator_used or self.category_separator_used
            )
        return results

    def col(self, name: str) -> str | None:
        column = self.mapping.column(name)
        return column if column in self.raw.frame.columns else None

    def values(self, column: str) -> pd.Series:
        return self.raw.frame[column]

    def flag(
        self,
        mask: np.ndarray,
        kind: ProblemType,
        column: str | None,
        values: pd.Series | np.ndarray | Callable[[], Any],
        extra: np.ndarray | None = None,
        *,
        variant: str | None = None,
        **fields: Any,
    ) -> None:
        """Record a problem of ``kind`` for every row where ``mask`` is true.

        Its message renders ``{value}`` (from ``values``), ``{extra}`` (from ``extra``)
        and ``fields``, the same for every row.
        """
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        self.issues.append(
            Issue(
                rows=rows,
                code=kind.code,
                severity=kind.severity,
                column=column,
                template=kind.template if variant is None else kind.variants[variant],
                values=take(values, rows),
                extra=None if extra is None else take(extra, rows),
                fields=fields,
            )
        )


def unmapped(name: str, columns: Sequence[str]) -> str:
    """Why a check cannot run: the mapping names no usable column for ``name``."""
    return _(
        "The mapping has no usable {name} column (it must name one of the file's columns: "
        "{columns}). Use presets.detect_mapping to build the mapping."
    ).format(name=name, columns=", ".join(map(repr, columns)))

"""Problems and the validation report (habits 3 and 4).

Each problem has a stable code, a location the user can find (file line and column),
the raw value and a message; the report keeps counts exact even when the list of
problems is capped, and says when the cap was reached.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crisismap.schema import Severity

DEFAULT_PROBLEM_LIMIT = 10_000


@dataclass(frozen=True)
class Problem:
    """One problem with one record (or with the file, when ``line`` is None)."""

    code: str
    severity: Severity
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    record_id: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "value": self.value,
            "record_id": self.record_id,
            "file": self.file,
        }


PROBLEM_FIELDS = ["file", "line", "column", "code", "severity", "message", "value", "record_id"]


@dataclass
class Report:
    """A capped list of problems plus exact counts of every code.

    ``records`` counts data records in the file; ``accepted + rejected == records``
    is the invariant every ingest path keeps.
    """

    records: int = 0
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    preset: str | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    date_order: str | None = None
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    limit: int = DEFAULT_PROBLEM_LIMIT
    notes: list[str] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Record a problem; past ``limit`` only its count is kept."""
        self.counts[(problem.code, problem.severity.value)] += 1
        if len(self.problems) < self.limit:
            self.problems.append(problem)

    @property
    def truncated(self) -> bool:
        return sum(self.counts.values()) > len(self.problems)

    @property
    def warnings(self) -> int:
        return sum(n for (_, sev), n in self.counts.items() if sev == Severity.WARNING.value)

    @property
    def errors(self) -> int:
        return sum(n for (_, sev), n in self.counts.items() if sev == Severity.ERROR.value)

    def flatten(self, fields: list[str] | None = None) -> list[list[Any]]:
        """Problems as plain lists, e.g. ``[[4, "date", "date-invalid"]]`` — handy in tests."""
        fields = fields or ["line", "column", "code"]
        return [[p.to_dict()[f] for f in fields] for p in self.problems]

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (what ``crisismap validate --json`` prints)."""
        return {
            "records": self.records,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warned": self.warned,
            "warnings": self.warnings,
            "errors": self.errors,
            "preset": self.preset,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "date_order": self.date_order,
            "problem_counts": [
                {"code": code, "severity": sev, "count": n}
                for (code, sev), n in sorted(self.counts.items())
            ],
            "problems_truncated": self.truncated,
            "notes": self.notes,
        }

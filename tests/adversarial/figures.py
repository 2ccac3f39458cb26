"""The figures each adversarial suite prints (and ``scripts/reliability.py`` collects).

A suite calls :func:`add` / :func:`put` while it runs; the conftest prints every suite's
figures in pytest's terminal summary and, when ``CRISISMAP_FIGURES_JSON`` names a file,
writes them there as JSON. ``CRISISMAP_RELIABILITY_SCALE`` (default 1) multiplies the
number of generated cases, so CI stays quick and the reliability script goes further.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

SCALE_ENV = "CRISISMAP_RELIABILITY_SCALE"
JSON_ENV = "CRISISMAP_FIGURES_JSON"

ACCESS = "access control"
FIGURES: dict[str, dict[str, Any]] = defaultdict(dict)
ORDER = [
    "malformed CSVs",
    "script injection",
    "spreadsheet formulas",
    "hostile uploads",
    "concurrency and crashes",
    "session isolation",
    ACCESS,
    "masked points",
]


def scale() -> float:
    """How many times the CI case counts to run (``CRISISMAP_RELIABILITY_SCALE``)."""
    try:
        return max(float(os.environ.get(SCALE_ENV, "1")), 0.1)
    except ValueError:
        return 1.0


def scaled(n: int) -> int:
    return max(1, round(n * scale()))


def add(suite: str, name: str, n: int = 1) -> None:
    """Add ``n`` to a counted figure (files tried, crashes...)."""
    FIGURES[suite][name] = FIGURES[suite].get(name, 0) + n


def put(suite: str, name: str, value: Any) -> None:
    """Set a figure (a bound, a list of cases...)."""
    FIGURES[suite][name] = value


def ordered() -> list[tuple[str, dict[str, Any]]]:
    names = [s for s in ORDER if s in FIGURES] + sorted(s for s in FIGURES if s not in ORDER)
    return [(s, dict(FIGURES[s])) for s in names]

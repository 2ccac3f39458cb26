"""The attacker of the suppression tests: what a reader can recover from published figures.

It sees only what a reader sees (the published cells and totals) and knows the rules:
totals add up, counts are never negative, a suppressed count is at least 1. Shared by
tests/test_publish.py (the tables) and tests/test_bundle.py (the report bundle's tables).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from crisismap import publish

DIMS = ["region_code", "period", "category"]


class Attacker:
    """Recovers what it can from published cells and totals (and nothing else)."""

    def __init__(self, protected: publish.Protected, column: str = "incidents") -> None:
        self.names: list[tuple] = []  # every published figure: ("cell"|spec, labels)
        self.known: dict[int, float] = {}
        self.equations: list[tuple[int, list[int]]] = []  # total index, its cell indices
        cells = protected.cells.reset_index(drop=True)
        index = {}
        for _, row in cells.iterrows():
            key = tuple(str(row[d]) for d in DIMS)
            index[key] = self._add(("cell", key), row[column], row["suppressed"])
        for spec, frame in protected.margins.items():
            positions = [DIMS.index(d) for d in spec]
            for _, row in frame.iterrows():
                labels = tuple(str(row[d]) for d in spec)
                total = self._add((spec, labels), row[column], row["suppressed"])
                members = [
                    i for key, i in index.items() if tuple(key[p] for p in positions) == labels
                ]
                self.equations.append((total, members))
        self.unknown = [i for i in range(len(self.names)) if i not in self.known]

    def _add(self, name: tuple, value, hidden: bool) -> int:
        self.names.append(name)
        i = len(self.names) - 1
        if not hidden:
            assert not pd.isna(value), f"published figure {name} is blank"
            self.known[i] = float(value)
        else:
            assert pd.isna(value), f"suppressed figure {name} is shown as {value}"
        return i

    def by_subtraction(self) -> dict[int, float]:
        """cell = total − known cells (or total = sum), iterated to a fixed point."""
        known = dict(self.known)
        changed = True
        while changed:
            changed = False
            for total, members in self.equations:
                figures = [total, *members]
                missing = [f for f in figures if f not in known]
                if len(missing) != 1:
                    continue
                (f,) = missing
                rest = sum(known[m] for m in members if m in known)
                known[f] = rest if f == total else known[total] - rest
                changed = True
        return {f: v for f, v in known.items() if f not in self.known}

    def matrix(self) -> np.ndarray:
        a = np.zeros((len(self.equations), len(self.names)))
        for row, (total, members) in enumerate(self.equations):
            a[row, total] = 1
            a[row, members] = -1
        return a

    def by_linear_algebra(self) -> set[int]:
        """Unknowns fixed by any linear combination of the equations (rank test)."""
        a = self.matrix()[:, self.unknown]
        if a.size == 0:
            return set()
        full = np.linalg.matrix_rank(a)
        return {
            u
            for j, u in enumerate(self.unknown)
            if np.linalg.matrix_rank(np.delete(a, j, axis=1)) < full
        }

    def by_intervals(self, lower: float = 1.0) -> dict[int, float]:
        """Min and max of each unknown over whole-number solutions (all >= ``lower``);
        pinned when they meet."""
        a = self.matrix()
        known_idx = sorted(self.known)
        rhs = -a[:, known_idx] @ np.array([self.known[i] for i in known_idx])
        a_u = a[:, self.unknown]
        keep = np.abs(a_u).sum(axis=1) > 0
        a_u, rhs = a_u[keep], rhs[keep]
        n = len(self.unknown)
        out = {}
        for j, u in enumerate(self.unknown):
            c = np.zeros(n)
            c[j] = 1
            ends = []
            for sign in (1, -1):
                res = milp(
                    sign * c,
                    integrality=np.ones(n),
                    bounds=Bounds(np.full(n, lower), np.full(n, np.inf)),
                    constraints=LinearConstraint(a_u, rhs, rhs) if len(rhs) else (),
                )
                # the truth is feasible, so "unbounded or infeasible" means unbounded above
                assert res.status == 0 or (sign < 0 and res.status in (3, 4)), res.message
                ends.append(res.fun * sign if res.status == 0 else math.inf)
            low, high = ends
            if high < math.inf and round(high) == round(low):
                out[u] = low
        return out

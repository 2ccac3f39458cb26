"""Small-cell suppression: no published count small enough to single anyone out.

Victims and witnesses are in these records. What leaves in a *public* export must not let
a reader single anyone out, and must say exactly how it was protected.

Every published figure (region × period × category cells *and* every published total)
with ``0 < incidents < k`` is suppressed (primary), then further figures are suppressed
(complementary) until no suppressed figure can be recovered from the published ones.
Zeros are published: a zero singles nobody out, and hiding every zero would hide most of
the table. The attacker we defend against knows every published figure, how totals add
up, that counts are never negative, whole numbers, and that a suppressed count is at
least 1 (zeros being published). A figure counts as recovered when those facts leave it
one possible value: "cell = total − known cells" reasoning (iterated, or in any linear
combination) and interval reasoning over whole numbers (integer programs, HiGHS via
SciPy) find exactly those, and the protection is checked with such programs. Victims of
a suppressed cell are suppressed with it and protected the same way (a victims figure
pinned at zero is not a disclosure: a published total of zero already says so).

Location masking, column allow-lists and the labels of exports are its siblings in
this package. This module works on frames only: it imports no other step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_K = 5
CELL_DIMS = ("region_code", "period", "category")
# The totals published beside the cells: per region (map, table), per period and
# category (the chart), per period, per category, and the grand total.
DEFAULT_MARGINS: tuple[tuple[str, ...], ...] = (
    ("region_code",),
    ("period", "category"),
    ("period",),
    ("category",),
    (),
)
# Descriptive columns that depend only on one dimension and travel with its totals.
DIM_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "region_code": ("region_name", "parent_code"),
    "period": ("period_start", "period_end"),
}
SUPPRESSED = "suppressed"

TOTAL_COST_FACTOR = 10.0  # suppressing a total costs this many times a cell of the same value
MANY_LEFT = 50  # above this many figures to check one by one, one rank test first
MAX_BATCH_SOLVES = 60  # programs that move many figures at once, while they free some
_MOVED = 1e-6  # a continuous figure that changed by more than this has moved


@dataclass
class Protected:
    """The outcome of :func:`suppress`: what may be published, and how it was decided.

    ``cells`` is the input with ``count`` and ``carry`` columns blanked (NA) where
    suppressed and a boolean ``suppressed`` column; ``margins`` holds one frame per
    published total (keyed by the dimensions it keeps, ``()`` = grand total) in the same
    form. ``settings`` is JSON-ready, for manifests and methodology notes.
    """

    cells: pd.DataFrame
    margins: dict[tuple[str, ...], pd.DataFrame]
    settings: dict[str, Any]

    def margin(self, *dims: str) -> pd.DataFrame:
        return self.margins[tuple(dims)]


def suppress(
    cells: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    dims: Sequence[str] = CELL_DIMS,
    count: str = "incidents",
    carry: Sequence[str] = ("victims",),
    margins: Sequence[Sequence[str]] = DEFAULT_MARGINS,
) -> Protected:
    """Suppress small counts in ``cells`` and in its totals so that none can be recovered.

    Parameters
    ----------
    cells
        One row per cell (``dims`` unique), e.g. :func:`crisismap.pipeline.summarize`.
        Missing cells count as published zeros.
    k
        Figures with ``0 < count < k`` are suppressed; ``k <= 1`` suppresses nothing
        (internal exports use the same tables, unprotected).
    margins
        The totals that will be published (each a tuple of the dimensions it keeps).
        Every published total must be listed: a total left out here and published
        anyway can reveal a suppressed cell.

    Complements: while some suppressed figure is pinned, the cheapest set of published
    figures whose suppression lets it move is found by a linear program (cost: the
    figure's value + 1, totals ten times a cell, zeros last, ties broken by key), so
    small cells go before large ones and cells before totals. Deterministic: the same
    table gives the same pattern.
    """
    dims = list(dims)
    _check_cells(cells, dims, count, carry)
    table = _Table.build(cells, dims, count, list(carry), [tuple(m) for m in margins])
    suppressed = (table.values > 0) & (table.values < k)
    primary = int(suppressed.sum())
    _complete(table, suppressed)
    settings = {
        "method": "small-cell suppression with complementary suppression",
        "k": int(k),
        "rule": f"a figure is suppressed when 0 < {count} < {k}",
        "zeros": "published",
        "applies_to": [count, *carry],
        "totals_published": [list(m) if m else ["grand total"] for m in table.specs],
        "figures": int(len(table.values)),
        "suppressed_figures": int(suppressed.sum()),
        "primary": primary,
        "complementary": int(suppressed.sum()) - primary,
        "protection": (
            "no suppressed figure has a single value consistent with the published "
            "figures, the totals, non-negative counts and suppressed counts of at least 1"
        ),
    }
    if k <= 1:
        settings = {"method": "none", "k": int(k)}
    return Protected(*table.frames(cells, suppressed), settings)


def _complete(table: _Table, suppressed: np.ndarray) -> None:
    """Add complementary suppressions (in place) until no suppressed figure is pinned.

    Each round finds the pinned figures, then gives each its cheapest complement; a
    figure sharing an equation with a complement of the same round is checked again
    first (that complement often freed it). Adding suppressions never pins a free
    figure, so figures shown free are not checked again.
    """
    free = [np.zeros(len(table.values), bool) for _ in table.columns()]
    while suppressed.any():
        exposed = table.exposed(suppressed, free)
        if not exposed:
            return
        columns = table.columns()
        touched = np.zeros(table.constraints.shape[0], bool)
        before = int(suppressed.sum())
        for figure, number in exposed:
            near = touched[table.equations_of([figure])].any()
            if near and not table.still_pinned(figure, columns[number], suppressed):
                continue
            added = table.complement(figure, columns[number], suppressed)
            suppressed[added] = True  # none when this round's complements already freed it
            touched[table.equations_of([figure, *added])] = True
        if int(suppressed.sum()) == before:  # the checks disagree: never publish on a guess
            raise RuntimeError("Small-cell suppression found no complement: please report this.")


def _check_cells(cells: pd.DataFrame, dims: list[str], count: str, carry: Sequence[str]) -> None:
    missing = [c for c in [*dims, count, *carry] if c not in cells]
    if missing:
        raise ValueError(
            f"Cells table lacks column(s) {', '.join(missing)}: expected the output of "
            "pipeline.summarize (region_code, period, category, incidents, victims)."
        )
    if cells.duplicated(dims).any():
        raise ValueError(f"Cells table has duplicate rows for {', '.join(dims)}.")
    values = pd.to_numeric(cells[count], errors="coerce")
    if values.isna().any() or (values < 0).any() or not (values == values.round()).all():
        raise ValueError(f"Column {count!r} must hold non-negative whole numbers.")


@dataclass
class _Table:
    """Cells and totals as one vector of figures plus the sums that tie them together.

    Figures ``0..n_cells-1`` are the cells; then one figure per total. Each total ``t``
    gives one constraint ``t - sum(its cells) = 0`` (sums between totals follow).
    """

    keys: list[tuple[Any, ...]]  # per figure: (total number, *dimension labels) for ties
    values: np.ndarray  # per figure: count
    carried: list[np.ndarray]  # per carried column: per figure
    n_cells: int
    specs: list[tuple[str, ...]]
    groups: list[np.ndarray]  # per spec: total index of every cell
    offsets: list[int]  # per spec: first total figure
    labels: list[pd.DataFrame]  # per spec: its dimension labels, one row per total
    count: str
    carry: list[str]

    @classmethod
    def build(
        cls,
        cells: pd.DataFrame,
        dims: list[str],
        count: str,
        carry: list[str],
        specs: list[tuple[str, ...]],
    ) -> _Table:

        for spec in specs:
            if not set(spec) <= set(dims):
                raise ValueError(f"Total over {spec} uses dimensions not in {dims}.")
        n = len(cells)
        codes = {d: pd.factorize(cells[d].astype("str"), sort=False)[0] for d in dims}
        cell_values = cells[count].to_numpy(dtype=np.int64)
        cell_carried = [pd.to_numeric(cells[c]).fillna(0).to_numpy(float) for c in carry]
        keys = [(0, *row) for row in cells[dims].astype("str").itertuples(index=False)]
        values, carried = [cell_values], [[v] for v in cell_carried]
        groups, offsets, labels = [], [], []
        offset = n
        for number, spec in enumerate(specs, start=1):
            if spec:
                stacked = np.stack([codes[d] for d in spec], axis=1)
                uniq, group = np.unique(stacked, axis=0, return_inverse=True)
                first = np.unique(group.ravel(), return_index=True)[1]
                label = cells.iloc[first][list(spec)].reset_index(drop=True)
            else:
                group = np.zeros(n, np.int64)
                label = pd.DataFrame(index=[0])
            group = group.ravel().astype(np.int64)
            n_totals = len(label)
            groups.append(group)
            offsets.append(offset)
            labels.append(label)
            values.append(np.bincount(group, weights=cell_values, minlength=n_totals).astype(int))
            for out, v in zip(carried, cell_carried, strict=True):
                out.append(np.bincount(group, weights=v, minlength=n_totals))
            keys += [(number, *row) for row in label.astype("str").itertuples(index=False)]
            offset += n_totals
        return cls(
            keys=keys,
            values=np.concatenate(values).astype(np.int64),
            carried=[np.concatenate(c) for c in carried],
            n_cells=n,
            specs=specs,
            groups=groups,
            offsets=offsets,
            labels=labels,
            count=count,
            carry=carry,
        )

    # --- the attack ---------------------------------------------------------------------

    @cached_property
    def constraints(self) -> Any:
        """(n_totals x n_figures): row t is ``total_t - sum(its parts) = 0``.

        A total's parts are the totals of the next finer published breakdown when there
        is one (grand total = sum of category totals; category total = sum over periods
        of period × category totals), else the cells. The same solutions as summing
        cells everywhere, but each equation stays short, which keeps checks local.
        """
        from scipy import sparse

        n = self.n_cells
        rows, cols, vals = [], [], []
        for i, spec in enumerate(self.specs):
            base, n_tot = self.offsets[i] - n, len(self.labels[i])
            rows.append(base + np.arange(n_tot))
            cols.append(self.offsets[i] + np.arange(n_tot))
            vals.append(np.ones(n_tot))
            finer = [j for j, other in enumerate(self.specs) if set(other) > set(spec)]
            if finer:
                parent = min(finer, key=lambda j: (len(self.labels[j]), j))
                pairs = np.unique(np.stack([self.groups[parent], self.groups[i]]), axis=1)
                rows.append(base + pairs[1])
                cols.append(self.offsets[parent] + pairs[0])
                vals.append(-np.ones(pairs.shape[1]))
            else:
                rows.append(base + self.groups[i])
                cols.append(np.arange(n))
                vals.append(-np.ones(n))
        n_totals = len(self.values) - n
        return sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_totals, len(self.values)),
        )

    def columns(self) -> list[_Column]:
        """The protected figures: the count, then each carried column (victims).

        A suppressed count is at least 1 (zeros are published); victims at least 0.
        Counts are whole numbers; victims are treated as whole when they all are.
        """
        out = [_Column(self.values.astype(float), np.minimum(self.values, 1.0), True)]
        for values in self.carried:
            whole = bool(np.all(values == np.round(values)))
            out.append(_Column(values, np.zeros(len(values)), whole))
        return out

    def exposed(
        self, suppressed: np.ndarray, free: list[np.ndarray] | None = None
    ) -> list[tuple[int, int]]:
        """(figure, column) for each non-zero suppressed figure pinned to one value.

        ``free`` (per column, per figure) remembers figures shown to move; it is updated.
        """
        unknown = np.flatnonzero(suppressed)
        out = []
        for number, column in enumerate(self.columns()):
            known = free[number][unknown] if free is not None else None
            stuck = pinned(self.constraints, unknown, column, known)
            if free is not None:
                free[number][unknown[~stuck]] = True
            stuck &= column.values[unknown] > 0
            out += [(int(f), number) for f in unknown[stuck]]
        return sorted(out, key=lambda fc: (self.keys[fc[0]], fc[1]))

    # --- the defence --------------------------------------------------------------------

    def weights(self) -> np.ndarray:
        """Cost of suppressing each figure: cells before totals, non-zero before zero,
        smaller before larger, ties by key (a tiny rank term keeps the optimum unique)."""
        n = len(self.values)
        weights = self.values.astype(float) + 1.0
        weights[self.n_cells :] *= TOTAL_COST_FACTOR
        weights[self.values == 0] = TOTAL_COST_FACTOR * (weights.sum() + 1.0)
        order = sorted(range(n), key=lambda i: self.keys[i])
        rank = np.empty(n)
        rank[order] = np.arange(n)
        return weights + rank / (n + 1) * 1e-3

    def still_pinned(self, figure: int, column: _Column, suppressed: np.ndarray) -> bool:
        """Whether ``figure`` still has a single feasible value."""
        unknown = np.flatnonzero(suppressed)
        matrix = self.constraints[:, unknown]
        matrix = matrix[np.flatnonzero(matrix.getnnz(axis=1) > 0)]
        return not _can_move(matrix, column.take(unknown), int(np.searchsorted(unknown, figure)))

    def equations_of(self, figures: list[int]) -> np.ndarray:
        """Rows of the equations that involve any of ``figures``."""
        return np.unique(self.by_figure[:, figures].indices)

    @cached_property
    def by_figure(self) -> Any:
        return self.constraints.tocsc()

    def complement(self, figure: int, column: _Column, suppressed: np.ndarray) -> list[int]:
        """The cheapest published figures whose suppression lets ``figure`` take another
        value: a (mixed-integer) program over changes ``d`` with ``constraints @ d == 0``,
        ``d[figure] == 1``, every figure staying at or above its lower bound, paying
        ``weight * |d|`` on published figures."""
        from scipy import sparse

        matrix = self.constraints
        unknown = np.flatnonzero(suppressed)
        published = np.flatnonzero(~suppressed)
        n_u, n_p = len(unknown), len(published)
        a_eq = sparse.hstack([matrix[:, unknown], matrix[:, published], -matrix[:, published]])
        weights = self.weights()[published]
        cost = np.concatenate([np.zeros(n_u), weights, weights])
        room = column.values - column.lower  # how far each figure can go down
        lower = np.concatenate([-room[unknown], np.zeros(2 * n_p)])
        upper = np.concatenate([np.full(n_u + n_p, np.inf), room[published]])
        j = int(np.searchsorted(unknown, figure))
        lower[j] = upper[j] = 1.0
        x = _solve(cost, a_eq, lower, upper, column.integer)
        if x is None:
            raise RuntimeError("Small-cell suppression found no way to protect a figure.")
        moved = x[n_u : n_u + n_p] + x[n_u + n_p :]
        return published[moved > 1e-7].tolist()

    # --- output -------------------------------------------------------------------------

    def frames(
        self, cells: pd.DataFrame, suppressed: np.ndarray
    ) -> tuple[pd.DataFrame, dict[tuple[str, ...], pd.DataFrame]]:
        count_col, carry_cols = self.count, self.carry
        out = cells.copy()
        hide = suppressed[: self.n_cells]
        out[count_col] = pd.array(
            np.where(hide, 0, self.values[: self.n_cells]), dtype="Int64"
        ).copy()
        out.loc[hide, count_col] = pd.NA
        for name, values in zip(carry_cols, self.carried, strict=True):
            out[name] = np.where(hide, np.nan, values[: self.n_cells])
        out[SUPPRESSED] = hide
        margins = {}
        for spec, offset, label, group in zip(
            self.specs, self.offsets, self.labels, self.groups, strict=True
        ):
            sl = slice(offset, offset + len(label))
            frame = label.copy()
            for dim in spec:
                for attr in DIM_ATTRIBUTES.get(dim, ()):
                    if attr in cells:
                        first = np.unique(group, return_index=True)[1]
                        frame[attr] = cells[attr].iloc[first].to_numpy()
            hidden = suppressed[sl]
            frame[count_col] = pd.array(np.where(hidden, 0, self.values[sl]), dtype="Int64")
            frame.loc[hidden, count_col] = pd.NA
            for name, values in zip(carry_cols, self.carried, strict=True):
                frame[name] = np.where(hidden, np.nan, values[sl])
            frame[SUPPRESSED] = hidden
            margins[spec] = frame
        return out, margins


@dataclass
class _Column:
    """One protected column: every figure's true value and the lower bound a reader
    knows for it, and whether its values are whole numbers."""

    values: np.ndarray
    lower: np.ndarray
    integer: bool

    def take(self, index: np.ndarray) -> _Column:
        return _Column(self.values[index], self.lower[index], self.integer)


def pinned(
    constraints: Any, unknown: np.ndarray, column: _Column, known_free: np.ndarray | None = None
) -> np.ndarray:
    """Which ``unknown`` figures have a single value consistent with what is published.

    The reader knows the published figures, that ``constraints @ figures == 0`` (totals
    add up), each figure's lower bound, and (for whole-number columns) that figures are
    whole. A suppressed figure is safe iff another solution gives it another value.
    Programs maximising a mixed-sign objective find solutions that move many figures at
    once; each figure left over gets its own up and down feasibility programs.
    Independent groups of unknowns are solved apart. ``known_free`` (per unknown) skips
    figures already shown to move: adding suppressions never pins a free figure.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    n = len(unknown)
    result = np.ones(n, bool)
    if n == 0:
        return result
    sub = sparse.csr_matrix(constraints)[:, unknown]
    sub = sub[np.flatnonzero(sub.getnnz(axis=1) > 0)]
    if sub.shape[0] == 0:
        return np.zeros(n, bool)
    m = sub.shape[0]
    graph = sparse.bmat([[None, sub], [sub.T, None]], format="csr")
    _, label = connected_components(graph, directed=False)
    row_label, col_label = label[:m], label[m:]
    values = column.take(unknown)
    for comp in np.unique(col_label):
        cols = np.flatnonzero(col_label == comp)
        rows = np.flatnonzero(row_label == comp)
        if len(rows) == 0:
            result[cols] = False
            continue
        done = known_free[cols] if known_free is not None else np.zeros(len(cols), bool)
        result[cols] = _pinned_component(sub[rows][:, cols], values.take(cols), done)
    return result


def _pinned_component(matrix: Any, column: _Column, free: np.ndarray) -> np.ndarray:
    """Pinned figures of one group (``free``: figures already known to move).

    1. Programs with a mixed-sign objective over the figures not yet shown free move
       many at once, until they stop freeing any.
    2. The figures left at their lower bound can only rise: one program maximising their
       sum frees some, or proves that none of them can move.
    3. Each figure left gets an up and a down feasibility program.
    """
    free = free.copy()
    n = matrix.shape[1]
    at_bound = column.values <= column.lower
    rng = np.random.default_rng(0)
    for _ in range(MAX_BATCH_SOLVES):
        if free.all():
            break
        signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        signs[at_bound] = 1.0  # at the bound: can only go up
        newly = _moved(_alternative(matrix, column, np.where(free, 0.0, signs)), column) & ~free
        free |= newly
        if not newly.any():
            break
    while (~free & at_bound).any():
        newly = _moved(_alternative(matrix, column, (~free & at_bound) * 1.0), column) & ~free
        if not newly.any():
            break  # the maximum of their sum is the true sum: none of them can move
        free |= newly
    left = ~free & ~at_bound
    if left.sum() > MANY_LEFT:
        left &= ~_determined(matrix)  # fixed by the equations alone: pinned, no program
    for j in np.flatnonzero(left):
        if not free[j]:
            _can_move(matrix, column, j, free)
    return ~free


def _determined(matrix: Any) -> np.ndarray:
    """Figures that the equations alone fix (their unit vector lies in the row space)."""
    dense = matrix.toarray()
    _, singular, vt = np.linalg.svd(dense, full_matrices=False)
    rank = int((singular > singular.max(initial=0.0) * max(dense.shape) * 1e-12).sum())
    return (vt[:rank] ** 2).sum(axis=0) > 1 - 1e-9


def _can_move(matrix: Any, column: _Column, j: int, free: np.ndarray | None = None) -> bool:
    """Whether figure ``j`` has another feasible value (marks the figures that moved)."""
    step = 1.0 if column.integer else _MOVED * 10
    for sign in (1.0, -1.0):
        if sign < 0 and column.values[j] - step < column.lower[j] - 1e-9:
            continue
        objective = np.zeros(matrix.shape[1])
        objective[j] = sign
        x = _alternative(matrix, column, objective)
        if x is not None and _moved(x, column)[j]:
            if free is not None:
                free |= _moved(x, column)
                free[j] = True
            return True
    return False


def _moved(x: np.ndarray | None, column: _Column) -> np.ndarray:
    if x is None:
        return np.zeros(len(column.values), bool)
    return np.abs(x - column.values) > (0.5 if column.integer else _MOVED)


def _alternative(matrix: Any, column: _Column, objective: np.ndarray) -> np.ndarray | None:
    """A solution with the same published figures maximising ``objective`` (in a box).

    ``matrix`` holds the equations restricted to these unknowns; figures left out are
    fixed at their true values, so the right-hand side is ``matrix @ values``.
    """
    span = max(10.0, 2.0 * float(np.abs(column.values).max(initial=0.0)))
    upper = column.values + span
    b_eq = matrix @ column.values
    return _solve(-objective, matrix, column.lower, upper, column.integer, b_eq)


def _solve(
    cost: np.ndarray,
    matrix: Any,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: bool,
    b_eq: np.ndarray | None = None,
) -> np.ndarray | None:
    """min ``cost @ x`` s.t. ``matrix @ x == b_eq`` (0), bounds; whole x when ``integer``."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    rhs = np.zeros(matrix.shape[0]) if b_eq is None else b_eq
    res = milp(
        cost,
        integrality=np.full(len(cost), 1 if integer else 0),
        bounds=Bounds(lower, upper),
        constraints=LinearConstraint(matrix, rhs, rhs),
    )
    if res.status == 0:
        return res.x
    if res.status == 2:  # infeasible
        return None
    raise RuntimeError(f"Small-cell suppression check failed: {res.message}")

"""The publication grid: no hidden small figure is pinned by all published figures together.

The check is the attacker's own: every published node of the whole lattice (all region
levels × all periods × each label and all labels, zeros included) as an equation over
the unknown base counts, counts whole and non-negative; for each hidden figure with
1..k-1 incidents an integer program finds its least and greatest possible value.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from crisismap.publish.grid import Axis, Grid


def _dataset(seed: int, n: int, *, weeks: bool = True, days: int = 200) -> tuple[Axis, Axis, Axis]:
    rng = np.random.default_rng(seed)
    # two countries with three regions each (nested), and a few records located only
    # at country level (their admin-1 part is "not attributable", shared by both)
    country = rng.integers(0, 2, n)
    region = np.where(rng.random(n) < 0.1, 6, country * 3 + rng.integers(0, 3, n))
    day = rng.integers(0, days, n)  # about seven months by default
    month = day // 30
    quarter = month // 3
    year = np.zeros(n, np.int64)
    week = (day + 3) // 7  # weeks cross month ends
    r_axis = Axis(
        "region",
        ("adm0", "adm1"),
        np.column_stack([country, region]),
        (("A", "B"), tuple(f"r{i}" for i in range(6)) + ("imprecise",)),
    )
    columns = [year, quarter, month] + ([week] if weeks else [])
    names = ("year", "quarter", "month") + (("week",) if weeks else ())
    if weeks:  # the pieces weeks and months cut each other into, never published
        _, piece = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
        columns.append(piece.reshape(-1))
        names = (*names, "pieces")
    t_axis = Axis(
        "time",
        names,
        np.column_stack(columns),
        tuple(tuple(str(i) for i in range(int(c.max()) + 1)) for c in columns),
        structural=1 if weeks else 0,
    )
    label = rng.integers(0, 3, n)
    c_axis = Axis("category", ("category",), label.reshape(-1, 1), (("a", "b", "c"),))
    return r_axis, t_axis, c_axis


def _attack(grid: Grid) -> tuple[int, list[tuple[int, int, int]]]:
    """Least and greatest value of each hidden small figure given every published one."""
    r_up, t_up, c_up = (i.up for i in grid.index)
    cells = list(product(range(len(r_up)), range(len(t_up)), range(len(c_up))))
    truth = np.array([grid._count.get(cell, 0) for cell in cells], dtype=float)
    nodes: dict[int, list[int]] = {}
    for j, (r, t, c) in enumerate(cells):
        for ci, (ri, ti, cc) in enumerate(grid.combos):
            key = (
                (ci << 56)
                | (int(r_up[r, ri]) << 36)
                | (int(t_up[t, ti]) << 20)
                | (int(c_up[c, 1]) if cc else 0)
            )
            nodes.setdefault(key, []).append(j)
    publishable = {i for i, combo in enumerate(grid.combos) if grid.publishable(combo)}
    published = [key for key in nodes if key not in grid.hidden and (key >> 56) in publishable]
    matrix = lil_matrix((len(published), len(cells)))
    for i, key in enumerate(published):
        matrix[i, nodes[key]] = 1
    rhs = matrix.tocsr() @ truth
    constraint = LinearConstraint(matrix.tocsr(), rhs, rhs)
    small = [key for key in grid.hidden if 0 < grid.values.get(key, 0) < grid.k and key in nodes]
    results = []
    for key in small:
        objective = np.zeros(len(cells))
        objective[nodes[key]] = 1
        bounds = []
        for sign in (1, -1):
            res = milp(
                sign * objective,
                constraints=[constraint],
                integrality=np.ones(len(cells)),
                bounds=Bounds(0, np.inf),
            )
            assert res.status == 0, res.message
            bounds.append(round(sign * res.fun))
        results.append((grid.values[key], bounds[0], bounds[1]))
    return len(small), results


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_no_hidden_small_figure_is_pinned_by_the_whole_lattice(seed: int) -> None:
    grid = Grid.build(*_dataset(seed, 60, weeks=False), k=5)
    grid.release(grid.combos)
    tried, results = _attack(grid)
    assert tried > 5  # the data has small figures to protect
    pinned = [(v, lo, hi) for v, lo, hi in results if lo == hi]
    assert pinned == []
    assert all(lo <= v <= hi for v, lo, hi in results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3])
def test_weeks_and_months_together_pin_nothing(seed: int) -> None:
    grid = Grid.build(*_dataset(seed, 50, weeks=True, days=110), k=4)
    grid.release(grid.combos)
    tried, results = _attack(grid)
    assert tried > 5
    assert [r for r in results if r[1] == r[2]] == []


def test_every_small_figure_is_hidden_and_large_totals_stay() -> None:
    grid = Grid.build(*_dataset(5, 400, weeks=False), k=5)
    grid.release(grid.combos)
    for key, value in grid.values.items():
        if 0 < value < 5:
            assert key in grid.hidden
    root = grid.node(None, None, None)
    assert root not in grid.hidden and grid.values[root] == 400
    # the period totals of all regions are large here and must all be published
    for month in grid.axes[1].labels[2]:
        key = grid.node(None, ("month", month), None)
        if key is not None and grid.values.get(key, 0) >= 5:
            assert key not in grid.hidden, month


def test_release_is_deterministic_and_idempotent() -> None:
    axes = _dataset(6, 150)
    one, two = Grid.build(*axes, k=5), Grid.build(*axes, k=5)
    one.release(one.combos)
    two.release(two.combos)
    assert one.hidden == two.hidden
    before = set(one.hidden)
    assert one.release(one.combos) == 0
    assert one.hidden == before


def test_a_restored_ledger_state_gives_the_same_pattern() -> None:
    axes = _dataset(7, 120)
    first = Grid.build(*axes, k=5)
    first.release(first.combos)
    again = Grid.build(*axes, k=5)
    again.restore(first.state())
    assert again.hidden == first.hidden and again.published == first.published
    with pytest.raises(ValueError, match="own k"):
        Grid.build(*axes, k=3).restore(first.state())


def test_k_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="k >= 2"):
        Grid.build(*_dataset(0, 10), k=1)

"""The attacker of many public releases: what a reader pins by combining exports.

Issue 12: one public export at a time is protected, but exports with cumulative or
overlapping date windows, month against quarter against year, admin-1 against admin-2, a
category against all categories, or different k, can be subtracted from each other.

The attacker sees only the published figures of every export (a hidden figure is blank)
and knows the counting rules (a record counts in a window when its whole date range is
inside it, in a period when its whole range is in that period, otherwise in the
"date not attributable" row; totals are sums of cells; each record has one category),
that counts are whole and never negative, and that a hidden figure is at least 1 (as long
as every export's settings say zeros are published).

Its unknowns are the counts of *record types*: finest region × category × (first day's
segment, last day's segment), where the segments cut the time line at every period
boundary and window end of every export. Every published figure is a sum of type counts,
so the true data are one feasible point; types no figure tells apart are merged into
atoms. For each small true figure (1..k−1) the attacker finds its value by differencing
(the target is a linear combination of published figures) and its minimum and maximum
over all whole-number solutions (HiGHS integer programs via SciPy, restricted to the
target's region family: figures that mix in other families are left out, which can only
make the attacker weaker). The harness itself knows the true records: only to count the
truth of each type, to check that the model reproduces every published figure, and to
score the guesses.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from crisismap.aggregate.periods import day_number, ordinals
from crisismap.schema import IMPRECISE_CODE, IMPRECISE_PERIOD, OUTSIDE_CODE, Period

NOT_IN_WINDOW = -(2**62)  # a type's period slot in an export whose window leaves it out
NO_ONE_PERIOD = -(2**62) + 1  # the type's date range crosses a period boundary
SOLVE_SECONDS = 20.0
VERBOSE = os.environ.get("CRISISMAP_ATTACK_VERBOSE") == "1"


@dataclass(frozen=True)
class Export:
    """One public export a publisher might make (the CLI's or the library's options)."""

    level: int
    period: Period
    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] | None = None
    k: int = 5
    by_category: bool = True
    via: str = "library"  # or "cli"
    # a public window's totals: sums of these whole periods (first, last day), from the
    # export's settings (crisismap.releases.window_tiles); None when the window is whole
    tiles: tuple[tuple[int, int], ...] | None = None

    def label(self) -> str:
        window = f"{self.start}..{self.end}" if self.start or self.end else "whole span"
        window = window.replace("None", "…")
        cats = ",".join(self.categories) if self.categories else "all"
        return (
            f"{self.via} adm{self.level} {self.period.value} {window} cat={cats} "
            f"k={self.k}{'' if self.by_category else ' no-categories'}"
        )


@dataclass(frozen=True)
class Figure:
    """One published figure: ``None`` in a dimension means "all" (a total)."""

    export: int
    region: str | None
    period_start: Any  # the period's first day; IMPRECISE_PERIOD; None = every period
    category: str | None
    value: int | None  # None: hidden
    is_cell: bool
    implicit: bool = False  # a row the export leaves out, so zero (see Release.add)


@dataclass
class Release:
    """Every export tried: the figures of those made, and the refusals (a defence)."""

    exports: list[Export] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    refused: list[tuple[Export, str]] = field(default_factory=list)
    zeros_published: bool = True  # every export's settings say zeros are never hidden

    def add(self, export: Export, figures: Sequence[tuple]) -> None:
        """The export's figures, and a zero for each special row it leaves out: the grid is
        zero-filled, but "outside", "not attributable" and "date not attributable" rows
        appear only when some record falls there (crisismap.aggregate.cells)."""
        index = len(self.exports)
        self.exports.append(export)
        added = [Figure(index, *f) for f in figures]
        self.figures += added
        if not any(f.is_cell for f in added):
            return
        windowed = export.start is not None or export.end is not None
        # a public window never shows its "date not attributable" row (no figure of the grid)
        if not windowed and not any(f.period_start == IMPRECISE_PERIOD for f in added):
            self.figures.append(Figure(index, None, IMPRECISE_PERIOD, None, 0, False, True))
        for code in (OUTSIDE_CODE, IMPRECISE_CODE):
            if not any(f.region == code for f in added):
                self.figures.append(Figure(index, code, None, None, 0, False, True))


# ----------------------------------------------------------------------------- reading


def figures_of_tables(tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """Figures from published tables: ``cells`` (region × period [× category]) and the
    library's totals (``regions``, ``series``, ``periods``, ``totals``)."""
    dims = {
        "cells": ("region_code", "period_start", "category"),
        "regions": ("region_code",),
        "series": ("period_start", "category"),
        "periods": ("period_start",),
        "totals": ("category",),
    }
    out = []
    for name, frame in tables.items():
        keep = dims[name]
        for row in frame.to_dict("records"):
            region = str(row["region_code"]) if "region_code" in keep else None
            start = _start(row) if "period_start" in keep else None
            category = row.get("category") if "category" in keep else None
            if category is not None and (pd.isna(category) or category == "all categories"):
                category = None
            out.append((region, start, category, _value(row), name == "cells"))
    return out


def _start(row: dict) -> Any:
    if str(row.get("period")) == IMPRECISE_PERIOD:
        return IMPRECISE_PERIOD
    return pd.Timestamp(row["period_start"]).date()


def _value(row: dict) -> int | None:
    hidden = str(row.get("suppressed", "False")).strip().lower() == "true"
    value = row.get("incidents")
    if hidden or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        if not value.strip() or value.strip().lower() == "suppressed":
            return None
        return int(float(value))
    if pd.isna(value):
        return None
    return int(value)


# ----------------------------------------------------------------------------- the model


@dataclass
class Truth:
    """The true records, reduced to what the model needs (known only to the harness)."""

    regions: pd.DataFrame  # per record: adm1_code ... admN_code (special codes filled in)
    first: np.ndarray  # day numbers
    last: np.ndarray
    category: np.ndarray  # one label per record


def truth_of(records: pd.DataFrame, joined: pd.DataFrame, max_level: int) -> Truth:
    """Each record's region at every level (outside / not attributable as the summary
    names them), day range and single category."""
    codes = {}
    for level in range(1, max_level + 1):
        code = joined[f"adm{level}_code"].astype("object")
        match = joined.get(f"adm{level}_match")
        imprecise = (match.astype("object") == "imprecise") if match is not None else False
        special = np.where(imprecise, IMPRECISE_CODE, OUTSIDE_CODE)
        codes[level] = np.where(code.isna(), special, code.astype(str)).astype(object)
    first = _days(records["date"])
    last = _days(records["date_end"]) if "date_end" in records else first
    assert (first > -(2**40)).all(), "model: every record has a date"
    last = np.where(last < -(2**40), first, last)
    if "date_precision" in records:
        assert set(records["date_precision"].astype(str)) <= {"day"}, "model: day dates only"
    labels = records["category"].astype("object")
    single = labels.map(lambda v: isinstance(v, str) and ";" not in v and "|" not in v)
    assert single.all(), "model: one category per record"
    return Truth(pd.DataFrame(codes), first, last, labels.to_numpy(dtype=object))


def _days(values: pd.Series) -> np.ndarray:
    dates = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
    days = dates.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(dates), -(2**62), days)


class Model:
    """Every published figure as a sum of type counts, and the true count of each type."""

    def __init__(self, release: Release, truth: Truth) -> None:
        self.release, self.truth = release, truth
        levels = sorted({e.level for e in release.exports})
        self.max_level = max(levels)
        self.cuts = self._cuts()
        self._types()
        self._matrix()

    # -- time: segments and the type's slot in every export
    def _cuts(self) -> np.ndarray:
        t = self.truth
        starts = [day_number(e.start) for e in self.release.exports if e.start is not None]
        ends = [day_number(e.end) for e in self.release.exports if e.end is not None]
        lo = int(min([t.first.min(), *starts]))
        hi = int(max([t.last.max(), *ends])) + 1
        cuts = {lo, hi}
        for e in self.release.exports:
            span = np.arange(lo, hi + 1)
            o = ordinals(span, e.period)
            cuts.update(span[1:][np.diff(o) != 0].tolist())
            if e.start is not None:
                cuts.add(day_number(e.start))
            if e.end is not None:
                cuts.add(day_number(e.end) + 1)
        return np.array(sorted(c for c in cuts if lo <= c <= hi))

    def _slots(self, a_day: np.ndarray, b_day: np.ndarray) -> np.ndarray:
        """Per (first, last) day pair and export: period ordinal, or not in window, or
        not in one period."""
        exports = self.release.exports
        out = np.empty((len(a_day), 2 * len(exports)), dtype=np.int64)
        for j, e in enumerate(exports):
            # the tile a pair lies in (-1: none), for window totals made of whole periods
            tile = np.full(len(a_day), -1)
            for i, (first, last) in enumerate(e.tiles or ()):
                tile[(a_day >= first) & (b_day >= first) & (a_day <= last) & (b_day <= last)] = i
            out[:, len(exports) + j] = tile
            oa, ob = ordinals(a_day, e.period), ordinals(b_day, e.period)
            slot = np.where(oa == ob, oa, NO_ONE_PERIOD)
            inside = np.ones(len(a_day), dtype=bool)
            if e.start is not None:
                inside &= a_day >= day_number(e.start)
            if e.end is not None:
                inside &= b_day <= day_number(e.end)
            out[:, j] = np.where(inside, slot, NOT_IN_WINDOW)
        return out

    def _types(self) -> None:
        """Time types (segment pairs with the same slot everywhere), × region × category."""
        starts = self.cuts[:-1]
        n = len(starts)
        a, b = np.triu_indices(n)
        slots = self._slots(starts[a], starts[b])
        sig, time_type = np.unique(slots, axis=0, return_inverse=True)
        self.time_slots = sig  # time type × export
        pair_type = np.full((n, n), -1)
        pair_type[a, b] = time_type.ravel()
        t = self.truth
        seg_a = np.searchsorted(self.cuts, t.first, side="right") - 1
        seg_b = np.searchsorted(self.cuts, t.last, side="right") - 1
        record_time = pair_type[seg_a, seg_b]
        assert (record_time >= 0).all()
        # regions: the combinations of codes the records have (a region without records is
        # zero in every figure, and zeros are published; special rows show when non-empty)
        region_rows = t.regions.drop_duplicates().reset_index(drop=True)
        self.region_types = region_rows
        region_key = pd.MultiIndex.from_frame(t.regions)
        region_of_record = pd.MultiIndex.from_frame(region_rows).get_indexer(region_key)
        self.categories = sorted(set(t.category))
        cat_of_record = pd.Index(self.categories).get_indexer(t.category)
        n_r, n_c, n_t = len(region_rows), len(self.categories), len(sig)
        self.shape = (n_r, n_c, n_t)
        flat = (region_of_record * n_c + cat_of_record) * n_t + record_time
        self.true_counts = np.bincount(flat, minlength=n_r * n_c * n_t)

    # -- figures as rows over types
    def _matrix(self) -> None:
        n_r, n_c, n_t = self.shape
        r_idx, c_idx, t_idx = np.unravel_index(np.arange(n_r * n_c * n_t), self.shape)
        rows, cols = [], []
        self.support_regions: list[set[int]] = []
        for f_i, f in enumerate(self.release.figures):
            e = self.release.exports[f.export]
            slot = self.time_slots[:, f.export]
            ok_t = slot != NOT_IN_WINDOW
            if f.period_start is None and e.tiles is not None:  # a public window's total
                ok_t = self.time_slots[:, len(self.release.exports) + f.export] >= 0
            elif f.period_start == IMPRECISE_PERIOD:
                ok_t &= slot == NO_ONE_PERIOD
            elif f.period_start is not None:
                o = ordinals(np.array([day_number(f.period_start)]), e.period)[0]
                ok_t &= slot == o
            regions = self.region_types[e.level].to_numpy()
            ok_r = np.ones(n_r, bool) if f.region is None else regions == f.region
            cats = np.array(self.categories, dtype=object)
            ok_c = np.ones(n_c, bool)
            if e.categories is not None:
                ok_c &= np.isin(cats, list(e.categories))
            if f.category is not None:
                ok_c &= cats == f.category
            hit = np.flatnonzero(ok_r[r_idx] & ok_c[c_idx] & ok_t[t_idx])
            rows.append(np.full(len(hit), f_i))
            cols.append(hit)
            self.support_regions.append(set(np.flatnonzero(ok_r).tolist()))
        rows_, cols_ = np.concatenate(rows), np.concatenate(cols)
        self.matrix = csr_matrix(
            (np.ones(len(rows_)), (rows_, cols_)),
            shape=(len(self.release.figures), n_r * n_c * n_t),
        )
        self.true_values = self.matrix @ self.true_counts

    def check(self) -> None:
        """The model reproduces every published figure (else the harness is wrong)."""
        wrong = [
            (self.release.exports[f.export].label(), f, int(self.true_values[i]))
            for i, f in enumerate(self.release.figures)
            if f.value is not None and f.value != int(self.true_values[i])
        ]
        assert not wrong, f"model disagrees with {len(wrong)} published figures: {wrong[:3]}" + (
            " (implicit=True: a special row left out was not zero; has the rule that such rows "
            "appear only when non-empty changed? Then change Release.add.)"
            if any(f.implicit for _, f, _ in wrong)
            else ""
        )


# ----------------------------------------------------------------------------- attack


@dataclass
class Outcome:
    found: int = 0  # distinct small cells over all exports
    tried: int = 0
    pinned: int = 0
    by_differencing: int = 0
    guessed: int = 0
    chance: int = 0
    unsolved: int = 0
    examples: list[str] = field(default_factory=list)

    def rows(self) -> dict[str, Any]:
        pct = (lambda n: f"{100 * n / self.tried:.1f} %") if self.tried else (lambda n: "-")
        return {
            "small cells (distinct) in all exports": self.found,
            "small cells tried": self.tried,
            "pinned uniquely (min == max)": self.pinned,
            "exact by differencing": self.by_differencing,
            "best guess exactly right": f"{self.guessed} ({pct(self.guessed)})",
            "same guess rule at chance": f"{self.chance} ({pct(self.chance)})",
            "programs not solved in time": self.unsolved,
        }

    @property
    def guess_rate(self) -> float:
        return self.guessed / self.tried if self.tried else 0.0

    @property
    def chance_rate(self) -> float:
        return self.chance / self.tried if self.tried else 0.0


def family_of(model: Model, region_type: int) -> str:
    """The admin-1 code (or special code) a finest region belongs to."""
    return str(model.region_types.iloc[region_type][1])


def attack(model: Model, *, whole: bool = False, limit: int | None = None) -> Outcome:
    """Every small true cell of any export: pinned? guessed? (see the module docstring).

    ``whole``: one block of every figure (small data); otherwise one per region family.
    ``limit``: try at most this many small cells, spread evenly over all of them.
    """
    release = model.release
    families = np.array(
        ["*" if whole else family_of(model, r) for r in range(model.shape[0])], dtype=object
    )
    n_c, n_t = model.shape[1], model.shape[2]
    type_family = np.repeat(families, n_c * n_t)
    fig_family = [
        {families[r] for r in regions} for regions in model.support_regions
    ]  # the families a figure's region touches
    targets: dict[tuple, tuple[int, int]] = {}
    matrix = model.matrix.tocsr()
    for i, f in enumerate(release.figures):
        k = release.exports[f.export].k
        truth = int(model.true_values[i])
        if not f.is_cell or not 1 <= truth <= k - 1:
            continue
        support = tuple(matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tolist())
        if support not in targets:
            targets[support] = (i, k)
    chosen = list(targets.values())
    if limit is not None and len(chosen) > limit:
        picks = np.unique(np.linspace(0, len(chosen) - 1, limit).round().astype(int))
        chosen = [chosen[p] for p in picks]
    outcome = Outcome()
    outcome.found = len(targets)
    by_family: dict[str, list] = defaultdict(list)
    for i, k in chosen:
        (family,) = fig_family[i] if len(fig_family[i]) == 1 else ("*",)
        by_family[family].append((i, k))
    for family, items in sorted(by_family.items()):
        inside = [i for i, fam in enumerate(fig_family) if fam == {family}]
        columns = np.flatnonzero(type_family == family)
        block = _Block(model, inside, columns)
        if VERBOSE:
            print(f"block {family}: {block.a.shape} equations x atoms, {len(items)} targets")
        for i, k in items:
            _score(outcome, block, i, k, model)
    return outcome


class _Block:
    """The figures of one region family as equations over its atoms."""

    def __init__(self, model: Model, figure_rows: list[int], columns: np.ndarray) -> None:
        figures = model.release.figures
        values = np.array(
            [-1 if figures[i].value is None else figures[i].value for i in figure_rows], float
        )
        sub = model.matrix[figure_rows][:, columns].tocsc()
        # a type inside a published zero is zero: drop it, and the zero figures with it
        zero_rows = values == 0
        zero_types = np.asarray(sub[np.flatnonzero(zero_rows)].sum(axis=0)).ravel() > 0
        keep_types = ~zero_types & (np.asarray(sub.sum(axis=0)).ravel() > 0)
        sub, columns = sub[:, np.flatnonzero(keep_types)].tocsr(), columns[keep_types]
        # merge the types no figure tells apart into atoms
        dense = sub.toarray().astype(np.int8)
        atoms, atom_of = np.unique(dense, axis=1, return_inverse=True)
        self.atom_of = atom_of.ravel()
        self.true_atoms = np.bincount(
            self.atom_of, weights=model.true_counts[columns], minlength=atoms.shape[1]
        )
        # one equation per distinct (coverage, value); targets are looked up by figure
        self.rows = {f: atoms[r].astype(float) for r, f in enumerate(figure_rows)}
        live = ~zero_rows & (atoms.sum(axis=1) > 0)
        unique = np.unique(np.column_stack([atoms[live], values[live]]), axis=0)
        a, v = unique[:, :-1].astype(float), unique[:, -1]
        self.published = v >= 0
        self.a = a
        self.pub, self.b = a[self.published], v[self.published]
        hidden = a[~self.published]
        self.hidden = hidden
        # the methodology says whether a hidden figure is at least 1 (zeros published)
        self.hidden_low = np.full(len(hidden), 1.0 if model.release.zeros_published else 0.0)
        self._basis = np.linalg.pinv(self.pub) if self.pub.size else None

    def row(self, figure: int) -> np.ndarray:
        return self.rows[figure]

    def difference(self, target: np.ndarray) -> float | None:
        """The target's value when it is a linear combination of published figures."""
        if self._basis is None:
            return None
        coef = target @ self._basis
        if np.abs(coef @ self.pub - target).max() > 1e-6:
            return None
        return float(coef @ self.b)

    def interval(self, target: np.ndarray) -> tuple[float, float, bool]:
        """Min and max of the target over whole-number solutions (``False``: not solved)."""
        n = self.a.shape[1]
        constraints = []
        if len(self.b):
            constraints.append(LinearConstraint(self.pub, self.b, self.b))
        if len(self.hidden):
            constraints.append(LinearConstraint(self.hidden, self.hidden_low, np.inf))
        ends, solved = [], True
        for sign in (1, -1):
            res = milp(
                sign * target,
                integrality=np.ones(n),
                bounds=Bounds(np.zeros(n), np.full(n, np.inf)),
                constraints=constraints,
                options={"time_limit": SOLVE_SECONDS},
            )
            if res.status == 0:
                ends.append(sign * res.fun)
            elif sign < 0 and res.status in (3, 4):  # unbounded above
                ends.append(math.inf)
            else:
                solved = False
                ends.append(math.inf if sign < 0 else 0.0)
        return ends[0], ends[1], solved


def _score(outcome: Outcome, block: _Block, figure: int, k: int, model: Model) -> None:
    target = block.row(figure)
    truth = int(round(target @ block.true_atoms))
    assert truth == int(model.true_values[figure])
    outcome.tried += 1
    started = time.perf_counter()
    low, high, solved = block.interval(target)
    if VERBOSE:
        seconds = time.perf_counter() - started
        print(f"  target {figure}: [{low}, {high}] truth {truth} ({seconds:.1f} s)")
    outcome.unsolved += not solved
    pinned = solved and high < math.inf and round(high) == round(low)
    exact = block.difference(target)
    outcome.pinned += pinned
    outcome.by_differencing += exact is not None
    if exact is not None:
        guess = round(exact)
    else:
        lo, hi = max(round(low), 1), min(high, k - 1)
        hi = int(hi) if hi >= lo else lo
        guess = (lo + hi) // 2
    chance_guess = (1 + k - 1) // 2
    outcome.guessed += guess == truth
    outcome.chance += chance_guess == truth
    if pinned and len(outcome.examples) < 5:
        f = model.release.figures[figure]
        e = model.release.exports[f.export]
        outcome.examples.append(
            f"{f.region} {f.period_start} {f.category or 'all'} = {truth} "
            f"(from {e.label()} and others)"
        )

"""One protected publication grid per dataset: the figures every public export reads.

Why: small-cell suppression protects one table at a time, and exports combine. Yearly
totals with ``--start`` a month apart give that month by difference; a month table
against a quarter table, admin-1 against admin-2, one category against all do the same.
So public figures are not protected table by table: they are read from one lattice of
every figure any public export may publish, protected as a whole, and kept (see
:mod:`crisismap.releases`) so later exports of the same data stay consistent with it.

**The lattice.** The base units are (record, category label) pairs, each placed on three
axes: regions (one partition per boundary level: the pair's region, or outside, or not
attributable at that level), time (one partition per grain: ISO week, month, quarter,
year — the period, or not attributable at that grain) and categories (the label). A
*node* is one part of one partition, or the whole axis, on each axis: (admin-1 region,
month, label) is a cell, (admin-1 region, whole span, all labels) a region's total,
(all regions, month, all labels) a period's total. Its value is the number of pairs in
it; victims are summed alike and published or hidden with the incidents.

**Protection.** A node with ``0 < incidents < k`` is a *primary*. For each primary we
build a *move*: base cells with signs (+1/-1) chosen from the primary and partners in
sibling parts (same parent region, same parent period, another label), so that taking
the move away gives another table with no negative count. Every node on which the move
does not sum to zero is hidden. Published figures therefore have the same value in
that other table, while the primary (and every hidden node the move touches) differs
by one: no combination of published figures, however many exports they come from, can
pin a hidden figure. Moves that pair on every axis the primary is split by touch only
cells, never a total; partners are chosen so the fewest and smallest figures are hidden.

**Releases.** :meth:`Grid.release` protects the nodes of the partitions one export
publishes. Nodes already published by an earlier release are never hidden later: a move
that would touch one is not used. What was hidden, and which partitions were published,
is the state a ledger keeps (:meth:`Grid.state`).

Works on arrays only: it imports no other step, only its axes
(:mod:`crisismap.publish.lattice`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, compress, product, repeat
from operator import floordiv
from typing import Any

import numpy as np

from crisismap.publish.lattice import (
    MAX_PARTNERS,
    Axis,
    AxisIndex,
    nodes_of,
    unique_rows,
)

ROOT = 0  # part number of the whole axis; part p of a partition is p + 1
_COMBO_SHIFT, _R_SHIFT, _T_SHIFT = 56, 36, 20
_R_MAX, _T_MAX, _C_MAX = 1 << 20, 1 << 16, 1 << 20
_FIELDS = ((_R_SHIFT, _R_MAX), (_T_SHIFT, _T_MAX), (0, _C_MAX))  # a node key's part fields
_FEW = 4  # up to this many nodes in a context: sort them, else walk the ordered partners
MAX_TRIES = 24  # moves with every even corner non-empty, looked at per template
MAX_FEASIBLE = 16  # feasible moves compared per template
MAX_EVALUATED = 32  # feasible moves compared per primary, over every template
TOTAL_EVALUATED = 120_000  # ... and per release: large grids compare fewer per primary
TOTAL_WEIGHT = 8  # hiding a total costs this many times a cell of the same value, per axis
_NO_PARTNERS: tuple[list[int], dict[int, int]] = ([], {})  # an axis the primary is not split by


class UnprotectableError(ValueError):
    """A figure cannot be hidden without changing a figure an earlier release published."""


@dataclass
class Grid:
    """The lattice of one dataset, and what has been hidden and published from it."""

    k: int
    axes: tuple[Axis, Axis, Axis]
    index: tuple[AxisIndex, AxisIndex, AxisIndex]
    base: np.ndarray  # (n_base, 3) atom per axis
    base_count: np.ndarray
    keys: np.ndarray  # (n_base, n_combos) node key of each base cell in each combo
    values: dict[int, int]  # node key -> incidents (absent: zero)
    node_keys: np.ndarray  # sorted keys of the non-empty nodes (of publishable combos)
    node_values: np.ndarray  # their incidents
    victims: np.ndarray  # their victims
    victims_known: np.ndarray  # their records that state victims
    combos: list[tuple[int, int, int]]
    hidden: set[int] = field(default_factory=set)
    _count: dict[tuple[int, int, int], int] = field(default_factory=dict)
    _evaluate: int = MAX_EVALUATED
    published: set[tuple[int, int, int]] = field(default_factory=set)
    _first_base: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    # --- building --------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        region: Axis,
        time: Axis,
        category: Axis,
        *,
        k: int,
        victims: np.ndarray | None = None,
        victims_known: np.ndarray | None = None,
    ) -> Grid:
        """The lattice of the pairs placed on three axes (one row per pair in each)."""
        if k < 2:
            raise ValueError(f"the publication grid needs k >= 2, got {k}")
        n = len(region.parts)
        if len(time.parts) != n or len(category.parts) != n:
            raise ValueError("every axis must place the same pairs")
        if category.parts.shape[1] != 1:
            raise ValueError("the category axis has exactly one partition")
        indexed = [AxisIndex.build(axis) for axis in (region, time, category)]
        index = tuple(i for i, _ in indexed)
        atoms = np.column_stack([a for _, a in indexed]) if n else np.zeros((0, 3), np.int64)
        base, inverse = (
            unique_rows(atoms) if n else (np.zeros((0, 3), np.int64), np.zeros(0, np.int64))
        )
        inverse = inverse.reshape(-1)
        count = np.bincount(inverse, minlength=len(base)).astype(np.int64)
        vict = np.zeros(n) if victims is None else np.nan_to_num(np.asarray(victims, float))
        known = np.zeros(n) if victims_known is None else np.asarray(victims_known, float)
        base_victims = np.bincount(inverse, weights=vict, minlength=len(base))
        base_known = np.bincount(inverse, weights=known, minlength=len(base))
        for idx, limit in zip(index, (_R_MAX, _T_MAX, _C_MAX), strict=True):
            if idx.up.shape[0] and idx.up.max() >= limit:
                raise ValueError("too many parts on one axis for the publication grid")
        combos = list(product(range(index[0].up.shape[1]), range(index[1].up.shape[1]), range(2)))
        # column-major: every use reads (or fills) one combo's column
        keys = np.empty((len(base), len(combos)), np.int64, order="F")
        for j, (ri, ti, ci) in enumerate(combos):
            keys[:, j] = _pack(
                j,
                index[0].up[base[:, 0], ri],
                index[1].up[base[:, 1], ti],
                index[2].up[base[:, 2], 1] if ci else 0,
            )
        # figures only for combos that can be published (structural pieces are looked
        # up through ``keys``, never counted)
        shown = [
            j
            for j, (ri, ti, _) in enumerate(combos)
            if ri <= len(region.partitions) - region.structural
            and ti <= len(time.partitions) - time.structural
        ]
        # Combo by combo (their keys are disjoint and ordered by combo): each node's sums
        # add its base cells in row order, as one pass over every combo would.
        sums: list[list[np.ndarray]] = [[], [], [], []]
        for j in shown:
            nodes_j, where = nodes_of(keys[:, j], combos[j], index, base)
            sums[0].append(nodes_j)
            for out, weights in zip(sums[1:], (count, base_victims, base_known), strict=True):
                out.append(np.bincount(where, weights=weights, minlength=len(nodes_j)))
        empty = [np.zeros(0, np.int64)] + [np.zeros(0)] * 3
        nodes, values, node_victims, node_known = (
            np.concatenate(parts) if parts else none
            for parts, none in zip(sums, empty, strict=True)
        )
        values = values.astype(np.int64)
        listed = nodes.tolist()
        return cls(
            k=int(k),
            axes=(region, time, category),
            index=index,  # type: ignore[arg-type]
            base=base,
            base_count=count,
            keys=keys,
            values=dict(zip(listed, values.tolist(), strict=True)),
            node_keys=nodes,
            node_values=values,
            victims=node_victims,
            victims_known=node_known.astype(np.int64),
            combos=combos,
        )

    def __post_init__(self) -> None:
        self._combo_index = {c: i for i, c in enumerate(self.combos)}
        self._structural_ids = {i for i, c in enumerate(self.combos) if not self.publishable(c)}
        self._root_count = [(r == 0) + (t == 0) + (c == 0) for r, t, c in self.combos]
        self._weights = [
            None if i in self._structural_ids else TOTAL_WEIGHT**roots
            for i, roots in enumerate(self._root_count)
        ]
        self._widths = [
            self.index[0].up.shape[1] - self.axes[0].structural,
            self.index[1].up.shape[1] - self.axes[1].structural,
            2,
        ]
        # While protecting, nodes are named densely: combo * span + p0 * m0 + p1 * m1 + p2
        # (``_dense``), not by key: sets and dicts find small ints that differ in their
        # low bits fastest, and node keys are three-digit ints that differ there only by
        # category. (Sizes that would not fit 62 bits fall back to the key's own layout.)
        sizes = [int(self.index[d].up.max(initial=0)) + 1 for d in range(3)]
        if len(self.combos) * sizes[0] * sizes[1] * sizes[2] >= 1 << 62:
            sizes = [_R_MAX, _T_MAX, _C_MAX]
        self._dense = (sizes[1] * sizes[2], sizes[2], 1)
        self._span = sizes[0] * sizes[1] * sizes[2]
        # what hiding a non-empty node costs (``_weighed``), by name, once protecting
        self._dense_costs: dict[int, int] = {}
        self._large: set[int] = set()  # the names of nodes of k or more incidents
        # A node's name is the sum of one term per axis: the combo ids are numbered in
        # ``product`` order, so (ri, ti, ci)'s id is the sum of (ri, 0, 0)'s, (0, ti, 0)'s
        # and (0, 0, ci)'s.
        n_r, n_t = self.index[0].up.shape[1], self.index[1].up.shape[1]
        ids = self._combo_index
        if self.combos != list(product(range(n_r), range(n_t), range(2))):
            raise ValueError("the grid's combos are every column of each axis, in order")
        self._heads = [
            [ids[(ri, 0, 0)] * self._span for ri in range(n_r)],
            [ids[(0, ti, 0)] * self._span for ti in range(n_t)],
            [ids[(0, 0, ci)] * self._span for ci in range(2)],
        ]
        self._terms: list[dict[tuple[int, int], list[int]]] = [{}, {}, {}]
        self._atom_terms: list[list[list[int]]] = [[], [], []]  # see ``_factor``
        self._finest = [self.index[d].up.shape[1] - 1 for d in range(3)]
        # templates: the axes a move pairs on, every split axis first, then fewer
        self._templates = []
        for combo in self.combos:
            split = [d for d in range(3) if combo[d] != 0]
            self._templates.append(
                [t for size in range(len(split), -1, -1) for t in combinations(split, size)]
            )
        self._present: dict[tuple[int, int], _Present] = {}
        self._finest_of = [[row[-1] for row in self.index[d].rows] for d in range(3)]
        self._base_rows = [tuple(row) for row in self.base.tolist()]
        self._count = dict(zip(self._base_rows, self.base_count.tolist(), strict=True))
        self._finest_nodes: set[int] = set()

    # --- naming nodes ----------------------------------------------------------------------

    def combo(self, region: str | None, time: str | None, category: bool) -> tuple[int, int, int]:
        """The combo of a region partition, a time partition (None: whole axis), by label."""
        ri = 0 if region is None else self.axes[0].partitions.index(region) + 1
        ti = 0 if time is None else self.axes[1].partitions.index(time) + 1
        return (ri, ti, 1 if category else 0)

    def node(
        self, region: tuple[str, str] | None, time: tuple[str, str] | None, label: str | None
    ) -> int | None:
        """The key of a node named by (partition, label) per axis; None when no pair has it."""
        combo = self.combo(
            None if region is None else region[0],
            None if time is None else time[0],
            label is not None,
        )
        parts = []
        for axis_i, named in enumerate((region, time)):
            if named is None:
                parts.append(ROOT)
                continue
            col = combo[axis_i]
            part = self.index[axis_i].label_to_part[col - 1].get(named[1])
            if part is None:
                return None
            parts.append(part)
        cat = ROOT
        if label is not None:
            cat = self.index[2].label_to_part[0].get(label)
            if cat is None:
                return None
        return _pack(self._combo_index.get(combo), parts[0], parts[1], cat)

    def figure(self, key: int | None) -> tuple[int, float, int, bool]:
        """(incidents, victims, victims known, hidden) of a node; an absent node is zero."""
        if key is None:
            return 0, 0.0, 0, False
        i = int(np.searchsorted(self.node_keys, key))
        if i >= len(self.node_keys) or int(self.node_keys[i]) != key:
            return 0, 0.0, 0, key in self.hidden
        return (
            int(self.node_values[i]),
            float(self.victims[i]),
            int(self.victims_known[i]),
            key in self.hidden,
        )

    # --- protecting ------------------------------------------------------------------------

    def publishable(self, combo: tuple[int, int, int]) -> bool:
        """Whether a combo's nodes can be published (structural partitions never are).

        A structural partition (such as the pieces weeks and months cut each other into)
        only lets moves be built from whole atoms, so that every move factorises.
        """
        for d in range(2):
            axis = self.axes[d]
            if axis.structural and combo[d] > len(axis.partitions) - axis.structural:
                return False
        return True

    def release(self, combos: Iterable[tuple[int, int, int]]) -> int:
        """Protect the nodes of ``combos`` (consistently with earlier releases); new primaries."""
        wanted = [
            c for c in dict.fromkeys(combos) if c not in self.published and self.publishable(c)
        ]
        if not wanted:
            return 0
        ids = {self._combo_index[c] for c in wanted}
        small = (self.node_values > 0) & (self.node_values < self.k)
        small &= np.isin(self.node_keys >> _COMBO_SHIFT, np.fromiter(ids, np.int64))
        # totals first (most ROOT parts), then by key
        keys = self.node_keys[small]
        roots = np.asarray(self._root_count, np.int64)[keys >> _COMBO_SHIFT]
        ordered = keys[np.lexsort((keys, -roots))].tolist()
        primaries = [key for key in ordered if key not in self.hidden]
        published_ids = {self._combo_index.get(c) for c in self.published}
        self._evaluate = max(2, min(MAX_EVALUATED, TOTAL_EVALUATED // max(len(primaries), 1)))
        # protected by dense names (see ``__post_init__``); ``hidden`` takes the keys
        keys = np.array(primaries, np.int64)
        names, reps = self._names(keys).tolist(), self._reps(keys)
        if not self._dense_costs:
            every = self._names(self.node_keys).tolist()
            weights = np.array([w or 0 for w in self._weights], np.int64)
            costs = (self.node_values + 1) * weights[self.node_keys >> _COMBO_SHIFT]
            self._dense_costs = dict(zip(every, costs.tolist(), strict=True))
            self._large = set(compress(every, (self.node_values >= self.k).tolist()))
        before = set(self._names(np.fromiter(self.hidden, np.int64, len(self.hidden))).tolist())
        hidden = set(before)
        done = 0
        try:
            for key, name, rep in zip(primaries, names, reps, strict=True):
                if name in hidden:
                    continue
                hidden.update(self._protect(key, name, rep, published_ids, hidden))
                done += 1
        finally:
            # what this release hid: one set difference in C, not a list kept per move
            added = hidden - before if before else hidden
            self.hidden.update(self._keys_of(np.fromiter(added, np.int64, len(added))).tolist())
        self.published.update(wanted)
        return done

    def _names(self, keys: np.ndarray) -> np.ndarray:
        """The dense names of nodes (see ``__post_init__``) from their keys."""
        (m0, m1, _), (r, t, c) = self._dense, [(keys >> s) & (w - 1) for s, w in _FIELDS]
        return (keys >> _COMBO_SHIFT) * self._span + r * m0 + t * m1 + c

    def _keys_of(self, names: np.ndarray) -> np.ndarray:
        """The keys of nodes from their dense names."""
        combo, rest = np.divmod(names, self._span)
        r, rest = np.divmod(rest, self._dense[0])
        t, c = np.divmod(rest, self._dense[1])
        return (combo << _COMBO_SHIFT) | (r << _R_SHIFT) | (t << _T_SHIFT) | c

    def _protect(
        self,
        key: int,
        name: int,
        rep: tuple[int, int, int] | None,
        published_ids: set[int],
        hidden: set[int],
    ) -> set[int]:
        """The nodes (dense names) not in ``hidden`` yet that the chosen move for primary
        ``key`` (named ``name``, holding base cell ``rep``) touches."""
        combo_id = key >> _COMBO_SHIFT
        combo = self.combos[combo_id]
        best: set[int] | None = None
        best_cost = 0
        # every base cell holds incidents: a primary without one has no move at all
        if rep is not None and rep in self._count:
            # every template pairs on some of the primary's split axes: partners once
            parts = _unpack(key)
            ranked = [_NO_PARTNERS, _NO_PARTNERS, _NO_PARTNERS]
            for d, index in enumerate(self.index):
                if combo[d]:
                    at = (combo[d], parts[d], rep[d])
                    ranked[d] = index.closest_of.get(at) or index.closest(*at)
            x0, x1, x2 = rep
            (terms0, terms1, terms2), large = self._terms, self._large
            budget = self._evaluate
            limit = min(MAX_FEASIBLE, budget)
            for template in self._templates[combo_id]:
                # a move looked at with no budget left would end the search: don't build it
                if budget == 0:
                    break
                tried = 0
                for y in self._candidates(combo, rep, template, ranked):
                    tried += 1
                    budget -= 1
                    if tried > limit or budget < 0:
                        break
                    # The nodes on which the move (``rep`` to ``y``, the corner opposite)
                    # does not sum to zero. It factorises over the axes (one atom per
                    # side), so a node's sum is the product of one factor per axis: on a
                    # paired axis +1 / -1 for parts holding only the primary's / only the
                    # partner's atom, 0 where both or neither; on an unpaired axis 1 for
                    # every part holding the atom. A node's name is the sum of one term
                    # per axis (``_factor``).
                    y0, y1, y2 = y
                    f0 = terms0.get((x0, y0)) or self._factor(0, x0, y0)
                    f1 = terms1.get((x1, y1)) or self._factor(1, x1, y1)
                    f2 = terms2.get((x2, y2)) or self._factor(2, x2, y2)
                    affected = {a + b + c for a in f0 for b in f1 for c in f2}
                    if name in affected and not (
                        published_ids and self._blocked(affected, published_ids, hidden)
                    ):
                        new = affected - hidden
                        # cheap: hides nothing of k or more that is not hidden already
                        if new.isdisjoint(large):
                            return new
                        cost = self._weighed(new)
                        if best is None or cost < best_cost:
                            best, best_cost = new, cost
                    if budget == 0:
                        break
                if budget < 0:
                    break
        if best is not None:
            return best
        raise UnprotectableError(
            "A small figure of this export cannot be hidden without changing a figure an "
            "earlier public release of the same data already published. Publish a coarser "
            "table (a coarser period or region level), or start a new release series."
        )

    def _candidates(
        self,
        combo: tuple[int, int, int],
        rep: tuple[int, int, int],
        template: tuple[int, ...],
        ranked: list[tuple[list[int], dict[int, int]]],
    ) -> Iterable[tuple[int, int, int]]:
        """Moves pairing on the ``template`` axes, as the base cell opposite ``rep`` (the
        partner's atom on every paired axis, the primary's elsewhere).

        Every corner is built from one atom per axis and side (the primary's, or one
        partner atom), so the move factorises over the axes: it sums to zero on every node
        that holds both sides of some paired axis, whatever its other parts. A move is
        kept only if taking it away leaves no negative count: every even corner (sign +1)
        holds incidents (is a base cell: every base cell holds some). Partners are found
        among the nodes that hold some (most corners hold none or a few), closest first
        (their order in ``ranked``); at most ``MAX_TRIES`` choices with every even corner
        non-empty are looked at. ``rep`` holds incidents (the caller checks).
        """
        count = self._count
        for d in template:
            if not ranked[d][0]:
                return
        if len(template) == 0:
            yield rep
            return
        if len(template) == 1:  # any atom of each of the closest partners
            d = template[0]
            atom_of, col = self.index[d].atom_of, combo[d]
            for y in ranked[d][0][:MAX_PARTNERS]:
                cell = list(rep)
                cell[d] = atom_of[(col, y)]
                yield cell[0], cell[1], cell[2]
            return
        finest = self._finest
        x_part = [self._finest_of[d][rep[d]] for d in range(3)]
        ids, dense, tries = self._combo_index, self._dense, 0
        if len(template) == 2:
            # one even corner: both partners; found among the nodes of (partner part on
            # both axes, the primary's finest part on the third)
            a, b = template
            lookup = list(finest)
            lookup[a], lookup[b] = combo[a], combo[b]
            combo_id = ids[lookup[0], lookup[1], lookup[2]]
            cache = self._present_of(combo_id, b)
            e = 3 - a - b
            context, step = x_part[e] * dense[e], dense[a]
            for y_a in ranked[a][0]:
                present = cache[context + y_a * step]
                if present is None:
                    continue
                for y_b in _in_order(present, ranked[b]):
                    found = present.get(y_b)
                    if found is None:
                        continue
                    tries += 1
                    if tries > MAX_TRIES:
                        return
                    cell = list(rep)
                    cell[a], cell[b] = found[a], found[b]
                    y = (cell[0], cell[1], cell[2])
                    if y in count:
                        yield y
            return
        # three paired axes: even corners 011, 101 and 110. 011 gives the time and category
        # partners (nodes of the primary's finest region, partner period and label); 101
        # the region partner (nodes of the partner label's finest part, primary's finest
        # period); 110 must then hold incidents too.
        x0, x1, x2 = x_part
        r0, r1, r2 = rep
        f0, f1, f2 = self._finest_of
        id1 = ids[finest[0], combo[1], combo[2]]
        id2 = ids[combo[0], finest[1], finest[2]]
        cache1, cache2 = self._present_of(id1, 2), self._present_of(id2, 0)
        finest_nodes = self._finest_nodes or self._finest_set()
        m0, m1, _ = dense
        head1, head2, head3 = x0 * m0, x1 * m1, x2
        for y_1 in ranked[1][0]:
            present = cache1[head1 + y_1 * m1]
            if present is None:
                continue
            for y_2 in _in_order(present, ranked[2]):
                found = present.get(y_2)
                if found is None:
                    continue
                a1, a2 = found[1], found[2]
                present2 = cache2[head2 + f2[a2]]
                if present2 is None:
                    continue
                for y_0 in _in_order(present2, ranked[0]):
                    cell = present2.get(y_0)
                    if cell is None:
                        continue
                    a0 = cell[0]
                    if head3 + f0[a0] * m0 + f1[a1] * m1 not in finest_nodes:
                        continue
                    tries += 1
                    if tries > MAX_TRIES:
                        return
                    if (r0, a1, a2) in count and (a0, r1, a2) in count and (a0, a1, r2) in count:
                        yield a0, a1, a2

    def _finest_set(self) -> set[int]:
        """The non-empty nodes of the finest part on every axis, keyed densely."""
        (m0, m1, _), (f0, f1, f2) = self._dense, self._finest_of
        self._finest_nodes = {f0[r] * m0 + f1[t] * m1 + f2[c] for r, t, c in self._base_rows}
        return self._finest_nodes

    def _present_of(self, combo_id: int, free: int) -> _Present:
        """The non-empty nodes of a combo by context (their parts off axis ``free``, as a
        dense key: see ``_dense``): their part on axis ``free`` -> a base cell in the node.
        Read with ``[context]`` (None: no node there)."""
        present = self._present.get((combo_id, free))
        if present is not None:
            return present
        nodes, rows = self._firsts(combo_id)
        by_axis = [(nodes >> shift) & (width - 1) for shift, width in _FIELDS]
        contexts = sum(by_axis[d] * self._dense[d] for d in range(3) if d != free)
        order = np.argsort(contexts, kind="stable")
        contexts = contexts[order]
        starts = np.flatnonzero(np.diff(contexts, prepend=-1))  # first of each context
        present = _Present(
            contexts[starts].tolist(),
            [*starts.tolist(), len(contexts)],
            by_axis[free][order].tolist(),
            rows[order].tolist(),
            self._base_rows,
        )
        self._present[(combo_id, free)] = present
        return present

    def _firsts(self, combo_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The non-empty nodes of a combo (sorted keys) and the first base cell in each."""
        firsts = self._first_base.get(combo_id)
        if firsts is None:
            combo = self.combos[combo_id]
            nodes, where = nodes_of(self.keys[:, combo_id], combo, self.index, self.base)
            first = np.full(len(nodes), len(where), np.int64)
            np.minimum.at(first, where, np.arange(len(where)))  # np.unique's return_index
            firsts = (nodes, first)
            self._first_base[combo_id] = firsts
        return firsts

    def _reps(self, keys: np.ndarray) -> list[tuple[int, int, int] | None]:
        """A base cell with incidents inside each node (None when the node is empty)."""
        rows = np.full(len(keys), -1, np.int64)
        combo_ids = keys >> _COMBO_SHIFT
        for combo_id in np.unique(combo_ids).tolist():
            mine = combo_ids == combo_id
            nodes, first = self._firsts(combo_id)
            if not len(nodes):
                continue
            at = np.minimum(np.searchsorted(nodes, keys[mine]), len(nodes) - 1)
            rows[mine] = np.where(nodes[at] == keys[mine], first[at], -1)
        base_rows = self._base_rows
        return [None if row < 0 else base_rows[row] for row in rows.tolist()]

    def _factor(self, d: int, x: int, y: int) -> list[int]:
        """The key terms of the parts of axis ``d`` where a move from atom ``x`` to ``y``
        does not sum to zero (every part of ``x`` when ``x == y``)."""
        if not self._atom_terms[d]:
            # each atom's term per published column (structural pieces are never
            # published: nothing to hide there); equal terms <=> equal parts
            index, width = self.index[d], self._widths[d]
            heads = np.asarray(self._heads[d][:width], np.int64)
            terms = heads + index.up[:, :width] * self._dense[d]
            self._atom_terms[d] = terms.tolist()
        xs = self._atom_terms[d][x]
        if x == y:
            out = list(xs)
        else:
            ys = self._atom_terms[d][y]
            out = [term for pair in zip(xs, ys, strict=True) if pair[0] != pair[1] for term in pair]
        self._terms[d][(x, y)] = out
        return out

    def _blocked(self, affected: set[int], published_ids: set[int], hidden: set[int]) -> bool:
        span = self._span
        return any(node // span in published_ids and node not in hidden for node in affected)

    def _weighed(self, new: set[int]) -> float:
        """What hiding ``new`` (nodes not hidden yet) costs, totals weighing more (only
        asked when some node in it holds ``k`` or more incidents)."""
        # A node costs its weight times (incidents + 1): ``_dense_costs`` holds that for
        # the non-empty nodes, an empty one costs its weight (the default, by combo). In C
        # (map), not a Python loop: a few dozen nodes per move, a move per primary. No
        # structural piece is ever affected (``_factor`` stops at published columns).
        weights = map(self._weights.__getitem__, map(floordiv, new, repeat(self._span)))
        # whole numbers far below 2**53: the sum is exact in any order
        return float(sum(map(self._dense_costs.get, new, weights)))

    def digest(self) -> str:
        """What the grid is of (its axes, parts and counts; not k): the ledger's key."""
        import hashlib
        import json

        digest = hashlib.sha256()
        for axis in self.axes:
            head = [axis.name, list(axis.partitions), [list(x) for x in axis.labels]]
            digest.update(json.dumps(head).encode("utf-8"))
            digest.update(np.ascontiguousarray(axis.parts, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.base_count, dtype=np.int64).tobytes())
        return digest.hexdigest()[:24]

    # --- the ledger's state ----------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What a ledger keeps: k, published partitions, hidden nodes (JSON-ready)."""
        return {
            "k": self.k,
            "published": sorted(
                [self._combo_name(c) for c in self.published], key=lambda x: str(x)
            ),
            # keys fit int64 (built as such): numpy sorts them far faster than sorted()
            "hidden": np.sort(np.fromiter(self.hidden, np.int64, len(self.hidden))).tolist(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a ledger's state (same data, same k)."""
        if int(state["k"]) != self.k:
            raise ValueError("a release ledger is restored with its own k")
        self.hidden = set(int(x) for x in state["hidden"])
        self.published = {self._combo_of(name) for name in state["published"]}

    def _combo_name(self, combo: tuple[int, int, int]) -> list[Any]:
        ri, ti, ci = combo
        return [
            None if ri == 0 else self.axes[0].partitions[ri - 1],
            None if ti == 0 else self.axes[1].partitions[ti - 1],
            bool(ci),
        ]

    def _combo_of(self, name: Sequence[Any]) -> tuple[int, int, int]:
        return self.combo(name[0], name[1], bool(name[2]))


class _Present(dict[int, dict[int, tuple[int, int, int]] | None]):
    """The non-empty nodes of one combo by context (see ``Grid._present_of``), each
    context's map built when first read: a search reads about a third of them."""

    __slots__ = ("_contexts", "_bounds", "_parts", "_rows", "_base_rows")

    def __init__(
        self,
        contexts: list[int],
        bounds: list[int],
        parts: list[int],
        rows: list[int],
        base_rows: list[tuple[int, int, int]],
    ) -> None:
        super().__init__()
        # sorted contexts; context i's nodes are positions bounds[i]:bounds[i + 1]
        self._contexts, self._bounds = contexts, bounds
        self._parts, self._rows, self._base_rows = parts, rows, base_rows

    def __missing__(self, context: int) -> dict[int, tuple[int, int, int]] | None:
        i = bisect_left(self._contexts, context)
        found = None
        if i < len(self._contexts) and self._contexts[i] == context:
            lo, hi, base_rows = self._bounds[i], self._bounds[i + 1], self._base_rows
            found = dict(
                zip(self._parts[lo:hi], [base_rows[r] for r in self._rows[lo:hi]], strict=True)
            )
        self[context] = found
        return found


def _pack(combo: int, r: Any, t: Any, c: Any) -> Any:
    return (
        (
            (np.int64(combo) << _COMBO_SHIFT)
            | (np.int64(r) << _R_SHIFT)
            | (np.int64(t) << _T_SHIFT)
            | np.int64(c)
        )
        if isinstance(r, np.ndarray)
        else (combo << _COMBO_SHIFT) | (int(r) << _R_SHIFT) | (int(t) << _T_SHIFT) | int(c)
    )


def _in_order(present: dict[int, Any], ranked: tuple[list[int], dict[int, int]]) -> list[int]:
    """The partners to try among the ``present`` nodes, closest first (``ranked``: the
    partners in order and each one's rank): a few present are sorted by rank; when many
    are, the ordered partners themselves, and the caller skips the absent."""
    ordered, rank = ranked
    if len(present) > _FEW:
        return ordered
    if len(present) == 1:
        return [y for y in present if y in rank]
    return sorted(present.keys() & rank.keys(), key=rank.__getitem__)


def _unpack(key: int) -> tuple[int, int, int]:
    return (
        (key >> _R_SHIFT) & (_R_MAX - 1),
        (key >> _T_SHIFT) & (_T_MAX - 1),
        key & (_C_MAX - 1),
    )

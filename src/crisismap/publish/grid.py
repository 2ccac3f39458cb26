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

Works on arrays only: it imports no other step.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any

import numpy as np

ROOT = 0  # part number of the whole axis; part p of a partition is p + 1
_COMBO_SHIFT, _R_SHIFT, _T_SHIFT = 56, 36, 20
_R_MAX, _T_MAX, _C_MAX = 1 << 20, 1 << 16, 1 << 20
MAX_PARTNERS = 8  # partners tried per axis for one primary
MAX_TRIES = 24  # moves with every even corner non-empty, looked at per template
MAX_FEASIBLE = 16  # feasible moves compared per template
MAX_EVALUATED = 32  # feasible moves compared per primary, over every template
TOTAL_EVALUATED = 120_000  # ... and per release: large grids compare fewer per primary
TOTAL_WEIGHT = 8  # hiding a total costs this many times a cell of the same value, per axis


@dataclass(frozen=True)
class Axis:
    """One axis of the lattice: partitions of the base pairs, coarsest first.

    ``parts[:, i]`` is each pair's part in partition ``i`` (0-based), ``labels[i]`` the
    label of each part of partition ``i``.
    """

    name: str
    partitions: tuple[str, ...]
    parts: np.ndarray  # (n_pairs, n_partitions) int
    labels: tuple[tuple[str, ...], ...]
    structural: int = 0  # trailing partitions never published (e.g. week x month pieces)

    def __post_init__(self) -> None:
        if self.parts.ndim != 2 or self.parts.shape[1] != len(self.partitions):
            raise ValueError(f"axis {self.name}: parts must have one column per partition")
        if len(self.labels) != len(self.partitions):
            raise ValueError(f"axis {self.name}: one label list per partition")


class UnprotectableError(ValueError):
    """A figure cannot be hidden without changing a figure an earlier release published."""


@dataclass
class _AxisIndex:
    """Atoms (distinct part tuples) of one axis, their parts with ROOT, and siblings."""

    up: np.ndarray  # (n_atoms, n_partitions + 1): column 0 ROOT, then part + 1
    atom_of: dict[tuple[int, int], int]  # (partition column, part number) -> one atom in it
    partners: dict[tuple[int, int], list[int]]  # (column, part) -> candidate partner parts
    coarser: dict[tuple[int, int], list[tuple[int, ...]]]  # (column, part) -> its atoms' parts
    label_to_part: list[dict[str, int]]  # per partition: label -> part number (1-based)
    _closest: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    rows: list[list[int]] = field(default_factory=list)  # ``up`` as lists: fast scalar reads

    def __post_init__(self) -> None:
        self.rows = self.up.tolist()

    @classmethod
    def build(cls, axis: Axis) -> tuple[_AxisIndex, np.ndarray]:
        parts = np.asarray(axis.parts, dtype=np.int64)
        if len(parts):
            atoms, atom_of_pair = np.unique(parts, axis=0, return_inverse=True)
        else:
            atoms, atom_of_pair = np.zeros((0, parts.shape[1]), np.int64), np.zeros(0, np.int64)
        n_atoms, n_parts = atoms.shape
        up = np.zeros((n_atoms, n_parts + 1), np.int64)
        up[:, 1:] = atoms + 1
        atom_of: dict[tuple[int, int], int] = {}
        for col in range(1, n_parts + 1):
            values, first = np.unique(up[:, col], return_index=True)
            atom_of.update(((col, int(v)), int(a)) for v, a in zip(values, first, strict=True))
        partners: dict[tuple[int, int], list[int]] = {}
        coarser: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for col in range(1, n_parts + 1):
            partners.update(_partners(up, col))
            for row in np.unique(up[:, : col + 1], axis=0).tolist():
                coarser.setdefault((col, row[col]), []).append(tuple(row[1:col]))
        label_to_part = [{label: i + 1 for i, label in enumerate(labels)} for labels in axis.labels]
        return cls(up, atom_of, partners, coarser, label_to_part), atom_of_pair

    def closest(self, col: int, part: int, atom: int) -> list[int]:
        """``candidates`` ordered by how many coarser parts they share with ``atom`` (a
        week that a year end cuts is paired with a week of the same year as the record)."""
        mine = self.rows[atom][1:col]
        candidates = self.partners.get((col, part), [])
        memo_key = (col, part, tuple(mine))
        cached = self._closest.get(memo_key)
        if cached is not None:
            return cached

        def shared(part: int) -> int:
            return (
                max(
                    sum(a == b for a, b in zip(mine, other, strict=True))
                    for other in self.coarser.get((col, part), [()])
                )
                if mine
                else 0
            )

        ordered = sorted(candidates, key=lambda q: -shared(q))
        self._closest[memo_key] = ordered
        return ordered


def _partners(up: np.ndarray, col: int) -> dict[tuple[int, int], list[int]]:
    """Candidate partners of each part of a partition, closest first.

    Closest: parts sharing the coarser parts of the part's atoms (same parent region, same
    month for a week), nearest in order (adjacent periods); then the nearest others. A move
    between close parts changes no coarser figure.
    """
    used = np.unique(up[:, col])
    order = {int(p): i for i, p in enumerate(used.tolist())}
    # the coarser parts of one atom of each part (col 0 is ROOT: all share it)
    first = np.unique(up[:, col], return_index=True)[1]
    coarser = {int(up[a, col]): tuple(up[a, :col].tolist()) for a in first}
    groups: dict[tuple[int, ...], list[int]] = {}
    for p in used.tolist():
        groups.setdefault(coarser[p], []).append(p)
    out: dict[tuple[int, int], list[int]] = {}
    listed = used.tolist()
    for p in listed:
        near = sorted((q for q in groups[coarser[p]] if q != p), key=lambda q: abs(q - p))
        near = near[: 2 * MAX_PARTNERS]
        i = order[p]
        seen = set(near)
        others: list[int] = []
        for step in range(1, len(listed)):
            for j in (i - step, i + step):
                if 0 <= j < len(listed) and listed[j] != p and listed[j] not in seen:
                    others.append(listed[j])
            if len(others) >= MAX_PARTNERS:
                break
        out[(col, p)] = near + others[:MAX_PARTNERS]
    return out


@dataclass
class Grid:
    """The lattice of one dataset, and what has been hidden and published from it."""

    k: int
    axes: tuple[Axis, Axis, Axis]
    index: tuple[_AxisIndex, _AxisIndex, _AxisIndex]
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
    _first_base: dict[int, dict[int, int]] = field(default_factory=dict)
    _free_index: dict[tuple[int, int], tuple[list[int], list[int]]] = field(default_factory=dict)

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
        indexed = [_AxisIndex.build(axis) for axis in (region, time, category)]
        index = tuple(i for i, _ in indexed)
        atoms = np.column_stack([a for _, a in indexed]) if n else np.zeros((0, 3), np.int64)
        base, inverse = (
            np.unique(atoms, axis=0, return_inverse=True)
            if n
            else (np.zeros((0, 3), np.int64), np.zeros(0, np.int64))
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
        keys = np.empty((len(base), len(combos)), np.int64)
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
        flat = keys[:, shown].reshape(-1)
        nodes, where = np.unique(flat, return_inverse=True)
        reps = np.repeat(np.arange(len(base)), len(shown))
        values = np.bincount(where, weights=count[reps], minlength=len(nodes)).astype(np.int64)
        node_victims = np.bincount(where, weights=base_victims[reps], minlength=len(nodes))
        node_known = np.bincount(where, weights=base_known[reps], minlength=len(nodes))
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
        # combo id << shift, as [region column][time column][category column]
        n_r, n_t = self.index[0].up.shape[1], self.index[1].up.shape[1]
        ids = self._combo_index
        self._combo_keys = [
            [[ids[(ri, ti, ci)] << _COMBO_SHIFT for ci in range(2)] for ti in range(n_t)]
            for ri in range(n_r)
        ]
        self._plans: dict[tuple[int, ...], list[tuple[bool, bool, bool, int]]] = {}
        self._finest_of = [[row[-1] for row in self.index[d].rows] for d in range(3)]
        self._base_rows = [tuple(row) for row in self.base.tolist()]
        self._count = {
            (int(r), int(t), int(c)): int(n)
            for (r, t, c), n in zip(self.base.tolist(), self.base_count.tolist(), strict=True)
        }

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
        primaries = [key for key in self.node_keys[small].tolist() if key not in self.hidden]
        primaries.sort(key=lambda key: (-self._roots(key), key))
        published_ids = {self._combo_index.get(c) for c in self.published}
        self._evaluate = max(2, min(MAX_EVALUATED, TOTAL_EVALUATED // max(len(primaries), 1)))
        done = 0
        for key in primaries:
            if key in self.hidden:
                continue
            affected = self._protect(key, published_ids)
            self.hidden.update(affected)
            done += 1
        self.published.update(wanted)
        return done

    def _roots(self, key: int) -> int:
        return self._root_count[key >> _COMBO_SHIFT]

    def _protect(self, key: int, published_ids: set[int]) -> set[int]:
        combo_id = key >> _COMBO_SHIFT
        combo = self.combos[combo_id]
        parts = _unpack(key)
        splittable = [d for d in range(3) if combo[d] != 0]
        templates = [
            tuple(d)
            for size in range(len(splittable), -1, -1)
            for d in combinations(splittable, size)
        ]
        best: tuple[float, set[int]] | None = None
        budget = self._evaluate
        for template in templates:
            tried = 0
            for move in self._candidates(combo_id, combo, parts, template):
                tried += 1
                budget -= 1
                if tried > min(MAX_FEASIBLE, self._evaluate) or budget < 0:
                    break
                affected = self._affected(move)
                if key not in affected or self._blocked(affected, published_ids):
                    continue
                cost, cheap = self._cost(affected)
                if best is None or cost < best[0]:
                    best = (cost, affected)
                if cheap:  # hides nothing of k or more that is not hidden already
                    return affected
            if budget < 0:
                break
        if best is not None:
            return best[1]
        raise UnprotectableError(
            "A small figure of this export cannot be hidden without changing a figure an "
            "earlier public release of the same data already published. Publish a coarser "
            "table (a coarser period or region level), or start a new release series."
        )

    def _candidates(
        self,
        combo_id: int,
        combo: tuple[int, int, int],
        parts: tuple[int, int, int],
        template: tuple[int, ...],
    ) -> Iterable[list[tuple[int, int, int, int]]]:
        """Moves (base cells as atom triples with signs) pairing on the ``template`` axes."""
        rep = self._rep(combo_id, parts)
        if rep is None:
            return
        # Every corner is built from one atom per axis and side (the primary's, or one
        # partner atom), so the move factorises over the axes: it sums to zero on every
        # node that holds both sides of some paired axis, whatever its other parts.
        finest = [self.index[d].up.shape[1] - 1 for d in range(3)]
        x_part = [self.index[d].rows[rep[d]][finest[d]] for d in range(3)]
        choices = [self.index[d].closest(combo[d], parts[d], rep[d]) for d in template]
        if any(not c for c in choices):
            return
        corners = list(product((0, 1), repeat=len(template)))
        even = [bits for bits in corners[1:] if sum(bits) % 2 == 0]
        ordered = dict(zip(template, choices, strict=True))
        ranks = {d: {y: i for i, y in enumerate(ordered[d])} for d in template} if even else {}
        tries = 0
        for y_atom in self._search(combo, template, even, x_part, finest, ordered, ranks, {}):
            tries += 1
            if tries > MAX_TRIES:
                return
            for d in template:
                if d not in y_atom:  # a one-axis move: any atom of the closest partner
                    y_atom[d] = self.index[d].atom_of[(combo[d], ordered[d][0])]
            yield from self._moves(rep, template, corners, y_atom)
        if not even and template:  # one-axis moves: the next closest partners too
            d = template[0]
            for y in ordered[d][1:MAX_PARTNERS]:
                atom = {d: self.index[d].atom_of[(combo[d], y)]}
                yield from self._moves(rep, template, corners, atom)

    def _moves(
        self,
        rep: tuple[int, int, int],
        template: tuple[int, ...],
        corners: list[tuple[int, ...]],
        y_atom: dict[int, int],
    ) -> Iterable[list[tuple[int, int, int, int]]]:
        """The move of one choice of partner atoms, unless it would empty a base cell."""
        plan = self._plans.get(template)
        if plan is None:  # per corner: which axes take the partner's atom, and the sign
            plan = []
            for bits in corners:
                on = dict(zip(template, bits, strict=True))
                plan.append((*(bool(on.get(d)) for d in range(3)), -1 if sum(bits) % 2 else 1))
            self._plans[template] = plan
        count = self._count
        r0, r1, r2 = rep
        y0, y1, y2 = y_atom.get(0, r0), y_atom.get(1, r1), y_atom.get(2, r2)
        move = []
        for on0, on1, on2, sign in plan:
            cell = (y0 if on0 else r0, y1 if on1 else r1, y2 if on2 else r2)
            if sign > 0 and count.get(cell, 0) < 1:
                return  # taking the move away would leave a negative count
            move.append((*cell, sign))
        yield move

    def _search(
        self,
        combo: tuple[int, int, int],
        template: tuple[int, ...],
        even: list[tuple[int, ...]],
        x_part: list[int],
        finest: list[int],
        ordered: dict[int, list[int]],
        ranks: dict[int, dict[int, int]],
        y_atom: dict[int, int],
    ) -> Iterable[dict[int, int]]:
        """Partner atoms for which every even corner (taken away with the primary) holds
        incidents, found among the nodes that hold some (not by trying every partner).

        Partners are tried closest first (their rank in ``ordered``); only those the
        corner's non-empty nodes hold are looked at (most corners hold none or a few)."""
        if not even:
            yield dict(y_atom)
            return
        bits, rest = even[0], even[1:]
        lookup, node = list(finest), list(x_part)
        unknown = []
        for d, bit in zip(template, bits, strict=True):
            if not bit:
                continue
            if d in y_atom:
                node[d] = self._finest_of[d][y_atom[d]]
            else:
                lookup[d] = combo[d]
                unknown.append(d)
        combo_id = self._combo_index[tuple(lookup)]
        table = self._table(combo_id)
        head = combo_id << _COMBO_SHIFT
        if not unknown:
            if head | (node[0] << _R_SHIFT) | (node[1] << _T_SHIFT) | node[2] in table:
                yield from self._search(
                    combo, template, rest, x_part, finest, ordered, ranks, y_atom
                )
            return
        first, free = (None, unknown[0]) if len(unknown) == 1 else (unknown[0], unknown[1])
        rank, base_rows = ranks[free], self._base_rows
        for y_first in [None] if first is None else ordered[first]:
            if first is not None:
                node[first] = y_first
            present = self._free(combo_id, free, node)
            if not present:
                continue
            # closest partners first; each is the part of a non-empty node
            for _, y in sorted((rank[y], y) for y in present if y in rank):
                node[free] = y
                found = base_rows[
                    table[head | (node[0] << _R_SHIFT) | (node[1] << _T_SHIFT) | node[2]]
                ]
                known = dict(y_atom)
                for d in unknown:
                    known[d] = found[d]
                yield from self._search(
                    combo, template, rest, x_part, finest, ordered, ranks, known
                )

    def _free(self, combo_id: int, free: int, node: list[int]) -> list[int]:
        """Parts on axis ``free`` of the non-empty nodes that match ``node`` elsewhere."""
        index = self._free_index.get((combo_id, free))
        if index is None:
            nodes = np.fromiter(self._table(combo_id).keys(), np.int64)
            shift = (_R_SHIFT, _T_SHIFT, 0)[free]
            width = (_R_MAX, _T_MAX, _C_MAX)[free]
            mask = np.int64((width - 1) << shift)
            context = nodes & ~mask
            order = np.argsort(context, kind="stable")
            index = (context[order].tolist(), ((nodes[order] & mask) >> shift).tolist())
            self._free_index[(combo_id, free)] = index
        contexts, parts = index
        parts_of = [node[0], node[1], node[2]]
        parts_of[free] = 0
        key = (
            (combo_id << _COMBO_SHIFT)
            | (parts_of[0] << _R_SHIFT)
            | (parts_of[1] << _T_SHIFT)
            | parts_of[2]
        )
        return parts[bisect_left(contexts, key) : bisect_right(contexts, key)]

    def _table(self, combo_id: int) -> dict[int, int]:
        table = self._first_base.get(combo_id)
        if table is None:
            nodes, first = np.unique(self.keys[:, combo_id], return_index=True)
            table = dict(zip(nodes.tolist(), first.tolist(), strict=True))
            self._first_base[combo_id] = table
        return table

    def _rep(self, combo_id: int, parts: tuple[int, int, int]) -> tuple[int, int, int] | None:
        """A base cell with incidents inside the node (None when the node is empty)."""
        row = self._table(combo_id).get(
            (combo_id << _COMBO_SHIFT) | (parts[0] << _R_SHIFT) | (parts[1] << _T_SHIFT) | parts[2]
        )
        return None if row is None else self._base_rows[row]  # type: ignore[return-value]

    def _affected(self, move: list[tuple[int, int, int, int]]) -> set[int]:
        """Nodes on which the move does not sum to zero.

        The move factorises over the axes (one atom per side), so a node's sum is the
        product of one factor per axis: on a paired axis +1 / -1 for parts holding only
        the primary's / only the partner's atom, 0 where both or neither; on an unpaired
        axis 1 for every part holding the atom.
        """
        x = move[0]
        y = move[-1]  # the corner opposite the primary: the partner on every paired axis
        factors = []
        for d in range(3):
            rows = self.index[d].rows
            # structural pieces are never published: nothing to hide there
            width = self._widths[d]
            xs = rows[x[d]]
            if x[d] == y[d]:
                factors.append([(col, xs[col]) for col in range(width)])
            else:
                ys = rows[y[d]]
                entries = []
                for col in range(width):
                    a, b = xs[col], ys[col]
                    if a != b:
                        entries += [(col, a), (col, b)]
                factors.append(entries)
        # the category part of a combo over all categories is ROOT (0): no test needed
        shifted, out = self._combo_keys, set()
        add = out.add
        for ri, r in factors[0]:
            r_bits, by_time = r << _R_SHIFT, shifted[ri]
            for ti, t in factors[1]:
                head, by_cat = r_bits | (t << _T_SHIFT), by_time[ti]
                for ci, c in factors[2]:
                    add(by_cat[ci] | head | c)
        return out

    def _blocked(self, affected: set[int], published_ids: set[int]) -> bool:
        if not published_ids:
            return False
        return any(
            (node >> _COMBO_SHIFT) in published_ids and node not in self.hidden for node in affected
        )

    def _cost(self, affected: set[int]) -> tuple[float, bool]:
        """What hiding ``affected`` costs (totals weigh more), and whether it is cheap:
        nothing newly hidden holds ``k`` or more incidents."""
        cost = 0.0
        cheap = True
        hidden, values, weights, k = self.hidden, self.values, self._weights, self.k
        for node in affected:
            if node in hidden:
                continue
            weight = weights[node >> _COMBO_SHIFT]
            if weight is None:  # a structural piece: never published
                continue
            value = values.get(node, 0)
            cost += (value + 1) * weight
            if value >= k:
                cheap = False
        return cost, cheap

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
            "hidden": sorted(self.hidden),
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


def _unpack(key: int) -> tuple[int, int, int]:
    return (
        (key >> _R_SHIFT) & (_R_MAX - 1),
        (key >> _T_SHIFT) & (_T_MAX - 1),
        key & (_C_MAX - 1),
    )

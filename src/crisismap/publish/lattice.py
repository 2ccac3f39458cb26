"""The publication grid's axes and their indexes: which parts each base pair is in, which
parts are siblings, and the row numbering the lattice is built on.

Split from :mod:`crisismap.publish.grid` (the protection that reads them). Works on
arrays only: it imports no other step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_PARTNERS = 8  # partners tried per axis for one primary


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


@dataclass
class AxisIndex:
    """Atoms (distinct part tuples) of one axis, their parts with ROOT, and siblings."""

    up: np.ndarray  # (n_atoms, n_partitions + 1): column 0 ROOT, then part + 1
    atom_of: dict[tuple[int, int], int]  # (partition column, part number) -> one atom in it
    partners: dict[tuple[int, int], list[int]]  # (column, part) -> candidate partner parts
    coarser: dict[tuple[int, int], list[tuple[int, ...]]]  # (column, part) -> its atoms' parts
    label_to_part: list[dict[str, int]]  # per partition: label -> part number (1-based)
    _closest: dict[tuple[Any, ...], tuple[list[int], dict[int, int]]] = field(default_factory=dict)
    # closest() by (column, part, atom): the search reads it directly (one call less
    # per primary and axis) and calls closest() only on a miss
    closest_of: dict[tuple[int, int, int], tuple[list[int], dict[int, int]]] = field(
        default_factory=dict
    )
    rows: list[list[int]] = field(default_factory=list)  # ``up`` as lists: fast scalar reads

    def __post_init__(self) -> None:
        self.rows = self.up.tolist()

    @classmethod
    def build(cls, axis: Axis) -> tuple[AxisIndex, np.ndarray]:
        parts = np.asarray(axis.parts, dtype=np.int64)
        if len(parts):
            atoms, atom_of_pair = unique_rows(parts)
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
            partners.update(partners_of(up, col))
            for row in unique_rows(up[:, : col + 1])[0].tolist():
                coarser.setdefault((col, row[col]), []).append(tuple(row[1:col]))
        label_to_part = [{label: i + 1 for i, label in enumerate(labels)} for labels in axis.labels]
        return cls(up, atom_of, partners, coarser, label_to_part), atom_of_pair

    def closest(self, col: int, part: int, atom: int) -> tuple[list[int], dict[int, int]]:
        """``candidates`` ordered by how many coarser parts they share with ``atom`` (a
        week that a year end cuts is paired with a week of the same year as the record),
        and each one's rank in that order."""
        cached = self.closest_of.get((col, part, atom))
        if cached is not None:
            return cached
        mine = self.rows[atom][1:col]
        candidates = self.partners.get((col, part), [])
        memo_key = (col, part, tuple(mine))
        cached = self._closest.get(memo_key)
        if cached is None:

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
            cached = (ordered, {q: i for i, q in enumerate(ordered)})
            self._closest[memo_key] = cached
        self.closest_of[(col, part, atom)] = cached
        return cached


def partners_of(up: np.ndarray, col: int) -> dict[tuple[int, int], list[int]]:
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


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` (inverse flat) for integer rows:
    sorted on one mixed-radix int64 per row, not on rows compared as bytes records."""
    rows = np.asarray(rows)
    if rows.ndim != 2 or not len(rows) or rows.dtype.kind not in "iu" or rows.min() < 0:
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    sizes = [int(top) + 1 for top in rows.max(axis=0).tolist()]
    if float(np.prod(sizes, dtype=float)) >= 2.0**62:
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    code = np.zeros(len(rows), np.int64)
    for col, size in enumerate(sizes):  # first column most significant: row order
        code = code * size + rows[:, col]
    codes, inverse = np.unique(code, return_inverse=True)
    unique = np.empty((len(codes), len(sizes)), rows.dtype)
    for col in range(len(sizes) - 1, -1, -1):
        codes, unique[:, col] = np.divmod(codes, sizes[col])
    return unique, inverse.reshape(-1)


def nodes_of(
    keys: np.ndarray,
    combo: tuple[int, int, int],
    index: Sequence[AxisIndex],
    base: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``keys`` of one combo's base cells, and each cell's position
    in them (``np.unique``'s, without its sort when the combo's parts number few)."""
    parts = [index[d].up[base[:, d], col] for d, col in enumerate(combo[:2])]
    parts.append(index[2].up[base[:, 2], 1] if combo[2] else np.zeros(len(base), np.int64))
    sizes = [int(p.max(initial=0)) + 1 for p in parts]
    size = sizes[0] * sizes[1] * sizes[2]
    if size > max(4 * len(keys), 1 << 16):  # sparse: sort
        nodes, where = np.unique(keys, return_inverse=True)
        return nodes, where.reshape(-1)
    # dense: numbered in (region, time, category) part order, the order of their keys
    dense = (parts[0] * sizes[1] + parts[1]) * sizes[2] + parts[2]
    seen = np.zeros(size, bool)
    seen[dense] = True
    used = np.flatnonzero(seen)
    position = np.zeros(size, np.int64)
    position[used] = np.arange(len(used))
    where = position[dense]
    nodes = np.empty(len(used), np.int64)
    nodes[where] = keys  # every cell of a node has its key
    return nodes, where

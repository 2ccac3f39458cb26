"""The grid over one boundary level: most points find their region without an exact test.

The grid is built from the boundary segments in a few vectorised passes: a cell that no
boundary touches holds the region painted at its centre by ray parity (the rule of
GEOS's prepared test); a cell a boundary may touch lists its candidate polygons, and
where one call's points crowd in such cells they are subdivided into blocks of sub-cells,
classified the same way and kept for later calls. Only points in touched (sub-)cells get
the exact test, against those candidates, so results are identical to the exact method.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from crisismap import parallel
from crisismap.join._arrays import _distinct, _ramp, _ramp_from
from crisismap.join.index import _NO_REGION, _LevelIndex

# Inputs with at least this many points build (or reuse) the grid index.
GRID_MIN_POINTS = 100_000
# Upper bound on root grid cells per level (int32 each: 8 MB at most); crowded cells near
# boundaries are refined by subdivision, so a finer root costs more than it saves.
GRID_MAX_CELLS = 2_000_000
# A mixed cell is subdivided when one call would test this many (point, polygon) pairs
# in it; a block costs about as much as 100 exact tests.
SUBDIVIDE_MIN_PAIRS = 128
_SUB = 16  # sub-cells a side in a block
_MAX_DEPTH = 3  # blocks within blocks
_MAX_BLOCKS = 8192  # per level: _SUB² int32 each, 8 MB
_PLANES = np.array([np.zeros((3, 3)), [[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.zeros((3, 3))])
_LITTLE_ENDIAN = sys.byteorder == "little"


@dataclass
class _Grid:
    """Cell → region lookup over a level, refined where points crowd near boundaries.

    A cell value ≥ 0 is a region, -1 no region, ≤ -2 the *entry* ``-(v + 2)`` of a mixed
    cell (one a boundary may cross, or where polygons overlap). An entry lists its
    candidate regions (``cands[e_first:e_stop]``, -1 until a call first needs them) and may
    be subdivided into a block of ``_SUB`` × ``_SUB`` sub-cells with values of the same
    kind. Root cells use ``floor((x - x0) / size)``; a block's sub-cells use
    ``floor((x - b_x0) / b_size)`` clipped to the block, so every cell at every depth is a
    box, and a box that no boundary touches lies wholly inside or outside each polygon.
    """

    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    eps: float  # bound on the rounding of interpolated boundary points
    cells: np.ndarray = field(default_factory=lambda: _empty(np.int32))  # per root cell
    # Boundary runs: segments first … stop - 1 of one polygon's ring touch the root cell;
    # sorted by cell. Candidates and subdivisions read them.
    run_cell: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_owner: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_first: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_stop: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # Entries (int32): the cell (root) or sub-cell (in its block), the block holding it
    # (-1: root), the block subdividing it (-1: none), its candidates (-1: not yet) and,
    # for root entries, the polygon painted at its centre (-1 none, -2 several).
    e_where: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_block: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_child: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_first: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_stop: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_inside: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    cands: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # Blocks: _SUB² values each, the origin and sub-cell size, the root cell and depth.
    blocks: np.ndarray = field(default_factory=lambda: _empty(np.int32).reshape(0, _SUB**2))
    b_x0: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_y0: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_size: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_root: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    b_depth: np.ndarray = field(default_factory=lambda: _empty(np.int8))


def _empty(dtype: Any) -> np.ndarray:
    """A table with no rows yet."""
    return np.empty(0, dtype=dtype)


def _index_1d(values: np.ndarray, origin: float, size: float, n: int) -> np.ndarray:
    """``floor((v - origin) / size)`` clipped to 0 … n - 1: monotone in v (not NaN)."""
    cell = values - origin
    cell /= size
    np.clip(cell, 0, n - 1, out=cell)  # then truncating is flooring
    return cell.astype(np.int32)


def _sub_index(values: np.ndarray, origin: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Sub-cell column (or row) in blocks at ``origin`` with sub-cells of ``size``."""
    cell = values - origin
    cell /= size
    np.clip(cell, 0, _SUB - 1, out=cell)
    return cell.astype(np.int32)


# --- building the grid ---------------------------------------------------------------------


def _ensure_grid(
    index: _LevelIndex, valid: np.ndarray, coords: np.ndarray | None
) -> np.ndarray | None:
    """Build the level's grid once a call brings enough points; the coordinates read for it
    (or ``coords``, the ones hashed for the cache key) are returned for the lookup."""
    if index.grid is None and valid.sum() >= GRID_MIN_POINTS and index.has_area:
        with index.lock:
            if index.grid is None:
                if coords is None:
                    coords = shapely.get_coordinates(index.geoms)
                index.grid = _build_grid(index, coords)
                if index.grid is None:  # e.g. non-finite coordinates: exact tests only
                    index.rings = None
    return coords


def _build_grid(index: _LevelIndex, coords: np.ndarray) -> _Grid | None:
    """The root grid: cells no boundary touches hold their region, painted by ray parity."""
    rings = index.rings
    if rings is None or len(coords) == 0:
        return None
    xmin, ymin, xmax, ymax = shapely.total_bounds(index.geoms)
    if not np.isfinite(coords[:, 0].sum() + coords[:, 1].sum()):  # no NaN nor inf
        return None
    eps = 1e-11 * max(1.0, float(np.abs([xmin, ymin, xmax, ymax]).max()))
    width, height = max(xmax - xmin, 1e4 * eps), max(ymax - ymin, 1e4 * eps)
    # Finer grids for more detailed boundaries: fewer points need the exact test.
    max_cells = min(max(1000 * len(coords), 2**16), GRID_MAX_CELLS)
    size = max(np.sqrt(width * height / max_cells), 1e4 * eps)
    nx, ny = int(width / size) + 1, int(height / size) + 1
    while nx * ny > max_cells:
        size *= 1.01
        nx, ny = int(width / size) + 1, int(height / size) + 1
    grid = _Grid(float(xmin), float(ymin), float(size), nx, ny, eps)
    _, (count, painted) = parallel.run_all(
        [
            lambda: _root_runs(grid, coords, rings.lengths, rings.owners),
            lambda: _paint(grid, coords, rings.lengths, rings.owners),
        ]
    )
    mixed = count > 1  # overlapping polygons: the exact test settles
    mixed[grid.run_cell] = True
    entries = np.flatnonzero(mixed)
    del mixed
    cells = painted - 1
    cells[count != 1] = _NO_REGION
    del painted
    region = cells[entries]
    cells[entries] = -(np.arange(len(entries), dtype=np.int32) + 2)
    grid.cells = cells
    inside = np.where(count[entries] > 1, -2, region)
    _add_entries(grid, entries, np.full(len(entries), -1), -1, -1, inside)
    return grid


def _add_entries(
    grid: _Grid,
    where: np.ndarray,
    block: np.ndarray,
    first: np.ndarray | int,
    stop: np.ndarray | int,
    inside: np.ndarray | int,
) -> None:
    """Append entries (scalars apply to every new entry); none has a block yet."""
    n = len(where)
    grow = {
        "e_where": where,
        "e_block": block,
        "e_child": -1,
        "e_first": first,
        "e_stop": stop,
        "e_inside": inside,
    }
    for name, values in grow.items():
        new = np.broadcast_to(np.asarray(values, dtype=np.int32), (n,))
        setattr(grid, name, np.concatenate([getattr(grid, name), new]))


def _root_runs(grid: _Grid, coords: np.ndarray, lengths: np.ndarray, owners: np.ndarray) -> None:
    """Every root cell each boundary segment may touch, as runs of consecutive segments.

    Consecutive points of a ring in one cell make a run (with the segments entering and
    leaving the cell). A segment lies in the box of its end points, so the cells between
    its end points' cells hold it (the index is monotone): a segment moving diagonally
    also touches the two other corners; one spanning more cells is followed column by
    column.
    """
    nx = grid.nx
    vx = _index_1d(coords[:, 0], grid.x0, grid.size, grid.nx)
    vy = _index_1d(coords[:, 1], grid.y0, grid.size, grid.ny)
    cell = vy * nx + vx
    n = len(cell)
    ring_start = np.zeros(n + 1, dtype=bool)
    ring_start[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
    ring_start[n] = True
    begins = np.empty(n, dtype=bool)
    begins[0] = True
    np.not_equal(cell[1:], cell[:-1], out=begins[1:])
    begins |= ring_start[:n]
    s = np.flatnonzero(begins)
    e = np.append(s[1:], n)
    entering, leaving = ~ring_start[s], ~ring_start[e]
    first, stop = s - entering, e - 1 + leaving  # segment k joins points k and k + 1
    # Segments leaving a cell: the corners they cut, or pieces when they span far.
    k = e[leaving] - 1
    ax, ay, bx, by = vx[k], vy[k], vx[k + 1], vy[k + 1]
    far = (np.abs(bx - ax) > 1) | (np.abs(by - ay) > 1)
    diagonal = ~far & (ax != bx) & (ay != by)
    d = np.flatnonzero(diagonal)
    long_cells, long_segs = _long_segment_cells(grid, coords, k[far], vx)
    cells = [cell[s], ay[d] * nx + bx[d], by[d] * nx + ax[d], long_cells]
    firsts = [first, k[d], k[d], long_segs]
    keep = np.concatenate([stop > first, np.ones(2 * len(d) + len(long_cells), dtype=bool)])
    grid.run_cell = np.concatenate(cells).astype(np.int32)[keep]
    grid.run_first = np.concatenate(firsts).astype(np.int32)[keep]
    grid.run_stop = np.concatenate([stop, k[d] + 1, k[d] + 1, long_segs + 1]).astype(np.int32)[keep]
    grid.run_owner = np.repeat(owners.astype(np.int32), lengths)[grid.run_first]
    order = np.argsort(grid.run_cell)  # by cell, for _runs_of
    for name in ("run_cell", "run_owner", "run_first", "run_stop"):
        setattr(grid, name, getattr(grid, name)[order])


def _runs_of(grid: _Grid, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``cells``, run) for every boundary run in each of the root cells."""
    lo = np.searchsorted(grid.run_cell, cells, side="left")
    hi = np.searchsorted(grid.run_cell, cells, side="right")
    return np.repeat(np.arange(len(cells)), hi - lo), _ramp_from(lo, hi - lo)


def _long_segment_cells(
    grid: _Grid, coords: np.ndarray, seg: np.ndarray, vx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, segment) for segments spanning several root cells: column by column, the
    rows the segment crosses there.

    The column lines are computed, so each column's stretch of the segment is widened by
    ``eps`` (in x, hence in its parameter t) before its rows are read.
    """
    c0, c1 = np.minimum(vx[seg], vx[seg + 1]), np.maximum(vx[seg], vx[seg + 1])
    which = np.repeat(np.arange(len(seg)), c1 - c0 + 1)
    col = c0[which] + _ramp(c1 - c0 + 1)
    k = seg[which]
    ax, ay = coords[k, 0], coords[k, 1]
    dx, dy = coords[k + 1, 0] - ax, coords[k + 1, 1] - ay
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = (grid.x0 + col * grid.size - ax) / dx
        tb = (grid.x0 + (col + 1) * grid.size - ax) / dx
        widen = grid.eps / np.abs(dx)
    upright = dx == 0  # one column: all of it
    t0 = np.where(upright, 0.0, np.clip(np.minimum(ta, tb) - widen, 0.0, 1.0))
    t1 = np.where(upright, 1.0, np.clip(np.maximum(ta, tb) + widen, 0.0, 1.0))
    y0, y1 = ay + t0 * dy, ay + t1 * dy
    low = _index_1d(np.minimum(y0, y1) - grid.eps, grid.y0, grid.size, grid.ny)
    high = _index_1d(np.maximum(y0, y1) + grid.eps, grid.y0, grid.size, grid.ny)
    cells, rect = _rect_cells(col, col, low, high, grid.nx)
    return cells.astype(np.int32), seg[which[rect]]


def _rect_cells(
    x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray, nx: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells of each box of cells [x0, x1] × [y0, y1], and the box each came from."""
    w, h = (x1 - x0 + 1).astype(np.int64), (y1 - y0 + 1).astype(np.int64)
    which = np.repeat(np.arange(len(w)), w * h)
    k = _ramp(w * h)
    col = x0[which] + k % w[which]
    row = y0[which] + k // w[which]
    return row.astype(np.int64) * nx + col, which


def _paint(
    grid: _Grid, coords: np.ndarray, lengths: np.ndarray, owners: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per root cell: how many polygons hold its centre, and the sum of their indices + 1
    (the polygon's index + 1 when it is one).

    Even-odd ray crossings along each row of centres, like GEOS's point-in-area test of
    prepared polygons. Only trusted where no boundary touches the cell: the centre is then
    half a cell from any boundary, far beyond rounding.
    """
    nx, ny, size = grid.nx, grid.ny, grid.size
    # Row r's centre line crosses the segments between points with different counts of
    # centres below them (a monotone count keeps the half-open rule consistent).
    below = np.ceil((coords[:, 1] - grid.y0) / size - 0.5)
    np.clip(below, 0, ny, out=below)
    below = below.astype(np.int32)
    crossing = np.diff(below)
    last = np.cumsum(lengths)[lengths > 0] - 1
    crossing[last[last < len(crossing)]] = 0  # from one ring to the next: no segment
    k = np.flatnonzero(crossing)
    n = np.abs(crossing[k]).astype(np.int64)
    del crossing
    up = coords[k + 1, 1] > coords[k, 1]
    lower = np.where(up, k, k + 1)  # the same edge of two neighbours: the same arithmetic
    upper = np.where(up, k + 1, k)
    px, py = coords[lower, 0], coords[lower, 1]
    slope = (coords[upper, 0] - px) / (coords[upper, 1] - py)
    ring = np.searchsorted(np.cumsum(lengths), k, side="right")
    which = np.repeat(np.arange(len(k)), n)
    rows = np.repeat(below[lower], n) + _ramp(n)
    yc = grid.y0 + (rows + 0.5) * size
    x = px[which] + (yc - py[which]) * slope[which]
    polygon = np.repeat(owners[ring].astype(np.int64), n)
    del which, k, n, up, lower, upper, px, py, slope, yc
    # Sort by (polygon, row, x): each polygon crosses each row an even number of times,
    # and consecutive pairs bound its inside.
    group = polygon * ny + rows
    if len(group) and int(group.max()) * nx < 2**40:  # x keeps ≥ 12 bits per cell
        order = np.argsort(group + np.clip((x - grid.x0) / (nx * size), 0.0, 0.999))
    else:
        order = np.lexsort((x, group))
    x, polygon, rows = x[order], polygon[order], rows[order]
    col = np.ceil((x - grid.x0) / size - 0.5)
    np.clip(col, 0, nx, out=col)
    col = col.astype(np.int64)
    start, stop = rows[0::2] * nx + col[0::2], rows[0::2] * nx + col[1::2]
    weight = (1 << 32) + polygon[0::2] + 1  # count in the high half, index + 1 low
    opens, closes = col[0::2] < nx, col[1::2] < nx  # none past the row's last centre
    painted = np.zeros(ny * nx, dtype=np.int64)
    np.add.at(painted, start[opens], weight[opens])
    np.subtract.at(painted, stop[closes], weight[closes])
    np.cumsum(painted.reshape(ny, nx), axis=1, out=painted.reshape(ny, nx))
    halves = painted.view(np.int32).reshape(-1, 2)[:, :: 1 if _LITTLE_ENDIAN else -1]
    return halves[:, 1], halves[:, 0]  # the index half wraps only where count > 1


# --- refining the grid where points are ------------------------------------------------------


def _root_candidates(index: _LevelIndex, grid: _Grid, entries: np.ndarray) -> None:
    """Candidates of root entries: polygons with a boundary run in the cell, and the
    polygon painted at its centre (exact for the others: their boundary is not there)."""
    cells = grid.e_where[entries]
    which, runs = _runs_of(grid, cells)
    inside = grid.e_inside[entries]
    entry = [entries[which], entries[inside >= 0]]
    poly = [grid.run_owner[runs], inside[inside >= 0]]
    several = np.flatnonzero(inside == -2)
    if len(several):
        which, poly_p = _probe_cells(index, grid, cells[several])
        entry.append(entries[several][which])
        poly.append(poly_p)
    n_polys = len(index.geoms)
    key = np.sort(np.concatenate(entry).astype(np.int64) * n_polys + np.concatenate(poly))
    key = _distinct(key)
    owner_entry = key // n_polys
    order = np.sort(entries)
    lo = np.searchsorted(owner_entry, order, side="left")
    hi = np.searchsorted(owner_entry, order, side="right")
    base = len(grid.cands)
    grid.e_first[order] = base + lo
    grid.e_stop[order] = base + hi
    grid.cands = np.concatenate([grid.cands, (key % n_polys).astype(np.int32)])


def _probe_cells(
    index: _LevelIndex, grid: _Grid, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``cells``, polygon) for every polygon holding the cell's centre (exact
    test); every polygon whose box meets the cell where the centre would fall outside it
    (rounding)."""
    col, row = cells % grid.nx, cells // grid.nx
    cx, cy = grid.x0 + (col + 0.5) * grid.size, grid.y0 + (row + 0.5) * grid.size
    ok = (_index_1d(cx, grid.x0, grid.size, grid.nx) == col) & (
        _index_1d(cy, grid.y0, grid.size, grid.ny) == row
    )
    query_i, poly_i = index.tree.query(shapely.points(cx, cy))
    inside = shapely.intersects_xy(index.geoms[poly_i], cx[query_i], cy[query_i])
    keep = inside & ok[query_i]
    which, poly = [query_i[keep]], [poly_i[keep]]
    if not ok.all():
        bad = np.flatnonzero(~ok)
        x0, y0 = grid.x0 + col[bad] * grid.size, grid.y0 + row[bad] * grid.size
        margin = grid.size
        boxes = shapely.box(x0 - margin, y0 - margin, x0 + 2 * margin, y0 + 2 * margin)
        query_i, poly_i = index.tree.query(boxes)
        which.append(bad[query_i])
        poly.append(poly_i)
    return np.concatenate(which), np.concatenate(poly)


def _entry_boxes(
    grid: _Grid, entries: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin x, origin y, size, root cell and depth of each entry's cell."""
    where, block = grid.e_where[entries], grid.e_block[entries]
    x0, y0 = np.full(len(entries), grid.x0), np.full(len(entries), grid.y0)
    size = np.full(len(entries), grid.size)
    col, row, root = where % grid.nx, where // grid.nx, where.copy()
    depth = np.zeros(len(entries), dtype=np.int8)
    inner = np.flatnonzero(block >= 0)
    if len(inner):
        b = block[inner]
        x0[inner], y0[inner], size[inner] = grid.b_x0[b], grid.b_y0[b], grid.b_size[b]
        col[inner], row[inner] = where[inner] % _SUB, where[inner] // _SUB
        root[inner], depth[inner] = grid.b_root[b], grid.b_depth[b]
    return x0 + col * size, y0 + row * size, size, root, depth


def _subdivide(index: _LevelIndex, grid: _Grid, targets: np.ndarray, coords: np.ndarray) -> None:
    """Give each target entry a block of sub-cells, classified like the root grid's."""
    ox, oy, size, root, depth = _entry_boxes(grid, targets)
    sub = size / _SUB
    n_sub = _SUB * _SUB
    mark, mark_poly = _sub_boundary_cells(grid, coords, ox, oy, sub, root)
    mixed = np.zeros(len(targets) * n_sub, dtype=bool)
    mixed[mark] = True
    from scipy import ndimage  # scipy costs ~0.1 s to import: only when a grid is refined

    # A connected set of unmarked sub-cells holds no boundary: one exact test per set.
    labels, n_sets = ndimage.label(~mixed.reshape(-1, _SUB, _SUB), structure=_PLANES)
    labels = labels.ravel()
    first = np.zeros(n_sets + 1, dtype=np.int64)
    first[labels[::-1]] = np.arange(len(labels) - 1, -1, -1)  # first cell of each set
    probe = first[1:]
    t, cell = probe // n_sub, probe % n_sub
    cx = ox[t] + (cell % _SUB + 0.5) * sub[t]
    cy = oy[t] + (cell // _SUB + 0.5) * sub[t]
    # The probe must reach this very sub-cell through the grid (rounding never moves it
    # half a sub-cell, but a set whose probe strays stays mixed all the same).
    ok = _lookup(grid, cx, cy) == -(targets[t] + 2)
    ok &= _sub_index(cx, ox[t], sub[t]) == cell % _SUB
    ok &= _sub_index(cy, oy[t], sub[t]) == cell // _SUB
    start, stop = grid.e_first[targets[t]], grid.e_stop[targets[t]]
    pair_probe = np.repeat(np.arange(len(probe)), stop - start)
    pair_poly = grid.cands[_ramp_from(start, stop - start)]
    hit = shapely.intersects_xy(index.geoms[pair_poly], cx[pair_probe], cy[pair_probe])
    hits = np.bincount(pair_probe[hit], minlength=len(probe))
    region = np.full(len(probe), _NO_REGION, dtype=np.int64)
    region[pair_probe[hit]] = pair_poly[hit]
    set_value = np.where(ok & (hits <= 1), region, -2)  # -2: still mixed
    values = np.concatenate(([-2], set_value))[labels]
    new = np.flatnonzero(values == -2)
    first_c, stop_c = _sub_candidates(grid, index, targets, values, new, mark, mark_poly)
    base_entry, base_block = len(grid.e_where), len(grid.blocks)
    values[new] = -(base_entry + np.arange(len(new)) + 2)
    _add_entries(grid, new % n_sub, base_block + new // n_sub, first_c, stop_c, -1)
    grid.blocks = np.concatenate([grid.blocks, values.reshape(-1, n_sub).astype(np.int32)])
    grid.b_x0 = np.concatenate([grid.b_x0, ox])
    grid.b_y0 = np.concatenate([grid.b_y0, oy])
    grid.b_size = np.concatenate([grid.b_size, sub])
    grid.b_root = np.concatenate([grid.b_root, root.astype(np.int32)])
    grid.b_depth = np.concatenate([grid.b_depth, (depth + 1).astype(np.int8)])
    grid.e_child[targets] = base_block + np.arange(len(targets), dtype=np.int32)


def _sub_candidates(
    grid: _Grid,
    index: _LevelIndex,
    targets: np.ndarray,
    values: np.ndarray,
    new: np.ndarray,
    mark: np.ndarray,
    mark_poly: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate ranges of new mixed sub-cells (flat positions ``new`` in the blocks).

    Next to a settled sub-cell (no boundary, value v), a polygon whose boundary misses the
    mixed one holds both or neither, so it is v: the candidates are the polygons marked
    in the sub-cell, plus v. Without a settled neighbour: the parent's candidates.
    """
    n_sub = _SUB * _SUB
    owner, cell = new // n_sub, new % n_sub
    col, row = cell % _SUB, cell // _SUB
    settled = np.full(len(new), -3, dtype=np.int64)  # -3: no settled neighbour
    for dc, dr in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        c, r = col + dc, row + dr
        inside = (c >= 0) & (c < _SUB) & (r >= 0) & (r < _SUB)
        near = owner * n_sub + np.clip(r, 0, _SUB - 1) * _SUB + np.clip(c, 0, _SUB - 1)
        v = np.where(inside, values[near], -2)
        take = (settled == -3) & (v >= -1)
        settled[take] = v[take]
    first = grid.e_first[targets][owner].astype(np.int64)
    stop = grid.e_stop[targets][owner].astype(np.int64)
    found = settled != -3
    if not found.any():
        return first, stop
    need = np.zeros(len(values), dtype=bool)
    need[new[found]] = True
    sel = need[mark]
    extra = found & (settled >= 0)
    n_polys = len(index.geoms)
    key = np.concatenate(
        [mark[sel] * n_polys + mark_poly[sel], new[extra] * n_polys + settled[extra]]
    )
    key = np.sort(key)
    key = _distinct(key)
    flat = key // n_polys
    base = len(grid.cands)
    first[found] = base + np.searchsorted(flat, new[found], side="left")
    stop[found] = base + np.searchsorted(flat, new[found], side="right")
    grid.cands = np.concatenate([grid.cands, (key % n_polys).astype(np.int32)])
    return first, stop


def _sub_boundary_cells(
    grid: _Grid,
    coords: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    sub: np.ndarray,
    root: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-cells (flat over the targets' blocks) that a boundary may touch, with the
    polygon of that boundary, for target cells at (ox, oy) cut in sub-cells of ``sub``.

    The segments come from the runs of each target's root cell. In sub-cell units, each
    is clipped to the target widened by a sub-cell (Liang–Barsky) and cut in pieces of at
    most one unit, whose boxes (widened by the rounding bound) give the sub-cells.
    """
    tgt, run = _runs_of(grid, root)
    length = (grid.run_stop[run] - grid.run_first[run]).astype(np.int64)
    tgt = np.repeat(tgt, length)
    poly = np.repeat(grid.run_owner[run], length)
    k = _ramp_from(grid.run_first[run].astype(np.int64), length)
    s = sub[tgt]
    u0 = (coords[k, 0] - ox[tgt]) / s
    v0 = (coords[k, 1] - oy[tgt]) / s
    du = (coords[k + 1, 0] - ox[tgt]) / s - u0
    dv = (coords[k + 1, 1] - oy[tgt]) / s - v0
    t0, t1 = np.zeros(len(k)), np.ones(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        for p0, d in ((u0, du), (v0, dv)):
            ta, tb = (-1.0 - p0) / d, (_SUB + 1.0 - p0) / d
            moving = d != 0
            t0 = np.where(moving, np.maximum(t0, np.minimum(ta, tb)), t0)
            t1 = np.where(moving, np.minimum(t1, np.maximum(ta, tb)), t1)
            t1[~moving & ((p0 < -1.0) | (p0 > _SUB + 1.0))] = -1.0
    keep = np.flatnonzero(t0 <= t1)
    tgt, poly, u0, v0, du, dv = tgt[keep], poly[keep], u0[keep], v0[keep], du[keep], dv[keep]
    t0, t1 = t0[keep], t1[keep]
    pieces = np.ceil((t1 - t0) * np.maximum(np.abs(du), np.abs(dv)))
    pieces = np.maximum(pieces, 1).astype(np.int64)
    which = np.repeat(np.arange(len(tgt)), pieces)
    step = _ramp(pieces)
    width = ((t1 - t0) / pieces)[which]
    ta = t0[which] + step * width
    tb = np.where(step + 1 == pieces[which], t1[which], ta + width)
    eps = (grid.eps / sub)[tgt][which] + 1e-9  # the rounding of points and of units
    bounds = []
    for p0, d in ((u0, du), (v0, dv)):
        pa, pb = p0[which] + ta * d[which], p0[which] + tb * d[which]
        low = np.floor(np.minimum(pa, pb) - eps)
        high = np.floor(np.maximum(pa, pb) + eps)
        bounds += [low, high]
    x0, x1, y0, y1 = bounds
    near = (x1 >= -1) & (x0 <= _SUB) & (y1 >= -1) & (y0 <= _SUB)
    x0, x1, y0, y1 = (np.clip(b[near], 0, _SUB - 1).astype(np.int64) for b in bounds)
    block = tgt[which[near]] * (_SUB * _SUB)
    poly = poly[which[near]].astype(np.int64)
    wide, tall = x1 != x0, y1 != y0
    both = wide & tall
    cells = [block + y0 * _SUB + x0, (block + y0 * _SUB + x1)[wide]]
    cells += [(block + y1 * _SUB + x0)[tall], (block + y1 * _SUB + x1)[both]]
    return np.concatenate(cells), np.concatenate([poly, poly[wide], poly[tall], poly[both]])


# --- looking points up ---------------------------------------------------------------------


def _lookup(grid: _Grid, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Leaf value of each (finite) point: region, -1, or ≤ -2 an entry without a block.

    Points beyond the grid fall in its edge cells: those stretch to infinity, and no
    boundary lies beyond the grid, so the same reasoning holds there.
    """
    ix = _index_1d(px, grid.x0, grid.size, grid.nx)
    iy = _index_1d(py, grid.y0, grid.size, grid.ny)
    iy *= grid.nx
    iy += ix
    value = grid.cells[iy]
    _descend(grid, px, py, value, np.flatnonzero(value <= -2))
    return value


def _descend(
    grid: _Grid, px: np.ndarray, py: np.ndarray, value: np.ndarray, todo: np.ndarray
) -> None:
    """Follow the mixed cells of the points ``todo`` into their blocks, in place."""
    x, y, v = px[todo], py[todo], value[todo]
    while len(todo):
        child = grid.e_child[-(v + 2)]
        go = child >= 0
        if not go.all():
            todo, x, y, child = todo[go], x[go], y[go], child[go]
        if not len(todo):
            return
        gx = _sub_index(x, grid.b_x0[child], grid.b_size[child])
        gy = _sub_index(y, grid.b_y0[child], grid.b_size[child])
        gy *= _SUB
        gy += gx
        v = grid.blocks[child, gy]
        value[todo] = v
        deeper = v <= -2
        todo, x, y, v = todo[deeper], x[deeper], y[deeper], v[deeper]


def _grid_candidates(
    index: _LevelIndex,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    coords: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Region and hit count of points in clean cells (-1 and 0 elsewhere), and the
    (point, polygon) pairs to test exactly.

    Mixed cells holding many of these points are subdivided first (kept for later calls).
    """
    grid = index.grid
    assert grid is not None
    usable = valid & np.isfinite(x) & np.isfinite(y)
    ids = None if usable.all() else np.flatnonzero(usable)
    px, py = (x, y) if ids is None else (x[ids], y[ids])
    with index.lock:
        value = parallel.chunked(lambda cx, cy: _lookup(grid, cx, cy), px, py)
        pending = np.flatnonzero(value <= -2)
        while True:
            entry = -(value[pending] + 2)
            counts = np.bincount(entry, minlength=len(grid.e_where))
            held = np.flatnonzero(counts)
            missing = held[grid.e_first[held] < 0]
            if len(missing):
                _root_candidates(index, grid, missing)
            hot = _hot_entries(grid, held, counts[held])
            if not len(hot):
                break
            if coords is None:
                coords = shapely.get_coordinates(index.geoms)
            _subdivide(index, grid, hot, coords)
            chosen = np.zeros(len(counts), dtype=bool)
            chosen[hot] = True
            moved = pending[chosen[entry]]
            parallel.run_all(
                [
                    lambda part=part: _descend(grid, px, py, value, part)
                    for part in np.array_split(
                        moved, min(parallel.WORKERS, 1 + len(moved) // parallel.MIN_ITEMS)
                    )
                ]
            )
            pending = pending[value[pending] <= -2]
        start, stop = grid.e_first[entry], grid.e_stop[entry]
    if ids is None:
        region = np.maximum(value, _NO_REGION)
        hits = (value >= 0).view(np.int8).astype(np.int32)
    else:
        region = np.full(len(x), _NO_REGION, dtype=np.int32)
        region[ids] = np.maximum(value, _NO_REGION)
        hits = np.zeros(len(x), dtype=np.int32)
        hits[ids] = value >= 0
        pending = ids[pending]
    counts = (stop - start).astype(np.int64)
    point_i = np.repeat(pending, counts)
    poly_i = grid.cands[_ramp_from(start.astype(np.int64), counts)]
    order = np.argsort(poly_i)  # one polygon after another: GEOS's caches stay warm
    return region, hits, point_i[order], poly_i[order]


def _hot_entries(grid: _Grid, held: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Leaf entries worth a block: many exact tests saved, not too deep, room left."""
    _, _, size, _, depth = _entry_boxes(grid, held)
    pairs = counts * (grid.e_stop[held] - grid.e_first[held])  # exact tests it would save
    hot = (pairs >= SUBDIVIDE_MIN_PAIRS) & (depth < _MAX_DEPTH) & (size / _SUB > 1e3 * grid.eps)
    hot = held[hot]
    room = max(_MAX_BLOCKS - len(grid.blocks), 0)
    if len(hot) > room:  # the busiest first
        hot = hot[np.argsort(-counts[np.searchsorted(held, hot)], kind="stable")[:room]]
    return hot

"""The fast path: pyarrow for every plain line, the csv module for the others.

A line is *plain* when pyarrow and the csv module provably read it the same way: no
NUL byte, short enough for csv's field limit, an even number of quotes, every opening
quote at the start of a field and every closing quote followed by the delimiter, the
line end or a doubled quote. Plain lines are parsed by pyarrow in one call (all
columns as text); every other line, and whatever a record starting there spans, is read
by the csv-module parser exactly as the python engine would (same records, same
rejections, same line numbers), starting from the same state.
"""

from __future__ import annotations

import csv
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crisismap import parallel
from crisismap.records.columns import TEXT, arrow
from crisismap.records.hxl import take_hxl_frame, take_hxl_row
from crisismap.records.parse import Parser, Records, RejectedLine

_SCAN_CHUNK = 1 << 18  # bytes of lines scanned per numpy pass (bounds the temporary arrays)
# Buffers of at least two pieces are scanned on this many threads.
_SCAN_PIECE = 1 << 23
_SCAN_THREADS = 2
# Above this share of irregular lines the csv module reads the whole file at C speed.
_MAX_IRREGULAR_SHARE = 0.2
# Bytes per pyarrow block: its 1 MB default made a chunk per column per megabyte, and the
# allocator's rounding of thousands of small buffers held a third of a 100-column file's size.
_ARROW_BLOCK = 1 << 22
_PLAIN_PIECE = 1 << 23  # bytes of plain lines copied and parsed at a time
_MIN_IRREGULAR_FALLBACK = 1000
_LF, _CR, _QUOTE = 10, 13, 34


@dataclass
class _Scan:
    """Data lines of a buffer: byte ranges and which ones pyarrow can read (``plain``).

    Lines follow each other without gaps, so one array of edges holds where each starts
    and stops (a start and a stop array each took 8 bytes a line: 40 MB at 5M lines).
    """

    first: int  # absolute (0-based) index of the first data line
    edges: np.ndarray  # byte offset where each line starts, then where the last one stops
    empty: np.ndarray  # nothing before the line end
    plain: np.ndarray

    @property
    def start(self) -> np.ndarray:
        """Byte offset where each line starts (a view)."""
        return self.edges[:-1]

    @property
    def stop(self) -> np.ndarray:
        """Byte offset past each line's end (a view)."""
        return self.edges[1:]

    @property
    def count(self) -> int:
        return self.first + len(self.empty)


class _ByteLines:
    """Physical lines decoded one at a time from the UTF-8 buffer, indexed like ``Lines``.

    The csv-module parser reads irregular lines through this, so a few bad lines do not
    split a 100 MB file into a million Python strings.
    """

    def __init__(self, buf: bytes, scan: _Scan, head: list[str]) -> None:
        self.buf = buf
        self.scan = scan
        self.head = head[: scan.first]
        self.count = scan.count

    def __getitem__(self, index: int) -> str:
        if index < self.scan.first:
            return self.head[index]
        k = index - self.scan.first
        return self.buf[self.scan.start[k] : self.scan.stop[k]].decode("utf-8")

    def slice(self, start: int, stop: int) -> list[str]:
        return [self[k] for k in range(start, min(stop, self.count))]

    def iter_from(self, start: int) -> Iterator[str]:
        return (self[k] for k in range(start, self.count))


def read_fast(
    parser: Parser, start: int, buf: bytes, header: list[str], notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine], list[str] | None, int | None] | None:
    """Records after the header, plain lines through pyarrow; None when not worth it."""
    delimiter, width = parser.delimiter, len(header)
    if ord(delimiter) > 127 or width < 2 or start > len(parser.lines.head):
        return None
    if buf.find(b"\r") >= 0 and _count(buf, b"\r") != _count(buf, b"\r\n"):
        return None  # old Mac line ends: leave them to the general path
    offset = len("".join(parser.lines.head[:start]).encode("utf-8"))
    # pyarrow parses the whole file (its own threads) while numpy checks every line;
    # the guess is kept when every line turns out plain, the common case.
    guess = parallel.in_background(
        lambda: _arrow_table(pa.py_buffer(buf)[offset:], width, delimiter)
    )
    scan = _scan(buf, offset, start, ord(delimiter))
    whole = guess.result()
    del guess
    if not scan.plain.all():
        whole = None  # parsed again without the irregular lines: not two tables at once
    table = _parse_plain(buf, scan, width, ord(delimiter), whole)
    del whole
    if table is None:
        return None
    irregular = int((~scan.plain & ~scan.empty).sum())
    if irregular > max(_MAX_IRREGULAR_SHARE * len(scan.plain), _MIN_IRREGULAR_FALLBACK):
        return None
    parser.lines = _ByteLines(buf, scan, parser.lines.head)
    slow, consumed = _read_irregular(parser, scan)
    rows = np.flatnonzero(scan.plain & ~scan.empty)
    keep = ~consumed[rows] & ~_all_empty(table, _short_rows(scan, rows, table.num_columns))
    blank = np.concatenate((np.flatnonzero(scan.empty & ~consumed), rows[~keep & ~consumed[rows]]))
    for index in blank:
        parser.count_blank(scan.first + int(index))
    if not keep.all():
        table = table.filter(pa.array(keep))
        rows = rows[keep]
    starts = rows  # 1-based line numbers, made in place (no copies of 8 bytes a row)
    starts += scan.first + 1
    del rows
    frame = _text_frame(table, header)
    del table  # the frame holds the columns: merging can let each go
    if slow.rows and (not len(starts) or slow.starts[0] + 1 < starts[0]):
        hxl_tags, hxl_line = take_hxl_row(slow, header, notes)
    else:
        frame, starts, hxl_tags, hxl_line = take_hxl_frame(frame, starts, notes)
    slow_frame, slow_starts, rejected = parser.assemble(slow, header)
    if len(slow_frame):
        frame, starts = _merge(frame, starts, slow_frame, slow_starts)
    return frame, starts, rejected, hxl_tags, hxl_line


def _count(buf: bytes | mmap.mmap, pattern: bytes) -> int:
    """``buf.count(pattern)`` for bytes and for a mapped file (which has no ``count``)."""
    if isinstance(buf, bytes):
        return buf.count(pattern)
    data = np.frombuffer(buf, dtype=np.uint8)
    found = data[: len(data) - len(pattern) + 1] == pattern[0]
    for k, byte in enumerate(pattern[1:], 1):  # patterns here never overlap themselves
        found &= data[k : len(data) - len(pattern) + 1 + k] == byte
    return int(np.count_nonzero(found))


def _scan(buf: bytes, offset: int, first: int, delimiter: int) -> _Scan:
    """Find every line and check its quotes, with numpy over the raw bytes.

    Large buffers are cut at line ends into pieces scanned on two threads (numpy
    releases the GIL): a line's verdict depends on its own bytes only.
    """
    cuts = [offset]
    if len(buf) - offset >= 2 * _SCAN_PIECE:
        for k in range(1, _SCAN_THREADS):
            target = offset + k * (len(buf) - offset) // _SCAN_THREADS
            end = buf.find(b"\n", max(target, cuts[-1]))
            if end < 0:
                break
            cuts.append(end + 1)
    cuts.append(len(buf))
    ranges = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a] or [
        (offset, len(buf))
    ]
    pieces = parallel.run_all([partial(_scan_range, buf, lo, hi, delimiter) for lo, hi in ranges])
    start, empty, plain = _joined(pieces)
    edges = np.empty(len(start) + 1, np.int64)
    edges[:-1] = start
    edges[-1] = ranges[-1][1]  # the last line stops where the buffer ends
    return _Scan(first, edges, empty, plain)


def _joined(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """The parts' arrays end to end, each part let go once copied (``np.concatenate``
    held every part and the whole at once)."""
    total = sum(len(part[0]) for part in parts)
    out = tuple(np.empty(total, array.dtype) for array in parts[0]) if parts else ()
    at = 0
    for k in range(len(parts)):
        part, parts[k] = parts[k], ()
        for whole, array in zip(out, part, strict=True):
            whole[at : at + len(array)] = array
        at += len(part[0])
        del part
    return out


def _scan_range(buf: bytes, lo: int, hi: int, delimiter: int) -> tuple[np.ndarray, ...]:
    """(start, empty, plain) of the lines in ``buf[lo:hi]`` (``lo`` starts a line; each
    line stops where the next starts, the last one at ``hi``).

    Scanned a block of lines at a time: the positions of every quote take eight bytes
    each, so a file of mostly ``""`` fields scanned whole needed about 30 times its size.
    """
    parts = [
        _long_line(a) if long else _scan_block(buf, a, b, delimiter)
        for a, b, long in _blocks(buf, lo, hi)
    ]
    if not parts:
        return _scan_block(buf, lo, hi, delimiter)
    return _joined(parts)


def _blocks(buf: bytes, lo: int, hi: int) -> Iterator[tuple[int, int, bool]]:
    """``buf[lo:hi]`` cut at line ends into blocks of about ``_SCAN_CHUNK`` bytes.

    A line longer than csv's field limit that crosses a cut is a block of its own,
    flagged ``True``: it is never plain, so its quotes need not be found.
    """
    limit = csv.field_size_limit()
    a = lo
    while a < hi:
        target = a + _SCAN_CHUNK
        if target >= hi:
            yield a, hi, False
            return
        end = buf.find(b"\n", target, hi)
        end = hi if end < 0 else end + 1
        if end - target <= limit + 2:
            yield a, end, False
        else:
            line = max(buf.rfind(b"\n", a, target) + 1, a)
            if line > a:
                yield a, line, False
            yield line, end, True
        a = end


def _long_line(a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.array([a], np.int64), np.zeros(1, bool), np.zeros(1, bool)


def _scan_block(buf: bytes, lo: int, hi: int, delimiter: int) -> tuple[np.ndarray, ...]:
    """(start, empty, plain) of the lines in one block, with numpy over its bytes."""
    data = np.frombuffer(buf, dtype=np.uint8)[lo:hi]
    n = len(data)
    quoted = buf.find(b'"', lo, hi) >= 0
    mask = data == _LF
    if quoted:
        mask |= data == _QUOTE
    special = np.flatnonzero(mask)
    del mask
    is_lf = data[special] == _LF if quoted else np.ones(len(special), bool)
    newlines = special[is_lf]
    n_lines = len(newlines) + (1 if n and data[-1] != _LF else 0)
    start = np.empty(n_lines, np.int64)
    stop = np.empty(n_lines, np.int64)
    start[:1] = 0
    start[1:] = newlines[: n_lines - 1] + 1
    stop[: len(newlines)] = newlines + 1
    stop[len(newlines) :] = n
    end = stop - (np.arange(n_lines) < len(newlines))
    has_cr = (end > start) & (data[np.maximum(end - 1, 0)] == _CR)
    end = end - has_cr
    plain = (end - start) <= csv.field_size_limit()  # longer: csv decides (and may refuse)
    if quoted:
        plain &= _plain_quotes(data, special, is_lf, n_lines, delimiter)
    if buf.find(b"\x00", lo, hi) >= 0:
        nul = np.flatnonzero(data == 0)
        plain[np.searchsorted(start, nul, side="right") - 1] = False
    return start + lo, end == start, plain


def _plain_quotes(
    data: np.ndarray, special: np.ndarray, is_lf: np.ndarray, n_lines: int, delimiter: int
) -> np.ndarray:
    """Lines whose quotes are all well formed (see the module docstring)."""
    which = np.flatnonzero(~is_lf)  # positions of the quotes among the special bytes
    quotes = special[which]
    if len(which) % 2 == 0 and np.array_equal(which[1::2], which[0::2] + 1):
        # No line end between the quotes of each pair: every line has an even number,
        # so quote 2j opens and quote 2j + 1 closes.
        plain = np.ones(n_lines, bool)
        bad = np.concatenate(
            (
                _bad_opening(data, quotes[0::2], delimiter),
                _bad_closing(data, quotes[1::2], delimiter),
            )
        )
    else:
        line_of = (np.cumsum(is_lf) - is_lf)[which]
        count = np.bincount(line_of, minlength=n_lines)
        opening = (np.arange(len(quotes)) - (np.cumsum(count) - count)[line_of]) % 2 == 0
        plain = count % 2 == 0
        bad = np.concatenate(
            (
                _bad_opening(data, quotes[opening], delimiter),
                _bad_closing(data, quotes[~opening], delimiter),
            )
        )
    if len(bad):
        plain[np.searchsorted(special[is_lf], bad)] = False
    return plain


def _bad_opening(data: np.ndarray, quotes: np.ndarray, delimiter: int) -> np.ndarray:
    """Opening quotes not at the start of a field nor right after a closing quote."""
    ok = np.zeros(256, bool)
    ok[[delimiter, _LF, _QUOTE]] = True
    good = (
        ok[data[quotes - 1]]
        if len(quotes) and quotes[0] > 0
        else ok[data[quotes - 1]] | (quotes == 0)
    )
    return quotes[~good]


def _bad_closing(data: np.ndarray, quotes: np.ndarray, delimiter: int) -> np.ndarray:
    """Closing quotes not followed by the delimiter, the line end or a doubled quote."""
    ok = np.zeros(256, bool)
    ok[[delimiter, _LF, _CR, _QUOTE]] = True
    last = len(data) - 1
    good = ok[data[np.minimum(quotes + 1, last)]] | (quotes == last)
    return quotes[~good]


def _parse_plain(
    buf: bytes, scan: _Scan, width: int, delimiter: int, whole: pa.Table | None
) -> pa.Table | None:
    """The plain lines through pyarrow; lines of the wrong width are left to the csv module.

    ``whole`` is every data line already parsed: it is the answer when all are plain.
    """
    table = whole if scan.plain.all() else _plain_table(buf, scan, width, delimiter)
    if table is None:
        scan.plain &= _field_counts(buf, scan, delimiter) == width
        table = _plain_table(buf, scan, width, delimiter)
    if table is None or table.num_rows != int((scan.plain & ~scan.empty).sum()):
        return None
    return table


def _plain_table(buf: bytes, scan: _Scan, width: int, delimiter: int) -> pa.Table | None:
    if not (scan.plain & ~scan.empty).any():
        return pa.table({f"c{i}": pa.array([], pa.large_string()) for i in range(width)})
    if scan.plain.all():  # zero-copy: every line
        start = int(scan.start[0]) if len(scan.start) else len(buf)
        return _arrow_table(pa.py_buffer(buf)[start:], width, chr(delimiter))
    tables = []
    for piece in _plain_pieces(buf, scan):
        table = _arrow_table(pa.py_buffer(piece), width, chr(delimiter))
        if table is None:
            return None
        tables.append(table)
    return pa.concat_tables(tables)


def _plain_pieces(buf: bytes, scan: _Scan) -> Iterator[bytes]:
    """The plain lines, copied and parsed ``_PLAIN_PIECE`` bytes at a time (one copy of
    every plain line at once, beside its table, took twice the file's size)."""
    edges = np.diff(np.concatenate(([0], scan.plain.astype(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    # only the file's last line can lack a line end, and it comes last
    parts: list[bytes] = []
    size = 0
    for a, b in zip(first, last, strict=True):
        lo, hi = int(scan.start[a]), int(scan.stop[b])
        while hi > lo:  # a long run is cut at line ends into pieces too
            cut = hi
            if size + (hi - lo) > _PLAIN_PIECE:
                k = int(np.searchsorted(scan.start, lo + _PLAIN_PIECE - size, side="right")) - 1
                cut = int(scan.start[k]) if int(scan.start[k]) > lo else hi
            parts.append(buf[lo:cut])
            size += cut - lo
            lo = cut
            if size >= _PLAIN_PIECE:
                yield b"".join(parts)
                parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _field_counts(buf: bytes, scan: _Scan, delimiter: int) -> np.ndarray:
    """Fields per line, delimiters inside quotes not counted (plain lines only)."""
    data = np.frombuffer(buf, dtype=np.uint8)
    lo = int(scan.start[0]) if len(scan.start) else len(buf)
    seps = np.flatnonzero(data[lo:] == delimiter) + lo
    quotes = np.flatnonzero(data[lo:] == _QUOTE) + lo
    line = np.searchsorted(scan.start, seps, side="right") - 1
    if len(quotes):
        q_line = np.searchsorted(scan.start, quotes, side="right") - 1
        q_first = np.searchsorted(q_line, np.arange(len(scan.start)))
        inside = (np.searchsorted(quotes, seps) - q_first[line]) % 2 == 1
        line = line[~inside]
    return np.bincount(line, minlength=len(scan.start)) + 1


def _arrow_table(data: pa.Buffer, width: int, delimiter: str) -> pa.Table | None:
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_ARROW_BLOCK),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.large_string() for name in names},  # as pandas keeps it
                strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _read_irregular(parser: Parser, scan: _Scan) -> tuple[Records, np.ndarray]:
    """Read each irregular line (and what its record spans) with the csv module.

    Returns the records and which data lines they consumed. Reading resumes on pyarrow's
    side at the first plain line after a complete record; before each irregular line the
    parser gets the template the python engine would have (the last one-line record).
    """
    out = Records()
    consumed = np.zeros(len(scan.plain), dtype=bool)
    first, count = scan.first, scan.count
    plain = scan.plain

    def resume(index: int) -> bool:
        return index >= count or bool(plain[index - first])

    done = 0
    for k in np.flatnonzero(~plain & ~scan.empty):
        if k < done:
            continue
        _set_template(parser, scan, done, int(k))
        i = first + int(k)
        while True:
            i = parser.read_from(i, out, resume)
            if resume(i):
                break
        consumed[k : i - first] = True
        done = i - first
    return out, consumed


def _set_template(parser: Parser, scan: _Scan, lo: int, k: int) -> None:
    """The last non-blank one-line record before data line ``k`` read by pyarrow, if any."""
    for j in range(k - 1, lo - 1, -1):
        if scan.empty[j]:
            continue
        row = next(csv.reader([parser.lines[scan.first + j]], delimiter=parser.delimiter))
        if not parser.is_blank(row) and parser.fits(row):  # as _read_from sets it
            parser.template = row
            return


def _short_rows(scan: _Scan, rows: np.ndarray, width: int) -> np.ndarray:
    """Which of ``rows`` (data lines, increasing) are short enough to be ``,,,``: each
    field at most ``""``, with CR LF. Looked for among all lines, then placed among the
    rows (the lengths of the rows taken first were three copies of 8 bytes a row)."""
    short = np.flatnonzero(np.diff(scan.edges) <= 3 * width + 1)
    at = np.searchsorted(rows, short)
    found = at < len(rows)
    found[found] = rows[at[found]] == short[found]
    return at[found]


def _all_empty(table: pa.Table, short: np.ndarray) -> np.ndarray:
    """Rows whose every field is empty (``,,,``: a blank line to the csv engine too).

    Only short lines can be such rows (:func:`_short_rows`), so only they are checked.
    """
    empty = np.zeros(table.num_rows, bool)
    if not len(short):
        return empty
    rows = table.take(pa.array(short))
    found = np.ones(len(short), bool)
    for column in rows.columns:
        found &= pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    empty[short] = found
    return empty


def _text_frame(table: pa.Table, header: list[str]) -> pd.DataFrame:
    text = pd.StringDtype("pyarrow", np.nan)
    frame = table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)
    frame.columns = header
    return frame


def _merge(
    frame: pd.DataFrame, starts: np.ndarray, other: pd.DataFrame, other_starts: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Two sets of rows interleaved in file order, a column at a time, each column's old
    values let go as its merged one is made (a ``take`` joined every chunk first: two
    copies of a column at once, and the whole table was copied while the old one lived)."""
    lines = np.concatenate((starts, other_starts))
    order = np.argsort(lines, kind="stable")
    theirs_at = order >= len(starts)
    columns = {}
    for name in list(frame.columns):
        mine = _chunks(arrow(frame.pop(name)))
        theirs = pa.chunked_array(_chunks(arrow(other[name])), pa.large_string())
        merged = _interleave(mine, theirs, theirs_at)
        columns[name] = pd.Series(pd.array(merged, dtype=TEXT))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(order)), copy=False), lines[order]


_MERGE_BLOCK = 1 << 15  # rows copied into one chunk of a merged column


def _interleave(
    mine: list[pa.Array | None], theirs: pa.ChunkedArray, theirs_at: np.ndarray
) -> pa.ChunkedArray:
    """The rows of ``mine`` and ``theirs`` (each in order) where ``theirs_at`` says, copied
    a block at a time; a chunk of ``mine`` is dropped from the list once copied."""
    out: list[pa.Array] = []
    pending: list[pa.Array] = []
    rows = 0
    k, offset, taken = 0, 0, 0  # chunk and row in mine, rows taken from theirs
    edges = np.flatnonzero(np.diff(theirs_at.astype(np.int8))) + 1
    bounds = np.concatenate(([0], edges, [len(theirs_at)])).astype(np.int64)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        n = int(b - a)
        while n:
            step = min(n, _MERGE_BLOCK - rows)
            if theirs_at[a]:
                pending.extend(theirs.slice(taken, step).chunks)
                taken += step
            else:
                while not len(mine[k]):  # type: ignore[arg-type]
                    mine[k], k = None, k + 1
                chunk = mine[k]
                assert chunk is not None
                step = min(step, len(chunk) - offset)
                pending.append(chunk.slice(offset, step))
                offset += step
                if offset == len(chunk):
                    mine[k], k, offset = None, k + 1, 0
            n -= step
            rows += step
            if rows >= _MERGE_BLOCK:
                out.append(pa.concat_arrays(pending))
                pending, rows = [], 0
    if pending:
        out.append(pa.concat_arrays(pending))
    return pa.chunked_array(out, pa.large_string())


def _chunks(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return [c if c.type == pa.large_string() else c.cast(pa.large_string()) for c in chunks]

"""The column-at-a-time CSV writer gives the bytes of the cell-by-cell one it replaced.

``reference_csv_bytes`` is the former ``to_csv_bytes`` (csv.writer over cell_text and
neutralise_formula, one Python call per cell), kept here as the specification.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisismap.escape import FORMULA_PREFIXES, cell_text, neutralise_formula
from crisismap.export import safe_frame, to_csv_bytes


def reference_csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_formula(str(name)) for name in frame.columns])
    columns = []
    for name in frame.columns:
        col = frame[name]
        texts = [cell_text(v) for v in col.tolist()]
        if pd.api.types.is_string_dtype(col) or col.dtype == object:
            texts = [neutralise_formula(t) for t in texts]
        columns.append(texts)
    writer.writerows(zip(*columns, strict=True) if columns else [()] * len(frame))
    return buffer.getvalue().encode("utf-8")


HOSTILE = st.sampled_from(
    [*FORMULA_PREFIXES, " ", '"', ",", "\r", "\n", "\x00", "'", "é", "\u202e", "a", "1"]
)
TEXT = st.one_of(
    st.none(),
    st.text(HOSTILE, max_size=8),
    st.text(max_size=6),
    st.builds(
        lambda s, p, t: s + p + t,
        st.sampled_from(["", " ", "  ", "\t "]),
        st.sampled_from(FORMULA_PREFIXES),
        st.text(HOSTILE, max_size=4),
    ),
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70).map(float),
    st.sampled_from([0.0, -0.0, 0.1, 1e-05, 2.0**62, 2.0**63, 1e300]),
)


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(list(KINDS)), min_size=0, max_size=5))
    columns = {}
    for i, kind in enumerate(kinds):
        name = draw(st.text(HOSTILE, max_size=4)) + f"#{i}"
        columns[name] = KINDS[kind](draw, n)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _texts(draw, n, dtype):
    return pd.Series(draw(st.lists(TEXT, min_size=n, max_size=n)), dtype=dtype)


def _dates(draw, n):
    days = draw(st.lists(st.integers(-1, 30_000), min_size=n, max_size=n))
    with_time = draw(st.booleans())
    values = [
        pd.NaT
        if d < 0
        else pd.Timestamp("1970-01-01")
        + pd.Timedelta(days=d, seconds=(d * 37) % 86_400 if with_time else 0)
        for d in days
    ]
    return pd.Series(values, dtype="datetime64[ns]")


KINDS = {
    "object": lambda draw, n: _texts(draw, n, object),
    "str": lambda draw, n: _texts(draw, n, "str"),
    "category": lambda draw, n: _texts(draw, n, "category"),
    "int64": lambda draw, n: pd.Series(
        draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)), dtype="int64"
    ),
    "Int64": lambda draw, n: pd.Series(
        draw(st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), min_size=n, max_size=n)),
        dtype="Int64",
    ),
    "float64": lambda draw, n: pd.Series(
        draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype="float64"
    ),
    "float32": lambda draw, n: pd.Series(
        draw(st.lists(st.floats(width=32), min_size=n, max_size=n)), dtype="float32"
    ),
    "bool": lambda draw, n: pd.Series(
        draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool
    ),
    "boolean": lambda draw, n: pd.Series(
        draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)),
        dtype="boolean",
    ),
    "datetime": _dates,
    "mixed": lambda draw, n: pd.Series(
        draw(
            st.lists(
                st.one_of(TEXT, st.integers(), st.floats(), st.just(pd.NA)), min_size=n, max_size=n
            )
        ),
        dtype=object,
    ),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_column_writer_equals_the_cell_by_cell_writer(frame):
    assert to_csv_bytes(frame) == reference_csv_bytes(frame)


def test_hostile_cells_by_hand():
    frame = pd.DataFrame(
        {
            "=name": ["=HYPERLINK(1)", "\uff1dSUM(A1)", "  +1", "a\rb", 'say "hi"', "x\x00y", None],
            "n": [1.5, 2.0, np.nan, -0.0, 1e-05, 3.0, 7.25],
        }
    )
    out = to_csv_bytes(frame)
    assert out == reference_csv_bytes(frame)
    assert out.split(b"\r\n")[0] == b'"\'=name","n"'
    assert b'"\'=HYPERLINK(1)","1.5"' in out
    assert '"\'\uff1dSUM(A1)","2"'.encode() in out
    assert b'"\'  +1",""' in out and b'"a\rb","0"' in out
    assert b'"say ""hi""","1e-05"' in out and b'"","7.25"' in out


def test_safe_frame_still_gives_the_neutralised_text():
    frame = pd.DataFrame({"a": ["@x", None], "b": [1.0, 2.5]})
    safe = safe_frame(frame)
    assert safe.to_dict("list") == {"a": ["'@x", ""], "b": ["1", "2.5"]}

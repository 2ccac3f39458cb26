"""Session isolation: what one app session uploads, another session never sees.

Two ``AppTest`` sessions of the same app run in one process, as Streamlit sessions do
(process-wide caches are where uploads leak: see NOTES.md). Session A uploads an
incident file and a boundary file, each carrying a marker no other input holds; session
B, started afterwards, must show none of A's markers anywhere (metrics, tables, the map
component's arguments, widget options, captions); then B uploads its own file, and A,
rerun, still shows its own data and none of B's.

Through the workspace (shared by the team by design): while A has not saved its upload,
neither the workspace nor its files on disk hold A's marker; once A saves it, B lists the
saved dataset by its file name, and sees its content only after opening it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap.store import Workspace
from tests.adversarial import figures
from tests.helpers.payloads import boundaries_geojson, incidents_csv

SUITE = "session isolation"
ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 120
pytestmark = pytest.mark.slow  # every test runs the whole app script (AppTest)
MARK_A = "ZZsessionAmarker"
MARK_B = "QQsessionBmarker"
FILE_A = "session-a-upload.csv"  # listed once saved: the marker is in the content only


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def shown(at: AppTest) -> str:
    """Everything a session renders, as text: element protos and table contents."""
    parts = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        if type(node).__name__ == "Dataframe":
            parts.append(node.value.to_string())
    return "\n".join(parts)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """Session A with its uploads, then session B started fresh."""
    first = AppTest.from_file(APP, default_timeout=TIMEOUT)
    first.run()
    incidents = incidents_csv([f"{MARK_A} {i}" for i in range(5)])
    regions = boundaries_geojson([f"{MARK_A} region {i}" for i in range(3)])
    first.file_uploader[0].set_value((FILE_A, incidents, "text/csv"))
    first.file_uploader[1].set_value((f"{MARK_A}.geojson", regions, "application/geo+json"))
    first.run()
    assert not first.exception, first.exception
    second = AppTest.from_file(APP, default_timeout=TIMEOUT)
    second.run()
    assert not second.exception, second.exception
    return first, second


def test_a_second_session_sees_nothing_of_the_first(sessions):
    first, second = sessions
    assert MARK_A in shown(first)  # the marker is there to be found
    assert _metric(first, "Records") == "7"
    seen = shown(second)
    figures.add(SUITE, "sessions", 2)
    figures.add(SUITE, "leaks from one session into another", int(MARK_A in seen))
    assert MARK_A not in seen
    assert _metric(second, "Records") == "3,001"  # the demo, not A's upload


def test_the_first_session_keeps_its_data_and_sees_nothing_of_the_second(sessions):
    first, second = sessions
    second.file_uploader[0].set_value(
        (f"{MARK_B}.csv", incidents_csv([f"{MARK_B} {i}" for i in range(4)]), "text/csv")
    )
    second.run()
    assert not second.exception, second.exception
    assert MARK_B in shown(second) and MARK_A not in shown(second)
    first.run()
    seen = shown(first)
    figures.add(SUITE, "leaks from one session into another", int(MARK_B in seen))
    assert MARK_B not in seen
    assert MARK_A in seen and _metric(first, "Records") == "7"
    figures.put(SUITE, "checked", "metrics, tables, map arguments, widget options, captions")


def test_the_workspace_shares_only_what_is_saved_and_only_when_opened(sessions):
    first, second = sessions
    workspace = Workspace.open()
    data_files = [p for p in workspace.db_path.parent.iterdir() if p.is_file()]
    assert not any(MARK_A.encode() in p.read_bytes() for p in data_files)  # unsaved: not there
    assert not any(i.filename == FILE_A for i in workspace.list_datasets())
    next(b for b in first.button if b.label == "Save uploads to the workspace").click().run()
    assert not first.exception, first.exception
    assert any(i.filename == FILE_A for i in workspace.list_datasets())
    second.run()
    saved = next(m for m in second.multiselect if m.label.startswith("Saved datasets"))
    listed = [o for o in saved.options if o.startswith(FILE_A)]
    seen = shown(second)
    figures.add(SUITE, "leaks from one session into another", int(MARK_A in seen))
    assert listed and MARK_A not in seen  # listed by name, content not shown
    saved.set_value(listed).run()
    assert not second.exception, second.exception
    assert MARK_A in shown(second)  # opened on purpose: now it is shown
    figures.put(SUITE, "saved datasets shown before being opened", 0)

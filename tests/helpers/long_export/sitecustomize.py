"""Loaded only by the app server the long-export browser tests start (its PYTHONPATH):
the protection of a view's figures starts after a pause of
``$CRISISMAP_TEST_PROTECTION_PAUSE`` seconds.

Why: those tests need an export that is still running when they press Cancel or stop
the server, and the real protection of their 20,000 incidents now takes about a second
(on two shared cores, under the browser's own polling). The pause comes before the real
``Grid.release``, in the worker thread that runs it: the figures are the real ones, and
what the tests watch (the status, Cancel, a server stopping while an export runs) is the
same as for a long export.
"""

from __future__ import annotations

import os
import time

PAUSE_S = float(os.environ.get("CRISISMAP_TEST_PROTECTION_PAUSE", "0"))

if PAUSE_S > 0:
    from crisismap.publish import grid

    _release = grid.Grid.release

    def _paused_release(self, combos):  # type: ignore[no-untyped-def]
        time.sleep(PAUSE_S)
        return _release(self, combos)

    grid.Grid.release = _paused_release

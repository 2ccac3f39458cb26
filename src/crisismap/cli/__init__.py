"""The ``crisismap`` command line: the same pipeline as the app, for batch work.

Bad input ends with one clear sentence on stderr and exit code 2, never a traceback:
every error a user can cause is a :class:`~crisismap.errors.CrisismapError` (or an
``OSError`` from the file system). Anything else is a bug: a traceback and exit code 1.
"""

from crisismap.cli.common import EXIT_BAD_INPUT
from crisismap.cli.main import build_parser, main, run

__all__ = ["EXIT_BAD_INPUT", "build_parser", "main", "run"]

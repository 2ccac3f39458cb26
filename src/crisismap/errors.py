"""The small exception hierarchy: exceptions are for bugs and environment failures only.

Bad *data* is never raised: it is collected as :class:`crisismap.report.Problem` rows.
The exceptions here are for inputs that cannot be processed at all (an unreadable
boundary file, a refused upload) and carry a message that says what was expected,
what was found and how to fix it, so the CLI and the app can show it verbatim.
"""

from __future__ import annotations


class CrisismapError(Exception):
    """Base class: the message is a full sentence meant for the user."""


class InvalidValueError(CrisismapError, ValueError):
    """A value the user gave (a level, a period, a date, a region code, an option) is not
    one that is allowed; the message lists what is. Also a ``ValueError``, as Python's own
    parsers raise for a value of the right type but the wrong content."""


class InputError(CrisismapError):
    """An input file as a whole cannot be used (wrong format, unreadable, empty)."""


class BoundaryError(InputError):
    """A boundary file or set cannot be loaded or has no usable levels."""


class UnsafeInputError(InputError):
    """An upload was refused for safety: too large, a zip bomb, a GDAL VRT, a zip-slip path."""


class MappingError(InputError):
    """The column mapping cannot be applied (missing column or unmapped field)."""


class FetchError(CrisismapError):
    """A download the user asked for could not be made: the machine is offline, the
    service does not know the country, or it answered something unexpected."""


class StoreError(CrisismapError):
    """The workspace cannot be used: unreadable, from a newer version, or corrupt."""


class TimeLimitError(CrisismapError):
    """Work took longer than the time limit the user or the server set and was stopped; the
    message says what took too long and what to do instead."""

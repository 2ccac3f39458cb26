"""Text bound for a terminal: control characters are shown as escapes, never obeyed.

Dataset names, file names and actors come from users (a name typed in the dashboard,
a file uploaded by anyone on the team). Printed raw, ``\\x1b]52;c;…\\x07`` writes the
administrator's clipboard, ``\\x1b[2K\\r`` erases the line just printed, and the Unicode
bidi overrides make ``evil\\u202egpj.csv`` read as ``evilvsc.jpg``. :func:`printable`
shows each such character as a visible escape instead.
"""

from __future__ import annotations

__all__ = ["printable", "printable_json"]

# C0 controls (tab and newline included: a name is one line), DEL, C1 controls.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
# Bidi marks, embeddings, overrides and isolates; line and paragraph separators.
_INVISIBLE = [
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
]

_TABLE = {code: f"\\x{code:02x}" for code in _CONTROLS} | {
    code: f"\\u{code:04x}" for code in _INVISIBLE
}


def printable(text: object) -> str:
    """``text`` with every terminal control and bidi override shown as ``\\x1b``/``\\u202e``."""
    return str(text).translate(_TABLE)


# json.dumps escapes C0 inside strings itself (and writes newlines between items).
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _CONTROLS[0x20:] + _INVISIBLE}


def printable_json(text: str) -> str:
    """JSON text with the same characters as ``\\u001b`` escapes (still valid JSON)."""
    return text.translate(_JSON_TABLE)

"""Bytes → text: decode an upload by explicit choice, byte-order mark, strict UTF-8, or
(reported) detection.

A guessed encoding is never silent: it becomes a file-level problem that names the
guess and how to confirm it. A guess that would eat delimiters or quotes is refused.
"""

from __future__ import annotations

import codecs

from crisismap.errors import InputError
from crisismap.i18n import _
from crisismap.problems import ENCODING_NO_BOM, ENCODING_NOT_UTF8, Problem

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)


def decode(data: bytes, encoding: str | None) -> tuple[str, str, list[Problem]]:
    """Decode by explicit choice, BOM, strict UTF-8, or (reported) detection."""
    if encoding:
        return _decode_forced(data, encoding), encoding, []
    for bom, name, codec in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), name, []
            except UnicodeDecodeError as exc:
                raise InputError(
                    _(
                        "The file starts with a {name} byte-order mark but is not valid "
                        "{name} (byte {start}): re-save it as UTF-8."
                    ).format(name=name, start=exc.start)
                ) from exc
    utf16 = utf16_without_bom(data)
    if utf16:
        return _decode_utf16_without_bom(data, utf16)
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        return _decode_detected(data, exc)


def utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text has a NUL in every other byte."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.7 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.7 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def _decode_utf16_without_bom(data: bytes, codec: str) -> tuple[str, str, list[Problem]]:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(
            _(
                "The file looks like {codec} without a byte-order mark but cannot "
                "be decoded as such (byte {start}): re-save it as UTF-8."
            ).format(codec=codec, start=exc.start)
        ) from exc
    problem = ENCODING_NO_BOM.problem(value=codec, codec=codec)
    return text, codec, [problem]


def _decode_forced(data: bytes, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(
            _("Unknown encoding {encoding!r}: use e.g. utf-8, cp1252, latin-1.").format(
                encoding=encoding
            )
        ) from exc
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            _(
                "The file is not valid {encoding}: byte {start} (line {line}) "
                "cannot be decoded. Choose another encoding or leave it empty to "
                "detect it."
            ).format(encoding=encoding, start=exc.start, line=line)
        ) from exc
    return text.removeprefix("\ufeff")


def _decode_detected(data: bytes, exc: UnicodeDecodeError) -> tuple[str, str, list[Problem]]:
    from charset_normalizer import from_bytes

    line = data.count(b"\n", 0, exc.start) + 1
    best = from_bytes(data).best()
    guess = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(guess)
    except (UnicodeDecodeError, LookupError):
        guess, text = "latin-1", data.decode("latin-1")  # decodes any byte sequence
    if not _keeps_structure(data, text):  # a multi-byte guess ate delimiters or quotes
        try:
            guess, text = "cp1252", data.decode("cp1252")
        except UnicodeDecodeError:
            guess, text = "latin-1", data.decode("latin-1")
    try:  # name the commonest code page when it reads the bytes identically
        if guess != "cp1252" and data.decode("cp1252") == text:
            guess = "cp1252"
    except UnicodeDecodeError:
        pass
    problem = ENCODING_NOT_UTF8.problem(value=guess, invalid_line=line, guess=guess)
    return text, guess, [problem]


def _keeps_structure(data: bytes, text: str) -> bool:
    """Does the decoded text hold every delimiter, quote and line end the bytes hold?

    Short files fool charset detection into multi-byte code pages (Johab, Big5) whose
    characters swallow the ASCII byte after them; a CSV read that way loses fields.
    """
    return all(text.count(c) == data.count(c.encode("ascii")) for c in ',;\t|"\r\n')

"""argparse's own words (``usage:``, ``options``, ``invalid choice``…) in the user's language.

argparse looks its messages up through the ``_`` and ``ngettext`` of its module (the
stdlib's gettext, with no catalogue for them): :func:`install` points them at
:mod:`crisismap.i18n`, which follows the current context's language and leaves every
message as it is in English, so another user of argparse in the process sees no change.
The messages below are argparse's user-facing ones (Python 3.11), listed so that they are
extracted into the CLI's catalogue; the ``%(name)s`` fields are argparse's and stay as they are.
"""

from __future__ import annotations

import argparse

from crisismap import i18n
from crisismap.i18n import N_

MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
)


def _plural_forms(n: int) -> str:  # never called: marks argparse's plural for extraction
    return i18n.ngettext("expected %s argument", "expected %s arguments", n)


def install() -> None:
    """argparse's messages through crisismap's catalogue, in the current language."""
    argparse._ = i18n.gettext  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]

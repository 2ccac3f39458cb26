"""``crisismap boundaries fetch ISO3``: a country's current boundaries, downloaded once.

The one command that goes online, and only when asked: it says where it connects before
it does, and what it kept (vintage, licence, folder) and how to use it offline after.
"""

from __future__ import annotations

import argparse

from crisismap.cli.common import boundary_cache, progress
from crisismap.errors import CrisismapError
from crisismap.i18n import _


def cmd_fetch(args: argparse.Namespace) -> int:
    from crisismap.boundaries import FetchSource, fetch_boundaries
    from crisismap.boundaries.fetch import notice
    from crisismap.boundaries.fetched import check_iso3

    if not args.iso3:
        raise CrisismapError(
            _(
                "`crisismap boundaries fetch` needs a country: write e.g. "
                "`crisismap boundaries fetch UKR` (ISO 3166-1 alpha-3)."
            )
        )
    iso3 = check_iso3(args.iso3)
    source = FetchSource.parse(args.fetch_source or FetchSource.GEOBOUNDARIES.value)
    progress(notice(source))
    result = fetch_boundaries(
        iso3, boundary_cache(), source=source, level=args.level, progress=progress
    )
    first, *rest = result.summary()
    print(first)
    for line in rest:
        print(f"  {line}")
    print("  " + _("kept in: {folder}").format(folder=result.fetched.folder))
    print(
        _(
            "Use it offline from now on: --boundaries fetched:{iso3} (or {name} when both "
            "sources were fetched)."
        ).format(iso3=iso3, name=result.boundaries.name)
    )
    return 0


def check_not_fetch_options(args: argparse.Namespace) -> None:
    """The fetch options only go with ``fetch``."""
    given = [
        name
        for name, value in (("ISO3", args.iso3), ("--source", args.fetch_source))
        if value is not None
    ] + (["--level"] if args.level is not None else [])
    if given:
        raise CrisismapError(
            _(
                "{options} only go with `crisismap boundaries fetch ISO3`; to describe a "
                "boundary source write `crisismap boundaries {source}` alone."
            ).format(options=", ".join(given), source=args.source)
        )

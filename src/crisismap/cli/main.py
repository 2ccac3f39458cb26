"""The parser and the entry point: a user error is one sentence and exit 2, a bug a traceback."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from crisismap import __version__, i18n
from crisismap.cli import argparse_text, commands
from crisismap.cli.common import (
    EXIT_BAD_INPUT,
    add_input_options,
    add_join_options,
    add_keep_unnamed,
    add_publication_options,
    add_table_options,
    add_view_filters,
    check_publication,
)
from crisismap.cli.workspace import add_workspace_parser
from crisismap.errors import CrisismapError
from crisismap.i18n import N_, _

EXIT_INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C

REJECTED_HELP = N_(
    "also write the rejected records with their reasons: raw values, so the file is "
    "internal, named SENSITIVE_<OUT> and readable by you only"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crisismap",
        description=_(
            "Validate incident records, join them to admin boundaries, aggregate, export."
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"crisismap {__version__}",
        help=_("show the version number and exit"),
    )
    parser.add_argument(
        "--lang",
        metavar="LANG",
        help=_(
            "language of messages and outputs: {languages}; default: $CRISISMAP_LANG, else the "
            "system's language when shipped, else en"
        ).format(languages=", ".join(f"{code} ({name})" for code, name in i18n.LANGUAGES.items())),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help=_("validate an incident file and report every problem"))
    add_input_options(p)
    p.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.add_argument("--rejected", metavar="OUT.csv", help=_(REJECTED_HELP))
    p.add_argument(
        "--problems",
        metavar="OUT.csv",
        help=_("write every problem found (they quote raw values: named SENSITIVE_..., 0600)"),
    )
    p.add_argument("--max-problems", type=int, default=50, help=_("problems to print (default 50)"))
    p.set_defaults(func=commands.cmd_validate)

    p = sub.add_parser(
        "join", help=_("attribute each accepted record to a region at every level (internal)")
    )
    add_input_options(p)
    add_join_options(p)
    p.add_argument(
        "--internal",
        action="store_true",
        help=_(
            "required: the joined table holds every record with its raw values, so it is "
            "internal only (written as SENSITIVE_<OUT>, readable by you only)"
        ),
    )
    p.add_argument("--out", required=True, metavar="OUT.csv")
    add_table_options(p)
    p.set_defaults(func=commands.cmd_join)

    p = sub.add_parser(
        "records",
        help=_(
            "every record with its original columns and the regions it was joined to "
            "(internal: CSV, GeoPackage or Parquet)"
        ),
    )
    add_input_options(p)
    add_join_options(p)
    p.add_argument(
        "--internal",
        action="store_true",
        help=_(
            "required: the table holds every record with its raw values, so it is internal "
            "only (written as SENSITIVE_<OUT>, readable by you only)"
        ),
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="OUT.csv|OUT.gpkg|OUT.parquet",
        help=_("the format follows the ending; GeoPackage and Parquet hold points in EPSG:4326"),
    )
    p.add_argument(
        "--no-rejected",
        action="store_true",
        help=_("leave out the rejected records (by default they are listed with their reasons)"),
    )
    add_table_options(p)
    p.set_defaults(func=commands.cmd_records)

    p = sub.add_parser(
        "summarize",
        help=_("region x period x category figures, exported (public unless --internal)"),
    )
    add_input_options(p)
    add_join_options(p)
    p.add_argument("--level", type=int, required=True, help=_("admin level to summarise at"))
    p.add_argument(
        "--period", default="month", help=_("day, week, acled-week, month, quarter or year")
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="OUT.csv|OUT.xlsx|OUT.geojson",
        help=_(
            "where the figures go (the format follows the ending); with --internal the "
            "file is written as SENSITIVE_<OUT> beside it"
        ),
    )
    p.add_argument(
        "--manifest",
        help=_("provenance manifest path (default: beside --out; SENSITIVE_ with --internal)"),
    )
    p.add_argument("--rejected", metavar="OUT.csv", help=_(REJECTED_HELP))
    add_table_options(p, hxl=True)
    add_view_filters(p)
    p.add_argument(
        "--no-categories",
        action="store_true",
        help=_("one row per region and period (with --internal)"),
    )
    add_publication_options(p, what=N_("exact figures"))
    _add_time_limit(p)
    p.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help=_(
            "local: this process; dask (with --internal): join and count on a dask cluster "
            "(INPUT may also be a folder of Parquet partitions of validated records)"
        ),
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=_(
            "dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --engine dask; "
            "default: a local cluster)"
        ),
    )
    p.set_defaults(func=commands.cmd_summarize)

    p = sub.add_parser(
        "report", help=_("one ZIP: PDF brief, figures, manifest (public unless --internal)")
    )
    add_input_options(p)
    add_join_options(p)
    p.add_argument("--level", type=int, required=True, help=_("admin level to report at"))
    p.add_argument("--period", default="month", help=_("week, acled-week, month, quarter or year"))
    add_view_filters(p)
    p.add_argument("--title", help=_("title of the brief"))
    add_publication_options(p, what=N_("a bundle with exact figures and the input file names"))
    _add_time_limit(p)
    p.add_argument(
        "--mask",
        metavar="round:D|displace:R[:MIN]",
        help=_("add masked incident points (rounded to D decimals, or displaced R metres)"),
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help=_(
            "the file's id column, which keys each displaced point (the same as --map "
            "id=NAME); without one, ids are generated from each record's fields and points move "
            "whenever a column is added or changed"
        ),
    )
    p.add_argument(
        "--out",
        metavar="REPORT.zip",
        help=_("default: crisismap_report_adminN_P.zip (SENSITIVE_ first with --internal)"),
    )
    p.add_argument(
        "--team",
        help=_(
            "key the masking and the manifest's input fingerprints on this team's workspace "
            "secret (default: the local workspace's; make it first with `crisismap workspace init`)"
        ),
    )
    p.set_defaults(func=commands.cmd_report)

    p = sub.add_parser(
        "trends",
        help=_(
            "where incidents rose or fell: each region's latest period against its own past "
            "(public unless --internal)"
        ),
    )
    add_input_options(p)
    add_join_options(p)
    p.add_argument("--level", type=int, required=True, help=_("admin level to compare at"))
    p.add_argument(
        "--period", default="week", help=_("week, month, quarter or year (default week)")
    )
    add_view_filters(p)
    p.add_argument(
        "--baseline",
        type=int,
        default=8,
        help=_("previous periods each region is compared with (default 8)"),
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help=_("false-alarm rate across the table's regions (default 0.05)"),
    )
    p.add_argument(
        "--min-count",
        type=int,
        default=3,
        help=_("incidents a region needs in the period to be called rising (default 3)"),
    )
    p.add_argument(
        "--latest",
        metavar="PERIOD",
        help=_(
            "the period to compare, as labelled in summaries (default: the last one the "
            "data covers completely)"
        ),
    )
    p.add_argument("--out", required=True, metavar="OUT.csv|OUT.xlsx")
    add_publication_options(p, what=N_("exact figures"))
    _add_time_limit(p)
    p.set_defaults(func=commands.cmd_trends)

    add_workspace_parser(sub)

    p = sub.add_parser(
        "boundaries",
        help=_("describe a boundary source, or fetch a country's current boundaries (online)"),
        usage="crisismap boundaries SOURCE\n"
        "       crisismap boundaries fetch ISO3 [--source geoboundaries|cod-ab] [--level N]",
    )
    p.add_argument(
        "source",
        help=_(
            "boundary file or directory, world, world:ISO3, or fetched:ISO3 (fetched "
            "earlier); or 'fetch' to download a country's current boundaries once (online)"
        ),
    )
    p.add_argument("iso3", nargs="?", metavar="ISO3", help=_("with fetch: the country, e.g. UKR"))
    p.add_argument(
        "--source",
        dest="fetch_source",
        metavar="geoboundaries|cod-ab",
        help=_("with fetch: geoBoundaries gbOpen (default) or OCHA's COD-AB on HDX"),
    )
    p.add_argument(
        "--level",
        type=int,
        metavar="N",
        help=_("with fetch: admin levels 0 to N (default 2; fewer where the source has fewer)"),
    )
    add_keep_unnamed(p)
    p.set_defaults(func=commands.cmd_boundaries)
    return parser


def _add_time_limit(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help=_(
            "stop protecting the figures after this long, with a sentence saying what to do "
            "(default: $CRISISMAP_EXPORT_TIME_LIMIT or 120; 0: no limit)"
        ),
    )


# Numeric options and the least each accepts (argparse checks only their type); --k is
# checked by check_publication (2 or more for public output, not used with --internal).
_MINIMUMS = {"max_problems": 0, "limit": 0, "wait": 0, "older_than": 0, "snap_m": 0}


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a negative or non-finite number where an option needs a count or a length."""
    for name, least in _MINIMUMS.items():
        value = getattr(args, name, None)
        if value is not None and not (abs(value) < float("inf") and value >= least):
            option = "--" + name.replace("_", "-")
            raise CrisismapError(
                _("{option} expects a number of {least} or more, got {value}.").format(
                    option=option, least=least, value=value
                )
            )


def run() -> NoReturn:
    """The ``crisismap`` command: :func:`main` in a process that exits after it.

    Objects the command made live until exit: frozen out of the cyclic collector, which
    otherwise walked all of them once after loading and again at exit (0.35 s of a
    report). Only here: a process that calls :func:`main` repeatedly (tests) collects.
    """
    from crisismap.cli import common

    common.ONE_COMMAND = True
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        lang = language_asked(argv)
    except i18n.UnknownLanguage as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return EXIT_BAD_INPUT
    with i18n.using(lang):  # the caller's language again after (tests call main in-process)
        return _run(argv)


def _run(argv: list[str]) -> int:
    argparse_text.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_numbers(args)
        check_publication(args)
        return _exiting(int(args.func(args) or 0))
    except CrisismapError as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return _exiting(EXIT_BAD_INPUT)
    except OSError as exc:
        detail = f"{exc.strerror or exc}: {exc.filename or ''}"
        print(error_line(detail), file=sys.stderr)
        return _exiting(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print(_("crisismap: interrupted (Ctrl-C): nothing more was written."), file=sys.stderr)
        return _exiting(EXIT_INTERRUPTED)


def error_line(message: str) -> str:
    """``crisismap: error: …`` in the user's language."""
    return _("crisismap: error: {message}").format(message=message)


def language_asked(argv: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """``--lang`` (read before the parser is built, so that its help is translated too),
    else ``$CRISISMAP_LANG``, else the first shipped language of gettext's variables
    (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English."""
    for k, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and k + 1 < len(argv):
            return i18n.check(argv[k + 1])
        if arg.startswith("--lang="):
            return i18n.check(arg.split("=", 1)[1])
    env = os.environ if environ is None else environ
    if env.get("CRISISMAP_LANG"):
        return i18n.check(env["CRISISMAP_LANG"])
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return i18n.negotiate(value.split(":"))
    return i18n.DEFAULT


def _exiting(code: int) -> int:
    """``code``, also told to crisismap.parallel: should stopped work still be inside a
    native call at exit, the process leaves at once with this status."""
    limited = sys.modules.get("crisismap.parallel")  # not imported: nothing ran limited
    if limited is not None:
        limited.set_exit_status(code)
    return code

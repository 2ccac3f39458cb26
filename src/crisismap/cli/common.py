"""What every command shares: input and view options, reading the input, progress, outputs."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from crisismap import i18n
from crisismap.errors import CrisismapError
from crisismap.i18n import _
from crisismap.schema import DateOrder, DateRange, View

EXIT_BAD_INPUT = 2


def progress(message: str) -> None:
    print(f"crisismap: {message}", file=sys.stderr, flush=True)


def number(value: Any) -> str:
    """A count as the user's locale writes it (``3 001`` in French, ``3.001`` in Spanish)."""
    return i18n.format_number(value)


def write_output(path: str | Path, data: bytes, *, records: bool = True) -> None:
    """Write an output file: owner-only (0600) when it holds records, as usual when public."""
    from crisismap.files import write_private

    if records:
        write_private(path, data)
    else:
        Path(path).write_bytes(data)


def add_publication_options(parser: argparse.ArgumentParser, *, what: str) -> None:
    """--internal, --k and the old --public: public figures unless --internal is given."""
    parser.add_argument(
        "--internal",
        action="store_true",
        help=_(
            "no small-count protection: {what} for the team only, named SENSITIVE_..., "
            "labelled SENSITIVE inside and readable by you only; never for publication"
        ).format(what=_(what)),
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help=_("accepted for old scripts and does nothing: output is public unless --internal"),
    )
    parser.add_argument(
        "--k",
        type=int,
        default=5,
        help=_(
            "public output: suppress figures under k incidents, with their complements "
            "(2 or more; default 5)"
        ),
    )


def add_table_options(parser: argparse.ArgumentParser, *, hxl: bool = False) -> None:
    """--bom (CSV for Excel) and, for summaries, --hxl (HDX's hashtag row)."""
    parser.add_argument(
        "--bom",
        action="store_true",
        help=_(
            "CSV for Excel: start the file with a UTF-8 byte-order mark, so Excel on "
            "Windows shows accented and non-Latin names right"
        ),
    )
    if hxl:
        parser.add_argument(
            "--hxl",
            action="store_true",
            help=_(
                "add an HXL hashtag row under the header (CSV or XLSX), in HDX's "
                "conventions: #adm1+code, #adm1+name, #date+start, #date+end, #event+num, "
                "#affected+killed ..."
            ),
        )


def is_public(args: argparse.Namespace) -> bool:
    """Public unless the user asked for internal output (``--public`` is a no-op alias)."""
    internal = bool(getattr(args, "internal", False))
    if internal and getattr(args, "public", False):
        raise CrisismapError(
            _(
                "--public and --internal ask for opposite things: leave out --internal for "
                "public figures (the default), or --public for an internal SENSITIVE_ output."
            )
        )
    return not internal


def check_publication(args: argparse.Namespace) -> None:
    """Refuse a public output whose k cannot protect anyone (k < 2)."""
    if hasattr(args, "k") and is_public(args):
        from crisismap.publish import public_k_refusal

        refusal = public_k_refusal(args.k)
        if refusal:
            raise CrisismapError(refusal)


def output_path(path: str | Path, *, public: bool) -> Path:
    """Where an output goes: as given when public, ``SENSITIVE_<name>`` beside it when not."""
    from crisismap.publish import SENSITIVE_PREFIX, export_filename

    path = Path(path)
    if public or path.name.startswith(SENSITIVE_PREFIX):
        return path
    return path.with_name(export_filename(path.name, public=False))


def workspace_secret(team: str | None = None) -> bytes:
    """The workspace's secret (local or ``team``'s): keys masking and input fingerprints."""
    from crisismap.store import Workspace

    return Workspace.open(team=team).secret


def release_ledger(team: str | None = None) -> Any:
    """The workspace's release ledger (``<workspace folder>/releases``): public releases of
    the same data stay consistent with each other and keep one k."""
    from crisismap import releases
    from crisismap.store import Workspace

    return releases.Ledger.beside(Workspace.open(team=team))


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help=_("incident CSV file"))
    parser.add_argument(
        "--preset", help=_("column preset: acled, ucdp, hxl, ushahidi, kobo, generic")
    )
    parser.add_argument(
        "--date-order",
        default="auto",
        choices=[d.value for d in DateOrder],
        help=_("how to read ambiguous dates like 03/04/2024 (default: decided from the column)"),
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=_("override the column for a field, e.g. --map date=when (repeatable)"),
    )
    parser.add_argument("--encoding", help=_("force the file encoding (default: detected)"))
    parser.add_argument(
        "--max-size-mb",
        type=float,
        default=200.0,
        help=_(
            "largest input read, in MB (default 200, the dashboard's upload cap; reading "
            "takes up to about 5x the file's size in memory)"
        ),
    )
    parser.add_argument(
        "--category-separator",
        choices=["auto", "none", ";", "|", ",", "/"],
        help=_(
            "how multi-label categories are split (default: the preset's choice; auto "
            "picks the separator whose labels recur across records)"
        ),
    )
    add_category_language_options(parser)


def add_category_language_options(parser: argparse.ArgumentParser) -> None:
    """Bilingual category labels (``Penurie d'eau | Water shortage``): which side to show."""
    parser.add_argument(
        "--category-language",
        metavar="full|auto|first|second|LANG",
        help=_(
            "how bilingual category labels such as 'Penurie d'eau | Water shortage' are shown "
            "in the outputs: full (default: the whole label), auto (the --lang language when "
            "the labels have it), first, second, or a language code such as fr or en; the "
            "data keeps the whole labels and the manifest records the choice"
        ),
    )
    parser.add_argument(
        "--category-pair",
        metavar="SEP[:LANG1,LANG2]",
        help=_(
            "say that every category label is one category in two languages around SEP "
            "(| or /), e.g. '|:fr,en': such labels are never split on SEP (by default "
            "crisismap detects them)"
        ),
    )


def use_category_language(args: argparse.Namespace) -> None:
    """Set how bilingual category labels are read and shown, from the options."""
    from crisismap import bilingual

    choice, pair = getattr(args, "category_language", None), getattr(args, "category_pair", None)
    try:
        declared = bilingual.parse_pair(pair) if pair else None
        bilingual.set_display(choice, declared)
    except ValueError as exc:
        raise CrisismapError(str(exc)) from None


def add_join_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--boundaries",
        required=True,
        help=_("boundary file or directory, or a bundled set: world, world:ISO3"),
    )
    parser.add_argument(
        "--snap-m",
        type=float,
        default=None,
        help=_(
            "snap points outside every region to the nearest one within this many metres "
            "(default: the boundary set's own: 2000 for the bundled world set, whose coastline is "
            "generalised; 0 for your own boundaries; 0 turns snapping off)"
        ),
    )
    add_keep_unnamed(parser)
    parser.add_argument(
        "--date-range",
        default=DateRange.NEVER.value,
        choices=[d.value for d in DateRange],
        help=_(
            "where records dated over several days count: never (default: in a period only "
            "when the whole range lies in it, else 'date not attributable'), start (on the first "
            "day), end (on the last day)"
        ),
    )
    parser.add_argument(
        "--fix-swapped",
        action="store_true",
        help=_("swap latitude/longitude of records detected as swapped"),
    )


def add_keep_unnamed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-unnamed-overlaps",
        action="store_true",
        help=_(
            "keep unnamed polygons that overlap named regions in the join (by default they "
            "are left out: see the overlap checks of 'crisismap boundaries')"
        ),
    )


def add_view_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", help=_("first date to include (YYYY-MM-DD)"))
    parser.add_argument("--end", help=_("last date to include (YYYY-MM-DD)"))
    parser.add_argument("--category", action="append", help=_("only this category (repeatable)"))
    parser.add_argument("--region", action="append", help=_("only this region code (repeatable)"))
    parser.add_argument(
        "--approved-only",
        action="store_true",
        help=_("count only records the file marks approved (e.g. Ushahidi's APPROVED)"),
    )
    parser.add_argument(
        "--verified-only",
        action="store_true",
        help=_("count only records the file marks verified (e.g. Ushahidi's VERIFIED)"),
    )


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise CrisismapError(
                _("--map expects FIELD=COLUMN (e.g. --map date=event_date), got {pair!r}.").format(
                    pair=pair
                )
            )
        overrides[field.strip()] = column.strip()
    return overrides


def input_options(args: argparse.Namespace) -> dict[str, Any]:
    """How to read the input file: the options every input command shares."""
    use_category_language(args)
    return {
        "preset": args.preset,
        "overrides": parse_overrides(args.map),
        "date_order": args.date_order,
        "encoding": args.encoding,
        "category_separator": args.category_separator,
    }


def max_bytes(args: argparse.Namespace) -> int:
    """``--max-size-mb`` in bytes (MB of 10^6 bytes, as the refusal says them)."""
    size = float(getattr(args, "max_size_mb", 200.0))
    if not size > 0:
        raise CrisismapError(
            _("--max-size-mb must be a positive number of MB, got {size:g}.").format(size=size)
        )
    return int(size * 1e6)


def read_input(path: Path) -> bytes:
    check_input(path)
    return path.read_bytes()


def check_input(path: Path) -> None:
    if not path.is_file():
        raise CrisismapError(
            _("Input file {path!r} does not exist or is not a file.").format(path=str(path))
        )


def analyse(args: argparse.Namespace, *, with_join: bool = True) -> Any:
    from crisismap import pipeline
    from crisismap.boundaries import load_boundaries
    from crisismap.display import use_disk_cache

    check_input(args.input)  # before the boundaries load: a typo fails at once
    progress(_("loading boundaries {source}").format(source=args.boundaries))
    use_disk_cache(boundary_cache() / "display")  # the PDF's map geometry, kept between runs
    boundaries = load_boundaries(
        args.boundaries,
        cache_dir=boundary_cache(),
        keep_unnamed_overlaps=args.keep_unnamed_overlaps,
    )
    analysis = pipeline.analyse(
        partial(read_input, args.input),  # read when its turn comes; not kept once read
        boundaries,
        filename=args.input.name,
        **input_options(args),
        max_bytes=max_bytes(args),
        snap_distance_m=args.snap_m,
        date_range=args.date_range,
        fix_swapped=args.fix_swapped,
        progress=progress,
    )
    if ONE_COMMAND:  # kept until exit: the collector stops walking it (0.1 s of a report)
        gc.freeze()
    return analysis


ONE_COMMAND = False  # set by the console entry (crisismap.cli.main.run): one command, then exit


def boundary_cache() -> Path:
    """Where prepared boundary sets are kept: ``<data dir>/cache`` (public geometry only)."""
    from crisismap.store import default_data_dir

    return default_data_dir() / "cache"


def validated(args: argparse.Namespace, data: bytes) -> Any:
    """Read, map and validate the input file's bytes as the input options say."""
    from crisismap.records import validate_bytes

    return validate_bytes(
        data, filename=args.input.name, max_bytes=max_bytes(args), **input_options(args)
    )


def view_of(args: argparse.Namespace) -> View:
    """The view the arguments ask for, parsed once (a bad date or period fails here)."""
    return View.parse(
        level=args.level,
        period=args.period,
        start=args.start,
        end=args.end,
        categories=args.category,
        regions=args.region,
        approved_only=args.approved_only,
        verified_only=args.verified_only,
    )


def actor() -> str:
    """Who runs this command, for the audit log: ``cli:$USER``."""
    user = os.environ.get("USER", "").strip()
    if not user:
        import getpass

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"cli:{user}"

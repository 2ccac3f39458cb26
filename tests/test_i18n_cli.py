"""The command line in the user's language.

In the pseudo-language every translated string comes back as ``⟦…⟧``: the CLI's commands
are run on small inputs and whatever is left of their output once the ``⟦…⟧`` are taken
out must be data (file names, paths, codes, numbers), so a message the CLI prints without
marking it for translation fails here. A static test checks the source: string literals
given to ``print``, ``progress``, the error classes and argparse's ``help=`` are ``_()``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from crisismap import i18n
from crisismap.cli import main
from crisismap.cli.main import build_parser
from crisismap.problems import CODES
from tests.conftest import ROOT

CLI = ROOT / "src" / "crisismap" / "cli"

# Three months of incidents in Sudan (Khartoum, Sennar, Nyala), then bad rows: an impossible
# date, a latitude out of range, a victim count that is not a number, a short record.
ROWS = [
    "incident_id,date,latitude,longitude,category,victims",
    *[
        f"K{k},2024-0{1 + k % 3}-{10 + k % 15},{lat},{lon},{cat},{k % 3}"
        for k, (lat, lon, cat) in enumerate(
            [(15.5512, 32.5321, "shelling"), (13.5524, 33.6256, "detention")] * 12
            + [(12.0512, 24.8812, "shelling")] * 6
        )
    ],
    "B1,2024-02-30,15.5512,32.5321,shelling,1",
    "B2,2024-03-02,95.5512,32.5321,shelling,1",
    "B3,2024-03-03,15.5512,32.5321,shelling,several",
    "B4,2024-03-04,15.5512",
]
# pipeline.py's progress lines are the library's (area "core"), not the CLI's
LIBRARY_PROGRESS = re.compile(r"^crisismap: (reading|validated|joining) .*$", re.M)


@pytest.fixture
def incidents(tmp_path: Path) -> Path:
    path = tmp_path / "incidents.csv"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def leftover(text: str) -> str:
    """``text`` without its ⟦…⟧ (nested ones too) and the library's progress lines."""
    text = LIBRARY_PROGRESS.sub("", text)
    while (shorter := re.sub(r"⟦[^⟦⟧]*⟧", " ", text)) != text:
        text = shorter
    return text


def prose(text: str, allowed: set[str]) -> list[str]:
    """The words left that are not data: each one is a string the CLI forgot to mark."""
    words = re.findall(r"[^\W\d_]{2,}", leftover(text))
    return [w for w in words if w.lower() not in allowed]


def data_words(*texts: str) -> set[str]:
    words = {"crisismap", "sensitive"}
    for code in CODES:
        words |= set(code.split("-"))
    for text in texts:
        words |= {w.lower() for w in re.findall(r"[^\W\d_]{2,}", text)}
    return words


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["--lang", i18n.PSEUDO, *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_with_bad_rows_says_everything_in_the_language(incidents, tmp_path, capsys):
    problems, rejected = tmp_path / "problems.csv", tmp_path / "rejected.csv"
    code, out, err = run(
        capsys, "validate", incidents, "--problems", problems, "--rejected", rejected
    )
    assert code == 0, err
    assert "[date-impossible]" in out and "[coords-out-of-range]" in out  # codes as they are
    assert "⟦error⟧" in out and "⟦warning⟧" in out
    allowed = data_words(incidents.read_text(), str(tmp_path), "id date lat lon victims")
    assert prose(out + err, allowed) == []
    header = (tmp_path / "SENSITIVE_problems.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"⟦line⟧","⟦column⟧","⟦code⟧"')
    header = (tmp_path / "SENSITIVE_rejected.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"⟦line⟧","incident_id","date"')  # the file's own: as named


@pytest.mark.slow
def test_summarize_trends_records_say_everything_in_the_language(incidents, tmp_path, capsys):
    allowed = data_words(incidents.read_text(), str(tmp_path), "world SDN")
    common = ["--boundaries", "world:SDN"]
    runs = [
        (
            "summarize",
            incidents,
            *common,
            "--level",
            "1",
            "--out",
            tmp_path / "pub.csv",
            "--k",
            "2",
        ),
        (
            "summarize",
            incidents,
            *common,
            "--level",
            "1",
            "--out",
            tmp_path / "in.xlsx",
            "--internal",
        ),
        (
            "trends",
            incidents,
            *common,
            "--level",
            "1",
            "--period",
            "month",
            "--out",
            tmp_path / "t.csv",
            "--k",
            "2",
        ),
        ("records", incidents, *common, "--internal", "--out", tmp_path / "r.csv"),
        ("boundaries", "world:SDN"),
    ]
    for argv in runs:
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        if argv[0] == "boundaries":  # its first line is the set's name and source: data
            allowed |= data_words(out.splitlines()[0])
        assert prose(out + err, allowed) == [], argv
    header = (tmp_path / "pub.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"⟦region code⟧","⟦region name⟧"')


def test_errors_and_argparse_words_are_translated(incidents, tmp_path, capsys):
    code, _, err = run(capsys, "validate", tmp_path / "missing.csv")
    assert code == 2 and prose(err, data_words(str(tmp_path))) == []
    assert err.startswith("⟦crisismap: error: ") and "missing.csv" in err
    with pytest.raises(SystemExit):
        run(capsys, "summarize", incidents)
    _, err = capsys.readouterr()
    assert "⟦usage: ⟧" in err and "⟦the following arguments are required: %s⟧" not in err
    assert "⟦the following arguments are required: " in err
    with pytest.raises(SystemExit):
        run(capsys, "validate", incidents, "--date-order", "ymd")
    _, err = capsys.readouterr()
    assert "⟦invalid choice: 'ymd'" in err


def _parser_words() -> set[str]:
    """What help shows that is not prose: option names, metavars, choices, command names."""
    words = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        words |= set(re.findall(r"[^\W\d_]{2,}", parser.prog.lower()))
        for action in parser._actions:
            for text in [*action.option_strings, str(action.metavar or ""), str(action.dest)]:
                words |= {w.lower() for w in re.findall(r"[^\W\d_]{2,}", text)}
            for choice in action.choices or []:
                words |= {w.lower() for w in re.findall(r"[^\W\d_]{2,}", str(choice))}
            if hasattr(action, "_name_parser_map"):
                parsers.extend(action._name_parser_map.values())
    return words


@pytest.mark.parametrize("command", [[], ["validate"], ["summarize"], ["workspace", "purge"]])
def test_help_is_translated(command, capsys):
    allowed = _parser_words()
    with pytest.raises(SystemExit):
        run(capsys, *command, "--help")
    out, _ = capsys.readouterr()
    assert "⟦usage: ⟧" in out and "⟦options⟧" in out
    assert prose(out, allowed) == []


def test_french_help_and_error(capsys, incidents):
    with pytest.raises(SystemExit):
        main(["--lang", "fr", "validate", "--help"])
    out, _ = capsys.readouterr()
    assert out.startswith("utilisation : ") and "afficher ce message d'aide et quitter" in out
    code = main(["--lang", "fr", "validate", str(incidents)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "incidents.csv : 34 enregistrements, 31 acceptés" in out  # counts in French words
    assert i18n.language() == "en"  # main() leaves the caller's language as it was


def test_numbers_are_printed_per_locale(tmp_path, capsys):
    rows = ["id,date,latitude,longitude"] + [f"{k},2024-01-01,15.5512,32.5321" for k in range(1200)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    main(["--lang", "es", "validate", str(path)])
    out, _ = capsys.readouterr()
    assert out.startswith("many.csv: 1200 registros") or out.startswith("many.csv: 1.200 registros")
    main(["--lang", "fr", "validate", str(path)])
    out, _ = capsys.readouterr()
    assert "1\u202f200" in out.splitlines()[0]


# --- the source: every literal shown to the user is marked ----------------------------------

SHOWN = {"print", "progress"}
MARKERS = {"_", "ngettext", "pgettext", "N_"}


def _is_error_class(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name.endswith("Error")


def _unmarked(node: ast.expr) -> list[str]:
    """Literal prose in ``node`` that does not go through a marker."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words = set(re.findall(r"[A-Za-z]{2,}", node.value)) - {"crisismap"}  # the program
        return [node.value] if words else []
    if isinstance(node, ast.JoinedStr):
        return [p for v in node.values for p in _unmarked(v)]
    if isinstance(node, ast.FormattedValue):
        return _unmarked(node.value)
    if isinstance(node, ast.BinOp):
        return _unmarked(node.left) + _unmarked(node.right)
    if isinstance(node, ast.IfExp):
        return _unmarked(node.body) + _unmarked(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in MARKERS:
            return []
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return _unmarked(func.value)
    return []


def test_every_literal_the_cli_shows_is_marked_for_translation():
    found = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            shown: list[ast.expr] = []
            if name in SHOWN or _is_error_class(func):
                shown += node.args
            shown += [k.value for k in node.keywords if k.arg in {"help", "description"}]
            if name == "action" and len(node.args) == 2:  # workspace actions' help
                shown.append(node.args[1])
            for arg in shown:
                found += [f"{path.name}:{node.lineno}: {text!r}" for text in _unmarked(arg)]
    assert found == []


def test_the_static_check_catches_an_unmarked_literal():
    tree = ast.parse(
        'print(f"wrote {n} rows"); print(_("ok {n}").format(n=1)); print(f"  {x}: [{y}]")'
    )
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
    ]
    assert [bool(_unmarked(c.args[0])) for c in calls] == [True, False, False]

"""The catalogue of problem codes is the one list: every code the source reports is in it,
every code in it is reported somewhere, and docs/problem-codes.md is generated from it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from crisismap import problems
from crisismap.problems import CODES, ProblemType
from crisismap.records import detect_mapping, read_csv_bytes, validate
from crisismap.schema import Severity

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "crisismap"
CATALOGUE_MODULE = PACKAGE / "problems.py"
DOC = ROOT / "docs" / "problem-codes.md"
# the names the catalogue gives its entries: ``DATE_INVALID`` for "date-invalid"
NAMES = {name: kind for name, kind in vars(problems).items() if isinstance(kind, ProblemType)}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != CATALOGUE_MODULE
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (they may cite codes)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_every_catalogue_entry_has_a_name_code_severity_template_and_description():
    assert len(NAMES) == len(CODES)
    for name, kind in NAMES.items():
        assert CODES[kind.code] is kind
        assert name == kind.code.upper().replace("-", "_")
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", kind.code)
        assert kind.severity in (Severity.ERROR, Severity.WARNING)
        assert kind.description.endswith(".") and "\n" not in kind.description
        for template in (kind.template, *kind.variants.values()):
            list(string.Formatter().parse(template))  # well-formed format string


def test_no_code_is_written_as_a_literal_outside_the_catalogue():
    """A Problem takes its code from the catalogue, never from a string literal."""
    found = []
    for path, tree in _modules():
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in CODES and id(node) not in docstrings:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem":
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} Problem(code=...)")
    assert not found, "use the constants of crisismap.problems instead:\n" + "\n".join(found)


def test_every_code_a_docstring_cites_is_in_the_catalogue_with_its_severity():
    """The validation rules cite codes as ``[date-invalid E]``; each must exist."""
    cited = 0
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for code, letter in re.findall(r"\[([a-z0-9]+(?:-[a-z0-9]+)+) ([EW])\]", node.value):
                cited += 1
                assert code in CODES, f"{path.name} cites unknown code {code!r}"
                assert CODES[code].severity.value[0].upper() == letter, (path.name, code)
    assert cited >= 25


def test_every_catalogue_code_is_used_in_the_source():
    used: set[str] = set()
    for _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "crisismap.problems":
                used.update(alias.name for alias in node.names)
    unused = sorted(NAMES[name].code for name in NAMES if name not in used)
    assert not unused, f"catalogue codes no module reports: {unused}"


def test_docs_problem_codes_is_generated_from_the_catalogue():
    expected = problems.catalogue_markdown()
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/problem-codes.md is out of date; regenerate it with\n"
        '  uv run python -c "from crisismap import problems; '
        "print(problems.catalogue_markdown(), end='')\" > docs/problem-codes.md"
    )
    for code in CODES:
        assert f"| `{code}` |" in expected


def test_a_problem_is_rendered_from_its_own_fields():
    problem = problems.QUOTE_UNCLOSED.problem(line=7, value='a,"b', next_line=8, last_line=9)
    assert (problem.code, problem.severity, problem.line, problem.value) == (
        "quote-unclosed",
        Severity.ERROR,
        7,
        'a,"b',
    )
    assert problem.message.startswith("Line 7 opens a quote that is not closed on that line")
    assert "swallow line(s) 8–9 into one value. Only line 7 was set aside" in problem.message
    at_end = problems.QUOTE_UNCLOSED.problem(line=7, variant="at_end")
    assert at_end.message.startswith("Line 7 opens a quoted value that is never closed")
    with pytest.raises(KeyError):
        problems.QUOTE_UNCLOSED.message(None, line=7)  # next_line and last_line missing


def test_every_code_a_messy_file_gets_is_in_the_catalogue():
    data = (
        "id,date,lat,lon,category,victims\n"
        "1,2024-02-30,0,0,,-3\n"
        '2,05/06/24,"48,5",N 37.2,a,2.5\n'
        "2,45000,95,37.123,b,many\n"
        '3,2024-01-01,48.5,"unclosed\n'
        "4,2024-01-01,48.5,37.5,a,1,extra\n"
        "5,March 2024,48°30'N,37.5\n"
    ).encode()
    raw = read_csv_bytes(data)
    result = validate(raw, detect_mapping(raw.header, raw.hxl_tags))
    codes = {code for code, _ in result.report.counts}
    assert len(codes) >= 10
    for code, severity in result.report.counts:
        assert code in CODES and CODES[code].severity.value == severity
    for problem in result.report.problems:
        assert problem.severity == CODES[problem.code].severity

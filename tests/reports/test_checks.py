from __future__ import annotations

import pytest
from checks.minisuite import KEYWORDS_MINI, MINI, keyword_detector

from odio.checks.run import run_check
from odio.checks.suite import parse_suite
from odio.reports.checks import check_section, format_check
from odio.reports.document import Document


@pytest.fixture(scope="module")
def result():
    return run_check(keyword_detector(KEYWORDS_MINI), parse_suite(MINI))


def test_console_tables(result):
    text = format_check(result, failures=1)
    lines = text.splitlines()
    assert lines[0] == "suite mini: 3 functionalities, 10 cases (es-CL)"
    assert (
        "accuracy 0.4167 (mean over 3 functionalities); over cases 0.4000 (4 of 10 passed)" in lines
    )
    row = next(line for line in lines if line.startswith("negation "))
    assert row.split() == ["negation", "1", "4", "0.0000", "0.0000"]
    row = next(line for line in lines if line.startswith("Mujeres "))
    assert row.split()[1:] == ["2", "4", "0.5000", "0.5000"]
    assert any(line.startswith("dehumanising ") and "Odio 1, target 1" in line for line in lines)
    assert "AUC" in next(line for line in lines if line.startswith("label "))
    row = next(line for line in lines if line.startswith("Odio "))
    assert row.split() == ["Odio", "4", "1.0000", "6", "0.1667", "0.5833"]
    assert "negated: 4 failing" in lines
    assert (
        "  las mujeres no son una plaga  [Odio 0.90 (expected 0); Mujeres 0.90 (expected 0)]"
        in lines
    )
    assert "las mujeres no son basura" not in text  # one failure per functionality


def test_no_failures_listed_with_zero(result):
    assert "failing cases" not in format_check(result, failures=0)


def test_notes_on_missing_and_mapped_labels():
    detector = keyword_detector({"HS": ["son"]})
    result = run_check(detector, parse_suite(MINI), label_map={"HS": "Odio"})
    text = format_check(result)
    assert "not scored: the model has no label Mujeres, Comunidades Migrantes" in text
    assert "scored through model labels: HS as Odio" in text


def test_report_section(result):
    doc = Document("r")
    check_section(doc, result, failures=2)
    md = doc.to_markdown()
    for heading in (
        "## Functional tests: mini",
        "### By functionality group",
        "### By target group",
        "### By label",
        "### By functionality",
        "### Failing cases (6)",
    ):
        assert heading in md
    assert "| Odio | 4 | 1.0000 | 6 | 0.1667 | 0.5833 |" in md
    assert "| Mujeres | 2 | 1.0000 | 2 | 0.0000 | 0.5000 |" in md
    assert "| negated | negation | Odio 0, target 0 | 4 | 0.0000 | Hate negated. |" in md
    assert "evaluation only" in md

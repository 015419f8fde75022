"""Functional test results shown: console tables (``odio check``) and a report section
(``odio report RUN --check``).

Both show the same tables of a :class:`~odio.checks.results.CheckResult`: the overall accuracy
(the mean over functionalities, then over cases), per functionality group, per target group,
per label (cases expecting 1 and 0, and the AUC, which no threshold moves), per
functionality, and some failing cases of each functionality with the probabilities behind
the wrong decisions.
"""

from __future__ import annotations

from odio.checks.results import CaseResult, CheckResult, Score
from odio.reports.document import Document

FAILURES = 3
"""Failing cases shown per functionality (``odio check --failures``)."""


def headline(result: CheckResult) -> str:
    """The overall accuracy in one line.

    >>> from odio.checks.suite import Suite
    >>> headline(CheckResult(Suite("s", "", "", ["Odio"], []), "m", {"Odio": "Odio"}, [], []))
    'accuracy - (mean over 0 functionalities); over cases - (0 of 0 passed)'
    """
    overall = result.overall()
    return (
        f"accuracy {_num(overall.macro)} (mean over {overall.functionalities} "
        f"functionalities); over cases {_num(overall.micro)} "
        f"({overall.passed} of {overall.cases} passed)"
    )


def notes(result: CheckResult) -> list[str]:
    """What was not scored, and whether the suite's cases were in the training data."""
    lines = []
    if result.missing:
        lines.append(
            f"not scored: the model has no label {', '.join(result.missing)}"
            + (f"; {result.skipped} cases had nothing left to score" if result.skipped else "")
        )
    renamed = {k: v for k, v in result.label_map.items() if k != v}
    if renamed:
        lines.append(
            "scored through model labels: " + ", ".join(f"{v} as {k}" for k, v in renamed.items())
        )
    if result.in_training:
        lines.append(
            f"WARNING: {result.in_training} cases are among the run's training texts; the "
            "suite is for evaluation only"
        )
    return lines


def format_check(result: CheckResult, failures: int = FAILURES) -> str:
    """The console report of one suite on one model.

    Args:
        result: from :func:`odio.checks.run.run_check`.
        failures: failing cases shown per functionality (0: none).

    Example:
        >>> print(format_check(result))  # doctest: +SKIP
        suite es_cl: 41 functionalities, 1799 cases (es-CL)
        ...
    """
    suite = result.suite
    rule = result.info.get("decision_rule", "independent")
    lines = [
        f"suite {suite.summary()}",
        f"model {result.model}: labels {', '.join(result.label_map.values())}; "
        f"decision rule {rule}",
        *notes(result),
        "",
        headline(result),
        "",
        _scores("functionality group", result.by_group()),
        "",
        _scores("target group", result.by_target()),
        "",
        _labels(result),
        "",
        _functionalities(result),
    ]
    failing = result.failures()
    if failures > 0 and failing:
        lines += ["", f"failing cases (up to {failures} per functionality; --json lists all)"]
        for name, cases in _failures_by_functionality(failing).items():
            lines.append(f"{name}: {len(cases)} failing")
            lines += [f"  {_case(r)}" for r in cases[:failures]]
    return "\n".join(lines)


def check_section(doc: Document, result: CheckResult, failures: int = FAILURES) -> None:
    """Add a "Functional tests" section for one suite to a report."""
    suite = result.suite
    doc.heading(f"Functional tests: {suite.name}")
    doc.paragraph(
        f"{suite.summary()}. {suite.description} A case passes when the model decides, at "
        "its tuned thresholds, every label the case expects as expected (Odio and the "
        "group the case is about). The headline accuracy is the mean over functionalities; "
        "the suite is for evaluation only, never for training or tuning."
    )
    doc.paragraph(headline(result) + "." + "".join(f" {n}." for n in notes(result)))
    for title, scores in (
        ("By functionality group", result.by_group()),
        ("By target group", result.by_target()),
    ):
        doc.heading(title, 3)
        doc.table(
            ["", "functionalities", "cases", "accuracy", "over cases"],
            [
                [s.name, str(s.functionalities), str(s.cases), _num(s.macro), _num(s.micro)]
                for s in scores
            ],
        )
    doc.heading("By label", 3)
    doc.paragraph(
        "AUC: the chance that a case expecting 1 gets a higher probability than one "
        "expecting 0, whatever the threshold."
    )
    doc.table(
        ["label", "expects 1", "accuracy", "expects 0", "accuracy", "AUC"],
        [
            [
                row["label"],
                str(row["expect_1"]["cases"]),
                _num(row["expect_1"]["accuracy"]),
                str(row["expect_0"]["cases"]),
                _num(row["expect_0"]["accuracy"]),
                _num(row["auc"]),
            ]
            for row in result.by_label()
        ],
    )
    doc.heading("By functionality", 3)
    described = {f.name: f for f in suite.functionalities}
    doc.table(
        ["functionality", "group", "expects", "cases", "accuracy", "description"],
        [
            [
                s.name,
                described[s.name].group,
                _expects(described[s.name].expect),
                str(s.cases),
                _num(s.micro),
                described[s.name].description,
            ]
            for s in result.by_functionality()
        ],
    )
    failing = result.failures()
    doc.heading(f"Failing cases ({len(failing)})", 3)
    rows = [
        [name, r.case.text, _wrong(r)]
        for name, cases in _failures_by_functionality(failing).items()
        for r in cases[:failures]
    ]
    if rows:
        doc.paragraph(f"Up to {failures} per functionality (odio check --json lists them all).")
        doc.table(["functionality", "text", "wrong decisions"], rows)
    else:
        doc.paragraph("None.")


def _scores(title: str, scores: list[Score]) -> str:
    head = f"{title:<28} {'funcs':>5} {'cases':>6} {'accuracy':>8} {'over cases':>10}"
    rows = [
        f"{s.name[:28]:<28} {s.functionalities:>5} {s.cases:>6} {_num(s.macro):>8} "
        f"{_num(s.micro):>10}"
        for s in scores
    ]
    return "\n".join([head, "-" * len(head), *rows])


def _labels(result: CheckResult) -> str:
    head = (
        f"{'label':<28} {'expects 1':>9} {'accuracy':>8} {'expects 0':>9} {'accuracy':>8} "
        f"{'AUC':>6}"
    )
    rows = []
    for row in result.by_label():
        one, zero = row["expect_1"], row["expect_0"]
        rows.append(
            f"{row['label'][:28]:<28} {one['cases']:>9} {_num(one['accuracy']):>8} "
            f"{zero['cases']:>9} {_num(zero['accuracy']):>8} {_num(row['auc']):>6}"
        )
    return "\n".join([head, "-" * len(head), *rows])


def _functionalities(result: CheckResult) -> str:
    described = {f.name: f for f in result.suite.functionalities}
    head = f"{'functionality':<28} {'group':<15} {'expects':<18} {'cases':>6} {'accuracy':>8}"
    rows = [
        f"{s.name[:28]:<28} {described[s.name].group[:15]:<15} "
        f"{_expects(described[s.name].expect)[:18]:<18} {s.cases:>6} {_num(s.micro):>8}"
        for s in result.by_functionality()
    ]
    return "\n".join([head, "-" * len(head), *rows])


def _failures_by_functionality(failing: list[CaseResult]) -> dict[str, list[CaseResult]]:
    out: dict[str, list[CaseResult]] = {}
    for r in failing:
        out.setdefault(r.case.functionality, []).append(r)
    return out


def _case(r: CaseResult) -> str:
    return f"{r.case.text}  [{_wrong(r)}]"


def _wrong(r: CaseResult) -> str:
    """``Odio 0.31 (expected 1); Mujeres 0.62 (expected 0)``: the wrong labels.

    The probability is the model's; its decision is the other side of its threshold.
    """
    return "; ".join(
        f"{label} {r.probabilities[label]:.2f} (expected {r.case.expect[label]})"
        for label in r.wrong
    )


def _expects(expect: dict[str, int]) -> str:
    """``{"Odio": 1, "target": 1}`` -> ``"Odio 1, target 1"``.

    >>> _expects({"Odio": 1, "target": 1})
    'Odio 1, target 1'
    """
    return ", ".join(f"{k} {v}" for k, v in expect.items())


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"

"""A document of headings, paragraphs, tables and figures, rendered as HTML and as Markdown.

:class:`Document` collects the blocks once and renders two twins: one self-contained HTML
page (inline CSS, every figure an embedded base64 PNG, no scripts or links) and a Markdown
file whose figures are PNG files the caller writes next to it. Every text is escaped in
both, and table columns that hold only numbers are right-aligned. :mod:`odio.reports.report` builds
its reports with it.
"""

from __future__ import annotations

import base64
import html
import re
from typing import Any

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em;
     margin-top: 1.8em; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1.2em; font-size: .9em;
        display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #d0d0d0; padding: .25em .6em; vertical-align: top; }
th { background: #f2f4f7; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; }
"""
_NUMERIC = re.compile(r"[-+]?\d[\d.]*(e[-+]?\d+)?(( ± | / )[\d.]+)?|-")
# Backslash escapes, the Markdown way: a table cell, a terminal or a renderer reads the same
# text ("votes >= 2", not "votes &gt;= 2"). "<" could open raw HTML and "&" an entity, so
# they are escaped too; "_" inside words is literal in CommonMark.
_MD_SPECIAL = re.compile(r"([\\|*`\[\]<]|&(?=#?\w+;))")


class Document:
    r"""Headings, paragraphs, tables and figures, rendered as HTML and as Markdown.

    Blocks are added in reading order; :meth:`to_html` and :meth:`to_markdown` render
    them. Both escape every text; the Markdown links each figure as ``figures_dir/name``,
    so the caller writes :meth:`figures` into that folder next to the Markdown file.

    Args:
        title: the page title, also its top heading.
        figures_dir: the folder, relative to the Markdown file, its figures are linked from.

    Example:
        >>> doc = Document("a <b> report")
        >>> doc.heading("Scores")
        >>> doc.table(["label", "F1"], [["Odio", "0.7512"], ["a|b", "-"]])
        >>> doc.figure("pr.png", b"\x89PNG", "PR curves")
        >>> print(doc.to_markdown(), end="")
        # a \<b> report
        <BLANKLINE>
        ## Scores
        <BLANKLINE>
        | label | F1 |
        |---|---:|
        | Odio | 0.7512 |
        | a\|b | - |
        <BLANKLINE>
        ![PR curves](figures/pr.png)
        >>> '<img src="data:image/png;base64,iVBORw==" alt="PR curves">' in doc.to_html()
        True
    """

    def __init__(self, title: str, figures_dir: str = "figures") -> None:
        self.title = title
        self.figures_dir = figures_dir
        self.blocks: list[tuple[Any, ...]] = []
        """``(kind, ...)`` tuples in reading order: heading, paragraph, table or figure."""

    def heading(self, text: str, level: int = 2) -> None:
        """Add a section heading (``level`` 2 is a section, 3 a subsection)."""
        self.blocks.append(("heading", level, text))

    def paragraph(self, text: str) -> None:
        """Add a paragraph of plain text."""
        self.blocks.append(("paragraph", text))

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """Add a table of already formatted cells; all-numeric columns are right-aligned."""
        self.blocks.append(("table", header, rows))

    def figure(self, name: str, png: bytes, alt: str) -> None:
        """Add a PNG figure: embedded in the HTML, ``figures_dir/name`` in the Markdown."""
        self.blocks.append(("figure", name, png, alt))

    def figures(self) -> list[tuple[str, bytes]]:
        """``(name, png)`` of every figure, in order: the files the Markdown links to."""
        return [(b[1], b[2]) for b in self.blocks if b[0] == "figure"]

    def to_html(self) -> str:
        """One self-contained HTML page: inline CSS, figures as base64 ``data:`` URLs."""
        e = html.escape
        out = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{e(self.title)}</h1>",
        ]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
            elif kind == "paragraph":
                out.append(f"<p>{e(block[1])}</p>")
            elif kind == "figure":
                data = base64.b64encode(block[2]).decode("ascii")
                out.append(f'<p><img src="data:image/png;base64,{data}" alt="{e(block[3])}"></p>')
            else:
                header, rows = block[1], block[2]
                numeric = _numeric_columns(header, rows)
                out.append("<table><thead><tr>")
                out.append("".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>")
                for row in rows:
                    cells = (
                        f'<td class="num">{e(c)}</td>' if numeric[i] else f"<td>{e(c)}</td>"
                        for i, c in enumerate(row)
                    )
                    out.append("<tr>" + "".join(cells) + "</tr>")
                out.append("</tbody></table>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        """Markdown: pipe tables, figures linked as ``figures_dir/name``."""
        out = [f"# {_md(self.title)}"]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out.append("#" * block[1] + " " + _md(block[2]))
            elif kind == "paragraph":
                out.append(_md(block[1]))
            elif kind == "figure":
                out.append(f"![{_md(block[3])}]({self.figures_dir}/{block[1]})")
            else:
                out.append(markdown_table(block[1], block[2]))
        return "\n\n".join(out) + "\n"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table of formatted cells; all-numeric columns are right-aligned.

    >>> print(markdown_table(["run", "f1"], [["a|b", "0.81"], ["c", "-"]]))
    | run | f1 |
    |---|---:|
    | a\\|b | 0.81 |
    | c | - |
    """
    numeric = _numeric_columns(header, rows)
    lines = ["| " + " | ".join(_md(h) or " " for h in header) + " |"]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _numeric_columns(header: list[str], rows: list[list[str]]) -> list[bool]:
    """Per column: does every non-empty cell hold a number (or ``-``, a missing one)?"""
    numeric = []
    for i in range(len(header)):
        cells = [row[i] for row in rows if i < len(row) and row[i]]
        numeric.append(bool(cells) and all(_NUMERIC.fullmatch(c) for c in cells))
    return numeric


def _md(text: str) -> str:
    """Text made safe for a Markdown table cell or paragraph (one line, backslash escapes).

    >>> _md("votes >= 2"), _md("<b> &amp; a|b")
    ('votes >= 2', '\\\\<b> \\\\&amp; a\\\\|b')
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))

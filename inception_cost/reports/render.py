"""Renderers: one `Report`, four views (table, markdown, csv, json).

Each renderer only formats; the numbers come from the report, so every format shows
the same figures. `rich` is imported only by the table view.
"""

from __future__ import annotations

import enum
import io
from typing import Any

from inception_cost.errors import printable
from inception_cost.reports.model import FLOAT, INT, RATIO, SHAPE, SHARE, Column, Report, Section

NUMERIC = (INT, SHARE, RATIO, FLOAT)


class Format(str, enum.Enum):
    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"


def render(report: Report, fmt: Format | str, width: int | None = None) -> str:
    """`width` is the terminal's: the table is then drawn by rich to fit it; without a
    terminal (a pipe, a file) it is plain aligned text, which needs no rich at all."""
    fmt = Format(fmt)
    if fmt is Format.JSON:
        return to_json(report)  # JSON escapes control characters itself
    if fmt is Format.MARKDOWN:
        text = markdown(report)
    elif fmt is Format.CSV:
        text = to_csv(report)
    else:
        text = table(report, width) if width else plain_table(report)
    # names come from files: an escape sequence in one must not drive the terminal
    return "\n".join(printable(line) for line in text.split("\n"))


def cell(value: object, kind: str) -> str:
    """A value as people read it: 1,234,567 / 8.1% / 9.68x."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return printable(value)  # escaped before the columns are measured
    if kind == INT and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (int, float)):
        if kind == SHARE:
            return f"{value * 100:.1f}%"
        if kind == RATIO:
            return f"{value:.2f}x"
        if kind == FLOAT:
            return f"{value:,.2f}"
    return str(value)


def _visible_columns(section: Section) -> list[Column]:
    """Columns with at least one value (the total row counts)."""
    rows = section.rows + ([section.total] if section.total else [])
    return [c for c in section.columns if any(r.get(c.key) not in (None, "") for r in rows)]


# ---- markdown ------------------------------------------------------------------------------


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    out = [f"# {_md(report.title)}", ""]
    if report.meta.get("source"):
        out += [f"Source: {_md(report.meta['source'])}", ""]
    out += ["**Counting convention.** " + " ".join(report.convention), ""]
    for section in report.sections:
        columns = _visible_columns(section)
        out += [f"## {_md(section.title)}", ""]
        out.append("| " + " | ".join(_md(c.title) for c in columns) + " |")
        out.append("|" + "|".join("---:" if c.kind in (INT, SHARE, RATIO, FLOAT) else "---"
                                  for c in columns) + "|")
        for row in section.rows:
            out.append("| " + " | ".join(_md(cell(row.get(c.key), c.kind)) for c in columns) + " |")
        if section.total:
            out.append("| " + " | ".join(
                f"**{_md(cell(section.total[c.key], c.kind))}**" if section.total.get(c.key) not in (None, "")
                else "" for c in columns) + " |")
        out.append("")
        for note in section.notes:
            out += [_md(note), ""]
    for note in report.notes:
        out += [_md(note), ""]
    return "\n".join(out).rstrip() + "\n"


# ---- csv ------------------------------------------------------------------------------------


def to_csv(report: Report) -> str:
    """One table: a `section` column, then the union of every section's columns (raw values)."""
    keys, titles = [], {}
    for section in report.sections:
        for c in section.columns:
            if c.key not in titles:
                keys.append(c.key)
                titles[c.key] = c.key
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_safe(k) for k in ["section", "is_total"] + keys])
    for section in report.sections:
        for row, is_total in [(r, 0) for r in section.rows] + ([(section.total, 1)] if section.total else []):
            writer.writerow([_csv_safe(section.title), is_total]
                            + ["" if row.get(k) is None else _csv_safe(row.get(k)) for k in keys])
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe
    (`=cmd()` -> `'=cmd()`); numbers stay numbers, negative ones too."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# ---- json -----------------------------------------------------------------------------------


def to_document(report: Report) -> dict[str, Any]:
    """The JSON report as a dict: its field names are an interface (add, never rename)."""
    return {
        "title": report.title,
        **report.meta,
        "convention": report.convention,
        "totals": report.totals,
        "sections": [{"title": s.title, "columns": [{"key": c.key, "title": c.title, "kind": c.kind}
                                                    for c in s.columns],
                      "rows": s.rows, "total": s.total, "notes": s.notes} for s in report.sections],
        "notes": report.notes,
    }


def to_json(report: Report) -> str:
    import json

    # allow_nan=False: RFC 8259 has no Infinity or NaN (the inputs are checked finite)
    return json.dumps(to_document(report), indent=2, allow_nan=False) + "\n"


# ---- html (Jupyter) -------------------------------------------------------------------------


def to_html(report: Report) -> str:
    """Plain HTML tables, for notebooks: every section, numbers right-aligned."""
    from html import escape

    out = [f"<h4>{escape(report.title)}</h4>",
           f"<p><small>{escape(' '.join(report.convention))}</small></p>"]
    for section in report.sections:
        columns = _visible_columns(section)
        out.append(f"<table><caption>{escape(section.title)}</caption><thead><tr>"
                   + "".join(f"<th>{escape(c.title)}</th>" for c in columns) + "</tr></thead><tbody>")
        rows = [(r, False) for r in section.rows] + ([(section.total, True)] if section.total else [])
        for row, is_total in rows:
            cells = []
            for c in columns:
                text = escape(cell(row.get(c.key), c.kind)) if row.get(c.key) is not None else ""
                align = ' style="text-align:right"' if c.kind in NUMERIC else ""
                cells.append(f"<td{align}>{'<b>' + text + '</b>' if is_total else text}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        out += [f"<p>{escape(note)}</p>" for note in section.notes]
    return "\n".join(out)


# ---- plain text table -----------------------------------------------------------------------


def plain_table(report: Report) -> str:
    """Aligned columns, numbers to the right: the table view for pipes and files."""
    out = [report.title]
    if report.meta.get("source"):
        out.append(f"Source: {report.meta['source']}")
    out += report.convention
    for section in report.sections:
        columns = _visible_columns(section)
        body = [[cell(row.get(c.key), c.kind) if row.get(c.key) is not None or c.kind != INT else ""
                 for c in columns] for row in section.rows]
        total = [cell(section.total.get(c.key), c.kind) if section.total.get(c.key) is not None else ""
                 for c in columns] if section.total else None
        widths = [max([len(c.title)] + [len(r[i]) for r in body + ([total] if total else [])])
                  for i, c in enumerate(columns)]
        numeric = [c.kind in (INT, SHARE, RATIO, FLOAT) for c in columns]

        def line(cells: list[str], widths: list[int] = widths, numeric: list[bool] = numeric) -> str:
            return " " + "   ".join(v.rjust(w) if n else v.ljust(w)
                                    for v, w, n in zip(cells, widths, numeric)).rstrip()

        out += ["", section.title, "", line([c.title for c in columns]),
                " " + "-" * (sum(widths) + 3 * (len(widths) - 1))]
        out += [line(r) for r in body]
        if total:
            out += ["", line(total)]
        out.append("")
        out += section.notes
    out += report.notes
    return "\n".join(out).rstrip() + "\n"


# ---- terminal table -------------------------------------------------------------------------


def table(report: Report, width: int | None = None) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 200, force_terminal=False, color_system=None, markup=False,
                      highlight=False, soft_wrap=False)
    console.print(report.title, style="bold")
    if report.meta.get("source"):
        console.print(f"Source: {report.meta['source']}")
    for line in report.convention:
        console.print(line, style="dim")
    for section in report.sections:
        columns = _visible_columns(section)
        grid = Table(title=section.title, box=box.SIMPLE_HEAD, title_justify="left",
                     show_footer=False, pad_edge=False)
        for c in columns:
            numeric = c.kind in (INT, SHARE, RATIO, FLOAT)
            grid.add_column(c.title, justify="right" if numeric else "left",
                            overflow="fold", no_wrap=numeric or c.kind == SHAPE)
        for i, row in enumerate(section.rows):
            last = i == len(section.rows) - 1 and section.total is not None
            grid.add_row(*(cell(row.get(c.key), c.kind) if row.get(c.key) is not None or c.kind != INT
                           else "" for c in columns), end_section=last)
        if section.total:
            grid.add_row(*(cell(section.total.get(c.key), c.kind) if section.total.get(c.key) is not None
                           else "" for c in columns), style="bold")
        console.print()
        console.print(grid)
        for note in section.notes:
            console.print(note)
    for note in report.notes:
        console.print(note)
    return buffer.getvalue()

"""Renderers: one `Report`, six views (table, markdown, csv, json, html, svg).

Each renderer only formats; the numbers come from the report, so every format shows
the same figures. `rich` is imported only by the table view.
"""

from __future__ import annotations

import enum
import functools
import io
import re
from typing import Any

from inception_cost.errors import printable
from inception_cost.reports.model import FLOAT, INT, NUMERIC, RATIO, SHARE, TEXT, Column, Report, Section


class Format(str, enum.Enum):
    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"  # one self-contained page: tables and pictures
    SVG = "svg"  # the pictures alone


def render(report: Report, fmt: Format | str, width: int | None = None, terminal: bool = False,
           color: bool = False) -> str:
    """With `terminal`, the table is drawn by rich (`reports/terminal.py`) to fit `width`
    (None: every column at full width), in colour with `color`; otherwise (a pipe, a file)
    it is plain aligned text, which needs no rich at all."""
    fmt = Format(fmt)
    if fmt is Format.JSON:
        return to_json(report)  # JSON escapes control characters itself
    if fmt is Format.HTML:
        from inception_cost.reports.html import page

        return page(report)  # every name escaped as HTML
    if fmt is Format.SVG:
        return to_svg(report)
    if fmt is Format.MARKDOWN:
        text = markdown(report)
    elif fmt is Format.CSV:
        text = to_csv(report)
    elif terminal or width:
        from inception_cost.reports.terminal import table

        return table(report, width, color)  # names escaped before drawing: colour codes stay
    else:
        text = plain_table(report)
    # names come from files: an escape sequence in one must not drive the terminal
    return "\n".join(printable(line) for line in text.split("\n"))


def shown(row: dict[str, Any], column: Column) -> tuple[Any, str]:
    """What a person reads in a column: the value and its kind, or the column's text
    (`Column.text_key`) where the row has one."""
    if column.text_key and row.get(column.text_key) is not None:
        return row[column.text_key], TEXT
    return row.get(column.key), column.kind


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


def visible_columns(section: Section) -> list[Column]:
    """Columns with at least one value (the total row counts)."""
    rows = section.rows + ([section.total] if section.total else [])
    return [c for c in section.columns if any(r.get(c.key) not in (None, "") for r in rows)]


# ---- markdown ------------------------------------------------------------------------------


# what can follow a "<" that opens raw HTML or an autolink in Markdown (CommonMark 6.6, 6.5)
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])")


# what would turn into emphasis or a link (kh*kw*Cin: "kw" in italics), and the escape itself
_LITERAL = str.maketrans({c: "\\" + c for c in "\\*[]|"})


def _md(text: object) -> str:
    """A name or note as Markdown text: a "<" from a file opens no HTML tag or link there (a
    "<=" stays as written), a "*" no emphasis, a "[" no link, a "|" no column, a control
    character nothing. Backticks stay: the notes' own `commands` are code."""
    return _MARKUP.sub("&lt;", printable(str(text).replace("\n", " "))).translate(_LITERAL)


def markdown(report: Report) -> str:
    out = [f"# {_md(report.title)}", ""]
    if report.meta.get("source"):
        out += [f"Source: {_md(report.meta['source'])}", ""]
    if report.convention:  # accuracy and devices count nothing
        out += ["**Counting convention.** " + " ".join(_md(c) for c in report.convention), ""]
    for section in report.sections:
        columns = visible_columns(section)
        out += [f"## {_md(section.title)}", ""]
        if section.has_table:
            out += _markdown_table(section, columns) + [""]
        for module in section.figures:
            out += mermaid(module, report.meta.get("unit", "MACs")) + [""]
        for note in section.notes:
            out += [_md(note), ""]
    for note in report.notes:
        out += [_md(note), ""]
    return "\n".join(out).rstrip() + "\n"


def _markdown_table(section: Section, columns: list[Column]) -> list[str]:
    out = ["| " + " | ".join(_md(c.title) for c in columns) + " |",
           "|" + "|".join("---:" if c.kind in NUMERIC else "---" for c in columns) + "|"]
    out += ["| " + " | ".join(_md(cell(*shown(row, c))) for c in columns) + " |" for row in section.rows]
    if section.total:
        out.append("| " + " | ".join(
            f"**{_md(cell(*shown(section.total, c)))}**" if section.total.get(c.key) not in (None, "")
            else "" for c in columns) + " |")
    return out


def mermaid(module: Any, unit: str = "MACs") -> list[str]:
    """A module as a Mermaid flowchart (GitHub draws it), in the order it runs: parallel
    branches as boxes side by side with their MACs and share, then what merges them."""

    def label(*lines: str) -> str:
        return '"' + "<br/>".join(printable(text).replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
                                  for text in lines) + '"'

    lines = ["```mermaid", "flowchart TB", f"  input[{label('input ' + module.input)}]",
             f"  output[{label('output ' + module.output)}]"]
    before = "input"
    entries: list[tuple[str, list[str]]] = []  # the node before each stage, and its layers' paths
    shortcuts: list[tuple[str, str]] = []  # a residual's path, and the node of its addition
    for s, stage in enumerate(module.stages):
        entries.append((before, [layer.path for column in stage.columns for layer in column.layers]))
        if stage.merge:
            lines.append(f"  m{s}(({label(stage.merge)}))")
        for i, column in enumerate(stage.columns):
            names = [f"s{s}b{i}l{k}" for k in range(len(column.layers))]
            if stage.merge:
                title = label(f"{column.name}: {column.macs:,} {unit}, {column.share:.1%}")
                lines.append(f"  subgraph s{s}b{i}[{title}]")
            lines += [f"    {name}[{label(layer.description, f'{layer.macs:,} {unit}')}]"
                      for name, layer in zip(names, column.layers)]
            shortcuts += [(layer.shortcut, name) for name, layer in zip(names, column.layers) if layer.shortcut]
            if stage.merge:
                lines.append("  end")
            lines.append("  " + " --> ".join([before, *names, *([f"m{s}"] if stage.merge else [])]))
            if not stage.merge and names:
                before = names[-1]
        if stage.merge:
            before = f"m{s}"
    for residual, added in shortcuts:  # from where the residual's input is read to its addition
        start = next((node for node, paths in entries if any(p.startswith(residual + "/") for p in paths)), "input")
        lines.append(f"  {start} -. shortcut .-> {added}")
    return [*lines, f"  {before} --> output", "```"]


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
    (`=cmd()` -> `'=cmd()`); numbers stay numbers, negative ones too, and so does the
    placeholder `-` (no bound, no figure): a lone sign is no formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != "-":
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
        "sections": [{"title": s.title, "columns": [{"key": c.key, "title": c.title, "kind": c.kind,
                                                     **({"text_key": c.text_key} if c.text_key else {})}
                                                    for c in s.columns],
                      "rows": s.rows, "total": s.total, "notes": s.notes} for s in report.sections],
        "notes": report.notes,
    }


def to_json(report: Report) -> str:
    import json

    # allow_nan=False: RFC 8259 has no Infinity or NaN (the inputs are checked finite)
    return json.dumps(to_document(report), indent=2, allow_nan=False) + "\n"


# ---- html and svg ---------------------------------------------------------------------------


def to_html(report: Report) -> str:
    """Plain HTML tables, for notebooks."""
    from inception_cost.reports.html import fragment

    return fragment(report)


def to_svg(report: Report) -> str:
    from inception_cost.reports import svg

    figures = [f for s in report.sections for f in s.figures]
    empty = None
    if report.charts is not None and report.charts.accuracy is None:  # export's: say why, not what draws
        empty = ("nothing to draw: the network has no module with branches and no conv or linear layer"
                 " to place on the roofline (-f html or markdown show its tables)")
    return svg.standalone(svg.drawings(report.charts, figures), report.title, empty)


# ---- plain text table -----------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced terminal: a wide (CJK, emoji) character two, a
    combining mark or format character none."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(c: str) -> int:
    import unicodedata  # only for text that is not ASCII: off the start-up path

    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def plain_table(report: Report) -> str:
    """Aligned columns, numbers to the right: the table view for pipes and files."""
    out = [report.title]
    if report.meta.get("source"):
        out.append(f"Source: {report.meta['source']}")
    out += report.convention
    for section in report.sections:
        columns = visible_columns(section)
        body = [[cell(*shown(row, c)) if row.get(c.key) is not None or c.kind != INT else ""
                 for c in columns] for row in section.rows]
        total = [cell(*shown(section.total, c)) if section.total.get(c.key) is not None else ""
                 for c in columns] if section.total else None
        widths = [max([display_width(c.title)] + [display_width(r[i]) for r in body + ([total] if total else [])])
                  for i, c in enumerate(columns)]
        numeric = [c.kind in NUMERIC for c in columns]

        def line(cells: list[str], widths: list[int] = widths, numeric: list[bool] = numeric) -> str:
            return " " + "   ".join(_pad(v, w, n) for v, w, n in zip(cells, widths, numeric)).rstrip()

        out += ["", section.title, ""]
        if section.has_table:
            out += [line([c.title for c in columns]), " " + "-" * (sum(widths) + 3 * (len(widths) - 1))]
            out += [line(r) for r in body]
            if total:
                out += ["", line(total)]
            out.append("")
        out += section.notes
    out += report.notes
    return "\n".join(out).rstrip() + "\n"

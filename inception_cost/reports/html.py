"""A report as HTML: tables for notebooks (`fragment`), and one self-contained page
(`page`: inline CSS, SVG and a few lines of script to sort the tables; no request to
the network) with the pictures of `svg.py`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from inception_cost.reports.model import NUMERIC, Report, Section
from inception_cost.reports.render import cell, shown, visible_columns

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.convention { color: #555; font-size: 12.5px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
.scroll { overflow-x: auto; }
th { background: #f6f6f6; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td { white-space: nowrap; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: 600; border-top: 2px solid #bbb; }
tr.flagged td { background: #fde8e8; } tr.best td { background: #e7f5e4; }
td.compute { color: #2f5d8a; } td.memory { color: #b85f00; } td.overhead { color: #7a4f86; }
figure { margin: 12px 0; } figure svg { display: block; max-width: none; }
.picture { overflow-x: auto; } figcaption { color: #555; font-size: 12.5px; max-width: 900px; }
.note { color: #444; margin: 4px 0; }
"""

# Click a column's title to sort by it (numbers by their raw value), again to reverse.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var down = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var c = row.cells[column], v = c.getAttribute("data-v");
        return v === null ? c.textContent : (v === "" ? -Infinity : parseFloat(v));
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), r = (typeof x === "number" && typeof y === "number") ? x - y
          : String(x).localeCompare(String(y), undefined, {numeric: true});
        return down ? -r : r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _cells(row: dict[str, Any], columns: list[Any], tag: str) -> str:
    out = []
    for c in columns:
        value = row.get(c.key)
        text = escape(cell(*shown(row, c))) if value is not None else ""
        classes = (["n"] if c.kind in NUMERIC else []) + ([str(value)] if c.marks and value else [])
        attrs = f' class="{" ".join(classes)}"' if classes else ""
        if c.kind in NUMERIC:
            attrs += f' data-v="{value if isinstance(value, (int, float)) else ""}"'
        out.append(f"<{tag}{attrs}>{text}</{tag}>")
    return "".join(out)


def table(section: Section, sortable: bool = True) -> str:
    if not section.has_table:
        return ""
    columns = visible_columns(section)
    head = "".join(f'<th{" class=n" if c.kind in NUMERIC else ""} scope="col">{escape(c.title)}</th>'
                   for c in columns)
    rows = []
    for i, row in enumerate(section.rows):
        mark = section.marks.get(i)
        rows.append(f'<tr{f" class={mark}" if mark else ""}>{_cells(row, columns, "td")}</tr>')
    foot = f"<tfoot><tr>{_cells(section.total, columns, 'td')}</tr></tfoot>" if section.total else ""
    return (f'<div class="scroll"><table{" class=sortable" if sortable else ""}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody>{foot}</table></div>")


def fragment(report: Report) -> str:
    """Plain HTML tables, for notebooks: every section, numbers right-aligned."""
    out = [f"<h4>{escape(report.title)}</h4>"]
    if report.convention:
        out.append(f"<p><small>{escape(' '.join(report.convention))}</small></p>")
    for section in report.sections:
        out.append(f"<p><b>{escape(section.title)}</b></p>" + table(section, sortable=False))
        out += [f"<p>{escape(note)}</p>" for note in section.notes]
    return "\n".join(out)


def _figure(picture: str, caption: str) -> str:
    return f'<figure><div class="picture">{picture}</div><figcaption>{escape(caption)}</figcaption></figure>'


def page(report: Report) -> str:
    """One self-contained page: the tables, sortable, and every picture the report has."""
    from inception_cost.reports import svg

    charts = report.charts
    figures = [f for s in report.sections for f in s.figures]
    colors = svg.branch_colors(charts.modules if charts else figures)
    unit = charts.unit if charts else "MACs"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{escape(report.title)}</h1>"]
    if report.meta.get("source"):
        out.append(f'<p class="convention">Source: {escape(str(report.meta["source"]))}</p>')
    out += [f'<p class="convention">{escape(line)}</p>' for line in report.convention]
    for index, section in enumerate(report.sections):
        out.append(f'<section id="s{index}"><h2>{escape(section.title)}</h2>')
        for module in section.figures:
            out.append(_figure(svg.inline(svg.module_diagram(module, colors, unit), module.label),
                               f"Each branch side by side, each layer shaded by its share of the module's {unit}."))
        out.append(table(section))
        out += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
        out.append("</section>")
        if index == 0 and charts and charts.modules:  # after the network table
            out.append(f"<section><h2>{unit} per module, by branch</h2>"
                       + _figure(svg.inline(svg.macs_by_module(charts, colors), f"{unit} per module"),
                                 f"Each bar is a module, its length the module's {unit}, its parts the"
                                 " branches.") + "</section>")
    if charts and charts.roofline and charts.roofline.points:
        roofline = charts.roofline
        out.append(f"<section><h2>Roofline on {escape(roofline.device)}</h2>"
                   + _figure(svg.inline(svg.roofline_plot(roofline), "roofline"),
                             "One point per layer with arithmetic: its FLOPs per byte moved (the least a layer can"
                             " move) and the FLOP/s the device can reach at that intensity, min(peak, intensity x"
                             " bandwidth).") + "</section>")
    if charts and charts.accuracy and charts.accuracy.points:
        out.append("<section><h2>Estimated against measured time</h2>"
                   + _figure(svg.inline(svg.accuracy_plot(charts.accuracy), "estimated against measured"),
                             "One point per measured case: its measured time across, the estimate up (log"
                             " scales); on the diagonal the estimate is exact, the dashed lines are 1.5x"
                             " either way.") + "</section>")
    out += [f'<p class="note">{escape(note)}</p>' for note in report.notes]
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"

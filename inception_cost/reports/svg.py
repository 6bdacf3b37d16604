"""The pictures as SVG: MACs per module stacked by branch, each module's branches side by
side (the seed's Figure 2, each layer shaded by its share of the module's MACs), and the
roofline (arithmetic intensity against attainable FLOP/s, one point per layer).

Plain text, no library: every element carries its numbers (`data-*` attributes and a
`<title>` tooltip), so a test can read them back and a browser shows them on hover.
"""

from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

from inception_cost.errors import UsageError
from inception_cost.reports.figures import (
    AccuracyFigure,
    BranchFigure,
    Charts,
    LayerFigure,
    ModuleFigure,
    RooflineFigure,
)

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
BOUND_COLORS = {"compute": "#4e79a7", "memory": "#f28e2b", "overhead": "#b07aa1"}
COL_W, GAP, BOX_H, STEP = 176, 14, 40, 54  # a module diagram: column, gap, layer box, row pitch
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12"'


class Drawing(NamedTuple):
    body: str  # SVG elements, drawn from (0, 0)
    width: int
    height: int


def standalone(drawings: list[Drawing], title: str, empty: str | None = None) -> str:
    """One SVG document, the drawings one under another; `empty` says why there are none."""
    if not drawings:
        raise UsageError(empty or "nothing to draw: -f svg draws the charts of `export`, a module's"
                         " branches (`--module M` of `NAME`, `compare` or `factorize`; `factorize`"
                         " without a NAME) and `accuracy`'s estimated against measured time")
    width = max(d.width for d in drawings)
    parts, y = [], 0
    for d in drawings:
        parts.append(f'<svg x="0" y="{y}" width="{d.width}" height="{d.height}">{d.body}</svg>')
        y += d.height + 24
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}"'
            f' {FONT}><title>{escape(title)}</title><rect width="100%" height="100%" fill="white"/>'
            + "\n".join(parts) + "</svg>\n")


def inline(drawing: Drawing, label: str) -> str:
    """An <svg> element for an HTML page."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawing.width}" height="{drawing.height}"'
            f' viewBox="0 0 {drawing.width} {drawing.height}" role="img" aria-label="{escape(label)}" {FONT}>'
            f"{drawing.body}</svg>")


def branch_colors(modules: list[ModuleFigure]) -> dict[str, str]:
    """One colour per branch name, in order of first appearance."""
    colors: dict[str, str] = {}
    for module in modules:
        for branch in module.branches:
            if branch.name not in colors:
                colors[branch.name] = PALETTE[len(colors) % len(PALETTE)]
    return colors


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


# ---- MACs per module, stacked by branch ---------------------------------------------------------


def macs_by_module(charts: Charts, colors: dict[str, str]) -> Drawing:
    label_w, bar_w, value_w, row, top = 170, 560, 130, 22, 34
    modules = charts.modules
    most = max((m.macs for m in modules), default=0) or 1
    out = [_text(0, 14, f"{charts.unit} per module, by branch (bar length: the module's {charts.unit})",
                 extra=' font-weight="600"')]
    x = 0.0
    for name, color in colors.items():  # the legend
        out.append(f'<rect x="{x:.1f}" y="20" width="10" height="10" fill="{color}"/>')
        out.append(_text(x + 14, 29, _short(name, 18)))
        x += 24 + 7 * min(len(name), 18)
    legend_rows = 0
    for i, module in enumerate(modules):
        y = top + legend_rows + i * row
        out.append(_text(label_w - 8, y + 14, _short(module.path or module.label, 24), "end",
                         f' data-module="{escape(module.path)}"'))
        x = float(label_w)
        for branch in module.branches:
            w = bar_w * branch.macs / most
            out.append(f'<rect class="segment" x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{row - 6}"'
                       f' fill="{colors[branch.name]}" data-path="{escape(branch.path)}" data-macs="{branch.macs}">'
                       f"<title>{escape(module.path)} / {escape(branch.name)}: {branch.macs:,} {charts.unit}"
                       f" ({branch.share:.1%})</title></rect>")
            x += w
        out.append(_text(x + 6, y + 14, f"{module.macs:,}", extra=f' data-total="{module.macs}"'))
    height = top + len(modules) * row + 8
    return Drawing("\n".join(out), label_w + bar_w + value_w, height)


# ---- a module's branches side by side ----------------------------------------------------------------


def module_diagram(module: ModuleFigure, colors: dict[str, str], unit: str = "MACs") -> Drawing:
    """Top to bottom, in the order the module runs: the input, each stage (parallel branches
    side by side, then what merges them; or a chain of layers), the output."""
    most = max((len(stage.columns) for stage in module.stages), default=1)
    layers = [layer for stage in module.stages for column in stage.columns for layer in column.layers]
    side = 48 if any(layer.shortcut for layer in layers) else 0  # room for residual shortcuts
    inner = max(most * (COL_W + GAP) + GAP, 380)  # the module; the shortcuts run to its right
    width = inner + side
    centre = inner / 2
    out = [_text(GAP, 14, module.label, extra=' font-weight="600"'), _box(centre, 28, f"input {module.input}")]
    y = 56.0
    entries: list[tuple[float, list[str]]] = []  # where each stage starts, and its layers
    joins: list[tuple[str, float]] = []  # residual additions: (residual path, the add box's middle)
    for stage in module.stages:
        entries.append((y, [layer.path for column in stage.columns for layer in column.layers]))
        if stage.merge:
            y = _parallel(out, module, stage.columns, stage.merge, colors, unit, y, inner)
        else:
            y = _chain(out, module, stage.columns[0], colors, unit, y, centre, joins)
    for residual, middle in joins:  # from where the residual's input is read to its addition
        start = next((top for top, paths in entries if any(p.startswith(residual + "/") for p in paths)), 56.0)
        x = inner + side / 2 - 8
        out.append(f'<path class="shortcut" d="M{centre:.1f},{start + 6:.1f} L{x:.1f},{start + 6:.1f}'
                   f' L{x:.1f},{middle:.1f} L{centre + COL_W / 2:.1f},{middle:.1f}" fill="none" stroke="#777"'
                   f' stroke-dasharray="5 3" data-path="{escape(residual)}"><title>{escape(residual)}: the input'
                   " added back</title></path>")
    out.append(f'<line x1="{centre:.1f}" y1="{y:.1f}" x2="{centre:.1f}" y2="{y + 16:.1f}" stroke="#999"/>')
    out.append(_box(centre, y + 16, f"output {module.output} ({module.macs:,} {unit})"))
    return Drawing("\n".join(out), int(width), int(y + 52))


def _box(centre: float, y: float, text: str, width: int = 240) -> str:
    return (f'<rect x="{centre - width / 2:.1f}" y="{y:.1f}" width="{width}" height="28" rx="4" fill="#f3f3f3"'
            f' stroke="#888"/>' + _text(centre, y + 18, text, "middle"))


def _layer(out: list[str], module: ModuleFigure, layer: LayerFigure, x: float, y: float, color: str,
           unit: str) -> None:
    share = layer.macs / module.macs if module.macs else 0.0
    out.append(f'<g class="layer" data-path="{escape(layer.path)}" data-macs="{layer.macs}">'
               f"<title>{escape(layer.path)}: {escape(layer.description)}, {layer.macs:,} {unit}"
               f" ({share:.1%} of the module), {layer.params:,} params</title>"
               f'<rect x="{x:.1f}" y="{y:.1f}" width="{COL_W}" height="{BOX_H}" rx="4" fill="white"/>'
               f'<rect x="{x:.1f}" y="{y:.1f}" width="{COL_W}" height="{BOX_H}" rx="4" fill="{color}"'
               f' fill-opacity="{0.12 + 0.88 * share:.3f}" stroke="{color}"/>'
               + _text(x + COL_W / 2, y + 16, _short(layer.description, 27), "middle")
               + _text(x + COL_W / 2, y + 32, f"{layer.macs:,}", "middle", ' fill="#333"') + "</g>")


def _chain(out: list[str], module: ModuleFigure, chain: BranchFigure, colors: dict[str, str], unit: str,
           y: float, centre: float, joins: list[tuple[str, float]]) -> float:
    """Layers in sequence, one under another; returns the bottom. A residual's addition is
    noted in `joins`, for its shortcut."""
    bottom = y + 16 + (len(chain.layers) - 1) * STEP + BOX_H
    out.append(f'<line x1="{centre:.1f}" y1="{y:.1f}" x2="{centre:.1f}" y2="{bottom:.1f}" stroke="#999"/>')
    for k, layer in enumerate(chain.layers):
        _layer(out, module, layer, centre - COL_W / 2, y + 16 + k * STEP, "#8a8a8a", unit)
        if layer.shortcut:
            joins.append((layer.shortcut, y + 16 + k * STEP + BOX_H / 2))
    return bottom


def _parallel(out: list[str], module: ModuleFigure, columns: list[BranchFigure], merge: str,
              colors: dict[str, str], unit: str, y: float, width: float) -> float:
    """Branches side by side from one point, each with its MACs and share, then their merge;
    returns the bottom of the merge."""
    centre = width / 2
    left = (width - len(columns) * (COL_W + GAP) + GAP) / 2
    top = y + 28
    tallest = max((len(c.layers) for c in columns), default=0)
    foot = top + tallest * STEP + 6
    merge_y = foot + 52
    for i, branch in enumerate(columns):
        x = left + i * (COL_W + GAP)
        cx = x + COL_W / 2
        color = colors.get(branch.name, PALETTE[0])
        last = top + (len(branch.layers) - 1) * STEP + BOX_H if branch.layers else foot - 6
        dashed = "" if branch.layers else ' stroke-dasharray="4 3"'  # a branch that keeps its input
        out.append(f'<path d="M{centre:.1f},{y:.1f} L{cx:.1f},{top - 12:.1f} L{cx:.1f},{last:.1f}" fill="none"'
                   f' stroke="#999"{dashed}/>')
        out.append(f'<path d="M{cx:.1f},{foot + 42:.1f} L{cx:.1f},{merge_y - 10:.1f} L{centre:.1f},{merge_y:.1f}"'
                   ' fill="none" stroke="#999"/>')
        for k, layer in enumerate(branch.layers):
            _layer(out, module, layer, x, top + k * STEP, color, unit)
        out.append(f'<g class="branch" data-path="{escape(branch.path)}" data-macs="{branch.macs}"'
                   f' data-share="{branch.share:.6f}">'
                   + _text(cx, foot + 8, _short(branch.name, 26), "middle", ' font-weight="600"')
                   + _text(cx, foot + 24, f"{branch.macs:,} {unit} · {branch.share:.1%}", "middle")
                   + f'<rect x="{x:.1f}" y="{foot + 30:.1f}" width="{COL_W}" height="6" fill="#eee"/>'
                   + f'<rect x="{x:.1f}" y="{foot + 30:.1f}" width="{COL_W * branch.share:.2f}" height="6"'
                     f' fill="{color}"/></g>')
    out.append(_box(centre, merge_y, merge, 120))
    return merge_y + 28


# ---- the roofline --------------------------------------------------------------------------------------


def _si(value: float, unit: str = "") -> str:
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}".strip()


def roofline_plot(fig: RooflineFigure) -> Drawing:
    width, height, left, right, top, bottom = 780, 440, 96, 24, 30, 56
    ridge = fig.peak / fig.bandwidth
    xs = [p.intensity for p in fig.points] + [ridge]
    ys = [p.attainable for p in fig.points] + [fig.peak]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs) * 1.5))
    y0, y1 = math.floor(math.log10(min(min(ys), fig.bandwidth * 10 ** x0))), math.ceil(math.log10(fig.peak * 1.5))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (math.log10(v) - x0) / (x1 - x0) * plot_w

    def py(v: float) -> float:
        return top + plot_h - (math.log10(v) - y0) / (y1 - y0) * plot_h

    out = [_text(left, 18, f"Roofline on {fig.title}: {fig.dtype}, batch {fig.batch}", extra=' font-weight="600"'),
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>']
    for k in range(x0, x1 + 1):
        out.append(f'<line x1="{px(10.0 ** k):.1f}" y1="{top}" x2="{px(10.0 ** k):.1f}" y2="{top + plot_h}"'
                   ' stroke="#eee"/>')
        out.append(_text(px(10.0 ** k), top + plot_h + 16, _si(10.0 ** k), "middle"))
    for k in range(y0, y1 + 1):
        out.append(f'<line x1="{left}" y1="{py(10.0 ** k):.1f}" x2="{left + plot_w}" y2="{py(10.0 ** k):.1f}"'
                   ' stroke="#eee"/>')
        out.append(_text(left - 6, py(10.0 ** k) + 4, _si(10.0 ** k, "FLOP/s"), "end"))
    out.append(_text(left + plot_w / 2, height - 12, "arithmetic intensity (FLOPs per byte moved)", "middle"))
    start = 10.0 ** x0
    roof_start = max(start, 10.0 ** y0 / fig.bandwidth)
    out.append(f'<polyline class="roof" fill="none" stroke="#333" stroke-width="2" points="'
               f'{px(roof_start):.1f},{py(roof_start * fig.bandwidth):.1f} {px(ridge):.1f},{py(fig.peak):.1f}'
               f' {px(10.0 ** x1):.1f},{py(fig.peak):.1f}"/>')
    out.append(f'<line x1="{px(ridge):.1f}" y1="{top}" x2="{px(ridge):.1f}" y2="{top + plot_h}" stroke="#666"'
               ' stroke-dasharray="4 3"/>')
    ridge_text = f"ridge {ridge:,.0f} FLOPs/byte; peak {_si(fig.peak, 'FLOP/s')}"
    right_half = px(ridge) > left + plot_w / 2
    out.append(_text(px(ridge) + (-4 if right_half else 4), top + 14, ridge_text, "end" if right_half else "start"))
    lower: dict[str, float] = {}  # the roofs of layers whose arithmetic runs below the convs' peak (linear, depthwise)
    for p in fig.points:
        if 0 < p.peak < fig.peak * 0.999:
            lower.setdefault(p.math, p.peak)
    for math_name, roof in lower.items():
        out.append(f'<polyline class="lower-roof" fill="none" stroke="#999" stroke-dasharray="6 3" points="'
                   f'{px(max(roof / fig.bandwidth, start)):.1f},{py(roof):.1f} {px(10.0 ** x1):.1f},{py(roof):.1f}"/>')
        out.append(_text(left + plot_w - 6, py(roof) - 4, f"{escape(math_name)} peak {_si(roof, 'FLOP/s')}", "end",
                         ' fill="#666"'))
    for p in fig.points:
        on = f" on {escape(p.math)}" if p.math else ""
        out.append(f'<circle class="point" cx="{px(p.intensity):.1f}" cy="{py(p.attainable):.1f}" r="4"'
                   f' fill="{BOUND_COLORS.get(p.bound, "#888")}" fill-opacity="0.75" data-path="{escape(p.path)}"'
                   f' data-intensity="{p.intensity:.6g}" data-attainable="{p.attainable:.6g}">'
                   f"<title>{escape(p.name)}: {p.flops:,} FLOPs, {p.intensity:,.1f} FLOPs/byte,"
                   f" attainable {_si(p.attainable, 'FLOP/s')}{on} ({p.bound} bound)</title></circle>")
    legend_x = left + 10
    for bound in ("compute", "memory"):
        out.append(f'<circle cx="{legend_x}" cy="{top + plot_h - 14}" r="4" fill="{BOUND_COLORS[bound]}"/>')
        out.append(_text(legend_x + 8, top + plot_h - 10, f"{bound} bound"))
        legend_x += 110
    if fig.left_out:
        out.append(_text(left + plot_w - 6, top + plot_h - 10, f"{fig.left_out} layers without arithmetic"
                                                                 " not drawn", "end", ' fill="#666"'))
    return Drawing("\n".join(out), width, height)


# ---- estimated against measured time ---------------------------------------------------------------


def _duration(us: float) -> str:
    """A power of ten of microseconds as an axis shows it: 10 µs, 1 ms, 10 s."""
    for factor, unit in ((1e6, "s"), (1e3, "ms")):
        if us >= factor:
            return f"{us / factor:g} {unit}"
    return f"{us:g} µs"


def accuracy_plot(fig: AccuracyFigure) -> Drawing:
    """Log-log: measured µs across, estimated µs up; the diagonal is exact, the dashed lines
    1.5x either way; one point per case, coloured by its group."""
    side, left, right, top, bottom = 380, 80, 170, 30, 56  # square: the diagonal at 45 degrees
    width, height = left + side + right, top + side + bottom
    values = [v for p in fig.points for v in (p.measured_us, p.estimated_us)]
    lo, hi = math.floor(math.log10(min(values) / 1.5)), math.ceil(math.log10(max(values) * 1.5))
    hi = max(hi, lo + 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (math.log10(v) - lo) / (hi - lo) * plot_w

    def py(v: float) -> float:
        return top + plot_h - (math.log10(v) - lo) / (hi - lo) * plot_h

    where = f" ({_short(fig.gpu, 40)})" if fig.gpu else ""
    out = [_text(left, 18, f"Estimated on {fig.device} against measured{where}", extra=' font-weight="600"'),
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>']
    every = -(-(hi - lo) // 6)  # at most 7 labels an axis: wide ranges label every other decade or fewer
    for k in range(lo, hi + 1):
        out += [f'<line x1="{px(10.0 ** k):.1f}" y1="{top}" x2="{px(10.0 ** k):.1f}" y2="{top + plot_h}"'
                ' stroke="#eee"/>',
                f'<line x1="{left}" y1="{py(10.0 ** k):.1f}" x2="{left + plot_w}" y2="{py(10.0 ** k):.1f}"'
                ' stroke="#eee"/>']
        if (k - lo) % every == 0:
            label = _duration(10.0 ** k)
            out += [_text(px(10.0 ** k), top + plot_h + 16, label, "middle"),
                    _text(left - 6, py(10.0 ** k) + 4, label, "end")]
    a, b = 10.0 ** lo, 10.0 ** hi
    for factor, dash in ((1.0, ""), (1.5, ' stroke-dasharray="4 3"'), (1 / 1.5, ' stroke-dasharray="4 3"')):
        start, end = max(a, a / factor), min(b, b / factor)  # stay inside the plot
        out.append(f'<line class="band" x1="{px(start):.1f}" y1="{py(start * factor):.1f}" x2="{px(end):.1f}"'
                   f' y2="{py(end * factor):.1f}" stroke="#888"{dash}/>')
    groups = list(dict.fromkeys(p.group for p in fig.points))
    colors = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    for p in fig.points:
        out.append(f'<circle class="point" cx="{px(p.measured_us):.1f}" cy="{py(p.estimated_us):.1f}" r="3"'
                   f' fill="{colors[p.group]}" fill-opacity="0.7" data-case="{escape(p.case)}"'
                   f' data-measured-us="{p.measured_us:.6g}" data-estimated-us="{p.estimated_us:.6g}">'
                   f"<title>{escape(p.case)} ({escape(p.group)}), {escape(p.mode)}, batch {p.batch}: measured"
                   f" {p.measured_us:,.1f} µs, estimated {p.estimated_us:,.1f} µs"
                   f" ({p.estimated_us / p.measured_us:.2f}x)</title></circle>")
    out += [_text(left + plot_w / 2, height - 12, "measured time (CUDA-graph median, whole batch)", "middle"),
            f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" transform="rotate(-90 16'
            f' {top + plot_h / 2:.1f})">estimated time</text>']
    for i, group in enumerate(groups):
        y = top + 10 + 16 * i
        out += [f'<circle cx="{left + plot_w + 16}" cy="{y}" r="4" fill="{colors[group]}"/>',
                _text(left + plot_w + 24, y + 4, _short(group or "(no group)", 22))]
    y = top + 10 + 16 * len(groups) + 8
    out.append(_text(left + plot_w + 12, y + 4, "dashed: 1.5x either way", extra=' fill="#666"'))
    return Drawing("\n".join(out), width, height)


def drawings(charts: Charts | None, modules: list[ModuleFigure]) -> list[Drawing]:
    """Every picture of a report, in page order."""
    colors = branch_colors(charts.modules if charts else modules)
    unit = charts.unit if charts else "MACs"
    result = [macs_by_module(charts, colors)] if charts and charts.modules else []
    result += [module_diagram(m, colors, unit) for m in modules]
    if charts and charts.roofline and charts.roofline.points:
        result.append(roofline_plot(charts.roofline))
    if charts and charts.accuracy and charts.accuracy.points:
        result.append(accuracy_plot(charts.accuracy))
    return result

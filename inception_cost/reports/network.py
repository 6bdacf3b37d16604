"""Cost reports of one network: row by row, one module branch by branch, the whole
document, and the catalogues of built-ins and devices.

Each builder reads the analysed tree once and lays the numbers out in sections of a
`Report`; nothing here formats or prints. Every row carries its node's `path`.
"""

from __future__ import annotations

from typing import Any

from inception_cost.core.analysis import Analysis
from inception_cost.core.shapes import format_shape
from inception_cost.core.terms import MAC_TERMS
from inception_cost.core.tree import CostNode, Role
from inception_cost.reports.common import (
    Row,
    chain,
    cost_columns,
    cost_row,
    distinct,
    finish,
    meta_of,
    module_parts,
    node_label,
    part_name,
    scope_name,
    title_of,
    totals,
    train_note,
)
from inception_cost.reports.model import EXTRA, FLAGGED, FLOAT, INT, KEY, NAME, SHAPE, SHARE, Column, Report, Section

# ---- the paper's printed columns ------------------------------------------------------


def paper_check(node: CostNode, analysis: Analysis) -> Row:
    """The paper's printed figures for a table row, in its units, and whether they hold.

    `check` is "ok" or "differs: <what>"; `problems` says by how much, for the notes.
    """
    paper = node.paper
    result: Row = {"paper_output": paper.get("output"), "paper_params": None, "computed_params": None,
                   "computed_params_text": None, "paper_ops": None, "computed_ops": None,
                   "computed_ops_text": None, "check": "", "problems": []}
    problems: list[str] = []
    what: list[str] = []
    if paper.get("output") and str(paper["output"]).replace(" ", "") != format_shape(node.out_shape):
        problems.append(f"output {paper['output']} printed, {format_shape(node.out_shape)} computed")
        what.append("output")
    if "depth" in paper and paper["depth"] != node.depth:
        problems.append(f"depth {paper['depth']} printed, {node.depth} computed")
        what.append("depth")
    for column in ("params", "ops"):
        printed = paper.get(column)
        if not printed:
            continue
        counted = _paper_count(node, analysis, printed["counts"])
        scale = printed["step_numerator"]
        suffix = printed["text"].lstrip("0123456789. ")
        computed = f"{counted / scale:.1f}{suffix}"
        result[f"paper_{column}"] = printed["text"]
        result[f"computed_{column}"] = counted  # exact, in what the column counts (weights, MACs)
        result[f"computed_{column}_text"] = computed  # in the paper's units, beside the printed figure
        # The table rounds loosely (159.5K is printed 159K, 379.0K is printed 380K):
        # a row holds when it is within one unit of the printed value's last digit. Exact, in
        # integers: the printed value is numerator / denominator and one unit of its last digit
        # scale / denominator (denominator = 10^decimals > 0), so both sides are multiplied by
        # it (fractions, and the decimal module it imports, would cost start-up time).
        if abs(counted * printed["denominator"] - printed["numerator"]) > scale:
            problems.append(f"{column} {printed['text']} printed, {computed} computed")
            what.append(column)
    result["check"] = ("differs: " + ", ".join(what)) if what else ("ok" if paper else "")
    result["problems"] = problems
    return result


def _paper_count(node: CostNode, analysis: Analysis, counts: str) -> int:
    """What the paper's column counts, whatever the report's convention: weights,
    PyTorch parameters, or the conv + linear MACs (not FLOPs, not a tool's extras)."""
    if counts == "weights":
        return node.weights
    if counts == "params":
        return node.weights + node.biases + node.bn_params + node.norm_params
    terms = analysis.term_totals(node)
    return sum(terms[t] for t in MAC_TERMS)


# ---- network report ---------------------------------------------------------------------


def network_report(analysis: Analysis) -> Report:
    root = analysis.root
    rows: list[Row] = []
    problems: dict[str, list[str]] = {}
    has_paper = any(c.paper for c in root.children)
    units = analysis.network.units
    names = distinct([c.name for c in root.children], [c.path for c in root.children])
    for index, (node, name) in enumerate(zip(root.children, names), 1):
        row: Row = {"index": index, "name": name, "path": node.path, "type": _row_type(node),
                    "depth": node.depth, **cost_row(node, root.macs)}
        if node.training_only:
            row["type"] += " (training only)"
        if has_paper:
            check = paper_check(node, analysis)
            problems[node.path] = check.pop("problems")
            row.update(check)
        rows.append(row)
    columns = [Column("index", "#", INT, EXTRA), Column("name", "row", priority=NAME),
               Column("type", "type", priority=EXTRA), Column("output", "output", SHAPE),
               Column("depth", "depth", INT, EXTRA), Column("params", "params", INT, KEY),
               Column("macs", "MACs", INT, KEY), Column("share", "share of MACs", SHARE)]
    if has_paper:
        columns += [Column("paper_params", "paper params", priority=EXTRA),
                    Column("computed_params", "computed", INT, EXTRA, text_key="computed_params_text"),
                    Column("paper_ops", "paper ops", priority=EXTRA),
                    Column("computed_ops", "computed", INT, EXTRA, text_key="computed_ops_text"),
                    Column("check", "check", priority=KEY)]
    total = {"name": "total", "depth": root.depth, **cost_row(root, root.macs)}
    notes = [train_note(analysis)]
    if has_paper:
        if units:
            notes.append(_units_note(units))
        flagged = [path for path, found in problems.items() if found]
        if flagged:
            notes.append("Rows whose printed figures disagree with their own shapes (beyond the"
                         f" table's rounding): {', '.join(flagged)}.")
            notes += [f"- {path}: {'; '.join(problems[path])}" for path in flagged]
    notes += _stated_notes(analysis)
    notes += [line for line in analysis.network.notes.splitlines() if line.strip()]
    marks = {i: FLAGGED for i, row in enumerate(rows) if str(row.get("check", "")).startswith("differs")}
    section = Section(title=title_of(analysis), columns=columns, rows=rows, total=total, notes=notes,
                      marks=marks)
    return finish(Report(title=f"{title_of(analysis)}: cost by row", convention=[],
                         totals=totals(root), sections=[section], meta=meta_of(analysis)),
                  analysis.convention)


def _stated_notes(analysis: Analysis) -> list[str]:
    """The source's stated totals beside the computed ones."""
    root, notes = analysis.root, []
    computed = {"params": root.params, "macs": root.macs, "depth": root.depth}
    for key, figure in analysis.network.stated.items():
        value = figure["value"]
        ratio_text = f" ({computed[key] / value:.3g}x the stated figure)" if value else ""
        notes.append(f"The source states {key} {figure['text']}; computed {computed[key]:,}{ratio_text}.")
    return notes


def _row_type(node: CostNode) -> str:
    if node.role is Role.LAYER:
        return node.description
    if node.role is Role.AUXILIARY:
        return "auxiliary classifier"
    if node.label != node.name:
        return node.label
    layers = node.layers()
    if len(layers) == 1:
        return layers[0].description
    return node.block or str(node.role)


def _units_note(units: dict[str, Any]) -> str:
    parts = []
    for column, spec in units.items():
        scales = ", ".join(f"{s} = {v:,}" for s, v in spec["scales"].items())
        parts.append(f"{column} count {spec['counts']} ({scales})")
    return ("The paper's columns: " + "; ".join(parts) + ". A row is flagged when it is off by"
            " more than one unit of the printed value's last digit (whatever the convention:"
            " ops are conv + linear MACs).")


# ---- module report -------------------------------------------------------------------------


def module_report(analysis: Analysis, module: CostNode) -> Report:
    parts = module_parts(module)
    shown = dict(zip(map(id, parts), distinct([part_name(p, module) for p in parts],
                                              [module.relative_path(p) for p in parts])))
    rows = [{"branch": shown[id(p)], "path": p.path, "layers": chain(p),
             **cost_row(p, module.macs)} for p in parts]
    columns_of_cost = cost_columns(parts)
    columns = [Column("branch", "branch", priority=NAME), Column("layers", "layers"),
               Column("output", "output", SHAPE), *columns_of_cost,
               Column("share", "share of MACs", SHARE)]
    total = {"branch": "module total", "path": module.path, **cost_row(module, module.macs)}
    notes = [f"Input {format_shape(module.in_shape)}, output {format_shape(module.out_shape)}."]
    for r in (c for c in module.children if c.role is Role.RESIDUAL):
        notes.append(f"Residual: input + {r.scale:g} x body (the addition counts 0 MACs).")
    def figures() -> list[Any]:
        from inception_cost.reports.figures import module_figure

        return [module_figure(module)] if module.has_parallel_parts else []

    branch_section = Section(title=f"{node_label(module)}: branches", columns=columns, rows=rows,
                             total=total, notes=notes, figures=figures)
    layer_rows = []
    for part in parts:
        for layer in (part.layers() if part.role is not Role.LAYER else [part]):
            layer_rows.append({"branch": shown[id(part)], "path": layer.path,
                               "layer": layer.description, "input": format_shape(layer.in_shape),
                               **cost_row(layer)})
    layer_columns = [Column("branch", "branch", priority=NAME), Column("layer", "layer", priority=NAME),
                     Column("input", "input", SHAPE, EXTRA), Column("output", "output", SHAPE),
                     *columns_of_cost]
    layer_section = Section(title=f"{node_label(module)}: layers", columns=layer_columns, rows=layer_rows)
    return finish(Report(title=f"{title_of(analysis)}: {scope_name(module)}", convention=[],
                         totals=totals(module), sections=[branch_section, layer_section],
                         meta={**meta_of(analysis), "module": module.name,
                               "module_path": module.path}),
                  analysis.convention)


# ---- the whole document -----------------------------------------------------------------------


def export_report(analysis: Analysis, roofline: Any = None) -> Report:
    """The network table, then each module's branch table, under one convention; with the
    pictures (each module's branches, MACs by module, the roofline figure given) for the
    formats that draw them."""
    from inception_cost.reports.figures import charts

    report = network_report(analysis)
    for module in analysis.root.modules():
        report.sections.append(module_report(analysis, module).sections[0])
    report.title = f"{title_of(analysis)}: cost report"
    report.charts = charts(analysis, roofline)
    return finish(report, analysis.convention)


# ---- the catalogues ------------------------------------------------------------------------------


def catalog_report(entries: list[tuple[str, Analysis]]) -> Report:
    """One row per built-in: [(name, Analysis)], all under one convention."""
    rows = []
    for name, analysis in entries:
        net, root = analysis.network, analysis.root
        rows.append({"name": name, "title": net.title, "input": format_shape(net.input_shape),
                     "params": root.params, "macs": root.macs, "depth": root.depth})
    columns = [Column("name", "name", priority=NAME), Column("title", "title", priority=EXTRA),
               Column("input", "input", SHAPE), Column("params", "params", INT, KEY),
               Column("macs", "MACs", INT, KEY), Column("depth", "depth (layers with weights)", INT)]
    section = Section(title="Built-in architectures (inference network)", columns=columns, rows=rows)
    report = Report(title="inception-cost: built-in architectures", convention=[],
                    totals={"params": sum(r["params"] for r in rows),
                            "macs": sum(r["macs"] for r in rows)}, sections=[section])
    from inception_cost.core.conventions import DEFAULT

    return finish(report, entries[0][1].convention if entries else DEFAULT)


def devices_report(devices: list[Any]) -> Report:
    rows = [{"name": d.name, "title": d.title, **{f"peak_{k}": v for k, v in d.peak_tflops.items()},
             "bandwidth_gbs": d.bandwidth_gbs, "overhead_us": d.overhead_us, "source": d.source,
             "sms": d.latency.sms, "kernel_us": d.latency.kernel_us or d.overhead_us}
            for d in devices]
    columns = [Column("name", "name", priority=NAME), Column("title", "title", priority=EXTRA),
               *[Column(f"peak_{k}", f"{k} TFLOP/s", FLOAT) for k in ("fp32", "tf32", "bf16", "fp16", "int8")],
               Column("bandwidth_gbs", "GB/s", FLOAT), Column("sms", "SMs", INT),
               Column("kernel_us", "µs per kernel", FLOAT)]
    section = Section(title="Device profiles", columns=columns, rows=rows,
                      notes=["A file with the same keys (name, title, source, notes, peak_tflops,"
                             " bandwidth_gbs, overhead_us, latency) works anywhere a device name does;"
                             " `inception-cost calibrate` writes one from measurements."
                             " SMs 0: the plain roofline."])
    return Report(title="inception-cost: device profiles", convention=[], totals={},
                  sections=[section])

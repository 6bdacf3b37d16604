"""Build reports (`report_model.Report`) from analysed networks.

Each builder reads the `CostNode` tree once and lays the numbers out in sections;
nothing here formats or prints.
"""

from __future__ import annotations

from fractions import Fraction

from inception_cost.core.analysis import Analysis, CostNode
from inception_cost.core.conventions import DEFAULT as DEFAULT_CONVENTION
from inception_cost.graph.nodes import format_shape
from inception_cost.reports.model import FLOAT, INT, RATIO, SHAPE, SHARE, Column, Report, Section

COST_COLUMNS = [Column("weights", "weights", INT), Column("biases", "biases", INT),
                Column("bn_params", "bn params", INT), Column("params", "params", INT),
                Column("macs", "MACs", INT)]


def totals(node: CostNode) -> dict:
    return {"params": node.params, "macs": node.macs, "weights": node.weights,
            "biases": node.biases, "bn_params": node.bn_params, "trainable": node.trainable,
            "non_trainable": node.non_trainable}


def header_lines(convention) -> list:
    return convention.header()


def in_unit(report: Report, convention) -> Report:
    """Titles say the convention's unit (FLOPs for flop-counter), and the totals name it."""
    unit = convention.unit.value
    if unit != "MACs":
        for section in report.sections:
            section.columns = [Column(c.key, c.title.replace("MACs", unit), c.kind)
                               for c in section.columns]
    report.meta["unit"] = unit
    report.meta["convention"] = convention.name
    return report


def cost_row(node: CostNode, share_of: int | None = None) -> dict:
    row = {"output": format_shape(node.out_shape), **totals(node)}
    if share_of is not None:
        row["share"] = node.macs / share_of if share_of else 0.0
    return row


def _cost_columns(analysis_or_nodes) -> list:
    """Drop the biases / bn columns when every value in them is zero."""
    nodes = analysis_or_nodes
    keep = []
    for column in COST_COLUMNS:
        if column.key in ("biases", "bn_params") and not any(getattr(n, column.key) for n in nodes):
            continue
        keep.append(column)
    return keep


def title_of(analysis: Analysis) -> str:
    net = analysis.network
    return net.title or net.name


def train_note(analysis: Analysis) -> str:
    names = ", ".join(analysis.training_only)
    if not names:
        return "This network has no training-only parts: inference and training networks are the same."
    if analysis.train:
        return f"Training network: includes the training-only parts ({names})."
    return f"Inference network: the training-only parts ({names}) are excluded; --train adds them."


# ---- the paper's printed columns ------------------------------------------------------


def paper_check(node: CostNode, units: dict) -> dict:
    """The paper's printed figures for a table row, in its units, and whether they hold.

    `check` is "ok" or "differs: <what>"; `problems` says by how much, for the notes.
    """
    paper = node.info.get("paper") or {}
    result = {"paper_output": paper.get("output"), "paper_params": None, "computed_params": None,
              "paper_ops": None, "computed_ops": None, "check": "", "problems": []}
    problems, what = [], []
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
        counted = {"weights": node.weights, "params": node.params, "macs": node.macs}[printed["counts"]]
        value = Fraction(printed["numerator"], printed["denominator"])
        scale = printed["step_numerator"]
        suffix = printed["text"].lstrip("0123456789. ")
        computed = f"{counted / scale:.1f}{suffix}"
        result[f"paper_{column}"] = printed["text"]
        result[f"computed_{column}"] = computed
        # The table rounds loosely (159.5K is printed 159K, 379.0K is printed 380K):
        # a row holds when it is within one unit of the printed value's last digit.
        step = Fraction(scale, printed["denominator"])
        if abs(counted - value) > step:
            problems.append(f"{column} {printed['text']} printed, {computed} computed")
            what.append(column)
    result["check"] = ("differs: " + ", ".join(what)) if what else ("ok" if paper else "")
    result["problems"] = problems
    return result


# ---- network report ---------------------------------------------------------------------


def network_report(analysis: Analysis) -> Report:
    root = analysis.root
    rows, problems = [], {}
    has_paper = any(c.info.get("paper") for c in root.children)
    units = analysis.network.units
    for index, node in enumerate(root.children, 1):
        row = {"index": index, "name": node.name, "type": _row_type(node), "depth": node.depth,
               **cost_row(node, root.macs)}
        if node.training_only:
            row["type"] += " (training only)"
        if has_paper:
            check = paper_check(node, units)
            problems[node.name] = check.pop("problems")
            row.update(check)
        rows.append(row)
    columns = [Column("index", "#", INT), Column("name", "row"), Column("type", "type"),
               Column("output", "output", SHAPE), Column("depth", "depth", INT),
               Column("params", "params", INT), Column("macs", "MACs", INT),
               Column("share", "share of MACs", SHARE)]
    if has_paper:
        columns += [Column("paper_params", "paper params"), Column("computed_params", "computed"),
                    Column("paper_ops", "paper ops"), Column("computed_ops", "computed"),
                    Column("check", "check")]
    total = {"name": "total", "depth": root.depth, **cost_row(root, root.macs)}
    notes = [train_note(analysis)]
    if has_paper:
        if units:
            notes.append(_units_note(units))
        flagged = [name for name, found in problems.items() if found]
        if flagged:
            notes.append("Rows whose printed figures disagree with their own shapes (beyond the"
                         f" table's rounding): {', '.join(flagged)}.")
            notes += [f"- {name}: {'; '.join(problems[name])}" for name in flagged]
    notes += _stated_notes(analysis)
    section = Section(title=title_of(analysis), columns=columns, rows=rows, total=total, notes=notes)
    return Report(title=f"{title_of(analysis)}: cost by row", convention=header_lines(analysis.convention),
                  totals=totals(root), sections=[section], meta=meta_of(analysis))


def _stated_notes(analysis: Analysis) -> list:
    """The source's stated totals beside the computed ones."""
    root, notes = analysis.root, []
    computed = {"params": root.params, "macs": root.macs, "depth": root.depth}
    for key, figure in analysis.network.stated.items():
        value = figure["value"]
        ratio_text = f" ({computed[key] / value:.3g}x the stated figure)" if value else ""
        notes.append(f"The source states {key} {figure['text']}; computed {computed[key]:,}{ratio_text}.")
    return notes


def _row_type(node: CostNode) -> str:
    if node.kind == "layer":
        return node.description
    if node.kind == "auxiliary":
        return "auxiliary classifier"
    if node.label != node.name:
        return node.label
    layers = node.layers()
    if len(layers) == 1:
        return layers[0].description
    return node.info.get("block") or node.kind


def _units_note(units: dict) -> str:
    parts = []
    for column, spec in units.items():
        scales = ", ".join(f"{s} = {v:,}" for s, v in spec["scales"].items())
        parts.append(f"{column} count {spec['counts']} ({scales})")
    return ("The paper's columns: " + "; ".join(parts) + ". A row is flagged when it is off by"
            " more than one unit of the printed value's last digit.")


def meta_of(analysis: Analysis) -> dict:
    net = analysis.network
    return {"network": net.name, "file": net.file, "source": net.source,
            "stated": {k: v["value"] for k, v in net.stated.items()},
            "input": format_shape(net.input_shape), "output": format_shape(analysis.root.out_shape),
            "train": analysis.train, "depth": analysis.root.depth}


# ---- module report -------------------------------------------------------------------------


def module_parts(module: CostNode) -> list:
    """The parts a module report lists: each branch of its concats, and its other items."""
    if not any(c.kind in ("concat", "residual") for c in module.children):
        return [module]  # a plain sequence (a stem, an auxiliary head): one row
    parts = []
    for child in module.children:
        if child.kind == "concat":
            parts.extend(child.children)
        elif child.kind == "residual":
            for inner in child.children:
                parts.extend(inner.children if inner.kind == "concat" else [inner])
        else:
            parts.append(child)
    return parts


def chain(node: CostNode) -> str:
    """'conv 1x1 16 -> conv 5x5 32', with parallel parts as '[conv 1x3 | conv 3x1]'."""
    if node.kind == "layer":
        return node.description
    if node.kind == "concat":
        return "[" + " | ".join(chain(branch) for branch in node.children) + "]"
    if node.kind == "residual":
        return f"residual x{node.info['scale']:g} (" + " -> ".join(chain(c) for c in node.children) + ")"
    return " -> ".join(chain(child) for child in node.children)


def module_report(analysis: Analysis, module: CostNode) -> Report:
    parts = module_parts(module)
    rows = [{"branch": p.name if p.kind == "branch" else p.label if p is not module else "layers",
             "layers": chain(p),
             **cost_row(p, module.macs)} for p in parts]
    cost_columns = _cost_columns(parts)
    columns = [Column("branch", "branch"), Column("layers", "layers"),
               Column("output", "output", SHAPE), *cost_columns, Column("share", "share of MACs", SHARE)]
    total = {"branch": "module total", **cost_row(module, module.macs)}
    notes = [f"Input {format_shape(module.in_shape)}, output {format_shape(module.out_shape)}."]
    residuals = [c for c in module.children if c.kind == "residual"]
    for r in residuals:
        notes.append(f"Residual: input + {r.info['scale']:g} x body (the addition counts 0 MACs).")
    branch_section = Section(title=f"{module.label}: branches", columns=columns, rows=rows,
                             total=total, notes=notes)
    layer_rows = []
    for part in parts:
        for layer in (part.layers() if part.kind != "layer" else [part]):
            layer_rows.append({"branch": part.name, "layer": layer.description,
                               "input": format_shape(layer.in_shape), **cost_row(layer)})
    layer_columns = [Column("branch", "branch"), Column("layer", "layer"),
                     Column("input", "input", SHAPE), Column("output", "output", SHAPE), *cost_columns]
    layer_section = Section(title=f"{module.label}: layers", columns=layer_columns, rows=layer_rows)
    return Report(title=f"{title_of(analysis)}: module {module.label}",
                  convention=header_lines(analysis.convention),
                  totals=totals(module), sections=[branch_section, layer_section],
                  meta={**meta_of(analysis), "module": module.name})


# ---- the whole document -----------------------------------------------------------------------


def export_report(analysis: Analysis) -> Report:
    """The network table, then each module's branch table, under one convention."""
    report = network_report(analysis)
    for module in analysis.root.modules():
        report.sections.append(module_report(analysis, module).sections[0])
    report.title = f"{title_of(analysis)}: cost report"
    return report


# ---- the catalogue ------------------------------------------------------------------------------


def catalog_report(entries: list) -> Report:
    """One row per built-in: [(name, Analysis)]."""
    rows = []
    for name, analysis in entries:
        net, root = analysis.network, analysis.root
        rows.append({"name": name, "title": net.title, "input": format_shape(net.input_shape),
                     "params": root.params, "macs": root.macs, "depth": root.depth})
    columns = [Column("name", "name"), Column("title", "title"), Column("input", "input", SHAPE),
               Column("params", "params", INT), Column("macs", "MACs", INT),
               Column("depth", "depth (layers with weights)", INT)]
    section = Section(title="Built-in architectures (inference network)", columns=columns, rows=rows)
    return Report(title="inception-cost: built-in architectures",
                  convention=header_lines(entries[0][1].convention if entries else DEFAULT_CONVENTION),
                  totals={"params": sum(r["params"] for r in rows), "macs": sum(r["macs"] for r in rows)},
                  sections=[section])


def devices_report(devices: list) -> Report:
    rows = [{"name": d.name, "title": d.title, **{f"peak_{k}": v for k, v in d.peak_tflops.items()},
             "bandwidth_gbs": d.bandwidth_gbs, "overhead_us": d.overhead_us, "source": d.source}
            for d in devices]
    columns = [Column("name", "name"), Column("title", "title"),
               *[Column(f"peak_{k}", f"{k} TFLOP/s", FLOAT) for k in ("fp32", "bf16", "fp16", "int8")],
               Column("bandwidth_gbs", "GB/s", FLOAT), Column("overhead_us", "µs per layer", FLOAT)]
    section = Section(title="Device profiles", columns=columns, rows=rows,
                      notes=["A file with the same keys (name, title, source, peak_tflops,"
                             " bandwidth_gbs, overhead_us) works anywhere a device name does."])
    return Report(title="inception-cost: device profiles", convention=[], totals={},
                  sections=[section])


# ---- sweep --------------------------------------------------------------------------------------


def sweep_report(result, module: str, network: str, *, budget_macs=None, budget_params=None,
                 top: int = 20, sort: str = "macs", pareto_only: bool = False) -> Report:
    """The best variants of a sweep, with the Pareto front marked."""
    n = result.count
    keep = range(n)
    if budget_macs is not None:
        keep = [i for i in keep if result.macs[i] <= budget_macs]
    if budget_params is not None:
        keep = [i for i in keep if result.params[i] <= budget_params]
    if pareto_only:
        keep = [i for i in keep if result.pareto[i]]
    primary, secondary = (result.macs, result.params) if sort == "macs" else (result.params, result.macs)
    chosen = sorted(keep, key=lambda i: (primary[i], secondary[i]))
    shown = chosen if top == 0 else chosen[:top]
    names = [a.name for a in result.axes]
    base_macs = result.base["macs"]
    rows = []
    for rank, i in enumerate(shown, 1):
        row = {"rank": rank, **{name: result.widths[k][i] for k, name in enumerate(names)},
               "params": result.params[i], "macs": result.macs[i],
               "macs_vs_written": result.macs[i] / base_macs if base_macs else None,
               "pareto": "yes" if result.pareto[i] else ""}
        rows.append(row)
    columns = [Column("rank", "#", INT), *[Column(name, name, INT) for name in names],
               Column("params", "params", INT), Column("macs", "MACs", INT),
               Column("macs_vs_written", "MACs vs as written", RATIO), Column("pareto", "Pareto")]
    written = ", ".join(f"{k} {v}" for k, v in result.base["widths"].items() if k in names)
    layer_configs = n * result.layers
    evaluate = result.extra.get("evaluate_seconds", result.seconds)
    rate = layer_configs / evaluate if evaluate else 0
    notes = [f"{n:,} variants x {result.layers} layers = {layer_configs:,} layer configurations,"
             f" evaluated in {evaluate:.3f} s ({rate:,.0f} per second) after building the module"
             f" {result.extra.get('builds', 1)} times from its YAML"
             f" ({result.extra.get('build_seconds', 0):.3f} s).",
             f"{sum(result.pareto):,} on the Pareto front (no other variant has fewer or equal MACs"
             " and parameters); "
             + (f"{len(keep) if not isinstance(keep, range) else n:,} within the budget; " if
                budget_macs is not None or budget_params is not None else "")
             + f"sorted by {sort}, {'all' if top == 0 else f'the first {min(top, len(chosen))}'} shown.",
             f"As written ({written}): {result.base['params']:,} params, {base_macs:,} MACs."]
    section = Section(title=f"{network}: sweep of module {module}", columns=columns, rows=rows,
                      notes=notes)
    best = chosen[0] if chosen else None
    report_totals = {"variants": n, "pareto": sum(result.pareto), "in_budget": len(chosen),
                     "params": result.params[best] if best is not None else None,
                     "macs": result.macs[best] if best is not None else None}
    return Report(title=f"{network}: sweep of module {module}", convention=header_lines(DEFAULT_CONVENTION),
                  totals=report_totals, sections=[section],
                  meta={"network": network, "module": module, "seconds": result.seconds})

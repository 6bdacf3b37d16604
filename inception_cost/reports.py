"""Build reports (`report_model.Report`) from analysed networks.

Each builder reads the `CostNode` tree once and lays the numbers out in sections;
nothing here formats or prints.
"""

from __future__ import annotations

from fractions import Fraction

from inception_cost.analysis import Analysis, CostNode
from inception_cost.conventions import DEFAULT as DEFAULT_CONVENTION
from inception_cost.graph import format_shape
from inception_cost.report_model import FLOAT, INT, RATIO, SHAPE, SHARE, Column, Report, Section

COST_COLUMNS = [Column("weights", "weights", INT), Column("biases", "biases", INT),
                Column("bn_params", "bn params", INT), Column("params", "params", INT),
                Column("macs", "MACs", INT)]


def totals(node: CostNode) -> dict:
    return {"params": node.params, "macs": node.macs, "weights": node.weights,
            "biases": node.biases, "bn_params": node.bn_params, "trainable": node.trainable,
            "non_trainable": node.non_trainable}


def _header(convention) -> list:
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


def _costs(node: CostNode, share_of: int | None = None) -> dict:
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


def _title(analysis: Analysis) -> str:
    net = analysis.network
    return net.title or net.name


def _train_note(analysis: Analysis) -> str:
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
               **_costs(node, root.macs)}
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
    total = {"name": "total", "depth": root.depth, **_costs(root, root.macs)}
    notes = [_train_note(analysis)]
    if has_paper:
        if units:
            notes.append(_units_note(units))
        flagged = [name for name, found in problems.items() if found]
        if flagged:
            notes.append("Rows whose printed figures disagree with their own shapes (beyond the"
                         f" table's rounding): {', '.join(flagged)}.")
            notes += [f"- {name}: {'; '.join(problems[name])}" for name in flagged]
    notes += _stated_notes(analysis)
    section = Section(title=_title(analysis), columns=columns, rows=rows, total=total, notes=notes)
    return Report(title=f"{_title(analysis)}: cost by row", convention=_header(analysis.convention),
                  totals=totals(root), sections=[section], meta=_meta(analysis))


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


def _meta(analysis: Analysis) -> dict:
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
             **_costs(p, module.macs)} for p in parts]
    cost_columns = _cost_columns(parts)
    columns = [Column("branch", "branch"), Column("layers", "layers"),
               Column("output", "output", SHAPE), *cost_columns, Column("share", "share of MACs", SHARE)]
    total = {"branch": "module total", **_costs(module, module.macs)}
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
                               "input": format_shape(layer.in_shape), **_costs(layer)})
    layer_columns = [Column("branch", "branch"), Column("layer", "layer"),
                     Column("input", "input", SHAPE), Column("output", "output", SHAPE), *cost_columns]
    layer_section = Section(title=f"{module.label}: layers", columns=layer_columns, rows=layer_rows)
    return Report(title=f"{_title(analysis)}: module {module.label}",
                  convention=_header(analysis.convention),
                  totals=totals(module), sections=[branch_section, layer_section],
                  meta={**_meta(analysis), "module": module.name})


# ---- comparisons ----------------------------------------------------------------------------


def ratio(a: int, b: int):
    return a / b if b else None


def compare_modules(name_a: str, a: CostNode, name_b: str, b: CostNode, title: str,
                    convention=DEFAULT_CONVENTION) -> Report:
    """Branch by branch: parts with the same name side by side, with ratios a / b."""
    parts_a = {p.name: p for p in module_parts(a)}
    parts_b = {p.name: p for p in module_parts(b)}
    names = list(parts_a) + [n for n in parts_b if n not in parts_a]
    rows = []
    for name in names:
        pa, pb = parts_a.get(name), parts_b.get(name)
        rows.append(_compare_row(name, pa, pb))
    total = _compare_row("module total", a, b)
    section = Section(title=title, columns=_compare_columns(name_a, name_b, with_layers=True),
                      rows=rows, total=total,
                      notes=[f"Ratios are {name_a} / {name_b}.",
                             f"Input {format_shape(a.in_shape)}; output {name_a}"
                             f" {format_shape(a.out_shape)}, {name_b} {format_shape(b.out_shape)}."])
    return Report(title=title, convention=_header(convention),
                  totals={name_a: totals(a), name_b: totals(b),
                          "ratio": {"params": ratio(a.params, b.params), "macs": ratio(a.macs, b.macs)}},
                  sections=[section], meta={"a": name_a, "b": name_b})


def _compare_row(name: str, pa: CostNode | None, pb: CostNode | None) -> dict:
    row = {"part": name}
    for side, node in (("a", pa), ("b", pb)):
        row[f"{side}_layers"] = chain(node) if node and node.kind != "module" else ("" if node else "-")
        row[f"{side}_output"] = format_shape(node.out_shape) if node else None
        row[f"{side}_params"] = node.params if node else None
        row[f"{side}_macs"] = node.macs if node else None
    row["params_ratio"] = ratio(pa.params, pb.params) if pa and pb else None
    row["macs_ratio"] = ratio(pa.macs, pb.macs) if pa and pb else None
    return row


def _compare_columns(name_a: str, name_b: str, with_layers: bool) -> list:
    columns = [Column("part", "branch" if with_layers else "stage")]
    if with_layers:
        columns += [Column("a_layers", f"{name_a} layers"), Column("b_layers", f"{name_b} layers")]
    else:
        columns += [Column("a_output", f"{name_a} output", SHAPE),
                    Column("b_output", f"{name_b} output", SHAPE)]
    columns += [Column("a_params", f"{name_a} params", INT), Column("b_params", f"{name_b} params", INT),
                Column("params_ratio", "params ratio", RATIO),
                Column("a_macs", f"{name_a} MACs", INT), Column("b_macs", f"{name_b} MACs", INT),
                Column("macs_ratio", "MACs ratio", RATIO)]
    return columns


def compare_networks(name_a: str, a: Analysis, name_b: str, b: Analysis) -> Report:
    """Totals side by side, then stage by stage where the two share row names."""
    ra, rb = a.root, b.root
    rows_a = {c.name: c for c in ra.children}
    rows_b = {c.name: c for c in rb.children}
    shared = [n for n in rows_a if n in rows_b]
    rows = [_compare_row(n, rows_a[n], rows_b[n]) for n in shared]
    total = _compare_row("total", ra, rb)
    notes = [f"Ratios are {name_a} / {name_b}."]
    if not shared:
        notes.append("The two networks share no stage names: totals only.")
    notes += [f"{name}: {_train_note(analysis)}" for name, analysis in ((name_a, a), (name_b, b))]
    section = Section(title=f"{name_a} vs {name_b}", columns=_compare_columns(name_a, name_b, False),
                      rows=rows, total=total, notes=notes)
    return Report(title=f"{name_a} vs {name_b}", convention=_header(a.convention),
                  totals={name_a: totals(ra), name_b: totals(rb),
                          "ratio": {"params": ratio(ra.params, rb.params), "macs": ratio(ra.macs, rb.macs)}},
                  sections=[section], meta={"a": name_a, "b": name_b})


# ---- factorisation ---------------------------------------------------------------------------


def factorize_report(before: Analysis, after: Analysis, rule: str, count: int,
                     module: str | None, lone: bool) -> Report:
    """Before and after a factorisation rule, branch by branch (a module) or row by row."""
    what = f"module {module}" if module and not lone else before.network.title
    if module:
        a, b = before.root.find_module(module), after.root.find_module(module)
        report = compare_modules("before", a, "after", b, f"{rule}: {what}")
    else:
        report = compare_networks("before", before, "after", after)
        report.title = report.sections[0].title = f"{rule}: {what}"
        a, b = before.root, after.root
    notes = report.sections[0].notes
    plural = "s" if count != 1 else ""
    if a.macs:
        change = (f"saving {a.macs - b.macs:,} MACs" if b.macs <= a.macs
                  else f"{b.macs - a.macs:,} more MACs")
        notes.append(f"{count} convolution{plural} rewritten; MACs after = {b.macs / a.macs:.1%}"
                     f" of before ({change}).")
    else:
        notes.append(f"{count} convolution{plural} rewritten.")
    notes.append("Each new convolution has the original's filters, bias, batch norm and"
                 " activation; where a conv widens its input (e.g. 16 -> 32) the pair can cost"
                 " more than the conv it replaces.")
    if lone:
        notes += _textbook_ratios(rule, a.layers()[0].info["args"]["kernel"][0])
    report.meta.update(rule=rule, rewritten=count)
    return report


def _textbook_ratios(rule: str, n: int) -> list:
    if rule == "5x5-to-3x3":
        return ["With equal input and output widths: a 5x5 conv costs 25/9 = 2.78 times a 3x3 with"
                " the same filters; two stacked 3x3 cost 18/25 = 72% of the 5x5 (28% saved)."]
    return [f"With equal input and output widths: 1x{n} then {n}x1 cost 2/{n} = {2 / n:.0%} of the"
            f" {n}x{n} ({1 - 2 / n:.0%} saved)."]


# ---- the whole document -----------------------------------------------------------------------


def export_report(analysis: Analysis) -> Report:
    """The network table, then each module's branch table, under one convention."""
    report = network_report(analysis)
    for module in analysis.root.modules():
        report.sections.append(module_report(analysis, module).sections[0])
    report.title = f"{_title(analysis)}: cost report"
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
                  convention=_header(entries[0][1].convention if entries else DEFAULT_CONVENTION),
                  totals={"params": sum(r["params"] for r in rows), "macs": sum(r["macs"] for r in rows)},
                  sections=[section])


# ---- why conventions differ ----------------------------------------------------------------------


def explain_report(analyses: list) -> Report:
    """One row per counted term, one column per convention: what each adds to its total.

    `analyses` are the same network analysed under each convention.
    """
    from inception_cost.conventions import TERM_TEXT

    first = analyses[0]
    counts = first.term_totals()
    sections = []
    for kind, terms, pick in (("operations", [t for t in counts if t not in ("weights", "biases", "bn_params")],
                               lambda c: (c.ops, c.factor)),
                              ("parameters", ["weights", "biases", "bn_params"], lambda c: (c.params, 1))):
        rows = []
        for term in terms:
            row = {"term": TERM_TEXT[term], "count": counts[term]}
            used = False
            for a in analyses:
                weights, factor = pick(a.convention)
                weight = weights.get(term, 0)
                row[a.convention.name] = int(weight * factor * counts[term])
                used = used or bool(weight and counts[term])
            if used:
                rows.append(row)
        total = {"term": "total", **{a.convention.name: (a.root.macs if kind == "operations" else a.root.params)
                                     for a in analyses}}
        columns = [Column("term", "counted term"), Column("count", "count", INT),
                   *[Column(a.convention.name, f"{a.convention.name} ({a.convention.unit.value})"
                            if kind == "operations" else a.convention.name, INT) for a in analyses]]
        sections.append(Section(title=f"{_title(first)}: {kind} by convention", columns=columns,
                                rows=rows, total=total))
    base = analyses[0]
    notes = sections[0].notes
    for a in analyses[1:]:
        diff = a.root.macs - base.root.macs
        notes.append(f"{a.convention.name}: {a.root.macs:,} {a.convention.unit.value}"
                     f" ({'+' if diff >= 0 else ''}{diff:,} against {base.convention.name}).")
    notes.append("Each cell is what the convention adds for that term (weight x count); a"
                 " blank or 0 means the convention does not count it.")
    lines = [f"{a.convention.name}: {a.convention.summary}" for a in analyses]
    return Report(title=f"{_title(first)}: why the conventions differ", convention=lines,
                  totals={a.convention.name: {"macs": a.root.macs, "params": a.root.params,
                                              "unit": a.convention.unit.value} for a in analyses},
                  sections=sections, meta=_meta(first))


# ---- memory and time ---------------------------------------------------------------------------


def layer_paths(node: CostNode, prefix: str = "") -> list:
    """[(path, layer)] in execution order, e.g. ('3a / 5x5 / conv 5x5 32', node)."""
    result = []
    for child in node.children:
        if child.kind == "layer":
            result.append((f"{prefix}{child.name}", child))
        elif child.kind == "concat":
            result.extend(layer_paths(child, prefix))
        else:
            result.extend(layer_paths(child, f"{prefix}{child.name} / "))
    return result


def _memory_meta(dtype, batch) -> dict:
    return {"dtype": dtype.value, "batch": batch}


def memory_report(analysis: Analysis, dtype, batch: int, module: CostNode | None = None) -> Report:
    from inception_cost.memory import layer_memory, peak_activations

    scope = module or analysis.root
    rows_by_leaf = {id(m.node): m for m in layer_memory(analysis, dtype, batch, scope)}
    rows = []
    for path, leaf in layer_paths(scope):
        m = rows_by_leaf[id(leaf)]
        rows.append({"layer": path, "kind": leaf.description, "output": format_shape(leaf.out_shape),
                     "activations": m.activations, "activation_bytes": m.activation_bytes,
                     "weight_bytes": m.weight_bytes, "bytes_moved": m.bytes_moved,
                     "flops": m.flops, "intensity": m.intensity})
    sums = {k: sum(r[k] for r in rows) for k in ("activations", "activation_bytes", "weight_bytes",
                                                  "bytes_moved", "flops")}
    total = {"layer": "total", **sums, "intensity": sums["flops"] / sums["bytes_moved"] if sums["bytes_moved"] else 0.0}
    peak = peak_activations(scope) * batch * dtype.bytes
    columns = [Column("layer", "layer"), Column("output", "output", SHAPE),
               Column("activations", "activations", INT), Column("activation_bytes", "activation bytes", INT),
               Column("weight_bytes", "weight bytes", INT), Column("bytes_moved", "bytes moved (min)", INT),
               Column("flops", "FLOPs", INT), Column("intensity", "FLOPs/byte", FLOAT)]
    notes = [f"{dtype.value}, batch {batch}. Bytes moved: input(s) read + weights read + output"
             " written once, the least a layer can move; FLOPs = 2 x conv/linear MACs.",
             f"Peak activation memory of inference: {peak:,} bytes ({peak / 2**20:,.1f} MiB),"
             " holding a module's input until its last branch has run and every branch's"
             " output until the concat (which writes a new tensor); weights:"
             f" {sums['weight_bytes']:,} bytes ({sums['weight_bytes'] / 2**20:,.1f} MiB).",
             "Flatten and dropout are views in inference and move nothing."]
    what = f"module {module.label}" if module else "layers"
    section = Section(title=f"{_title(analysis)}: memory by layer ({what})", columns=columns,
                      rows=rows, total=total, notes=notes)
    return Report(title=f"{_title(analysis)}: memory", convention=_header(analysis.convention),
                  totals={**totals(scope), "peak_activation_bytes": peak,
                          "weight_bytes": sums["weight_bytes"], "bytes_moved": sums["bytes_moved"]},
                  sections=[section], meta={**_meta(analysis), **_memory_meta(dtype, batch)})


def roofline_report(analysis: Analysis, device, dtype, batch: int, module: CostNode | None = None,
                    per_layer: bool = False) -> Report:
    from inception_cost.roofline import estimate

    scope = module or analysis.root
    times = {id(t.memory.node): t for t in estimate(analysis, device, dtype, batch, scope)}
    grand = sum(t.seconds for t in times.values())
    if per_layer or module:
        groups = [(path, [leaf]) for path, leaf in layer_paths(scope)]
    else:
        groups = [(child.name, child.layers() if child.kind != "layer" else [child])
                  for child in scope.children]
    rows = []
    for name, leaves in groups:
        ts = [times[id(leaf)] for leaf in leaves]
        flops = sum(t.memory.flops for t in ts)
        moved = sum(t.memory.bytes_moved for t in ts)
        seconds = sum(t.seconds for t in ts)
        compute = sum(t.seconds for t in ts if t.bound == "compute")
        bound = "compute" if compute * 2 > seconds else ("memory" if seconds else "-")
        if len(ts) == 1:
            bound = ts[0].bound
        rows.append({"layer": name, "flops": flops, "bytes_moved": moved,
                     "intensity": flops / moved if moved else 0.0,
                     "compute_us": sum(t.compute_s for t in ts) * 1e6,
                     "memory_us": sum(t.memory_s for t in ts) * 1e6,
                     "time_us": seconds * 1e6, "bound": bound,
                     "share": seconds / grand if grand else 0.0})
    total = {"layer": "total", "flops": sum(r["flops"] for r in rows),
             "bytes_moved": sum(r["bytes_moved"] for r in rows), "time_us": grand * 1e6,
             "compute_us": sum(r["compute_us"] for r in rows),
             "memory_us": sum(r["memory_us"] for r in rows), "share": 1.0 if grand else 0.0}
    columns = [Column("layer", "layer" if per_layer or module else "row"),
               Column("flops", "FLOPs", INT), Column("bytes_moved", "bytes moved", INT),
               Column("intensity", "FLOPs/byte", FLOAT), Column("compute_us", "compute µs", FLOAT),
               Column("memory_us", "memory µs", FLOAT), Column("time_us", "estimate µs", FLOAT),
               Column("bound", "bound"), Column("share", "share of time", SHARE)]
    peak = device.peak_flops(dtype.value)
    ridge = peak / device.bandwidth
    notes = [f"Device {device.title}: {device.peak_tflops[dtype.value]:g} TFLOP/s {dtype.value},"
             f" {device.bandwidth_gbs:g} GB/s, {device.overhead_us:g} µs per layer; ridge point"
             f" {ridge:,.0f} FLOPs/byte. {dtype.value}, batch {batch}.",
             f"Estimated {grand * 1e3:,.3f} ms per batch ({batch / grand:,.0f} images/s) if every"
             " layer ran at the roofline." if grand else "Nothing to time.",
             "Each layer takes max(FLOPs / peak, bytes moved / bandwidth) + the per-layer overhead."
             " A lower bound: kernels with unusual shapes (1 x n, few channels, small maps) run"
             " below peak, and copies for concatenation, layout changes and launch gaps are not"
             " modelled."]
    section = Section(title=f"{_title(analysis)}: roofline on {device.name}", columns=columns,
                      rows=rows, total=total, notes=notes)
    return Report(title=f"{_title(analysis)}: estimated time on {device.name}",
                  convention=_header(analysis.convention),
                  totals={**totals(scope), "seconds": grand},
                  sections=[section], meta={**_meta(analysis), **_memory_meta(dtype, batch),
                                            "device": device.name})


def add_time_columns(report: Report, time_a, time_b, nodes_a: dict, nodes_b: dict, timing: str) -> Report:
    """Estimated times beside the MAC ratio in a comparison: rows are matched by `part`."""
    section = report.sections[0]
    for row in section.rows + ([section.total] if section.total else []):
        a, b = nodes_a.get(row["part"]), nodes_b.get(row["part"])
        ta = time_a(a) if a is not None else None
        tb = time_b(b) if b is not None else None
        row["a_time_us"] = ta * 1e6 if ta is not None else None
        row["b_time_us"] = tb * 1e6 if tb is not None else None
        row["time_ratio"] = ta / tb if ta is not None and tb else None
    name_a, name_b = report.meta["a"], report.meta["b"]
    section.columns += [Column("a_time_us", f"{name_a} est. µs", FLOAT),
                        Column("b_time_us", f"{name_b} est. µs", FLOAT),
                        Column("time_ratio", "time ratio", RATIO)]
    section.notes.append(f"Estimated times: roofline on {timing} (see `inception-cost roofline`);"
                         " a MAC ratio far from the time ratio means the cheaper part is bound by"
                         " memory or overhead, not arithmetic.")
    return report


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
    return Report(title=f"{network}: sweep of module {module}", convention=_header(DEFAULT_CONVENTION),
                  totals=report_totals, sections=[section],
                  meta={"network": network, "module": module, "seconds": result.seconds})

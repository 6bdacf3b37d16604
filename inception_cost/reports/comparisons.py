"""Comparison reports: two modules or networks side by side, a factorisation's before
and after, the conventions term by term, and estimated times beside MAC ratios."""

from __future__ import annotations

from inception_cost.core.analysis import Analysis, CostNode
from inception_cost.core.conventions import DEFAULT as DEFAULT_CONVENTION
from inception_cost.graph.nodes import format_shape
from inception_cost.reports.model import FLOAT, INT, RATIO, SHAPE, Column, Report, Section
from inception_cost.reports.network import (chain, header_lines, meta_of, module_parts, title_of, totals,
                                    train_note)


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
    return Report(title=title, convention=header_lines(convention),
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
    notes += [f"{name}: {train_note(analysis)}" for name, analysis in ((name_a, a), (name_b, b))]
    section = Section(title=f"{name_a} vs {name_b}", columns=_compare_columns(name_a, name_b, False),
                      rows=rows, total=total, notes=notes)
    return Report(title=f"{name_a} vs {name_b}", convention=header_lines(a.convention),
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


# ---- why conventions differ ----------------------------------------------------------------------


def explain_report(analyses: list) -> Report:
    """One row per counted term, one column per convention: what each adds to its total.

    `analyses` are the same network analysed under each convention.
    """
    from inception_cost.core.conventions import TERM_TEXT

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
        sections.append(Section(title=f"{title_of(first)}: {kind} by convention", columns=columns,
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
    return Report(title=f"{title_of(first)}: why the conventions differ", convention=lines,
                  totals={a.convention.name: {"macs": a.root.macs, "params": a.root.params,
                                              "unit": a.convention.unit.value} for a in analyses},
                  sections=sections, meta=meta_of(first))


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

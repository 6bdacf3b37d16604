"""Comparison reports: two modules or networks side by side, and a factorisation's
before and after, with estimated times beside the MAC ratios.

Parts are matched by path (a module's parts by their path below the module, two
networks' stages by their top-level path), never by display name: two parts with the
same name are two rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inception_cost.core.analysis import Analysis
from inception_cost.core.conventions import Convention
from inception_cost.core.shapes import format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.reports.common import (
    Row,
    chain,
    distinct,
    finish,
    module_parts,
    own_work,
    part_name,
    scope_name,
    totals,
    train_note,
)
from inception_cost.reports.model import EXTRA, FLOAT, INT, KEY, NAME, RATIO, SHAPE, Column, Report, Section

if TYPE_CHECKING:
    from inception_cost.estimates.roofline import NodeTimer


@dataclass(frozen=True)
class Timing:
    """Estimated seconds of the nodes of side a and of side b, and how they were estimated."""

    time_a: NodeTimer
    time_b: NodeTimer
    description: str
    optimizer: str | None = None  # a training step's: its update is in a network's total
    ratio_note: str = ""  # what a time ratio is worth (latency.ratio_note); "" for the plain roofline


def _seconds(timer: NodeTimer, node: CostNode, alone: Collection[int] = ()) -> float:
    """A row's time: a node in `alone` by its own kernels (a concat's copy), a whole network
    with its optimizer update (a training step), anything else its layers and copies."""
    if id(node) in alone:
        return timer.own(node)
    return timer.total() if node.role is Role.NETWORK else timer(node)


Pair = tuple[Row, CostNode | None, CostNode | None]


def ratio(a: int | float, b: int | float) -> float | None:
    return a / b if b else None


def compare_modules(name_a: str, a: CostNode, name_b: str, b: CostNode, title: str,
                    convention: Convention, timing: Timing | None = None) -> Report:
    """Branch by branch: parts at the same path below their module side by side; with
    times, the module's own work outside its parts too (a concat's copy), so that the
    rows add up to the module's time."""
    parts_a, alone_a = _listed(a, timing is not None)
    parts_b, alone_b = _listed(b, timing is not None)
    alone = alone_a | alone_b
    keys = list(parts_a) + [k for k in parts_b if k not in parts_a]
    names = [_part_label(parts_a[k], a, alone) if k in parts_a else _part_label(parts_b[k], b, alone)
             for k in keys]
    pairs: list[Pair] = []
    for key, shown in zip(keys, distinct(names, keys)):
        pa, pb = parts_a.get(key), parts_b.get(key)
        row = _compare_row(shown, key, pa, pb, alone)
        for side, part, module in (("a", pa, a), ("b", pb, b)):
            if part is module:  # a plain sequence, one row: its layers, as a module report shows them
                row[f"{side}_layers"] = chain(module)
        pairs.append((row, pa, pb))
    total = _compare_row("module total", "", a, b)

    def figures() -> list[Any]:
        from inception_cost.reports.figures import module_figure

        return [module_figure(a, f"{name_a}: {a.label}"), module_figure(b, f"{name_b}: {b.label}")]

    section = Section(title=title, columns=_compare_columns(name_a, name_b, with_layers=True),
                      rows=[row for row, _, _ in pairs], total=total, figures=figures,
                      notes=[f"Ratios are {name_a} / {name_b}.",
                             f"Input {format_shape(a.in_shape)}; output {name_a}"
                             f" {format_shape(a.out_shape)}, {name_b} {format_shape(b.out_shape)}."])
    if timing:
        _add_times(section, name_a, name_b, [*pairs, (total, a, b)], timing, alone)
    report = Report(title=title, convention=[], totals=_report_totals(name_a, a, name_b, b, timing),
                    sections=[section], meta={"a": name_a, "b": name_b, "a_path": a.path,
                                              "b_path": b.path})
    return finish(report, convention)


def _listed(module: CostNode, timed: bool) -> tuple[dict[str, CostNode], set[int]]:
    """The parts a comparison lists, by their path below the module; with times, also the
    module's own work outside them (`own_work`), whose ids are the second item: such a
    node stands for its own kernels alone (a concat for its copy, not its branches)."""
    parts = module_parts(module)
    extra = own_work(module, parts) if timed else []
    ran = {id(n): i for i, n in enumerate(_run_order(module))}
    listed = sorted([*parts, *extra], key=lambda n: ran[id(n)])  # a copy after its branches
    return {module.relative_path(p): p for p in listed}, {id(n) for n in extra}


def _run_order(node: CostNode) -> Iterator[CostNode]:
    """The nodes below `node` in the order they finish: a structure after its parts."""
    for child in node.children:
        yield from _run_order(child)
    yield node


def _part_label(part: CostNode, module: CostNode, alone: Collection[int]) -> str:
    return f"{part.name} copy" if _is_copy(part, alone) else part_name(part, module)


def _is_copy(node: CostNode | None, alone: Collection[int]) -> bool:
    """A structure that stands for its own copy, without its parts."""
    return node is not None and id(node) in alone and node.role is not Role.LAYER


def _compare_row(name: str, key: str, pa: CostNode | None, pb: CostNode | None,
                 alone: Collection[int] = ()) -> Row:
    row: Row = {"part": name, "path": key}
    for side, node in (("a", pa), ("b", pb)):
        copy = _is_copy(node, alone)  # a copy has time, no parameters or MACs
        row[f"{side}_layers"] = _layers(node, copy)
        row[f"{side}_output"] = format_shape(node.out_shape) if node else None
        row[f"{side}_params"] = (0 if copy else node.params) if node else None
        row[f"{side}_macs"] = (0 if copy else node.macs) if node else None
    row["params_ratio"] = ratio(row["a_params"], row["b_params"]) if pa and pb else None
    row["macs_ratio"] = ratio(row["a_macs"], row["b_macs"]) if pa and pb else None
    return row


def _layers(node: CostNode | None, copy: bool) -> str:
    if node is None:
        return "-"
    if copy:
        return f"copy {format_shape(node.out_shape)}"
    return chain(node) if node.role is not Role.MODULE else ""


def _report_totals(name_a: str, a: CostNode, name_b: str, b: CostNode, timing: Timing | None) -> dict[str, Any]:
    """Each side's totals and their ratios; with times, each side's `seconds` and the
    `time` ratio too."""
    sides: dict[str, dict[str, Any]] = {name_a: totals(a), name_b: totals(b)}
    ratios = {"params": ratio(a.params, b.params), "macs": ratio(a.macs, b.macs)}
    if timing:
        seconds_a, seconds_b = _seconds(timing.time_a, a), _seconds(timing.time_b, b)
        sides[name_a]["seconds"], sides[name_b]["seconds"] = seconds_a, seconds_b
        ratios["time"] = ratio(seconds_a, seconds_b)
    return {**sides, "ratio": ratios}


def _compare_columns(name_a: str, name_b: str, with_layers: bool) -> list[Column]:
    columns = [Column("part", "branch" if with_layers else "stage", priority=NAME)]
    if with_layers:
        columns += [Column("a_layers", f"{name_a} layers", priority=EXTRA, group="layers"),
                    Column("b_layers", f"{name_b} layers", priority=EXTRA, group="layers")]
    else:
        columns += [Column("a_output", f"{name_a} output", SHAPE, EXTRA, group="output"),
                    Column("b_output", f"{name_b} output", SHAPE, EXTRA, group="output")]
    columns += [Column("a_params", f"{name_a} params", INT, group="params"),
                Column("b_params", f"{name_b} params", INT, group="params"),
                Column("params_ratio", "params ratio", RATIO, KEY),
                Column("a_macs", f"{name_a} MACs", INT, KEY, group="macs"),
                Column("b_macs", f"{name_b} MACs", INT, KEY, group="macs"),
                Column("macs_ratio", "MACs ratio", RATIO, KEY)]
    return columns


def compare_networks(name_a: str, a: Analysis, name_b: str, b: Analysis,
                     timing: Timing | None = None, one_sided: bool = False) -> Report:
    """Totals side by side, then stage by stage where the two share top-level paths; the
    stages of one side only are rows of their own (`one_sided`) or named in a note."""
    ra, rb = a.root, b.root
    stages_a = {c.path: c for c in ra.children}
    stages_b = {c.path: c for c in rb.children}
    keys = [k for k in stages_a if k in stages_b]
    if one_sided:
        keys = _merged(list(stages_a), list(stages_b))
    names = [(stages_a[k] if k in stages_a else stages_b[k]).name for k in keys]
    pairs: list[Pair] = [(_compare_row(name, k, stages_a.get(k), stages_b.get(k)), stages_a.get(k), stages_b.get(k))
                         for k, name in zip(keys, distinct(names, keys))]
    total = _compare_row("total", "", ra, rb)
    notes = [f"Ratios are {name_a} / {name_b}."]
    if not one_sided and not pairs:
        notes.append("The two networks share no stage names: totals only.")
    if not one_sided:
        for name, own, other in ((name_a, stages_a, stages_b), (name_b, stages_b, stages_a)):
            alone = [k for k in own if k not in other]
            if alone and len(alone) < len(own):
                shown = ", ".join(alone[:8]) + (f" and {len(alone) - 8} more" if len(alone) > 8 else "")
                notes.append(f"Stages of {name} only (in its total, not in the rows): {shown}.")
    notes += [f"{name}: {train_note(analysis)}" for name, analysis in ((name_a, a), (name_b, b))]
    section = Section(title=f"{name_a} vs {name_b}", columns=_compare_columns(name_a, name_b, False),
                      rows=[row for row, _, _ in pairs], total=total, notes=notes)
    if timing:
        _add_times(section, name_a, name_b, [*pairs, (total, ra, rb)], timing)
        if timing.optimizer:  # the update is the network's own: a row of its own, so the rows add up
            ua, ub = timing.time_a.update(), timing.time_b.update()
            section.rows.append({"part": f"{timing.optimizer} update", "path": "", "a_time_us": ua * 1e6,
                                 "b_time_us": ub * 1e6, "time_ratio": ua / ub if ub else None})
    report = Report(title=f"{name_a} vs {name_b}", convention=[],
                    totals=_report_totals(name_a, ra, name_b, rb, timing),
                    sections=[section], meta={"a": name_a, "b": name_b})
    return finish(report, a.convention)


def _merged(keys_a: list[str], keys_b: list[str]) -> list[str]:
    """Both sides' keys in a's order; each key of b alone follows the part of a it came
    from (`conv_1_a` after `conv_1`), else the part of both sides that precedes it in b."""
    in_a, a_alone = set(keys_a), set(keys_a) - set(keys_b)
    after: dict[str | None, list[str]] = {}
    anchor: str | None = None
    for key in keys_b:
        if key in in_a:
            anchor = key
            continue
        prefixes = (key[:i] for i in range(len(key) - 1, 0, -1) if key[i] == "_")
        origin = next((p for p in prefixes if p in a_alone), anchor)
        after.setdefault(origin, []).append(key)
    result = after.get(None, [])
    for key in keys_a:
        result += [key, *after.get(key, [])]
    return result


def _add_times(section: Section, name_a: str, name_b: str, pairs: list[Pair], timing: Timing,
               alone: Collection[int] = ()) -> None:
    """Estimated times beside the MAC ratio; each row's own nodes are timed (a node in
    `alone` by its own kernels: a concat's copy without its branches)."""

    def seconds(timer: NodeTimer, node: CostNode | None) -> float | None:
        return None if node is None else _seconds(timer, node, alone)

    for row, a, b in pairs:
        ta, tb = seconds(timing.time_a, a), seconds(timing.time_b, b)
        row["a_time_us"] = ta * 1e6 if ta is not None else None
        row["b_time_us"] = tb * 1e6 if tb is not None else None
        row["time_ratio"] = ta / tb if ta is not None and tb else None
    section.columns += [Column("a_time_us", f"{name_a} est. µs", FLOAT, EXTRA, group="time"),
                        Column("b_time_us", f"{name_b} est. µs", FLOAT, EXTRA, group="time"),
                        Column("time_ratio", "time ratio", RATIO, KEY)]
    section.notes.append(f"Estimated times: roofline on {timing.description} (see `inception-cost"
                         " roofline`); a MAC ratio far from the time ratio means the cheaper part is"
                         " bound by memory or overhead, not arithmetic.")
    if timing.ratio_note:
        section.notes.append(timing.ratio_note)


# ---- factorisation ---------------------------------------------------------------------------


def factorize_report(before: Analysis, after: Analysis, rule: str, count: int,
                     module: CostNode | None, lone: bool, timing: Timing | None = None,
                     chosen: CostNode | None = None) -> Report:
    """Before and after a factorisation rule, branch by branch (a module) or row by row.

    `module` is the part of `before` shown (its counterpart in `after` has the same path),
    `chosen` the part whose convolutions were rewritten: `module` itself, or one layer in it
    (None: the whole network)."""
    from inception_cost.transforms.factorize import Rule

    if module is not None:
        a, b = module, after.root.find_or_fail(module.path, after.network.name)
        what = scope_name(module) if not lone else before.network.title
        report = compare_modules("before", a, "after", b, f"{rule}: {what}", before.convention, timing)
    else:
        report = compare_networks("before", before, "after", after, timing, one_sided=True)
        report.title = report.sections[0].title = f"{rule}: {before.network.title}"
        a, b = before.root, after.root
    notes = report.sections[0].notes
    if chosen is not None and chosen is not a:  # one layer, shown within the part that holds it
        held = scope_name(a) if module is not None else "the network"
        notes.append(f"The rule is applied to {chosen.path} ({chosen.description}) only, shown within {held}"
                     + (", as two layers replace it." if count else "."))
    plural = "s" if count != 1 else ""
    unit = before.convention.unit.value
    where = chosen.path if chosen is not None and not lone else "the network"
    verb = "is no" if chosen is not None and chosen.role is Role.LAYER else "has no"
    nothing = f": {where} {verb} {Rule(rule).rewrites}" if count == 0 else ""
    if a.macs:
        change = (f"saving {a.macs - b.macs:,} {unit}" if b.macs <= a.macs
                  else f"{b.macs - a.macs:,} more {unit}")
        notes.append(f"{count} convolution{plural} rewritten{nothing}; {unit} after = {b.macs / a.macs:.1%}"
                     f" of before ({change}).")
    else:
        notes.append(f"{count} convolution{plural} rewritten{nothing}.")
    notes.append("Each new convolution has the original's filters, bias, batch norm and"
                 " activation; where a conv widens its input (e.g. 16 -> 32) the pair can cost"
                 " more than the conv it replaces.")
    if lone:
        report.sections[0].rows[0]["part"] = a.name  # the conv's window (`5x5`), not `layers`
        notes += _textbook_ratios(rule, a.layers()[0].args["kernel"][0])
    report.meta.update(rule=rule, rewritten=count, rewritten_in=chosen.path if chosen is not None else "")
    return report


def _textbook_ratios(rule: str, n: int) -> list[str]:
    if rule == "5x5-to-3x3":
        return ["With equal input and output widths: a 5x5 conv costs 25/9 = 2.78 times a 3x3 with"
                " the same filters; two stacked 3x3 cost 18/25 = 72% of the 5x5 (28% saved)."]
    return [f"With equal input and output widths: 1x{n} then {n}x1 cost 2/{n} = {2 / n:.0%} of the"
            f" {n}x{n} ({1 - 2 / n:.0%} saved)."]

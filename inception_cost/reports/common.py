"""What every report builder shares: totals, the convention's header, meta data, and
the unit (MACs or FLOPs) that titles and JSON state."""

from __future__ import annotations

from typing import Any

from inception_cost.core.analysis import Analysis
from inception_cost.core.conventions import Convention
from inception_cost.core.shapes import format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.reports.model import EXTRA, INT, KEY, Column, Report
from inception_cost.structures import PARALLEL, structure_of

Row = dict[str, Any]

COST_COLUMNS = [Column("weights", "weights", INT, EXTRA), Column("biases", "biases", INT, EXTRA),
                Column("bn_params", "bn params", INT, EXTRA), Column("norm_params", "ln/scale params", INT, EXTRA),
                Column("params", "params", INT, KEY),
                Column("macs", "MACs", INT, KEY)]


def totals(node: CostNode) -> dict[str, int]:
    return {"params": node.params, "macs": node.macs, "weights": node.weights,
            "biases": node.biases, "bn_params": node.bn_params, "norm_params": node.norm_params,
            "trainable": node.trainable,
            "non_trainable": node.non_trainable}


def cost_row(node: CostNode, share_of: int | None = None) -> Row:
    row: Row = {"output": format_shape(node.out_shape), **totals(node)}
    if share_of is not None:
        row["share"] = node.macs / share_of if share_of else 0.0
    return row


def cost_columns(nodes: list[CostNode]) -> list[Column]:
    """The cost columns, without biases, bn params or ln/scale params where every value is zero."""
    return [c for c in COST_COLUMNS
            if c.key not in ("biases", "bn_params", "norm_params") or any(getattr(n, c.key) for n in nodes)]


def scope_name(node: CostNode) -> str:
    """What `--module` chose, as titles name it: 'module inception (3a)', 'branch 5x5',
    'layer conv 5x5 32'."""
    return f"{node.role} {node_label(node)}"


def node_label(node: CostNode) -> str:
    """A node's label, or its path where the label only repeats its role (a concat or an
    add chosen by its own path is labelled `concat`)."""
    return node.path if node.label == str(node.role) and node.path else node.label


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


def meta_of(analysis: Analysis) -> dict[str, Any]:
    net = analysis.network
    return {"network": net.name, "file": net.file, "source": net.source,
            "stated": {k: v["value"] for k, v in net.stated.items()},
            "input": format_shape(net.input_shape), "output": format_shape(analysis.root.out_shape),
            "train": analysis.train, "depth": analysis.root.depth}


def finish(report: Report, convention: Convention, batch: int | None = None) -> Report:
    """Stamp the convention on a report: its header lines, its name and unit in the meta
    data (JSON `convention_name`, `unit`), and the unit in column titles (FLOPs for
    flop-counter). A report for a batch (memory, time) says which of its figures are the
    batch's: the convention counts per image."""
    report.convention = convention.header()
    if batch is not None:
        report.convention.append(f"Batch {batch:,}: activations, bytes moved, FLOPs and times are for the"
                                 " whole batch; MACs and parameters per image.")
    unit = convention.unit.value
    if unit != "MACs":
        for section in report.sections:
            section.columns = [c.retitled(c.title.replace("MACs", unit))
                               for c in section.columns]
    report.meta["unit"] = unit
    report.meta["convention_name"] = convention.name
    return report


def module_parts(module: CostNode) -> list[CostNode]:
    """The parts a module report lists: each branch of its concats, and its other items (of
    a concat or residual chosen by its own path, its branches)."""
    if module.role in PARALLEL:
        structure = structure_of(module)
        assert structure is not None  # every parallel role has its structure
        return structure.parts(module)
    if not module.has_parallel_parts:
        return [module]  # a plain sequence (a stem, an auxiliary head): one row
    parts: list[CostNode] = []
    for child in module.children:
        structure = structure_of(child)
        parts.extend(structure.parts(child) if structure is not None else [child])
    return parts


def own_work(module: CostNode, parts: list[CostNode]) -> list[CostNode]:
    """What a module runs outside the parts its report lists: a structure's own copy (a
    concat's) and layers its parts leave out (an add's addition). Each has time but no
    parameters or MACs of its own beyond its layers, so a time column needs them as rows
    for its rows to add up to the module's total."""
    covered = {id(n) for part in parts for n in part.walk()}

    def copies(node: CostNode) -> bool:
        structure = structure_of(node)
        return structure is not None and structure.copied(node) > 0

    return [n for n in module.walk() if id(n) not in covered and (n.role is Role.LAYER or copies(n))]


def part_name(part: CostNode, module: CostNode) -> str:
    """How a module report names one of its parts."""
    if part is module:
        return "layers"
    return part.name if part.role is Role.BRANCH else part.label


def distinct(names: list[str], paths: list[str]) -> list[str]:
    """The names a report shows: a name that several rows share is replaced by each row's
    path (the part below its parent), so no two rows read the same."""
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [path.rsplit("/", 1)[-1] if seen[name] > 1 and path else name for name, path in zip(names, paths)]


def chain(node: CostNode) -> str:
    """'conv 1x1 16 -> conv 5x5 32', with parallel parts as '[conv 1x3 | conv 3x1]'."""
    if node.role is Role.LAYER:
        return node.description
    structure = structure_of(node)
    if structure is not None:
        return structure.chain(node, chain)
    return " -> ".join(chain(child) for child in node.children) or "identity"  # an empty branch

"""The sweep report: the best variants, the Pareto front, and the variants that break."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inception_cost.errors import UsageError
from inception_cost.reports.common import Row, finish
from inception_cost.reports.model import BEST, EXTRA, FLOAT, INT, KEY, NAME, RATIO, Column, Report, Section

if TYPE_CHECKING:
    from inception_cost.transforms.sweep import SweepResult
    from inception_cost.transforms.sweep_time import Timing

MAX_BROKEN_SHOWN = 20
MAX_LISTED = 10_000  # variants listed at most, even with --top 0: a report's size is bounded


class SortKey(str, enum.Enum):
    MACS = "macs"
    PARAMS = "params"
    NETWORK_MACS = "network_macs"
    NETWORK_PARAMS = "network_params"
    TIME = "time"  # the module's estimated time (needs a device)
    NETWORK_TIME = "network_time"

    def __str__(self) -> str:
        return self.value


# what a sweep can minimise (--objective): the module's
OBJECTIVES = ("macs", "params", "time")


def sort_key(sort: str | None, objective: str | None) -> SortKey:
    """The list's order: --sort, else the objective (what to minimise), else MACs. The two
    both set the order, so where both are given they must agree."""
    if objective is not None and objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choices: {', '.join(OBJECTIVES)}")
    if sort is not None and sort not in {k.value for k in SortKey}:
        raise UsageError(f"unknown sort {sort!r}; choices: {', '.join(k.value for k in SortKey)}")
    if sort is not None and objective is not None and sort != objective:
        raise UsageError(f"--objective {objective} sorts by {objective}, --sort {sort} by {sort}:"
                         " give one of them")
    return SortKey(sort or objective or SortKey.MACS.value)


@dataclass(frozen=True)
class Budget:
    """One limit on the module's figures: what it limits, every variant's value, the limit."""

    what: str  # "MACs", "params" or "time"
    values: list[Any]  # per variant; None where it breaks the network
    limit: int | float  # MACs and params are whole numbers, time in seconds

    def fits(self, i: int) -> bool:
        return bool(self.values[i] <= self.limit)

    def excess(self, i: int) -> float:
        """How many times the limit the variant takes (how far it is from fitting)."""
        value = self.values[i]
        return value / self.limit if self.limit else math.inf if value else 0.0

    def show(self, value: float) -> str:
        return f"{value * 1e6:,.2f} µs" if self.what == "time" else f"{value:,} {self.what}"

    def limit_text(self) -> str:
        return f"time <= {self.limit * 1e6:,.2f} µs" if self.what == "time" else f"{self.what} <= {self.limit:,}"


def budgets_of(result: SweepResult, timing: Timing | None, budget_macs: int | None,
               budget_params: int | None, budget_time: float | None) -> list[Budget]:
    given = [Budget("MACs", result.macs, budget_macs) if budget_macs is not None else None,
             Budget("params", result.params, budget_params) if budget_params is not None else None,
             Budget("time", timing.module_s, budget_time) if budget_time is not None and timing else None]
    return [b for b in given if b is not None]


def sweep_report(result: SweepResult, *, budget_macs: int | None = None,
                 budget_params: int | None = None, top: int = 20, sort: str = "macs",
                 pareto_only: bool = False, timing: Timing | None = None,
                 budget_time: float | None = None) -> Report:
    n = result.count
    ok = [i for i in range(n) if i not in result.errors]
    pareto = timing.pareto if timing else result.pareto
    budgets = budgets_of(result, timing, budget_macs, budget_params, budget_time)
    # the budget's count never depends on --pareto, which only narrows what is listed
    within = [i for i in ok if all(b.fits(i) for b in budgets)]
    listed = [i for i in within if pareto[i]] if pareto_only else within
    key = SortKey(sort)
    chosen = sorted(listed, key=_order(result, timing, key))
    limit = MAX_LISTED if top == 0 else min(top, MAX_LISTED)
    shown = chosen[:limit]
    names = [a.name for a in result.axes]
    rows = [_variant_row(result, timing, pareto, rank, i) for rank, i in enumerate(shown, 1)]
    columns = [Column("rank", "#", INT, EXTRA), *[Column(name, name, INT, NAME) for name in names],
               Column("params", "params", INT, KEY), Column("macs", "MACs", INT, KEY),
               Column("macs_vs_written", "MACs vs as written", RATIO),
               Column("network_params", "network params", INT),
               Column("network_macs", "network MACs", INT),
               *(TIME_COLUMNS if timing else []), Column("pareto", "Pareto", priority=KEY)]
    on_front = sum(pareto)
    notes = [*_nothing_listed(result, ok, budgets, chosen), _evaluated(result),
             _listing(on_front, timing is not None, budgets, within, pareto, pareto_only, key,
                      len(shown), len(chosen)),
             _as_written(result, names)]
    title = f"{result.network}: sweep of module {result.module.path}"
    if timing:
        notes += [_time_note(timing), *([timing.ratio_note] if timing.ratio_note else [])]
    marks = {i: BEST for i, row in enumerate(rows) if row["pareto"]}
    sections = [Section(title=title, columns=columns, rows=rows, notes=notes, marks=marks)]
    if timing:
        sections += _trade_off_sections(result, timing, names)
    if result.errors:
        sections.append(_broken_section(result, names))
    best = chosen[0] if chosen else None
    report_totals = {"variants": n, "pareto": on_front, "in_budget": len(within),
                     "pareto_in_budget": sum(1 for i in within if pareto[i]), "listed": len(shown),
                     "broken": len(result.errors),
                     "params": result.params[best] if best is not None else None,
                     "macs": result.macs[best] if best is not None else None,
                     **({"seconds": timing.module_s[best] if best is not None else None} if timing else {})}
    report = Report(title=title, convention=[], totals=report_totals, sections=sections,
                    meta={"network": result.network, "module": result.module.name,
                          "module_path": result.module.path, "seconds": result.seconds,
                          "method": result.method})
    return finish(report, result.convention)


def _order(result: SweepResult, timing: Timing | None, key: SortKey) -> Callable[[int], tuple[Any, Any]]:
    """Sort by `key`, then by parameters (by MACs where `key` is parameters)."""
    secondary = SortKey.PARAMS if key is not SortKey.PARAMS else SortKey.MACS
    columns_by_key: dict[SortKey, list[Any]] = {
        SortKey.MACS: result.macs, SortKey.PARAMS: result.params, SortKey.NETWORK_MACS: result.network_macs,
        SortKey.NETWORK_PARAMS: result.network_params}
    if timing is not None:
        columns_by_key.update({SortKey.TIME: timing.module_s, SortKey.NETWORK_TIME: timing.network_s})
    elif key in (SortKey.TIME, SortKey.NETWORK_TIME):
        raise ValueError("sorting by time needs a timing")
    primary, then = columns_by_key[key], columns_by_key[secondary]
    return lambda i: (primary[i], then[i])


def _variant_row(result: SweepResult, timing: Timing | None, pareto: list[bool], rank: int, i: int) -> Row:
    macs = result.macs[i] or 0
    base = result.base["macs"]
    return {"rank": rank, **result.values(i), "params": result.params[i], "macs": macs,
            "macs_vs_written": macs / base if base else None,
            "network_params": result.network_params[i], "network_macs": result.network_macs[i],
            **(_timed(timing, i) if timing else {}), "pareto": "yes" if pareto[i] else ""}


def _evaluated(result: SweepResult) -> str:
    n = result.count
    how = ("affine: the arguments are proven to be channel counts only, so the layers that depend"
           " on them are evaluated as columns" if result.method == "affine" else
           "rebuilt: each variant rebuilt from the module's arguments and analysed (they change its"
           " structure, kernels or checks)")
    return (f"{n:,} variants x {result.layers} layers = {n * result.layers:,} layer evaluations"
            f" in {result.seconds:.3f} s; {how}.")


def _listing(on_front: int, timed: bool, budgets: list[Budget], within: list[int], pareto: list[bool],
             pareto_only: bool, key: SortKey, shown: int, chosen: int) -> str:
    """How many are on the front and within the budget, which are listed, in what order."""
    parts = [f"{on_front:,} on the Pareto front (no other variant has fewer or equal MACs"
             + (", parameters and time)" if timed else " and parameters)")]
    if budgets:
        front = sum(1 for i in within if pareto[i])
        parts.append(f"{len(within):,} within the budget ({_limits(budgets)}), {front:,} of them on the front")
    if pareto_only:
        parts.append("--pareto lists only those on the front")
    cut = f" (at most {MAX_LISTED:,} are listed)" if shown < chosen and shown == MAX_LISTED else ""
    if chosen:
        parts.append(f"sorted by {key.value}, " + ("all" if shown == chosen else f"the first {shown:,}")
                     + f" shown{cut}")
    else:
        parts.append("none listed")
    return "; ".join(parts) + "."


def _limits(budgets: list[Budget]) -> str:
    return ", ".join(b.limit_text() for b in budgets)


def _nothing_listed(result: SweepResult, ok: list[int], budgets: list[Budget], chosen: list[int]) -> list[str]:
    """Why the list is empty, said first: nothing builds, or nothing fits the budget (and
    the variant that comes closest)."""
    if chosen:
        return []
    if not ok:
        return [f"No variant is listed: all {result.count:,} break the network (see below)."]
    if not budgets:
        return ["No variant is listed."]  # cannot happen: the Pareto front of built variants is never empty
    closest = min(ok, key=lambda i: (max(b.excess(i) for b in budgets), i))
    values = ", ".join(f"{name} {value}" for name, value in result.values(closest).items())
    figures = ", ".join(b.show(b.values[closest]) for b in budgets)
    return [f"No variant fits the budget ({_limits(budgets)}). The closest is {values}: {figures}."]


def _as_written(result: SweepResult, names: list[str]) -> str:
    base = result.base
    written = ", ".join(f"{k} {v}" for k, v in base["arguments"].items() if k in names)
    return (f"As written ({written}): {base['params']:,} params, {base['macs']:,} MACs; the whole"
            f" network {base['network_params']:,} params, {base['network_macs']:,} MACs."
            " Network columns include every layer, so a module's new output width changes the"
            " next layers' cost.")


def _time_note(timing: Timing) -> str:
    what = ("one forward pass" if timing.optimizer is None else
            f"one training step (--train: forward, backward and the {timing.optimizer} update, as"
            " `roofline --train` times it; a module's time is its forward and backward kernels,"
            " the network's adds the update)")
    return (f"Time: {what}, by {timing.model} on {timing.device}, {timing.precision or timing.dtype.value}, batch"
            f" {timing.batch} (each variant rebuilt and timed, {timing.seconds:.3f} s); as written the"
            f" module takes {timing.base_module_s * 1e6:,.2f} µs, the network"
            f" {timing.base_network_s * 1e6:,.2f} µs.")


def _broken_section(result: SweepResult, names: list[str]) -> Section:
    broken = sorted(result.errors)[:MAX_BROKEN_SHOWN]
    return Section(
        title=f"{result.network}: variants that break the network ({len(result.errors):,})",
        columns=[*[Column(name, name, INT, NAME) for name in names], Column("error", "why", priority=KEY)],
        rows=[{**result.values(i), "error": result.errors[i]} for i in broken],
        notes=[f"The first {len(broken)} of {len(result.errors):,} shown."]
        if len(result.errors) > len(broken) else [])


TIME_COLUMNS = [Column("time_us", "µs", FLOAT, KEY), Column("time_vs_written", "time vs as written", RATIO),
                Column("network_time_us", "network µs", FLOAT)]
TRADE_OFFS_SHOWN = 10


def _timed(timing: Timing, i: int) -> dict[str, Any]:
    s, network = timing.module_s[i], timing.network_s[i]
    return {"time_us": s * 1e6 if s is not None else None,
            "time_vs_written": s / timing.base_module_s if s is not None and timing.base_module_s else None,
            "network_time_us": network * 1e6 if network is not None else None}


def _trade_off_sections(result: SweepResult, timing: Timing, names: list[str]) -> list[Section]:
    """The variants where MACs and time disagree, against the module as written."""
    from inception_cost.transforms.sweep_time import trade_offs

    columns = [*[Column(name, name, INT) for name in names], Column("macs", "MACs", INT),
               Column("macs_vs_written", "MACs vs as written", RATIO), *TIME_COLUMNS[:2]]
    base = result.base["macs"]
    sections = []
    kinds = (("fewer MACs than as written, not faster", "No variant has fewer MACs than as written and is not"
              " faster."),
             ("as many MACs or more, faster", "No variant has as many MACs as written or more and is faster."))
    for (title, none), chosen in zip(kinds, trade_offs(result, timing)):
        rows: list[Row] = [{**result.values(i), "macs": result.macs[i],
                            "macs_vs_written": (result.macs[i] or 0) / base if base else None,
                            **_timed(timing, i)} for i in chosen[:TRADE_OFFS_SHOWN]]
        notes = [f"The first {len(rows)} of {len(chosen):,} shown."] if len(chosen) > len(rows) else []
        sections.append(Section(title=f"{result.network}: {title} ({len(chosen):,})", columns=columns,
                                rows=rows, notes=notes if chosen else [none]))
    return sections

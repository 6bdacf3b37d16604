"""The sweep report: the best variants, the Pareto front, and the variants that break."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

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


def sweep_report(result: SweepResult, *, budget_macs: int | None = None,
                 budget_params: int | None = None, top: int = 20, sort: str = "macs",
                 pareto_only: bool = False, timing: Timing | None = None,
                 budget_time: float | None = None) -> Report:
    n = result.count
    ok = [i for i in range(n) if i not in result.errors]
    keep = ok
    pareto = timing.pareto if timing else result.pareto
    if budget_macs is not None:
        keep = [i for i in keep if (result.macs[i] or 0) <= budget_macs]
    if budget_params is not None:
        keep = [i for i in keep if (result.params[i] or 0) <= budget_params]
    if budget_time is not None and timing is not None:
        keep = [i for i in keep if (timing.module_s[i] or 0.0) <= budget_time]
    if pareto_only:
        keep = [i for i in keep if pareto[i]]
    key = SortKey(sort)
    secondary = SortKey.PARAMS if key is not SortKey.PARAMS else SortKey.MACS
    columns_by_key: dict[SortKey, list[Any]] = {
        SortKey.MACS: result.macs, SortKey.PARAMS: result.params, SortKey.NETWORK_MACS: result.network_macs,
        SortKey.NETWORK_PARAMS: result.network_params}
    if timing is not None:
        columns_by_key.update({SortKey.TIME: timing.module_s, SortKey.NETWORK_TIME: timing.network_s})
    elif key in (SortKey.TIME, SortKey.NETWORK_TIME):
        raise ValueError("sorting by time needs a timing")
    primary_column = columns_by_key[key]
    secondary_column = columns_by_key[secondary]
    chosen = sorted(keep, key=lambda i: (primary_column[i], secondary_column[i]))
    limit = MAX_LISTED if top == 0 else min(top, MAX_LISTED)
    shown = chosen[:limit]
    names = [a.name for a in result.axes]
    base = result.base
    rows: list[Row] = []
    for rank, i in enumerate(shown, 1):
        macs = result.macs[i] or 0
        rows.append({"rank": rank, **result.values(i), "params": result.params[i], "macs": macs,
                     "macs_vs_written": macs / base["macs"] if base["macs"] else None,
                     "network_params": result.network_params[i],
                     "network_macs": result.network_macs[i],
                     **(_timed(timing, i) if timing else {}),
                     "pareto": "yes" if pareto[i] else ""})
    columns = [Column("rank", "#", INT, EXTRA), *[Column(name, name, INT, NAME) for name in names],
               Column("params", "params", INT, KEY), Column("macs", "MACs", INT, KEY),
               Column("macs_vs_written", "MACs vs as written", RATIO),
               Column("network_params", "network params", INT),
               Column("network_macs", "network MACs", INT),
               *(TIME_COLUMNS if timing else []), Column("pareto", "Pareto", priority=KEY)]
    module = result.module
    written = ", ".join(f"{k} {v}" for k, v in base["arguments"].items() if k in names)
    evaluate = result.seconds
    how = ("affine: the arguments are proven to be channel counts only, so the layers that depend"
           " on them are evaluated as columns" if result.method == "affine" else
           "rebuilt: each variant rebuilt from the module's arguments and analysed (they change its"
           " structure, kernels or checks)")
    notes = [f"{n:,} variants x {result.layers} layers = {n * result.layers:,} layer evaluations"
             f" in {evaluate:.3f} s; {how}.",
             f"{sum(pareto):,} on the Pareto front (no other variant has fewer or equal MACs"
             + (", parameters and time" if timing else " and parameters") + "); "
             + (f"{len(keep):,} within the budget; " if budget_macs is not None or
                budget_params is not None or budget_time is not None else "")
             + f"sorted by {key.value}, "
             + ("all" if len(shown) == len(chosen) else f"the first {len(shown):,}")
             + " shown" + (f" (at most {MAX_LISTED:,} are listed)" if len(shown) < len(chosen)
                           and len(shown) == MAX_LISTED else "") + ".",
             f"As written ({written}): {base['params']:,} params, {base['macs']:,} MACs; the whole"
             f" network {base['network_params']:,} params, {base['network_macs']:,} MACs."
             " Network columns include every layer, so a module's new output width changes the"
             " next layers' cost."]
    title = f"{result.network}: sweep of module {module.path}"
    if timing:
        notes.append(f"Time: the latency model on {timing.device}, {timing.dtype.value}, batch {timing.batch}"
                     f" (each variant rebuilt and timed, {timing.seconds:.3f} s); as written the module takes"
                     f" {timing.base_module_s * 1e6:,.2f} µs, the network {timing.base_network_s * 1e6:,.2f} µs.")
    marks = {i: BEST for i, row in enumerate(rows) if row["pareto"]}
    sections = [Section(title=title, columns=columns, rows=rows, notes=notes, marks=marks)]
    if timing:
        sections += _trade_off_sections(result, timing, names)
    if result.errors:
        broken = sorted(result.errors)[:MAX_BROKEN_SHOWN]
        sections.append(Section(
            title=f"{result.network}: variants that break the network ({len(result.errors):,})",
            columns=[*[Column(name, name, INT, NAME) for name in names], Column("error", "why", priority=KEY)],
            rows=[{**result.values(i), "error": result.errors[i]} for i in broken],
            notes=[f"The first {len(broken)} of {len(result.errors):,} shown."]
            if len(result.errors) > len(broken) else []))
    best = chosen[0] if chosen else None
    report_totals = {"variants": n, "pareto": sum(pareto), "in_budget": len(chosen),
                     "broken": len(result.errors),
                     "params": result.params[best] if best is not None else None,
                     "macs": result.macs[best] if best is not None else None,
                     **({"seconds": timing.module_s[best] if best is not None else None} if timing else {})}
    report = Report(title=title, convention=[], totals=report_totals, sections=sections,
                    meta={"network": result.network, "module": module.name,
                          "module_path": module.path, "seconds": result.seconds,
                          "method": result.method})
    return finish(report, result.convention)


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
    for title, chosen in zip(("fewer MACs than as written, not faster", "as many MACs or more, faster"),
                             trade_offs(result, timing)):
        rows: list[Row] = [{**result.values(i), "macs": result.macs[i],
                            "macs_vs_written": (result.macs[i] or 0) / base if base else None,
                            **_timed(timing, i)} for i in chosen[:TRADE_OFFS_SHOWN]]
        sections.append(Section(title=f"{result.network}: {title} ({len(chosen):,})", columns=columns,
                                rows=rows, notes=[f"The first {len(rows)} of {len(chosen):,} shown."]
                                if len(chosen) > len(rows) else []))
    return sections

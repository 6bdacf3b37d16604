"""The accuracy report: a device profile's estimates against measured latencies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inception_cost.estimates.accuracy import Accuracy, by_group, geomean_error, pair_ratios, pairs_by_mode, worst
from inception_cost.estimates.devices import Device
from inception_cost.estimates.measurements import Case
from inception_cost.reports.figures import AccuracyFigure, AccuracyPoint, Charts
from inception_cost.reports.model import EXTRA, FLOAT, INT, KEY, NAME, RATIO, SHARE, Column, Report, Section


def _accuracy_row(accuracy: Accuracy) -> dict[str, Any]:
    return {"cases": accuracy.cases, "within_1_5": accuracy.within_1_5, "geomean_error": accuracy.geomean,
            "worst": accuracy.worst, "bias": accuracy.bias}


def accuracy_report(device: Device, results: Sequence[tuple[Case, float]], sources: Sequence[str],
                    gpu: str | None = None, chosen: str = "", left_out: dict[str, int] | None = None,
                    repeats: int = 0, records_left_out: str = "") -> Report:
    """How close `device`'s estimates ((case, estimated µs)) come to the times measured on
    `gpu`; `chosen`: why the profile was picked where the user named none; `left_out`: the
    cases not priced per dtype (the device has no peak for it); `repeats`: records that
    measured a case again (averaged into it); `records_left_out`: the records that are no
    case, and why (`Measured.left_out_text`)."""
    left_out = left_out or {}
    overall = Accuracy.of([(p, c.measured_us) for c, p in results])
    groups = Section(
        title="By group, mode and batch",
        columns=[Column("group", "group", priority=NAME), Column("mode", "mode", priority=NAME),
                 Column("batch", "batch", INT, KEY), Column("cases", "cases", INT),
                 Column("within_1_5", "within 1.5x", SHARE, KEY), Column("geomean_error", "geomean error", RATIO, KEY),
                 Column("worst", "worst", RATIO), Column("bias", "estimate / measured", RATIO, KEY)],
        rows=[{"group": g, "mode": m, "batch": b, **_accuracy_row(a)} for (g, m, b), a in by_group(results)],
        total={"group": "all", **_accuracy_row(overall)},
        notes=["geomean error: the geometric mean of max(estimate/measured, measured/estimate);"
               " estimate / measured: the geometric mean of that ratio (under 1: estimates low)."])
    sections = [groups]
    pairs = pair_ratios(results)
    by_mode = pairs_by_mode(pairs)
    if pairs:
        sections.append(Section(
            title="The Inception pairs: time of the costlier over the cheaper",
            columns=[Column("pair", "pair", priority=NAME), Column("mode", "mode", priority=NAME),
                     Column("batch", "batch", INT, KEY), Column("measured", "measured ratio", FLOAT),
                     Column("estimated", "estimated ratio", FLOAT), Column("error", "estimated / measured",
                                                                           RATIO, KEY)],
            rows=[{"pair": f"{r.costlier} / {r.cheaper}", "mode": r.mode, "batch": r.batch,
                   "measured": r.measured, "estimated": r.estimated, "error": r.error} for r in pairs],
            total={"pair": f"geometric-mean error over {len(pairs)}", "error": geomean_error([r.error for r in pairs])},
            notes=["Whether a variant with fewer MACs is also faster: the ratio a choice between the two rests on.",
                   "Geometric-mean error by mode: " + ", ".join(f"{m} {e:.2f}x" for m, e in by_mode.items()) + "."]))
    sections.append(Section(
        title="The cases furthest from their measurement",
        columns=[Column("case", "case", priority=NAME), Column("group", "group", priority=EXTRA),
                 Column("mode", "mode", priority=NAME), Column("batch", "batch", INT, KEY),
                 Column("measured_us", "measured µs", FLOAT, KEY), Column("estimated_us", "estimated µs", FLOAT),
                 Column("ratio", "estimate / measured", RATIO, KEY)],
        rows=[{"case": c.name, "group": c.group, "mode": c.mode, "batch": c.batch, "measured_us": c.measured_us,
               "estimated_us": p, "ratio": p / c.measured_us} for c, p in worst(results)]))
    totals = {**_accuracy_row(overall),
              "pairs": len(pairs), "pairs_geomean_error": geomean_error([r.error for r in pairs]) if pairs else None,
              "pairs_geomean_error_by_mode": by_mode}
    return Report(title=f"inception-cost: estimates on {device.name} against measured latencies",
                  convention=[], totals=totals, sections=sections,
                  notes=[f"Device {device.title}{', ' + chosen if chosen else ''}."
                         f" Measurements: {', '.join(sources)}{' on ' + gpu if gpu else ''} (CUDA-graph medians;"
                         f" {overall}). Nothing is fitted here: `inception-cost calibrate` fits a profile to"
                         " the same files."]
                  + [f"{n} {dtype} cases left out: {device.name} has no {dtype} peak (roofline refuses"
                     f" --dtype {dtype} there)." for dtype, n in left_out.items()]
                  + ([f"{repeats:,} repeated measurements averaged into their cases (geometric mean): each"
                      " configuration counts once."] if repeats else [])
                  + ([f"{records_left_out[0].upper()}{records_left_out[1:]}."] if records_left_out else []),
                  meta={"device": device.name, "measurements": list(sources), "gpu": gpu, "left_out": left_out,
                        "repeats": repeats},
                  charts=_charts(device, results, gpu))


def _charts(device: Device, results: Sequence[tuple[Case, float]], gpu: str | None) -> Charts:
    """Estimated against measured time, one point per case (-f svg and html draw it)."""
    points = [AccuracyPoint(c.name, c.group, c.mode, c.batch, c.measured_us, p) for c, p in results]
    return Charts("", "", [], None, AccuracyFigure(device.name, gpu or "", points))

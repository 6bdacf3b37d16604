"""Estimated time of every variant of a sweep (`transforms/sweep.py`) on a device.

Each variant that builds is rebuilt from the module's arguments, analysed like any
network, and timed by the latency model (`estimates/roofline.py`): the module's time and
the whole network's. Then the Pareto front over MACs, parameters and time, and the
variants where fewer MACs do not mean less time (and the reverse), against the module
as written.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inception_cost.core.analysis import Analysis, analyse
from inception_cost.errors import UsageError, shorten
from inception_cost.estimates.devices import Device
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.latency import ratio_note
from inception_cost.estimates.roofline import node_timer
from inception_cost.estimates.training import Optimizer
from inception_cost.graph.nodes import replace_instance
from inception_cost.transforms.sweep import SweepResult, sweepable

# Each timed variant is the network rebuilt, analysed and timed: about 75 µs per layer
# here, so the work is capped as variants x (layers + 20), as for a rebuilt sweep
# (GoogLeNet, 88 layers: 1,024 variants, 110,592, in 8.4 s).
MAX_TIMED_WORK = 120_000
FIXED_LAYERS = 20
TRAINING_WORK = 2  # what a layer counts for in a training step's timing
# µ: the micro sign (U+00B5) or the Greek letter mu (U+03BC), which keyboards and NFKC give for it
UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class Timing:
    device: str
    dtype: Dtype
    batch: int
    module_s: list[float | None]  # per variant; None where it breaks the network
    network_s: list[float | None]
    base_module_s: float  # the module as written
    base_network_s: float
    pareto: list[bool]  # over MACs, parameters and time
    seconds: float  # how long the timing took
    optimizer: Optimizer | None = None  # with one, each time is a training step's
    precision: str = ""  # the maths, as roofline names them: "fp32 (convs tf32, linear fp32)"
    model: str = "the latency model"  # or "the plain roofline": a profile without a latency section
    ratio_note: str = ""  # what a time ratio is worth (latency.ratio_note); "" for the plain roofline


def parse_time(text: str | None) -> float | None:
    """'50us', '1.5 ms', '200ns' -> seconds."""
    if text is None:
        return None
    # at most 30 digits either side of the point, as every other number the tool reads
    match = re.fullmatch(r"\s*([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*(ns|us|\u00b5s|\u03bcs|ms|s)\s*", text[:200])
    if not match or len(text) > 200:
        raise UsageError(f"--budget-time '{shorten(text)}': expected a time such as 50us, 1.5ms or 200ns"
                         " (at most 30 digits)")
    return float(match.group(1)) * UNITS[match.group(2)]


def time_variants(result: SweepResult, analysis: Analysis, device: Device, dtype: Dtype,
                  batch: int, progress: Callable[[int], None] | None = None,
                  optimizer: Optimizer | None = None, tf32: bool = True) -> Timing:
    """The module's and the network's estimated time for every variant of `result`; with
    an optimizer, of one training step (the module's forward and backward kernels; the
    network's with the update), as `roofline --train` times it."""
    started = time.perf_counter()
    node, item = sweepable(analysis, result.module.path)
    ok = [i for i in range(result.count) if i not in result.errors]
    # a training step prices each layer's backward kernels too: 1.7x the time per variant
    # (GoogLeNet 3a, 1,024 variants: 5.2 s, 8.9 s with --train), so each layer counts twice
    layers = len(analysis.table) * (TRAINING_WORK if optimizer else 1)
    work = len(ok) * (layers + FIXED_LAYERS)
    if work > MAX_TIMED_WORK:
        counted = f"{len(analysis.table):,} layers" + (f" x {TRAINING_WORK} for a training step" if optimizer else "")
        raise UsageError(f"{len(ok):,} variants x ({counted} + {FIXED_LAYERS}) = {work:,} to"
                         f" rebuild and time is more than the {MAX_TIMED_WORK:,} a timed sweep may do;"
                         " narrow the ranges")
    timer = node_timer(analysis, device, dtype, batch, optimizer, tf32=tf32)
    module_s: list[float | None] = [None] * result.count
    network_s: list[float | None] = [None] * result.count
    assert item.rebuild is not None
    for done, i in enumerate(ok, 1):
        network = replace_instance(analysis.network, item, item.rebuild(result.values(i)))
        variant = analyse(network, train=analysis.train, convention=analysis.convention)
        timed = node_timer(variant, device, dtype, batch, optimizer, tf32=tf32)
        module_s[i] = timed(variant.root.find_or_fail(node.path, network.name))
        network_s[i] = timed.total()
        if progress and done % 64 == 0:
            progress(64)
    return Timing(device.name, dtype, batch, module_s, network_s, timer(node), timer.total(),
                  pareto_front([result.macs, result.params, module_s]), time.perf_counter() - started,
                  optimizer, str(device.precision(dtype, tf32)),
                  "the latency model" if device.latency.sms else "the plain roofline",
                  ratio_note(device.precision(dtype, tf32), optimizer is not None) if device.latency.sms else "")


def pareto_front(objectives: Sequence[Sequence[float | int | None]]) -> list[bool]:
    """True where no other variant is at most as costly in every objective and cheaper in
    one; a variant missing any objective (broken) is never on it."""
    n = len(objectives[0])
    points = {i: tuple(float(o[i]) for o in objectives) for i in range(n)  # type: ignore[arg-type]
              if all(o[i] is not None for o in objectives)}
    order = sorted(points, key=points.__getitem__)
    front: list[int] = []
    for i in order:  # sorted: only an earlier point can dominate a later one
        p = points[i]
        if not any(all(a <= b for a, b in zip(points[j], p)) and points[j] != p for j in front):
            front.append(i)
    on = set(front)
    return [i in on for i in range(n)]


def trade_offs(result: SweepResult, timing: Timing) -> tuple[list[int], list[int]]:
    """(variants with fewer MACs than the module as written but not faster,
    variants with at least its MACs but faster), each sorted by how far they go."""
    base_macs, base_s = result.base["macs"], timing.base_module_s
    fewer_not_faster, more_but_faster = [], []
    for i, s in enumerate(timing.module_s):
        macs = result.macs[i]
        if s is None or macs is None:
            continue
        if macs < base_macs and s >= base_s * (1 - 1e-9):
            fewer_not_faster.append(i)
        elif macs >= base_macs and s < base_s * (1 - 1e-9):
            more_but_faster.append(i)
    fewer_not_faster.sort(key=lambda i: (result.macs[i] or 0, -(timing.module_s[i] or 0)))
    more_but_faster.sort(key=lambda i: timing.module_s[i] or math.inf)
    return fewer_not_faster, more_but_faster

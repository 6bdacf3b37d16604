"""Memory and time estimates: memory, roofline; fitting and checking a device profile: calibrate,
accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from inception_cost.cli.options import (
    architecture_argument,
    completer,
    emit,
    hardware_options,
    module_option,
    report_options,
    say_skipped,
    skip_unknown_option,
    tf32_option,
)

if TYPE_CHECKING:  # the command modules load lazily: these only for the type checker
    from inception_cost.estimates.devices import Device
    from inception_cost.estimates.measurements import Measured


@click.command()
@architecture_argument()
@module_option("Only this part (a module, a branch or one layer), by name or path.")
@click.option("--train", is_flag=True,
              help="Also one training step's memory (weights, gradients, optimizer state, saved"
                   " activations, peak), with the training-only parts (auxiliary classifiers).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd", show_default=True,
              help="The optimizer whose state --train counts.")
@hardware_options(default_device=None)
@skip_unknown_option
@report_options
def memory(name: str, module: str | None, train: bool, optimizer: str, dtype: str, batch: int,
           skip_unknown: bool, fmt: str, output: str | None, force: bool) -> None:
    """Memory per layer: activations, weight bytes, the bytes each layer must move, arithmetic
    intensity, and the peak activation memory of inference; with --train, one training step.

    \b
    Examples:
      inception-cost memory googlenet --module 3a
      inception-cost memory inception-v3 --dtype fp32 --batch 32 -f csv -o memory.csv
      inception-cost memory googlenet-torchvision --train --batch 32 --optimizer adam --dtype bf16
    """
    from inception_cost import api
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.training import Optimizer
    from inception_cost.reports.estimates import memory_report

    net = api.analyse(name, train=train, skip_unknown=skip_unknown)
    say_skipped(net.analysis.network)
    scope = net.module(module).node if module else None
    emit(memory_report(net.analysis, Dtype(dtype), batch, scope, Optimizer(optimizer) if train else None),
         fmt, output, force)


@click.command()
@architecture_argument()
@module_option("Only this part (a module, a branch or one layer), layer by layer, by name or path.")
@click.option("--layers", is_flag=True, help="One row per layer (default: per top-level row).")
@tf32_option
@click.option("--train", is_flag=True,
              help="One training step: forward, backward (input and weight gradients) and the optimizer"
                   " update, with the training-only parts (auxiliary classifiers).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd", show_default=True,
              help="The optimizer whose update --train times.")
@hardware_options()
@skip_unknown_option
@report_options
def roofline(name: str, module: str | None, layers: bool, tf32: bool, train: bool, optimizer: str, device: str,
             dtype: str, batch: int, skip_unknown: bool, fmt: str, output: str | None, force: bool) -> None:
    """Estimated time on a device: the kernels each layer runs (an implicit GEMM in tiles and
    waves, its bias, batch-norm and activation passes, pools, concat copies), each the
    longer of its compute and memory time plus its fixed cost; the bound, each row's share.

    \b
    Examples:
      inception-cost roofline googlenet --device h100-sxm --dtype fp16
      inception-cost roofline googlenet --module 3a --device h100-measured --dtype fp32 --batch 32
      inception-cost roofline my-net.yaml --device my-gpu.yaml
    """
    from inception_cost import api
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.training import Optimizer
    from inception_cost.reports.estimates import roofline_report

    net = api.analyse(name, train=train, skip_unknown=skip_unknown)
    say_skipped(net.analysis.network)
    scope = net.module(module).node if module else None
    emit(roofline_report(net.analysis, load_device(device), Dtype(dtype), batch, scope, layers, tf32,
                         Optimizer(optimizer) if train else None), fmt, output, force)


@click.command()
@click.argument("measurements", metavar="MEASUREMENTS.json...", nargs=-1, required=True)
@click.option("-o", "--output", metavar="FILE", help="Write the fitted profile to FILE (default: print it).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--base", default=None, metavar="NAME|FILE", shell_complete=completer("complete_device"),
              help="Profile whose peaks, bandwidth and parameters stand in for what the measurements lack"
                   " (default: the built-in for the measured GPU's name, else h100-sxm).")
@click.option("--name", default=None, help="The profile's name (default: FILE's stem).")
@click.option("--evaluations", type=click.IntRange(50, 20000), default=1500, show_default=True,
              help="Model evaluations per fit, at most (fewer for a large file: the time is announced).")
@click.option("--cross-validate", "cross", is_flag=True,
              help="Also fit once per group of cases without it, and report the held-out accuracy.")
def calibrate(measurements: tuple[str, ...], output: str | None, force: bool, base: str | None, name: str | None,
              evaluations: int, cross: bool) -> None:
    """Fit a device profile's latency model to latencies measured on your GPU with
    benchmarks/gpu/measure_latency.py (and, optionally, measure_more.py: its single convs,
    non-conv kernels and networks); the summary goes to stderr.

    \b
    Examples:
      inception-cost calibrate my_gpu.json -o my-gpu.yaml
      inception-cost calibrate my_gpu.json my_gpu_more.json -o my-gpu.yaml
      inception-cost calibrate benchmarks/gpu/h100_latency.json -o h100.yaml
      inception-cost roofline googlenet --device my-gpu.yaml
    """
    import sys
    from pathlib import Path

    from inception_cost.cli.output import check_output, write_output
    from inception_cost.estimates import calibrate as cal
    from inception_cost.estimates.accuracy import Accuracy, pairs_error, priceable
    from inception_cost.estimates.devices import builtin_for_gpu, load_device
    from inception_cost.estimates.measurements import read_all

    check_output(output, force, probe=True)  # before the fit, not after it
    info, cases = read_all(measurements)
    profile = name or (Path(output).stem if output not in (None, "-") else "calibrated")
    own_base = True  # the base profile is this GPU's: its maths are the GPU's
    if base is None:
        matched = builtin_for_gpu(info.gpu)
        base, own_base = matched or "h100-sxm", matched is not None
        why = f"the built-in for {info.gpu}" if matched else \
            f"no built-in for {info.gpu or 'the measured GPU'}: it stands in for what the files lack"
        click.echo(f"calibrate: base profile {base} ({why})", err=True)
    used = cal.measured_maths(cases) | {c.precision.dtype.value for c in cases}
    start = cal.measured_device(load_device(base), info, profile, own_base, used)
    peaks = _peak_origin(start, info, base)
    click.echo(f"calibrate: {peaks}", err=True)
    # a dtype neither the files (a matmul peak) nor the base profile give a peak for would be
    # fitted as another math's: left out, as accuracy and roofline leave it
    cases, no_peak = priceable(start, cases)
    for dtype, count in no_peak.items():
        click.echo(f"calibrate: {count:,} {dtype} cases left out: no {dtype} peak in the files (matmul_{dtype})"
                   f" nor in {base}", err=True)
    evaluations, folds = cal.bounded_work(cases, evaluations, cross)
    fits = 1 + (folds if cross else 0)
    left_out = f" ({info.left_out_text()})" if info.left_out else ""
    if info.repeats:
        left_out += f" ({info.repeats:,} repeated measurements averaged into their cases: geometric mean)"
    counted = f"{len(cases)} case{'' if len(cases) == 1 else 's'}"
    click.echo(f"calibrate: {counted}{left_out}, {sum(len(c.distinct) for c in cases):,} distinct"
               f" kernels; {fits} fit(s) of {evaluations:,} evaluations per layout (about"
               f" {fits * cal.seconds_per_fit(cases, evaluations):,.0f} s on a 2-core machine)...", err=True)
    fitted = cal.fit(start, cases, evaluations)
    own = [(c, cal.predict_us(fitted, c)) for c in cases]
    summary = [f"fitted on {Accuracy.of([(p, c.measured_us) for c, p in own])}{pairs_error(own)}"]

    def progress(i: int, folds: int, group: str) -> None:
        click.echo(f"calibrate: held-out fit {i} of {folds}, without group {group or '(unnamed)'}...", err=True)

    if cross:
        held = cal.cross_validate(start, cases, evaluations, progress=progress)
        summary.append(f"held out by group: {Accuracy.of([(p, c.measured_us) for c, p in held])}{pairs_error(held)}")
    unmeasured = sorted({"fp32", "tf32", "fp16"} - cal.measured_maths(cases))
    if unmeasured:
        summary.append(f"not measured: {', '.join(unmeasured)} (their parameters are {base}'s)")
    source = f"{', '.join(Path(m).name for m in measurements)}: CUDA-graph medians of {counted}; {peaks}"
    write_output(cal.profile_yaml(fitted, source, "; ".join(summary)), output, force)
    for line in summary:
        click.echo(f"calibrate: {line}", err=True)
    loose = cal.at_bounds(fitted, cases)
    if loose:
        click.echo(f"calibrate: at the end of their range (the cases may not pin them down; more batch sizes"
                   f" and shapes would): {'; '.join(loose)}", err=True)
    sys.stderr.flush()


def _peak_origin(start: Device, info: Measured, base: str) -> str:
    """'peaks measured: fp32, tf32, fp16, bf16; from h100-sxm: int8', and what was measured
    but left out (a math the GPU's own profile has no peak for)."""
    measured = [m for m in start.peak_tflops if m in info.peaks]
    inherited = [m for m in start.peak_tflops if m not in info.peaks]
    dropped = [m for m in info.peaks if m not in start.peak_tflops]
    parts = [f"peaks measured: {', '.join(measured) or 'none'}"]
    if inherited:
        parts.append(f"from {base}: {', '.join(inherited)}")
    if dropped:
        parts.append(f"left out: {', '.join(dropped)} ({base} has no TF32: PyTorch ran it in fp32)")
    return "; ".join(parts)


@click.command()
@click.argument("measurements", metavar="MEASUREMENTS.json...", nargs=-1, required=True)
@click.option("--device", default=None, metavar="NAME|FILE", shell_complete=completer("complete_device"),
              help="The profile whose estimates are checked: a built-in name or a profile file (default:"
                   " the built-in for the measured GPU's name, else h100-sxm).")
@report_options
def accuracy(measurements: tuple[str, ...], device: str | None, fmt: str, output: str | None, force: bool) -> None:
    """How close a device profile's estimates come to latencies measured with
    benchmarks/gpu/measure_latency.py (and measure_more.py): per group, mode and batch, the
    Inception pairs' time ratios, and the cases furthest off. Nothing is fitted: use it to
    see how far a built-in profile carries to your GPU, or what a calibrated one still misses.

    \b
    Examples:
      inception-cost accuracy my_gpu.json
      inception-cost accuracy my_gpu.json --device my-gpu.yaml -f markdown
    """
    from pathlib import Path

    from inception_cost.estimates.accuracy import priced
    from inception_cost.estimates.devices import builtin_for_gpu, load_device
    from inception_cost.estimates.measurements import read_all
    from inception_cost.reports.accuracy import accuracy_report

    info, cases = read_all(measurements)
    chosen = ""
    if device is None:
        matched = builtin_for_gpu(info.gpu)
        device = matched or "h100-sxm"
        chosen = "the built-in for the measured GPU" if matched else \
            f"standing in: no built-in for {info.gpu or 'the measured GPU'}"
    profile = load_device(device)
    results, left_out = priced(profile, cases)
    emit(accuracy_report(profile, results, [Path(m).name for m in measurements], info.gpu, chosen=chosen,
                         left_out=left_out, repeats=info.repeats, records_left_out=info.left_out_text()),
         fmt, output, force)


COMMANDS = {"memory": memory, "roofline": roofline, "calibrate": calibrate, "accuracy": accuracy}

"""Memory and time estimates: memory, roofline."""

from __future__ import annotations

import click

from inception_cost.cli.options import (
    architecture_argument,
    emit,
    hardware_options,
    module_option,
    report_options,
    say_skipped,
    skip_unknown_option,
    train_option,
)


@click.command()
@architecture_argument()
@module_option("Only this module, by name or path.")
@train_option
@hardware_options(default_device=None)
@skip_unknown_option
@report_options
def memory(name: str, module: str | None, train: bool, dtype: str, batch: int, skip_unknown: bool, fmt: str,
           output: str | None, force: bool) -> None:
    """Memory per layer: activations, weight bytes, the bytes each layer must move, arithmetic
    intensity, and the peak activation memory of inference.

    \b
    Examples:
      inception-cost memory googlenet --module 3a
      inception-cost memory inception-v3 --dtype fp32 --batch 32 -f csv -o memory.csv
    """
    from inception_cost import api
    from inception_cost.estimates.memory import Dtype
    from inception_cost.reports.estimates import memory_report

    net = api.analyse(name, train=train, skip_unknown=skip_unknown)
    say_skipped(net.analysis.network)
    scope = net.module(module).node if module else None
    emit(memory_report(net.analysis, Dtype(dtype), batch, scope), fmt, output, force)


@click.command()
@architecture_argument()
@module_option("Only this module, layer by layer, by name or path.")
@click.option("--layers", is_flag=True, help="One row per layer (default: per top-level row).")
@train_option
@hardware_options()
@skip_unknown_option
@report_options
def roofline(name: str, module: str | None, layers: bool, train: bool, device: str, dtype: str,
             batch: int, skip_unknown: bool, fmt: str, output: str | None, force: bool) -> None:
    """Estimated time on a device: each layer takes the longer of its compute time and its
    memory time, plus a fixed overhead; which bound applies, and each part's share.

    \b
    Examples:
      inception-cost roofline googlenet --device h100-sxm --dtype fp16
      inception-cost roofline googlenet --module 3a --device h100-measured --dtype fp32 --batch 32
      inception-cost roofline my-net.yaml --device my-gpu.yaml
    """
    from inception_cost import api
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.memory import Dtype
    from inception_cost.reports.estimates import roofline_report

    net = api.analyse(name, train=train, skip_unknown=skip_unknown)
    say_skipped(net.analysis.network)
    scope = net.module(module).node if module else None
    emit(roofline_report(net.analysis, load_device(device), Dtype(dtype), batch, scope, layers),
         fmt, output, force)


COMMANDS = {"memory": memory, "roofline": roofline}

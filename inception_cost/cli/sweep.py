"""The design-space sweep command."""

from __future__ import annotations

import sys

import click

from inception_cost.cli.options import (
    DEFAULT_DEVICE,
    architecture_argument,
    completer,
    convention_option,
    emit,
    is_terminal,
    module_option,
    report_options,
    say_skipped,
    skip_unknown_option,
    tf32_option,
    training_options,
)
from inception_cost.estimates.dtypes import MAX_BATCH, Dtype
from inception_cost.reports.sweep import OBJECTIVES, SortKey

SORT_KEYS = tuple(k.value for k in SortKey)
DTYPES = tuple(d.value for d in Dtype)
PROGRESS_FROM = 100_000  # variants: below this a sweep answers within about a second


@click.command()
@architecture_argument()
@module_option("The module instance whose arguments vary, by name or path (e.g. 3a).", required=True)
@click.option("--vary", "varies", multiple=True, required=True, metavar="ARG=A..B[:STEP]",
              shell_complete=completer("complete_vary"),
              help="An argument and its values: '#5x5 reduce=4..64:4' or 'filters=32,64,96'."
                   " Repeatable; every combination is evaluated.")
@click.option("--budget-macs", metavar="N", help="Keep variants whose module has at most N MACs (e.g. 100M).")
@click.option("--budget-params", metavar="N", help="Keep variants whose module has at most N parameters.")
@click.option("--top", type=click.IntRange(0, None), default=20, show_default=True,
              help="How many variants to list (0: all).")
@click.option("--sort", type=click.Choice(SORT_KEYS), default=None,
              help="Order of the list: the module's MACs, parameters or time, or the whole network's"
                   " [default: the --objective, else macs].")
@click.option("--pareto", "pareto_only", is_flag=True,
              help="List only the Pareto-optimal variants (over MACs and parameters, and time with a device).")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=None,
              help="What to minimise: the module's MACs, parameters or estimated time (time: on --device);"
                   " it sets the order, so a --sort that differs is refused.")
@click.option("--budget-time", metavar="T", help="Keep variants whose module takes at most T (e.g. 50us, 1.5ms).")
@click.option("--device", default=None, metavar="NAME|FILE",
              help="Time every variant on this device profile (default h100-sxm where time is asked for).")
@click.option("--dtype", type=click.Choice(DTYPES), default="fp16", show_default=True,
              help="Element type for the time estimate.")
@click.option("--batch", type=click.IntRange(1, MAX_BATCH), default=1, show_default=True,
              help="Images per batch for the time estimate.")
@tf32_option
@training_options
@convention_option
@skip_unknown_option
@report_options
def sweep(name: str, module: str, varies: tuple[str, ...], budget_macs: str | None,
          budget_params: str | None, top: int, sort: str | None, pareto_only: bool, objective: str | None,
          budget_time: str | None, device: str | None, dtype: str, batch: int, tf32: bool, train: bool,
          optimizer: str, convention: str, skip_unknown: bool, fmt: str, output: str | None, force: bool) -> None:
    """Every combination of some arguments of one module instance: the module's and the
    whole network's parameters and MACs for each, the Pareto front, a budget filter.

    The arguments are a table row's width columns (#1x1, #3x3 reduce ...) or the `with:`
    values of a module made from a block: widths, kernel sizes, strides, groups, repeat
    counts. Only that instance changes; a variant that breaks the network is listed with
    its reason.

    \b
    Examples:
      inception-cost sweep googlenet --module 3a --vary "#5x5 reduce=4..64:4" --vary "#3x3 reduce=32..192:16"
      inception-cost sweep googlenet -m 4e --vary "#1x1=64..512:8" --vary "#3x3=64..512:8" --budget-macs 150M --pareto
      inception-cost sweep keras-cifar10 -m inception --vary filters=8..256:8
      inception-cost sweep googlenet -m 3a --vary "#5x5 reduce=4..64:4" --objective time --device h100-measured
      inception-cost sweep googlenet -m 3a --vary "#3x3=64..256:32" --pareto --budget-time 50us --batch 32
    """
    from inception_cost import api
    from inception_cost.reports.sweep import sort_key, sweep_report
    from inception_cost.transforms import sweep as sweeping
    from inception_cost.transforms import sweep_time

    key = sort_key(sort, objective).value
    if train:  # as the API and every other timed command: nobody trains in int8
        from inception_cost.estimates.training import check_trainable

        check_trainable(Dtype(dtype))
    axes = [sweeping.parse_vary(v) for v in varies]
    budgets = sweeping.parse_budget(budget_macs, "macs"), sweeping.parse_budget(budget_params, "params")
    net = api.analyse(name, convention=convention, train=train, skip_unknown=skip_unknown)
    say_skipped(net.analysis.network)
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total >= PROGRESS_FROM and is_terminal(sys.stderr):
        with click.progressbar(length=total, label="sweeping", file=sys.stderr) as bar:
            result = sweeping.run(net.analysis, module, axes, progress=bar.update)
    else:
        result = sweeping.run(net.analysis, module, axes)
    seconds = sweep_time.parse_time(budget_time)
    timing = None
    if device is not None or seconds is not None or key in ("time", "network_time"):
        from inception_cost.estimates.devices import load_device
        from inception_cost.estimates.training import Optimizer

        timing = sweep_time.time_variants(result, net.analysis, load_device(device or DEFAULT_DEVICE),
                                          Dtype(dtype), batch,
                                          optimizer=Optimizer(optimizer) if train else None, tf32=tf32)
    emit(sweep_report(result, budget_macs=budgets[0], budget_params=budgets[1], top=top, sort=key,
                      pareto_only=pareto_only, timing=timing, budget_time=seconds), fmt, output, force)


COMMANDS = {"sweep": sweep}

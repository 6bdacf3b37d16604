"""Reports of one network: show (the default command), export, list, explain, devices."""

from __future__ import annotations

import click

from inception_cost.cli.options import (
    CONVENTIONS,
    architecture_argument,
    completer,
    convention_option,
    emit,
    hardware_options,
    module_option,
    report_options,
    report_options_with,
    say_skipped,
    skip_unknown_option,
    tf32_option,
    train_option,
)


@click.command()
@architecture_argument()
@module_option("Break one module down by branch: a name (3a) or a path (stage3/conv3).")
@train_option
@convention_option
@skip_unknown_option
@report_options
def show(name: str, module: str | None, train: bool, convention: str, skip_unknown: bool, fmt: str,
         output: str | None, force: bool) -> None:
    """Cost of a network row by row, or of one module branch by branch.

    \b
    Examples:
      inception-cost show googlenet
      inception-cost googlenet --module 3a -f markdown
      inception-cost inception-resnet-v2 -m block35_3/residual
    """
    from inception_cost import api

    net = api.analyse(name, convention=convention, train=train, skip_unknown=skip_unknown)
    emit((net.module(module) if module else net).report(), fmt, output, force)


@click.command()
@architecture_argument()
@train_option
@convention_option
@hardware_options()
@tf32_option
@skip_unknown_option
@report_options_with("markdown")
def export(name: str, train: bool, convention: str, skip_unknown: bool, device: str, dtype: str, batch: int,
           tf32: bool, fmt: str, output: str | None, force: bool) -> None:
    """The whole report as one document: the network table, each module's branches,
    and the counting convention. Markdown (the default) draws each module as a Mermaid
    diagram; html is one self-contained page with pictures (MACs per module by branch,
    each module's branches side by side, the roofline on --device) and sortable tables;
    svg the pictures alone.

    \b
    Examples:
      inception-cost export googlenet -o costs.md
      inception-cost export googlenet -f html -o report.html --device h100-sxm --dtype fp16
      inception-cost export inception-v3 -f svg -o charts.svg
    """
    from inception_cost import api
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.memory import Dtype
    from inception_cost.reports.network import export_report

    hardware = load_device(device)  # checked whatever the format: a device or dtype it would refuse is refused
    hardware.check_dtype(Dtype(dtype))
    net = api.analyse(name, convention=convention, train=train, skip_unknown=skip_unknown)
    roofline = None
    if fmt in ("html", "svg"):
        from inception_cost.reports.figures import roofline_figure

        roofline = roofline_figure(net.analysis, hardware, Dtype(dtype), batch, tf32)
    emit(export_report(net.analysis, roofline), fmt, output, force)


@click.command("list")
@convention_option
@report_options
def list_(convention: str, fmt: str, output: str | None, force: bool) -> None:
    """The built-in architectures with their input, parameters, MACs and depth.

    \b
    Examples:
      inception-cost list
      inception-cost list -c fvcore -f csv -o builtins.csv
    """
    from inception_cost import api
    from inception_cost.reports.network import catalog_report

    entries = [(n, api.analyse(n, convention=convention).analysis) for n in api.builtins()]
    emit(catalog_report(entries), fmt, output, force)


@click.command()
@architecture_argument()
@click.option("--conventions", "names", default=None, metavar="A,B,...",
              shell_complete=completer("complete_conventions"),
              help="Conventions to set side by side, each once (default: every preset:"
                   f" {', '.join(CONVENTIONS)}).")
@train_option
@skip_unknown_option
@report_options
def explain(name: str, names: str | None, train: bool, skip_unknown: bool, fmt: str, output: str | None,
            force: bool) -> None:
    """Why the counting conventions give different totals for one network, term by term.

    \b
    Examples:
      inception-cost explain inception-v3
      inception-cost explain googlenet-torchvision --conventions torchvision,fvcore,ptflops
    """
    from inception_cost import api
    from inception_cost.core import conventions
    from inception_cost.core.analysis import analyse
    from inception_cost.reports.explain import explain_report

    # a convention named twice is shown once: the report has one column per preset at most;
    # an empty list (`--conventions "$UNSET"`) is refused as an empty name, not read as the default
    chosen = [conventions.get(n) for n in dict.fromkeys(n.strip() for n in names.split(","))] \
        if names is not None else list(conventions.PRESETS.values())
    network = api.load(name, skip_unknown=skip_unknown)
    say_skipped(network)
    emit(explain_report([analyse(network, train=train, convention=c) for c in chosen]), fmt, output, force)


@click.command()
@report_options
def devices(fmt: str, output: str | None, force: bool) -> None:
    """The built-in device profiles: peaks per math, bandwidth, SMs, the fixed cost of a
    kernel. Any of them (or a profile file) is a --device of roofline, compare, factorize, export,
    sweep and accuracy, or a --base of calibrate.

    \b
    Examples:
      inception-cost devices
      inception-cost devices -f json
      inception-cost roofline googlenet --device t4 --dtype fp16
    """
    from inception_cost.estimates.devices import builtin_devices, load_device
    from inception_cost.reports.network import devices_report

    emit(devices_report([load_device(n) for n in builtin_devices()]), fmt, output, force)


@click.command()
@click.option("-o", "--output", "output", metavar="FILE", help="Write the schema to FILE instead of printing it.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def schema(output: str | None, force: bool) -> None:
    """The JSON Schema (draft 2020-12) of the architecture YAML format: every layer kind and
    structure, each argument with its type, default and description. Point an editor at it
    to check a file while it is written (see README); the package ships the same file.

    \b
    Example:
      inception-cost schema -o architecture.schema.json
    """
    from inception_cost.cli.output import write_output
    from inception_cost.source.schema import text

    write_output(text(), output, force)


COMMANDS = {"show": show, "export": export, "list": list_, "explain": explain, "devices": devices,
            "schema": schema}

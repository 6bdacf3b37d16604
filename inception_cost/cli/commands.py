"""Reports of one network: show (the default command), export, list, explain, devices."""

from __future__ import annotations

import click

from inception_cost.cli.options import (
    CONVENTIONS,
    FORMATS,
    convention_option,
    emit,
    module_option,
    report_options,
    train_option,
)


@click.command()
@click.argument("name", metavar="NAME|FILE")
@module_option("Break one module down by branch: a name (3a) or a path (stage3/conv3).")
@train_option
@convention_option
@report_options
def show(name: str, module: str | None, train: bool, convention: str, fmt: str, output: str | None,
         force: bool) -> None:
    """Cost of a network row by row, or of one module branch by branch.

    \b
    Examples:
      inception-cost show googlenet
      inception-cost googlenet --module 3a -f markdown
      inception-cost inception-resnet-v2 -m block35_3/residual
    """
    from inception_cost import api

    net = api.analyse(name, convention=convention, train=train)
    emit((net.module(module) if module else net).report(), fmt, output, force)


@click.command()
@click.argument("name", metavar="NAME|FILE")
@train_option
@convention_option
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of printing.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS),
              default="markdown", show_default=True, help="Output format.")
def export(name: str, train: bool, convention: str, fmt: str, output: str | None, force: bool) -> None:
    """The whole report as one document: the network table, each module's branches,
    and the counting convention.

    \b
    Example:
      inception-cost export googlenet --format markdown -o costs.md
    """
    from inception_cost import api
    from inception_cost.reports.network import export_report

    net = api.analyse(name, convention=convention, train=train)
    emit(export_report(net.analysis), fmt, output, force)


@click.command("list")
@convention_option
@report_options
def list_(convention: str, fmt: str, output: str | None, force: bool) -> None:
    """The built-in architectures with their input, parameters, MACs and depth."""
    from inception_cost import api
    from inception_cost.reports.network import catalog_report

    entries = [(n, api.analyse(n, convention=convention).analysis) for n in api.builtins()]
    emit(catalog_report(entries), fmt, output, force)


@click.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("--conventions", "names", default=None, metavar="A,B,...",
              help="Conventions to set side by side, each once (default: every preset:"
                   f" {', '.join(CONVENTIONS)}).")
@train_option
@report_options
def explain(name: str, names: str | None, train: bool, fmt: str, output: str | None, force: bool) -> None:
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

    # a convention named twice is shown once: the report has one column per preset at most
    chosen = [conventions.get(n) for n in dict.fromkeys(n.strip() for n in names.split(","))] \
        if names else list(conventions.PRESETS.values())
    network = api.load(name)
    emit(explain_report([analyse(network, train=train, convention=c) for c in chosen]), fmt, output, force)


@click.command()
@report_options
def devices(fmt: str, output: str | None, force: bool) -> None:
    """The built-in device profiles for `roofline`, `compare` and `factorize`."""
    from inception_cost.estimates.devices import builtin_devices, load_device
    from inception_cost.reports.network import devices_report

    emit(devices_report([load_device(n) for n in builtin_devices()]), fmt, output, force)


COMMANDS = {"show": show, "export": export, "list": list_, "explain": explain, "devices": devices}

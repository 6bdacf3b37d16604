"""Side by side: compare two networks or modules, and factorize (before and after)."""

from __future__ import annotations

import click

from inception_cost.cli.options import (
    architecture_argument,
    convention_option,
    emit,
    hardware_options,
    module_option,
    report_options,
    say_skipped,
    skip_unknown_option,
    tf32_option,
    training_options,
)
from inception_cost.errors import UsageError
from inception_cost.transforms.factorize import LONE_KERNELS, LONE_MAX, Rule

RULES = tuple(r.value for r in Rule)


@click.command()
@architecture_argument("a", "A")
@architecture_argument("b", "B")
@module_option("Compare one module branch by branch, by name or path (default for"
               " naive/reduced: 3a).")
@training_options
@convention_option
@hardware_options()
@tf32_option
@skip_unknown_option
@report_options
def compare(a: str, b: str, module: str | None, train: bool, optimizer: str, convention: str, device: str,
            dtype: str, batch: int, tf32: bool, skip_unknown: bool, fmt: str, output: str | None,
            force: bool) -> None:
    """Compare two architectures, or the naive and 1x1-reduced inception module.

    A and B are built-in names or YAML files; `naive` and `reduced` are GoogLeNet's
    inception module without and with its 1x1 reductions (the paper's Figure 2).
    Parts are matched by path; estimated times come from `--device`.

    \b
    Examples:
      inception-cost compare naive reduced
      inception-cost compare naive reduced --module 4e -f markdown
      inception-cost compare googlenet my-net.yaml
      inception-cost compare naive reduced --train --batch 32 --optimizer adam
    """
    from inception_cost import api

    comparison = api.compare(a, b, module=module, convention=convention, train=train, device=device,
                             dtype=dtype, batch=batch, tf32=tf32, skip_unknown=skip_unknown, optimizer=optimizer)
    say_skipped(comparison.a.analysis.network, comparison.b.analysis.network)
    report = comparison.report()
    if train and module:
        report.sections[0].notes.append("--train: training-only parts are counted where the"
                                        " module has them (an auxiliary head is its own module).")
    emit(report, fmt, output, force)


@click.command()
@architecture_argument(metavar="[NAME|FILE]", required=False)
@module_option("Rewrite only this part (a module, a branch or one layer), by name or path"
               " (default: the whole network).")
@click.option("-r", "--rule", type=click.Choice(RULES), default=RULES[0], show_default=True,
              help="5x5 -> two 3x3, or n x n -> 1 x n then n x 1.")
@click.option("--kernel", type=click.IntRange(*LONE_KERNELS), help="Lone layer form (no NAME): the kernel"
                                                             " size (default 5, or 3 for nxn-to-1xn).")
@click.option("--channels", type=click.IntRange(1, LONE_MAX), default=None,
              help="Lone layer form (no NAME): input and output channels [default: 64].")
@click.option("--size", type=click.IntRange(1, LONE_MAX), default=None,
              help="Lone layer form (no NAME): height and width of the feature map [default: 28].")
@training_options
@convention_option
@hardware_options()
@tf32_option
@skip_unknown_option
@report_options
def factorize(name: str | None, module: str | None, rule: str, kernel: int | None, channels: int | None,
              size: int | None, train: bool, optimizer: str, convention: str, device: str, dtype: str,
              batch: int, tf32: bool, skip_unknown: bool, fmt: str, output: str | None, force: bool) -> None:
    """Rewrite convolutions as the Inception v2/v3 paper does, and show the cost before
    and after: 5x5 into two stacked 3x3, or n x n into 1 x n then n x 1.

    Without NAME, one C -> C convolution (--kernel, --channels, --size) shows the
    textbook ratios.

    \b
    Examples:
      inception-cost factorize googlenet --module 3a
      inception-cost factorize inception-v3 --rule nxn-to-1xn -m Mixed_5b
      inception-cost factorize                      (a lone 5x5: two 3x3 cost 72%)
      inception-cost factorize --rule nxn-to-1xn    (a lone 3x3: 1x3 + 3x1 cost 67%)
    """
    from inception_cost import api

    if name is not None:
        lone = [opt for opt, value in (("--kernel", kernel), ("--channels", channels), ("--size", size))
                if value is not None]
        if lone:
            said = lone[0] if len(lone) == 1 else f"{', '.join(lone[:-1])} and {lone[-1]}"
            verb, them = ("describes", "it") if len(lone) == 1 else ("describe", "them")
            raise UsageError(f"{said} {verb} the lone layer form: give {them} without NAME")
    elif module is not None:
        raise UsageError("--module picks a part of a network: give NAME, or leave --module out for the lone"
                         " layer form")
    result = api.factorize(name, rule=rule, module=module, kernel=kernel, channels=channels,
                           size=size, convention=convention, train=train, device=device,
                           dtype=dtype, batch=batch, tf32=tf32, skip_unknown=skip_unknown, optimizer=optimizer)
    say_skipped(result.before.analysis.network)
    emit(result.report(), fmt, output, force)

COMMANDS = {"compare": compare, "factorize": factorize}

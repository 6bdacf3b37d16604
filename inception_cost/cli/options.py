"""Options shared by several commands; every choice comes from an enum or a registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from inception_cost.core.conventions import PRESETS
from inception_cost.reports.render import Format

F = TypeVar("F", bound=Callable[..., Any])

# The closed choices come from the enums and registries they stand for; this module is
# imported only when a command is loaded (cli/app.py), so `inception-cost` itself starts
# without them.
# (The choices of one command alone, --rule, --sort and --dtype, are made where that
# command is.)
FORMATS = tuple(f.value for f in Format)
CONVENTIONS = tuple(PRESETS)
DEFAULT_DEVICE = "h100-sxm"
# Larger reports are plain text on a terminal too: rich takes about 1 ms a row and 5 us a
# character, where plain text is ten times faster.
RICH_ROWS = 1_000
RICH_CHARACTERS = 100_000


def report_options(func: F) -> F:
    """--format, -o and --force: every report takes them."""
    func = click.option("--force", is_flag=True, help="Replace FILE if it exists.")(func)
    func = click.option("-o", "--output", "output", metavar="FILE",
                        help="Write the report to FILE (atomically) instead of printing it.")(func)
    func = click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table",
                        show_default=True, help="Output format.")(func)
    return func


def convention_option(func: F) -> F:
    return click.option("-c", "--convention", type=click.Choice(CONVENTIONS), default="torchvision",
                        show_default=True, help="What is counted, and how (see `inception-cost"
                                                " explain`).")(func)


def train_option(func: F) -> F:
    return click.option("--train", is_flag=True,
                        help="Include training-only parts (auxiliary classifiers).")(func)


def _module_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("needs a module name or path, e.g. 3a or stage3/conv3")
    return value


def module_option(help_text: str, required: bool = False) -> Callable[[F], F]:
    def wrap(func: F) -> F:
        return click.option("-m", "--module", callback=_module_name, required=required,
                            metavar="NAME|PATH", help=help_text)(func)
    return wrap


def hardware_options(default_device: str | None = DEFAULT_DEVICE) -> Callable[[F], F]:
    """--device, --dtype and --batch for the memory and time estimates."""
    from inception_cost.estimates.dtypes import Dtype

    def wrap(func: F) -> F:
        func = click.option("--batch", type=click.IntRange(1, 1 << 16), default=1, show_default=True,
                            help="Images per batch.")(func)
        func = click.option("--dtype", type=click.Choice([d.value for d in Dtype]), default="fp16",
                            show_default=True,
                            help="Element type of activations and weights.")(func)
        if default_device is not None:
            func = click.option("--device", default=default_device, show_default=True,
                                metavar="NAME|FILE",
                                help="Device profile for the time estimate (`inception-cost"
                                     " devices`).")(func)
        return func
    return wrap


def emit(report: Any, fmt: str, output: str | None, force: bool) -> None:
    """Render a report and print it or write it to a file."""
    import sys

    from inception_cost.cli.output import write_output
    from inception_cost.reports.render import render

    width = None
    if output in (None, "-") and fmt == "table" and is_terminal(sys.stdout) and _small(report):
        import shutil

        width = shutil.get_terminal_size().columns
    write_output(render(report, fmt, width), output, force)


def is_terminal(stream: Any) -> bool:
    """Whether a standard stream is a terminal (False when it is closed: None)."""
    try:
        return stream is not None and bool(stream.isatty())
    except (OSError, ValueError):
        return False


def _small(report: Any) -> bool:
    """Whether rich may draw the report in about half a second."""
    rows = [row for section in report.sections for row in section.rows]
    if len(rows) > RICH_ROWS:
        return False
    return sum(len(str(value)) for row in rows for value in row.values()) <= RICH_CHARACTERS

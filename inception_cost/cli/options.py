"""Options shared by several commands; every choice comes from an enum or a registry."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from inception_cost.core.conventions import PRESETS
from inception_cost.reports.render import Format

F = TypeVar("F", bound=Callable[..., Any])


def completer(name: str) -> Callable[[click.Context, click.Parameter, str], Any]:
    """A shell completion function of `completion.py`, imported only when the shell asks."""
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> Any:
        from inception_cost.cli import completion

        return getattr(completion, name)(ctx, param, incomplete)
    return complete

# The closed choices come from the enums and registries they stand for; this module is
# imported only when a command is loaded (cli/app.py), so `inception-cost` itself starts
# without them.
# (The choices of one command alone, --rule, --sort and --dtype, are made where that
# command is.)
FORMATS = tuple(f.value for f in Format)
CONVENTIONS = tuple(PRESETS)
DEFAULT_DEVICE = "h100-sxm"
WIDE = "inception_cost.wide"  # where --wide is kept (ctx.meta), so no command has to pass it on


def _remember_wide(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[WIDE] = value
    return value


def report_options_with(default: str) -> Callable[[F], F]:
    """--format (defaulting to `default`), -o, --force and --wide: every report takes them."""
    def wrap(func: F) -> F:
        return _report_options(func, default)
    return wrap


# Larger reports are plain text on a terminal too: rich takes about 1 ms a row and 5 us a
# character, where plain text is ten times faster.
RICH_ROWS = 1_000
RICH_CHARACTERS = 100_000


def report_options(func: F) -> F:
    return _report_options(func, "table")


# -o FILE without -f: the format its suffix names (a page written as report.html is HTML)
SUFFIX_FORMATS = {".md": Format.MARKDOWN, ".markdown": Format.MARKDOWN, ".csv": Format.CSV, ".json": Format.JSON,
                  ".html": Format.HTML, ".htm": Format.HTML, ".svg": Format.SVG, ".txt": Format.TABLE}


def format_for(output: str | None, fmt: str) -> str:
    """The format of a report written to `output` when -f was not given: its suffix's, where
    it names one, else `fmt` (the command's default)."""
    if not output or output == "-":
        return fmt
    suffix = os.path.splitext(output)[1].lower()
    return SUFFIX_FORMATS[suffix].value if suffix in SUFFIX_FORMATS else fmt


def _format_from_output(func: F) -> F:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context()
        if context.get_parameter_source("fmt") is click.core.ParameterSource.DEFAULT:
            kwargs["fmt"] = format_for(kwargs.get("output"), kwargs["fmt"])
        return func(*args, **kwargs)
    return run  # type: ignore[return-value]


def _report_options(func: F, default: str) -> F:
    func = _format_from_output(func)
    func = click.option("--wide", is_flag=True, expose_value=False, callback=_remember_wide,
                        help="On a terminal, show every column even where the table is wider than"
                             " the terminal (by default the least important columns are left out,"
                             " and a note names them).")(func)
    func = click.option("--force", is_flag=True, help="Replace FILE if it exists.")(func)
    func = click.option("-o", "--output", "output", metavar="FILE",
                        help="Write the report to FILE (atomically) instead of printing it; without -f,"
                             " in the format its suffix names (.md, .csv, .json, .html, .svg, .txt).")(func)
    func = click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default=default,
                        show_default=True, help="Output format: html is one self-contained page (with"
                                                " pictures where the report has them), svg the pictures"
                                                " alone.")(func)
    return func


def skip_unknown_option(func: F) -> F:
    return click.option("--skip-unknown", is_flag=True,
                        help="Count a model file's operators that inception-cost does not know as zero"
                             " (the report says how many) instead of refusing the file.")(func)


def say_skipped(*networks: Any) -> None:
    """On stderr, the operators a model file had that were counted as zero (--skip-unknown),
    for the reports that do not list a network's notes."""
    for network in networks:
        for line in network.notes.splitlines():
            if line.startswith("Skipped:"):
                click.echo(f"inception-cost: {network.name}: {line}", err=True)


def convention_option(func: F) -> F:
    return click.option("-c", "--convention", type=click.Choice(CONVENTIONS), default="torchvision",
                        show_default=True, help="What is counted, and how (see `inception-cost"
                                                " explain`).")(func)


def train_option(func: F) -> F:
    return click.option("--train", is_flag=True,
                        help="Include training-only parts (auxiliary classifiers).")(func)


def training_options(func: F) -> F:
    """--train and --optimizer of the commands that time a training step beside what they count."""
    func = click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd",
                        show_default=True, help="The optimizer whose update a --train time includes.")(func)
    return click.option("--train", is_flag=True,
                        help="Include training-only parts (auxiliary classifiers); times are then one training"
                             " step (forward, backward, the --optimizer update), as in roofline --train.")(func)


def _module_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("needs a module name or path, e.g. 3a or stage3/conv3")
    return value


def module_option(help_text: str, required: bool = False) -> Callable[[F], F]:
    def wrap(func: F) -> F:
        return click.option("-m", "--module", callback=_module_name, required=required,
                            metavar="NAME|PATH", help=help_text, shell_complete=completer("complete_module"))(func)
    return wrap


def hardware_options(default_device: str | None = DEFAULT_DEVICE) -> Callable[[F], F]:
    """--device, --dtype and --batch for the memory and time estimates."""
    from inception_cost.estimates.dtypes import MAX_BATCH, Dtype

    def wrap(func: F) -> F:
        func = click.option("--batch", type=click.IntRange(1, MAX_BATCH), default=1, show_default=True,
                            help="Images per batch.")(func)
        func = click.option("--dtype", type=click.Choice([d.value for d in Dtype]), default="fp16",
                            show_default=True,
                            help="Element type of activations and weights.")(func)
        if default_device is not None:
            func = click.option("--device", default=default_device, show_default=True,
                                metavar="NAME|FILE", shell_complete=completer("complete_device"),
                                help="Device profile for the time estimate (`inception-cost"
                                     " devices`).")(func)
        return func
    return wrap


def tf32_option(func: F) -> F:
    """--tf32/--no-tf32: the maths of fp32 convs in a time estimate."""
    return click.option("--tf32/--no-tf32", default=True, show_default=True,
                        help="fp32 convs on TF32 tensor cores (PyTorch's default for cuDNN); --no-tf32:"
                             " plain fp32.")(func)


def wants_color(terminal: bool) -> bool:
    """Colour on a terminal; NO_COLOR (https://no-color.org) turns it off, FORCE_COLOR on."""
    import os

    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    return terminal and os.environ.get("TERM") != "dumb"


def architecture_argument(name: str = "name", metavar: str = "NAME|FILE", required: bool = True) -> Callable[[F], F]:
    """A built-in name or a YAML file; the shell completes both."""
    return click.argument(name, metavar=metavar, required=required,
                          shell_complete=completer("complete_architecture"))


def emit(report: Any, fmt: str, output: str | None, force: bool) -> None:
    """Render a report and print it or write it to a file.

    A table printed to a terminal is fitted to its width (`--wide`: never narrowed) and
    coloured; printed to a pipe or written to a file it is plain text."""
    import sys

    from inception_cost.cli.output import write_output
    from inception_cost.reports.render import render

    to_screen = output in (None, "-") and fmt == "table"
    terminal = to_screen and is_terminal(sys.stdout)
    color = to_screen and wants_color(terminal)
    context = click.get_current_context(silent=True)
    wide = bool(context and context.meta.get(WIDE))
    width = None
    big = to_screen and not _small(report)  # plain text: rich would take too long
    if terminal and not wide and not big:
        import shutil

        width = shutil.get_terminal_size().columns
    write_output(render(report, fmt, width, terminal=(terminal or color) and not big, color=color and not big),
                 output, force)
    if fmt == "csv":  # CSV holds rows only: a section without any says why on stderr
        for section in report.sections:
            if not section.has_table and section.notes:
                click.echo(f"inception-cost: {section.title}: {section.notes[0]}", err=True)


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

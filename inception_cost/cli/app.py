"""The `inception-cost` command line: the group, its error handling and exit codes.

Commands live in `commands.py`, `compare.py`, `estimate.py` and `sweep.py`; each reads
its options, calls the library (`inception_cost.api` and the report builders) and
prints. Heavy modules (the YAML reader, rich) are imported inside the commands, so
`--help` and errors answer at once. Every failure goes through `main`, which prints one
line and exits with a code from `errors.ExitCode`.
"""

from __future__ import annotations

import errno
import io
import signal
import sys
from typing import Any

import click

from inception_cost import __version__
from inception_cost.cli.signals import Interrupted, finish, tell
from inception_cost.errors import ExitCode, InceptionCostError, OutputError, UsageError

COMPLETE_VAR = "_INCEPTION_COST_COMPLETE"

# Every command and the module that defines it: a command's module is imported only
# when the command runs (or help lists it), so starting the tool stays cheap.
COMMANDS = {
    "show": "commands", "compare": "compare", "factorize": "compare", "export": "commands",
    "list": "commands", "explain": "commands", "memory": "estimate", "roofline": "estimate",
    "devices": "commands", "sweep": "sweep", "completion": "completion",
    "schema": "commands", "import": "importing", "calibrate": "estimate", "accuracy": "estimate",
}


# What `inception-cost NAME` (show) takes, listed in the top-level help: the options a
# new user needs first live on the subcommand, where --help alone would not show them.
REPORT_OPTIONS = [
    ("-m, --module NAME|PATH", "One module branch by branch: a name (3a) or a path (4b/3x3)."),
    ("-c, --convention NAME", "What is counted (torchvision, paper, keras, fvcore, ptflops, ...)."),
    ("-f, --format FORMAT", "table, markdown, csv, json, html (a page with pictures) or svg."),
    ("-o, --output FILE", "Write the report to FILE (atomically) instead of printing it."),
    ("--force", "Replace FILE if it exists."),
    ("--wide", "On a terminal, every column however wide."),
    ("--train", "Include training-only parts (auxiliary classifiers)."),
]


class ArchitectureGroup(click.Group):
    """`inception-cost NAME ...` means `inception-cost show NAME ...`; commands load lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        import importlib

        module = importlib.import_module(f"inception_cost.cli.{COMMANDS[cmd_name]}")
        command: click.Command = module.COMMANDS[cmd_name]
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `inception-cost -f json googlenet`: options of `show` before the name also mean show
        group_options = {"--debug", "-V", "--version", "-h", "--help"}
        i = 0
        while i < len(args) and args[i] in group_options:
            i += 1
        if i < len(args) and args[i].startswith("-"):
            args = [*args[:i], "show", *args[i:]]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            return "show", self.get_command(ctx, "show"), args
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        """The first word: a command, or a built-in name or file (which means `show`).
        Commands are named from COMMANDS, without loading their modules."""
        if incomplete.startswith("-"):
            return super().shell_complete(ctx, incomplete)
        from click.shell_completion import CompletionItem

        from inception_cost.cli.completion import architectures

        commands = [CompletionItem(name) for name in sorted(COMMANDS) if name.startswith(incomplete)]
        return [*commands, *architectures(incomplete, files=not commands)]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        with formatter.section("Options of a report (after NAME, or after a command and its arguments)"):
            formatter.write_dl(REPORT_OPTIONS)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("inception-cost", "[NAME | FILE.yaml] [OPTIONS] | COMMAND [ARGS]...")

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except OSError as exc:  # --help or --version printed to a closed or full stdout
            raise OutputError(f"cannot write to standard output ({exc.strerror or exc})") from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # click would print a blank line first: one line instead
            raise Interrupted(signal.SIGINT) from None
        except OSError as exc:  # a command's --help to a closed or full stdout (reading
            # files raises our own errors; reports are written by cli.output)
            raise OutputError(f"cannot write to standard output ({exc.strerror or exc})") from None

    def _main_shell_completion(self, ctx_args: Any, prog_name: str,
                               complete_var: str | None = None) -> None:
        """Shell completion (`_INCEPTION_COST_COMPLETE=bash_source`); an instruction
        click does not know, or a broken completion environment, is a usage error."""
        try:
            super()._main_shell_completion(ctx_args, prog_name, complete_var)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise UsageError(f"{COMPLETE_VAR}: unknown shell completion instruction (e.g."
                                 " bash_source, zsh_source, fish_source)") from None
            raise
        except Exception as exc:  # click reads COMP_WORDS, COMP_CWORD ... unchecked
            raise UsageError(f"{COMPLETE_VAR}: shell completion failed: the shell's completion"
                             f" variables are missing or malformed ({type(exc).__name__})") from None

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,  # type: ignore[override]
             standalone_mode: bool = True, **extra: Any) -> None:
        """Run, and turn every failure into one line on stderr and a code from ExitCode."""
        args = list(sys.argv[1:] if args is None else args)
        if sys.stdout is None:  # started with stdout closed: --help and --version fail too
            sys.stdout = _ClosedStdout()
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
            code = result if isinstance(result, int) else ExitCode.OK
        except InceptionCostError as exc:
            tell(f"inception-cost: {exc}")
            code = exc.exit_code
        except click.UsageError as exc:
            if type(exc).__name__.startswith("NoArgsIsHelp"):  # a bare command shows its help
                code = _show_help(exc)
            else:
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
                message = exc.format_message()
                if isinstance(exc, click.MissingParameter):  # click lists a choice's values a line each
                    message = message.replace(":\n\t", ": ").replace(",\n\t", ", ")
                tell(f"inception-cost: {message}{hint}")
                code = ExitCode.USAGE
        except click.ClickException as exc:
            tell(f"inception-cost: {exc.format_message()}")
            code = ExitCode.USAGE
        except (click.exceptions.Abort, KeyboardInterrupt):
            tell("inception-cost: interrupted")
            code = ExitCode.INTERRUPTED
        except Interrupted as exc:
            finish(exc)
        except Exception as exc:  # a bug: one line, and the traceback only on request
            if "--debug" in args and sys.stderr is not None:
                import traceback

                traceback.print_exc()
            tell(f"inception-cost: internal error: {type(exc).__name__}: {exc}"
                 " (run again with --debug for the traceback, and please report it)")
            code = ExitCode.INTERNAL_ERROR
        sys.exit(int(code))


class _ClosedStdout(io.TextIOBase):
    """Stands for a closed stdout: writing to it fails like writing to a closed descriptor."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def _show_help(exc: click.UsageError) -> ExitCode:
    from inception_cost.cli.output import write_output

    try:
        write_output((exc.ctx.get_help() if exc.ctx else exc.format_message()) + "\n", None)
    except InceptionCostError as failed:
        tell(f"inception-cost: {failed}")
        return failed.exit_code
    return ExitCode.OK


@click.group(cls=ArchitectureGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="""\b
Examples:
  inception-cost googlenet                   cost of every row of GoogLeNet's Table 1
  inception-cost googlenet --module 3a       branch by branch: why 1x1 reductions matter
  inception-cost compare naive reduced       naive vs 1x1-reduced inception (3a)
  inception-cost factorize googlenet -m 3a   5x5 convs rewritten as two 3x3
  inception-cost inception-v3 -c ptflops     the number ptflops prints for it
  inception-cost explain inception-v3        why fvcore, ptflops, thop ... disagree
  inception-cost sweep googlenet -m 3a --vary "#5x5 reduce=4..64:4"
  inception-cost googlenet -f markdown       the same numbers as a Markdown table
  inception-cost export googlenet -f markdown -o costs.md
  inception-cost my-net.yaml --train         any architecture file
  inception-cost resnet50.onnx               a model file: ONNX, .keras, Keras JSON
  inception-cost import model.onnx -o model.yaml   the model as editable YAML
  inception-cost list                        the built-in architectures
  inception-cost completion bash             the shell completion script (see README)""")
@click.version_option(__version__, "-V", "--version", prog_name="inception-cost")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def cli(debug: bool) -> None:
    """What a convolutional network costs (MACs, parameters, memory, time), layer by layer
    and branch by branch, read from its architecture: no framework, no forward pass.

    NAME is a built-in architecture (see `inception-cost list`), FILE.yaml a path, or a
    model file (.onnx, .keras, a Keras .json config): an argument with a '/' or ending in
    one of those suffixes is a file (./NAME reads a file NAME).
    """


def run(argv: list[str] | None = None) -> None:
    """Run the command line (the console entry point, `cli.main`, installs signals first)."""
    cli.main(args=argv, prog_name="inception-cost")

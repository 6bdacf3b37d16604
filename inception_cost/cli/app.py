"""The `inception-cost` command line: the group, its error handling and exit codes.

Commands live in `commands.py`, `compare.py`, `estimate.py` and `sweep.py`; each reads
its options, calls the library (`inception_cost.api` and the report builders) and
prints. Heavy modules (the YAML reader, rich) are imported inside the commands, so
`--help` and errors answer at once. Every failure goes through `main`, which prints one
line and exits with a code from `errors.ExitCode`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from inception_cost import __version__
from inception_cost.errors import ExitCode, InceptionCostError

# Every command and the module that defines it: a command's module is imported only
# when the command runs (or help lists it), so starting the tool stays cheap.
COMMANDS = {
    "show": "commands", "compare": "compare", "factorize": "compare", "export": "commands",
    "list": "commands", "explain": "commands", "memory": "estimate", "roofline": "estimate",
    "devices": "commands", "sweep": "sweep", "calibrate": "estimate",
}


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

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("inception-cost", "[NAME | FILE.yaml] [OPTIONS] | COMMAND [ARGS]...")

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,  # type: ignore[override]
             standalone_mode: bool = True, **extra: Any) -> None:
        """Run, and turn every failure into one line on stderr and a code from ExitCode."""
        args = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
            code = result if isinstance(result, int) else ExitCode.OK
        except InceptionCostError as exc:
            click.echo(f"inception-cost: {exc}", err=True)
            code = exc.exit_code
        except click.UsageError as exc:
            if type(exc).__name__.startswith("NoArgsIsHelp"):  # a bare command shows its help
                click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
                sys.exit(int(ExitCode.OK))
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"inception-cost: {exc.format_message()}{hint}", err=True)
            code = ExitCode.USAGE
        except click.ClickException as exc:
            click.echo(f"inception-cost: {exc.format_message()}", err=True)
            code = ExitCode.USAGE
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("inception-cost: interrupted", err=True)
            code = ExitCode.INTERRUPTED
        except BrokenPipeError:
            code = ExitCode.OK
        except Exception as exc:  # a bug: one line, and the traceback only on request
            if "--debug" in args:
                import traceback

                traceback.print_exc()
            click.echo(f"inception-cost: internal error: {type(exc).__name__}: {exc}"
                       " (run again with --debug for the traceback, and please report it)", err=True)
            code = ExitCode.INTERNAL_ERROR
        sys.exit(int(code))


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
  inception-cost list                        the built-in architectures

\b
Options of a report (after NAME): -m/--module NAME|PATH, -c/--convention,
-f/--format table|markdown|csv|json, -o FILE, --force, --train.""")
@click.version_option(__version__, "-V", "--version", prog_name="inception-cost")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def cli(debug: bool) -> None:
    """What a convolutional network costs (MACs, parameters, memory, time), layer by layer
    and branch by branch, read from its architecture: no framework, no forward pass.

    NAME is a built-in architecture (see `inception-cost list`) or FILE.yaml a path.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="inception-cost")

"""Shell completion through click's own protocol, and the `completion` command that
prints the script for bash, zsh or fish.

The shell runs `inception-cost` with `_INCEPTION_COST_COMPLETE=bash_complete` (or zsh,
fish) and the words typed so far; click calls the `shell_complete` functions here. They
import what they need when called, so completing a command name costs no YAML parsing,
and only `--module` analyses the architecture already typed on the line.
"""

from __future__ import annotations

import enum

import click
from click.shell_completion import CompletionItem

PROG = "inception-cost"
COMPLETE_VAR = "_INCEPTION_COST_COMPLETE"
# the two sides of `compare naive reduced`: GoogLeNet's modules
PAIR = ("naive", "reduced")


class Shell(str, enum.Enum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def _matching(names: list[str], incomplete: str, help_text: str | None = None) -> list[CompletionItem]:
    """The names that start with what is typed; never one with a control character (a
    newline in a module's name would split the shell's one-candidate-a-line answer, a
    right-to-left mark reorder the terminal's line), which no one can type anyway."""
    return [CompletionItem(n, help=help_text) for n in names
            if n.isprintable() and n.lower().startswith(incomplete.lower())]


def _yaml_files(incomplete: str) -> list[CompletionItem]:
    """A path: the shell completes file names itself."""
    return [CompletionItem(incomplete, type="file")]


def architectures(incomplete: str, pair: bool = False, files: bool = True) -> list[CompletionItem]:
    """Built-in names, and files (a path as soon as it looks like one, or when no name fits)."""
    if "/" in incomplete or incomplete.startswith("."):
        return _yaml_files(incomplete)
    from inception_cost.source.catalog import builtin_names

    names = [*PAIR, *builtin_names()] if pair else builtin_names()
    return _matching(names, incomplete) or (_yaml_files(incomplete) if files else [])


def complete_architecture(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return architectures(incomplete, pair=ctx.command.name == "compare")


def _architecture_on_line(ctx: click.Context) -> str | None:
    """The architecture typed before the option being completed. click stops parsing at
    the option that still lacks its value, before it assigns the positional arguments:
    they are then in `ctx.args`."""
    name = ctx.params.get("name") or ctx.params.get("a") or next(iter(ctx.args), None)
    return "googlenet" if name in PAIR else name


def complete_module(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Module names and paths of the architecture already on the line (`4b`, `4b/3x3`)."""
    name = _architecture_on_line(ctx)
    if not name:
        return []
    try:
        from inception_cost import api

        root = api.analyse(name, train=bool(ctx.params.get("train"))).analysis.root
    except Exception:  # a file with a mistake in it: nothing to offer, and no error while typing
        return []
    from inception_cost.core.tree import Role

    nodes = root.selectable()
    if "/" in incomplete:
        return _matching([n.path for n in nodes], incomplete)
    named = [n.name for n in nodes if n.role in (Role.MODULE, Role.AUXILIARY, Role.LAYER)]
    unique = [n for n in dict.fromkeys(named) if named.count(n) == 1]
    tops = [n.path for n in nodes if "/" not in n.path]
    return _matching(list(dict.fromkeys([*tops, *unique])), incomplete)


def complete_device(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from inception_cost.estimates.devices import builtin_devices

    return _matching(builtin_devices(), incomplete) or _yaml_files(incomplete)


def complete_conventions(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`--conventions a,b,`: the next name of a comma-separated list."""
    from inception_cost.core.conventions import PRESETS

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    chosen = set(done.split(",")) if done else set()
    return [CompletionItem(prefix + n) for n in PRESETS if n.startswith(last) and n not in chosen]


def complete_vary(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`--vary ARG=`: the arguments of the module instance given with --module."""
    name, module = _architecture_on_line(ctx), ctx.params.get("module")
    if not name or not module or "=" in incomplete:
        return []
    try:
        from inception_cost import api
        from inception_cost.transforms.sweep import sweepable

        _, item = sweepable(api.analyse(name).analysis, module)
        arguments = [k for k, v in item.arguments.items() if isinstance(v, int)]
    except Exception:  # no such module, or one without arguments: nothing to offer
        return []
    return _matching([f"{a}=" for a in arguments], incomplete)


def script(shell: Shell) -> str:
    from click.shell_completion import get_completion_class

    from inception_cost.cli.app import cli

    completion = get_completion_class(shell.value)
    assert completion is not None  # click ships all three
    return completion(cli, {}, PROG, COMPLETE_VAR).source()


@click.command()
@click.argument("shell", type=click.Choice([s.value for s in Shell]))
def completion(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Install (then open a new shell):
      bash:  inception-cost completion bash > ~/.local/share/bash-completion/completions/inception-cost
      zsh:   inception-cost completion zsh > ~/.zfunc/_inception-cost   (with fpath+=~/.zfunc)
      fish:  inception-cost completion fish > ~/.config/fish/completions/inception-cost.fish
    """
    click.echo(script(Shell(shell)), nl=False)


COMMANDS = {"completion": completion}

"""The `inception-cost` command line.

Heavy modules (the YAML reader, rich) are imported inside the commands that need them,
so `--help` and errors answer at once. Every failure goes through `main`, which prints
one line and exits with a code from `errors.ExitCode`.
"""

from __future__ import annotations

import sys

import click

from inception_cost import __version__
from inception_cost.errors import ExitCode, InceptionCostError, UsageError

FORMATS = ("table", "markdown", "csv", "json")
NAIVE, REDUCED = "naive", "reduced"
DEFAULT_COMPARE_MODULE = "3a"


class ArchitectureGroup(click.Group):
    """`inception-cost NAME ...` means `inception-cost show NAME ...`."""

    def parse_args(self, ctx, args):
        # `inception-cost -f json googlenet`: options of `show` before the name also mean show
        group_options = {"--debug", "-V", "--version", "-h", "--help"}
        i = 0
        while i < len(args) and args[i] in group_options:
            i += 1
        if i < len(args) and args[i].startswith("-"):
            args = [*args[:i], "show", *args[i:]]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage("inception-cost", "[NAME | FILE.yaml] [OPTIONS] | COMMAND [ARGS]...")

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
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


def report_options(func):
    """--format, -o and --force: every report takes them."""
    func = click.option("--force", is_flag=True, help="Replace FILE if it exists.")(func)
    func = click.option("-o", "--output", "output", metavar="FILE",
                        help="Write the report to FILE (atomically) instead of printing it.")(func)
    func = click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table",
                        show_default=True, help="Output format.")(func)
    return func


def convention_option(func):
    from inception_cost.core.conventions import PRESETS

    return click.option("-c", "--convention", type=click.Choice(list(PRESETS)), default="torchvision",
                        show_default=True, help="What is counted, and how (see `inception-cost"
                                                " explain`).")(func)


def hardware_options(default_device: str | None = "h100-sxm"):
    """--device, --dtype and --batch for the memory and time estimates."""
    def wrap(func):
        func = click.option("--batch", type=click.IntRange(1, 1 << 16), default=1, show_default=True,
                            help="Images per batch.")(func)
        func = click.option("--dtype", type=click.Choice(["fp32", "bf16", "fp16", "int8"]),
                            default="fp16", show_default=True, help="Element type of activations"
                                                                     " and weights.")(func)
        if default_device is not None:
            func = click.option("--device", default=default_device, show_default=True,
                                metavar="NAME|FILE",
                                help="Device profile for the time estimate (`inception-cost"
                                     " devices`).")(func)
        return func
    return wrap


def _add_times(report, analyses, part_nodes, device: str, dtype: str, batch: int) -> None:
    """Estimated times of both sides beside the MAC ratio of a comparison."""
    from inception_cost.reports.comparisons import add_time_columns
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.roofline import estimate

    hardware = _device(device)

    def timer(analysis):
        seconds = {t.memory.node.row: t.seconds for t in estimate(analysis, hardware, Dtype(dtype), batch)}
        return lambda node: sum(seconds.get(leaf.row, 0.0) for leaf in node.layers())

    add_time_columns(report, *(timer(a) for a in analyses), *part_nodes,
                     f"{hardware.name}, {dtype}, batch {batch}")


def _part_nodes(node, total_name: str, module: bool) -> dict:
    from inception_cost.reports.network import module_parts

    parts = module_parts(node) if module else node.children
    return {**{p.name: p for p in parts}, total_name: node}


def _module_name(ctx, param, value):
    if value is not None and not value.strip():
        raise click.BadParameter("needs a module name, e.g. 3a")
    return value


def train_option(func):
    return click.option("--train", is_flag=True,
                        help="Include training-only parts (auxiliary classifiers).")(func)


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
  inception-cost list                        the built-in architectures""")
@click.version_option(__version__, "-V", "--version", prog_name="inception-cost")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def cli(debug):
    """What a convolutional network costs (MACs, parameters), layer by layer and branch by
    branch, read from its architecture table: no framework, no forward pass.

    NAME is a built-in architecture (see `inception-cost list`) or FILE.yaml a path.
    """


def _emit(report, fmt: str, output: str | None, force: bool) -> None:
    from inception_cost.cli.output import write_output
    from inception_cost.reports.render import render

    width = None
    if output in (None, "-") and fmt == "table" and sys.stdout.isatty():
        import shutil

        width = shutil.get_terminal_size().columns
    write_output(render(report, fmt, width), output, force)


def _load(ref: str, variant: str = REDUCED):
    from inception_cost.source.catalog import load

    return load(ref, variant)


def _analyse(ref: str, train: bool = False, variant: str = REDUCED, convention: str = "torchvision"):
    from inception_cost.core import conventions
    from inception_cost.core.analysis import analyse

    return analyse(_load(ref, variant), train=train, convention=conventions.get(convention))


def _module(analysis, name: str):
    if not name.strip():
        raise UsageError("--module needs a module name")
    node = analysis.root.find_module(name)
    if node is None:
        names = [m.name for m in analysis.root.modules()] or [c.name for c in analysis.root.children]
        from inception_cost.errors import did_you_mean

        raise UsageError(f"no module '{name}' in {analysis.network.name}{did_you_mean(name, names)};"
                         f" modules: {', '.join(names)}")
    return node


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("-m", "--module", callback=_module_name, help="Break one module down by branch (e.g. 3a).")
@train_option
@convention_option
@report_options
def show(name, module, train, convention, fmt, output, force):
    """Cost of a network row by row, or of one module branch by branch.

    \b
    Examples:
      inception-cost show googlenet
      inception-cost googlenet --module 3a -f markdown
    """
    from inception_cost.reports import network as reports

    analysis = _analyse(name, train, convention=convention)
    if module:
        report = reports.module_report(analysis, _module(analysis, module))
    else:
        report = reports.network_report(analysis)
    _emit(reports.in_unit(report, analysis.convention), fmt, output, force)


@cli.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("-m", "--module", callback=_module_name, help="Compare one module branch by branch"
                                     f" (default for naive/reduced: {DEFAULT_COMPARE_MODULE}).")
@train_option
@convention_option
@hardware_options()
@report_options
def compare(a, b, module, train, convention, device, dtype, batch, fmt, output, force):
    """Compare two architectures, or the naive and 1x1-reduced inception module.

    A and B are built-in names or YAML files; `naive` and `reduced` are GoogLeNet's
    inception module without and with its 1x1 reductions (the paper's Figure 2).

    \b
    Examples:
      inception-cost compare naive reduced
      inception-cost compare naive reduced --module 4e -f markdown
      inception-cost compare googlenet my-net.yaml
    """
    from inception_cost.core import conventions
    from inception_cost.reports import comparisons, network as reports

    rules = conventions.get(convention)
    variants = (NAIVE, REDUCED)
    if a in variants or b in variants:
        module = module or DEFAULT_COMPARE_MODULE
    if module:
        reference = _analyse("googlenet", train, convention=convention) \
            if (a in variants or b in variants) else None
        sides = [_variant_module(ref, module, reference, train, convention) for ref in (a, b)]
        nodes = [node for _, node in sides]
        title = f"{a} vs {b}: module {nodes[1].label}"
        report = comparisons.compare_modules(a, nodes[0], b, nodes[1], title, rules)
        analyses = [analysis for analysis, _ in sides]
        part_nodes = [_part_nodes(n, "module total", True) for n in nodes]
        if train:
            report.sections[0].notes.append("--train: training-only parts are counted where the"
                                            " module has them (an auxiliary head is its own module).")
    else:
        analyses = [_analyse(a, train, convention=convention), _analyse(b, train, convention=convention)]
        report = comparisons.compare_networks(a, analyses[0], b, analyses[1])
        part_nodes = [_part_nodes(x.root, "total", False) for x in analyses]
    _add_times(report, analyses, part_nodes, device, dtype, batch)
    _emit(reports.in_unit(report, rules), fmt, output, force)


def _device(ref: str):
    from inception_cost.estimates.devices import load_device

    return load_device(ref)


def _variant_module(ref: str, module: str, reference, train: bool, convention: str):
    """Module `module` of `ref`; naive / reduced are GoogLeNet's, at the reduced network's input."""
    if ref not in (NAIVE, REDUCED):
        analysis = _analyse(ref, train, convention=convention)
        return analysis, _module(analysis, module)
    from inception_cost.core.analysis import analyse
    from inception_cost.graph.nodes import Module, Network

    in_context = _module(reference, module)
    if ref == REDUCED:
        return reference, in_context
    naive = _load("googlenet", NAIVE)
    item = next((i for i in naive.items if isinstance(i, Module) and i.name == in_context.name), None)
    alone = Network(name=f"naive {item.name}", input_shape=in_context.in_shape, items=[item],
                    file=naive.file, title=f"naive {item.label}")
    analysis = analyse(alone, convention=reference.convention)
    return analysis, analysis.root.children[0]


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@train_option
@convention_option
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of printing.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="markdown",
              show_default=True, help="Output format.")
def export(name, train, convention, fmt, output, force):
    """The whole report as one document: the network table, each module's branches,
    and the counting convention.

    \b
    Example:
      inception-cost export googlenet --format markdown -o costs.md
    """
    from inception_cost.reports import network as reports

    analysis = _analyse(name, train, convention=convention)
    _emit(reports.in_unit(reports.export_report(analysis), analysis.convention), fmt, output, force)


@cli.command()
@click.argument("name", metavar="[NAME|FILE]", required=False)
@click.option("-m", "--module", callback=_module_name, help="Rewrite only this module (default: the whole network).")
@click.option("-r", "--rule", type=click.Choice(["5x5-to-3x3", "nxn-to-1xn"]), default="5x5-to-3x3",
              show_default=True, help="5x5 -> two 3x3, or n x n -> 1 x n then n x 1.")
@click.option("--kernel", type=click.IntRange(2, 15), help="Lone layer form: the kernel size"
                                                             " (default 5, or 3 for nxn-to-1xn).")
@click.option("--channels", type=click.IntRange(1, 1 << 20), default=64, show_default=True,
              help="Lone layer form: input and output channels.")
@click.option("--size", type=click.IntRange(1, 1 << 20), default=28, show_default=True,
              help="Lone layer form: height and width of the feature map.")
@train_option
@convention_option
@hardware_options()
@report_options
def factorize(name, module, rule, kernel, channels, size, train, convention, device, dtype, batch,
              fmt, output, force):
    """Rewrite convolutions as the Inception v2/v3 paper does, and show the cost before
    and after: 5x5 into two stacked 3x3, or n x n into 1 x n then n x 1.

    Without NAME, one C -> C convolution shows the textbook ratios.

    \b
    Examples:
      inception-cost factorize googlenet --module 3a
      inception-cost factorize inception-v3 --rule nxn-to-1xn -m Mixed_6b
      inception-cost factorize                      (a lone 5x5: two 3x3 cost 72%)
      inception-cost factorize --rule nxn-to-1xn    (a lone 3x3: 1x3 + 3x1 cost 67%)
    """
    from inception_cost.core import conventions
    from inception_cost.reports import comparisons, network as reports
    from inception_cost.core.analysis import analyse
    from inception_cost.transforms.factorize import Rule, factorize_network, lone_layer

    rules = conventions.get(convention)
    rule = Rule(rule)
    if name is None:
        kernel = kernel or (5 if rule is Rule.FIVE_TO_THREE else 3)
        if rule is Rule.FIVE_TO_THREE and kernel != 5:
            raise UsageError("the 5x5-to-3x3 rule rewrites 5x5 convolutions: use --kernel 5")
        before = analyse(lone_layer(rule, kernel, channels, size), convention=rules)
        module = "layer"
    else:
        before = _analyse(name, train, convention=convention)
        if module:
            _module(before, module)  # a clear error for an unknown module
    after_network, count = factorize_network(before.network, rule, module)
    after = analyse(after_network, train=train, convention=rules)
    report = comparisons.factorize_report(before, after, rule.value, count, module, lone=name is None)
    if module:
        part_nodes = [_part_nodes(x.root.find_module(module), "module total", True) for x in (before, after)]
    else:
        part_nodes = [_part_nodes(x.root, "total", False) for x in (before, after)]
    _add_times(report, (before, after), part_nodes, device, dtype, batch)
    _emit(reports.in_unit(report, rules), fmt, output, force)


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("--conventions", "names", default=None, metavar="A,B,...",
              help="Conventions to set side by side (default: every preset).")
@train_option
@report_options
def explain(name, names, train, fmt, output, force):
    """Why the counting conventions give different totals for one network, term by term.

    \b
    Examples:
      inception-cost explain inception-v3
      inception-cost explain googlenet-torchvision --conventions torchvision,fvcore,ptflops
    """
    from inception_cost.core import conventions
    from inception_cost.reports import comparisons
    from inception_cost.core.analysis import analyse

    chosen = [conventions.get(n.strip()) for n in names.split(",")] if names else \
        list(conventions.PRESETS.values())
    network = _load(name)
    report = comparisons.explain_report([analyse(network, train=train, convention=c) for c in chosen])
    _emit(report, fmt, output, force)


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("-m", "--module", callback=_module_name, help="Only this module.")
@train_option
@hardware_options(default_device=None)
@report_options
def memory(name, module, train, dtype, batch, fmt, output, force):
    """Memory per layer: activations, weight bytes, the bytes each layer must move, arithmetic
    intensity, and the peak activation memory of inference.

    \b
    Examples:
      inception-cost memory googlenet --module 3a
      inception-cost memory inception-v3 --dtype fp32 --batch 32 -f csv -o memory.csv
    """
    from inception_cost.reports import estimates
    from inception_cost.estimates.memory import Dtype

    analysis = _analyse(name, train)
    scope = _module(analysis, module) if module else None
    _emit(estimates.memory_report(analysis, Dtype(dtype), batch, scope), fmt, output, force)


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("-m", "--module", callback=_module_name, help="Only this module, layer by layer.")
@click.option("--layers", is_flag=True, help="One row per layer (default: per top-level row).")
@train_option
@hardware_options()
@report_options
def roofline(name, module, layers, train, device, dtype, batch, fmt, output, force):
    """Estimated time on a device: each layer takes the longer of its compute time and its
    memory time, plus a fixed overhead; which bound applies, and each part's share.

    \b
    Examples:
      inception-cost roofline googlenet --device h100-sxm --dtype fp16
      inception-cost roofline googlenet --module 3a --device h100-measured --dtype fp32 --batch 32
      inception-cost roofline my-net.yaml --device my-gpu.yaml
    """
    from inception_cost.reports import estimates
    from inception_cost.estimates.memory import Dtype

    analysis = _analyse(name, train)
    scope = _module(analysis, module) if module else None
    report = estimates.roofline_report(analysis, _device(device), Dtype(dtype), batch, scope, layers)
    _emit(report, fmt, output, force)


@cli.command()
@report_options
def devices(fmt, output, force):
    """The built-in device profiles for `roofline`, `compare` and `factorize`."""
    from inception_cost.reports import network as reports
    from inception_cost.estimates.devices import builtin_devices, load_device

    _emit(reports.devices_report([load_device(n) for n in builtin_devices()]), fmt, output, force)


@cli.command()
@click.argument("name", metavar="NAME|FILE")
@click.option("-m", "--module", callback=_module_name, required=True, help="The module whose widths vary (e.g. 3a).")
@click.option("--vary", "varies", multiple=True, required=True, metavar="WIDTH=A..B[:STEP]",
              help="A width and its values: '#5x5 reduce=4..64:4' or 'c1=32,64,96'. Repeatable;"
                   " every combination is evaluated.")
@click.option("--budget-macs", metavar="N", help="Keep variants with at most N MACs (e.g. 100M).")
@click.option("--budget-params", metavar="N", help="Keep variants with at most N parameters.")
@click.option("--top", type=click.IntRange(0, None), default=20, show_default=True,
              help="How many variants to list (0: all).")
@click.option("--sort", type=click.Choice(["macs", "params"]), default="macs", show_default=True)
@click.option("--pareto", "pareto_only", is_flag=True, help="List only the Pareto-optimal variants.")
@report_options
def sweep(name, module, varies, budget_macs, budget_params, top, sort, pareto_only, fmt, output, force):
    """Every combination of a module's widths: parameters and MACs of each, the Pareto front
    (fewer MACs and fewer parameters), a budget filter, sorted.

    The widths are a table row's columns (#1x1, #3x3 reduce ...) or the `with:` values of a
    module made from a block.

    \b
    Examples:
      inception-cost sweep googlenet --module 3a --vary "#5x5 reduce=4..64:4" --vary "#3x3 reduce=32..192:16"
      inception-cost sweep googlenet -m 4e --vary "#1x1=64..512:8" --vary "#3x3=64..512:8" --budget-macs 150M --pareto
      inception-cost sweep keras-cifar10 -m inception --vary filters=8..256:8
    """
    from inception_cost.reports import network as reports
    from inception_cost.transforms import sweep as sweeping
    from inception_cost.source.catalog import resolve

    axes = [sweeping.parse_vary(v) for v in varies]
    if len({a.name for a in axes}) != len(axes):
        raise UsageError("each width may be varied once")
    path, display = resolve(name)
    source = sweeping.Source(path, display, module)
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total >= 200_000 and sys.stderr.isatty():
        with click.progressbar(length=total, label="sweeping", file=sys.stderr) as bar:
            result = sweeping.run(source, axes, progress=bar.update)
    else:
        result = sweeping.run(source, axes)
    report = reports.sweep_report(result, module, source.doc.get("name", display),
                                  budget_macs=sweeping.parse_budget(budget_macs, "macs"),
                                  budget_params=sweeping.parse_budget(budget_params, "params"),
                                  top=top, sort=sort, pareto_only=pareto_only)
    _emit(report, fmt, output, force)


@cli.command("list")
@convention_option
@report_options
def list_(convention, fmt, output, force):
    """The built-in architectures with their input, parameters, MACs and depth."""
    from inception_cost.reports import network as reports
    from inception_cost.source.catalog import builtin_names

    entries = [(n, _analyse(n, convention=convention)) for n in builtin_names()]
    _emit(reports.in_unit(reports.catalog_report(entries), entries[0][1].convention), fmt, output, force)


def main(argv=None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="inception-cost")

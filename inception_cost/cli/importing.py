"""`inception-cost import MODEL -o model.yaml`: a model file written out as graph-form YAML."""

from __future__ import annotations

import click

from inception_cost.cli.options import convention_option, say_skipped, skip_unknown_option


@click.command("import")
@click.argument("model", metavar="MODEL")
@click.option("-o", "--output", "output", metavar="FILE",
              help="Write the YAML to FILE (atomically) instead of printing it.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@skip_unknown_option
@convention_option
def import_(model: str, output: str | None, force: bool, skip_unknown: bool, convention: str) -> None:
    """Write a model file (.onnx, .keras, or a Keras .json config) as graph-form YAML that
    you can read and edit: layer names from the model, concats, residuals, adds and gates
    recovered from the graph, modules grouped by the model's names.

    Analysing the YAML gives exactly the numbers of analysing the model file (a summary
    line on stderr says them, under --convention).

    \b
    Examples:
      inception-cost import resnet50.onnx -o resnet50.yaml
      inception-cost import InceptionV3.keras -o inception.yaml -c keras
      inception-cost resnet50.onnx            (any command reads the model file directly)
    """
    import os

    from inception_cost import api
    from inception_cost.cli.output import write_output
    from inception_cost.errors import UsageError
    from inception_cost.importers import MODEL_SUFFIXES, import_model, is_model_file
    from inception_cost.source.document import parse_text

    if not is_model_file(model):
        raise UsageError(f"'{model}': import reads model files ({', '.join(MODEL_SUFFIXES)}); a YAML file"
                         " or a built-in name is read by every other command as it is")
    imported = import_model(model, skip_unknown)
    network = parse_text(imported.text, output or os.path.basename(model))  # as a reader of FILE will
    cost = api.analyse(network, convention=convention)
    write_output(imported.text, output, force)
    click.echo(f"{output or 'YAML'}: {network.name}, input {imported.document['input']},"
               f" {cost.params:,} params, {cost.macs:,} {cost.convention.unit.value} ({convention})", err=True)
    say_skipped(network)  # in the YAML's notes too, but with -o nothing else on the terminal says so


COMMANDS = {"import": import_}

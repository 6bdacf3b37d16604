"""The JSON Schema of the YAML format: generated from the registries, shipped in the package,
valid for every built-in, and strict where the reader is (misspelt arguments, wrong types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from inception_cost.cli.app import cli
from inception_cost.core.analysis import analyse
from inception_cost.core.kinds import KINDS
from inception_cost.errors import ArchitectureError
from inception_cost.source import schema
from inception_cost.source.catalog import builtin_paths
from inception_cost.source.document import parse_text
from inception_cost.structures import STRUCTURES


@pytest.fixture(scope="module")
def validator() -> Any:
    document = json.loads(Path(schema.shipped_path()).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def test_the_shipped_file_is_the_generated_one_and_the_command_prints_it() -> None:
    shipped = Path(schema.shipped_path()).read_text(encoding="utf-8")
    assert shipped == schema.text(), "regenerate it: inception-cost schema > inception_cost/architecture.schema.json"
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0 and result.output == shipped
    assert json.loads(shipped)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"inception_cost" = ["py.typed", "architecture.schema.json"]' in pyproject  # in the wheel


def test_every_kind_and_argument_and_structure_is_described() -> None:
    document = schema.build()
    kinds = document["$defs"]["kind"]
    assert set(kinds) == set(KINDS)
    for name, kind in KINDS.items():
        properties = kinds[name]["properties"]
        assert list(properties) == list(kind.keys)  # the reader's keys, in order
        for argument in kind.arguments:
            described = properties[argument.name]
            assert described["description"]
            if argument.default is not None:
                assert described["default"] == argument.default
    assert set(document["$defs"]["structure"]) == set(STRUCTURES)
    assert all(s["description"] for s in document["$defs"]["structure"].values())
    conv = kinds["conv"]["properties"]
    assert conv["padding"]["default"] == "same" and kinds["max_pool"]["properties"]["padding"]["default"] == "valid"
    assert conv["bias"]["default"] is True and conv["stride"]["default"] == 1


@pytest.mark.parametrize("path", builtin_paths(), ids=lambda p: Path(p).stem)
def test_every_built_in_is_valid(validator: Any, path: str) -> None:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors[:3]


GOOD = """\
name: tiny
input: 32x32x3
defaults:
  conv: {bias: false}
blocks:
  pair:
    args: [c]
    layers:
      - conv: {filters: $c, kernel: 3}
      - {relu, when: "$c - 1"}
layers:
  - conv: {filters: 16, kernel: 1x3, padding: [0, 1], groups: 1}
  - max_pool: {kernel: 2, padding: [[0, 1], [0, 1]]}
  - module: {name: a, use: pair, with: {c: 8}, repeat: 2}
  - residual: {scale: 0.5, layers: [{conv: {filters: 8, kernel: 3}}]}
  - concat: {x: [{conv: {filters: 8, kernel: 1}}], y: []}
  - global_avg_pool
  - flatten
  - dropout: {rate: 40%}
  - linear: {out: 10, activation: relu}
"""

BROKEN = [  # (what is wrong, the edit) : both the reader and the schema refuse it
    ("a misspelt argument", "kernel: 1x3, padding", "kernal: 1x3, padding"),
    ("a word for a count", "filters: 16,", "filters: sixteen,"),
    ("a number for a flag", "bias: false}", "bias: 3}"),
    ("an unknown activation", "activation: relu}", "activation: relux}"),
    ("a rate of 2", "rate: 40%", "rate: 2"),
    ("an unknown padding", "padding: [0, 1]", "padding: full"),
    ("a kernel of three values", "kernel: 1x3,", "kernel: [1, 3, 3],"),
    ("an unknown top-level key", "name: tiny", "nam: tiny"),
    ("an unknown kind", "  - flatten", "  - flaten"),
    ("an unknown key in a module", "repeat: 2}", "repeats: 2}"),
    ("a residual scale of text", "scale: 0.5", "scale: half"),
    ("a padding side of three values", "[[0, 1], [0, 1]]", "[[0, 1, 2], [0, 1]]"),
]


def test_a_good_file_is_valid_for_both(validator: Any) -> None:
    analyse(parse_text(GOOD, "tiny.yaml"))
    assert not list(validator.iter_errors(yaml.safe_load(GOOD)))


@pytest.mark.parametrize(("what", "old", "new"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_files_are_refused_by_the_schema_as_by_the_reader(validator: Any, what: str, old: str,
                                                                 new: str) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ArchitectureError):
        analyse(parse_text(text, "tiny.yaml"))
    assert list(validator.iter_errors(yaml.safe_load(text))), f"the schema accepts {what}"

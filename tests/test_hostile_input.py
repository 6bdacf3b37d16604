"""Broken and hostile architecture files: one line, a documented exit code, nothing else.

`tests/bad/` holds hand-written bad files; `EXPECTED.tsv` gives each one's exit code and
its exact error line. The Hypothesis tests generate random and mutated documents and
check that loading either gives a network or raises the documented error type, fast.
"""

import csv
import random
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inception_cost.cli import cli
from inception_cost.core.analysis import analyse
from inception_cost.errors import ExitCode, InceptionCostError
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.memory import Dtype
from inception_cost.reports.estimates import memory_report, roofline_report
from inception_cost.reports.network import network_report
from inception_cost.reports.render import render
from inception_cost.source.catalog import builtin_paths
from inception_cost.source.document import parse_text

DEVICE = load_device("h100-sxm")

BAD = Path(__file__).parent / "bad"
EXPECTED = list(csv.reader((BAD / "EXPECTED.tsv").open(), delimiter="\t"))


@pytest.mark.parametrize("name,code,message", EXPECTED, ids=[row[0] for row in EXPECTED])
def test_bad_file_corpus(name, code, message, monkeypatch):
    monkeypatch.chdir(BAD)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [name])
    assert time.perf_counter() - started < 5
    assert result.exit_code == int(code)
    assert result.stderr == f"inception-cost: {message}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("content,fragment", [
    (b"", "file is empty"),
    (b"# only a comment\n", "holds no YAML document"),
    (b"input: 8x8x3\nlayers: [relu]\n\xff\xfe oops\n", "not UTF-8 text"),
    (bytes(range(256)) * 4, "not UTF-8 text"),
    (b"\xef\xbb\xbfinput: 8x8x3\nlayers: [relu]\n", None),  # a UTF-8 BOM is fine
])
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "net.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, [str(path)])
    if fragment is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert fragment in result.stderr and len(result.stderr.splitlines()) == 1


def test_directory_and_huge_files(tmp_path):
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert "is a directory" in CliRunner().invoke(cli, [str(folder)]).stderr
    big = tmp_path / "big.yaml"
    big.write_text("input: 8x8x3\nlayers:\n" + "  - relu\n" * 300_000)
    result = CliRunner().invoke(cli, [str(big)])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert "more than the 1,000,000 bytes an architecture may have" in result.stderr


@pytest.mark.parametrize(("args", "line"), [
    (["m.yaml"], "m.yaml: is a directory, not an architecture file"),
    (["m.onnx"], "m.onnx: is a directory, not an ONNX model file"),
    (["m.keras"], "m.keras: is a directory, not a Keras model file"),
    (["m.json"], "m.json: is a directory, not a Keras config file"),
    (["roofline", "googlenet", "--device", "./m.yaml"], "./m.yaml: is a directory, not a device profile file"),
    (["accuracy", "m.json"], "m.json: is a directory, not a measurements file"),
])
def test_a_folder_is_named_for_what_was_expected(tmp_path, monkeypatch, args, line):
    # the ONNX reader's hint for a file over its limit, and measurements' "file", once
    # ended up in this line: "not an ONNX model (export its weights ...) file", "not a
    # measurements file file"
    monkeypatch.chdir(tmp_path)
    (tmp_path / args[-1]).mkdir()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert result.stderr == f"inception-cost: {line}\n"


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("input: 8x8x3\nlayers: " + "[" * 5000 + "]" * 5000 + "\n")
    result = CliRunner().invoke(cli, [str(path)])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert "nesting" in result.stderr


def _load(text: str):
    """Load and analyse; then every report format must render. Errors must be ours."""
    started = time.perf_counter()
    try:
        for train in (False, True):
            analysis = analyse(parse_text(text, "fuzz.yaml"), train=train)
            for report in (network_report(analysis), memory_report(analysis, Dtype.FP16, 2),
                           roofline_report(analysis, DEVICE, Dtype.FP16, 1)):
                for fmt in ("table", "markdown", "csv", "json"):
                    assert render(report, fmt)
    except InceptionCostError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.yaml")
        assert exc.exit_code in (ExitCode.SHAPE_MISMATCH, ExitCode.INVALID_ARCHITECTURE)
    assert time.perf_counter() - started < 3


KEYS = ["input", "layers", "conv", "filters", "kernel", "stride", "padding", "groups", "bias",
        "concat", "residual", "scale", "module", "name", "use", "with", "repeat", "blocks", "args",
        "defaults", "max_pool", "avg_pool", "rounding", "linear", "out", "flatten", "auxiliary",
        "table", "rows", "columns", "units", "relu", "batch_norm", "dropout", "rate", "x"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.floats(allow_nan=True),
                    st.sampled_from(["same", "valid", "ceil", "3x3", "1x7", "28x28x3", "$a", "7x7/2",
                                     "inception (3a)", "", "relu", "9" * 5000, "9" * 5000 + "x3",
                                     "7x7/" + "9" * 5000, "1" + "0" * 4400 + "K"]),
                    st.text(max_size=8))
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=5)),
    max_leaves=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=6))
def test_random_documents(document):
    _load(yaml.safe_dump(document))


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"input": st.sampled_from(["32x32x3", "8x8x1", "1x1x1", "224x224x3"]),
                              "layers": st.lists(DOCUMENTS, min_size=1, max_size=6)}))
def test_random_layer_lists(document):
    _load(yaml.safe_dump(document))


BUILTIN_TEXTS = {Path(p).name: Path(p).read_text() for p in builtin_paths()}
MUTATION_VALUES = ["0", "-1", "1", "7", "1000000000", "2.5", "x", "~", "[]", "{}", "same", "&a 3",
                   "*a", "!!python/name:os.system", "'1x7'", "010", "1:30", ".inf", "-.nan",
                   "9" * 5000, '"' + "9" * 5000 + '"', "1.0e+400"]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        choice = rng.randrange(6)
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif choice == 2:  # replace a number or a word
            words = lines[i].replace(",", " ").replace("]", " ").replace("}", " ").split()
            if words:
                lines[i] = lines[i].replace(rng.choice(words), rng.choice(MUTATION_VALUES), 1)
        elif choice == 3:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + rng.choice(["\t", ":", "- ", "{", "[", "#", "  "]) + lines[i][cut:]
        elif choice == 4:
            lines = lines[: i + 1]
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(BUILTIN_TEXTS)), st.randoms(use_true_random=False))
def test_mutated_builtins(name, rng):
    _load(_mutate(BUILTIN_TEXTS[name], rng))


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch, failure):
    """Ctrl-C or a disk error while writing: the old report stays whole, no temporary left."""
    import os

    from inception_cost.cli.output import write_output
    from inception_cost.errors import OutputError

    target = tmp_path / "report.md"
    target.write_text("the old report")

    def broken_fsync(fd):
        raise failure(28, "No space left on device") if failure is OSError else failure()

    monkeypatch.setattr(os, "fsync", broken_fsync)
    expected = OutputError if failure is OSError else KeyboardInterrupt
    with pytest.raises(expected):
        write_output("the new report", str(target), force=True)
    assert target.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_special_files_are_never_read_or_replaced(tmp_path):
    import os

    if os.path.exists("/dev/zero"):  # an endless file: refused before reading a byte
        result = CliRunner().invoke(cli, ["/dev/zero"])
        assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
        assert "is not a regular file" in result.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    for target in (fifo, link):
        result = CliRunner().invoke(cli, ["googlenet", "-o", str(target), "--force"])
        assert result.exit_code == ExitCode.OUTPUT_NOT_WRITTEN
        assert "is not a regular file; not replaced" in result.stderr
    assert fifo.is_fifo() and link.is_symlink()


def test_reports_get_the_usual_file_mode(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.txt"
        assert CliRunner().invoke(cli, ["googlenet", "-o", str(new)]).exit_code == 0
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's 0600
        new.chmod(0o664)
        assert CliRunner().invoke(cli, ["googlenet", "-o", str(new), "--force"]).exit_code == 0
        assert stat.S_IMODE(new.stat().st_mode) == 0o664  # --force keeps the mode
    finally:
        os.umask(umask)


def test_names_cannot_drive_the_terminal(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text('name: "a\\e[2Jb"\ninput: 8x8x3\nlayers:\n  - conv: {name: "x\\e]0;t\\a", filters: 4, kernel: 3}\n')
    for fmt in ("table", "markdown", "csv", "json"):
        out = CliRunner().invoke(cli, [str(path), "-f", fmt]).stdout
        assert "\x1b" not in out and "\x07" not in out

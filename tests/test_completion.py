"""Shell completion, through click's own protocol: the shell sets
_INCEPTION_COST_COMPLETE=bash_complete (zsh_complete, fish_complete) with the words typed
so far, and the tool answers with one `type,value` line per candidate (bash)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from inception_cost.cli import main
from inception_cost.cli.app import cli
from inception_cost.core.conventions import PRESETS
from inception_cost.estimates.devices import builtin_devices
from inception_cost.source.catalog import builtin_names


def complete(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, line: str,
             shell: str = "bash") -> list[str]:
    """The candidates for the last word of `line` (empty when `line` ends with a space)."""
    words = line.split(" ")
    monkeypatch.setenv("_INCEPTION_COST_COMPLETE", f"{shell}_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    return [entry.split(",", 1)[1] for entry in out.splitlines() if entry]


def test_commands_and_built_in_names_come_first(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    everything = complete(capsys, monkeypatch, "inception-cost ")
    assert {"compare", "sweep", "roofline", "completion", "show"} <= set(everything)
    assert set(builtin_names()) <= set(everything)
    assert complete(capsys, monkeypatch, "inception-cost googlenet-") == ["googlenet-torchvision"]
    assert complete(capsys, monkeypatch, "inception-cost r") == ["roofline", "resnet50"]
    assert complete(capsys, monkeypatch, "inception-cost my-ne") == ["my-ne"]  # a file: the shell's turn
    assert complete(capsys, monkeypatch, "inception-cost compare na") == ["naive"]
    assert complete(capsys, monkeypatch, "inception-cost compare naive re") == ["reduced", "resnet50"]


def test_options_of_the_command_on_the_line(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    options = complete(capsys, monkeypatch, "inception-cost googlenet --")
    assert {"--module", "--convention", "--format", "--output", "--force", "--wide", "--train"} <= set(options)
    assert "--device" not in options
    assert "--device" in complete(capsys, monkeypatch, "inception-cost roofline googlenet --d")


def test_module_names_of_the_architecture_already_typed(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert complete(capsys, monkeypatch, "inception-cost googlenet --module 4") == ["4a", "4b", "4c", "4d", "4e"]
    assert complete(capsys, monkeypatch, "inception-cost googlenet -f json -m 3") == ["3a", "3b"]
    assert complete(capsys, monkeypatch, "inception-cost googlenet --module 4b/") == \
        ["4b/1x1", "4b/3x3", "4b/5x5", "4b/pool"]
    assert complete(capsys, monkeypatch, "inception-cost inception-v3 -m Mixed_5") == \
        ["Mixed_5b", "Mixed_5c", "Mixed_5d"]
    assert complete(capsys, monkeypatch, "inception-cost compare naive reduced --module 5") == ["5a", "5b"]
    assert complete(capsys, monkeypatch, "inception-cost memory googlenet -m 5") == ["5a", "5b"]
    assert complete(capsys, monkeypatch, "inception-cost googlenet --train -m aux") == ["aux1", "aux2"]
    assert complete(capsys, monkeypatch, "inception-cost no-such-net -m ") == []  # no error while typing


def test_a_name_with_a_control_character_is_never_offered(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # a newline in a module's name once split the one-candidate-a-line answer in two, the
    # second line ("| fake | row |") a candidate of no type; a right-to-left override
    # reached the terminal
    (tmp_path / "odd.yaml").write_text('input: 8x8x3\nlayers:\n'
                                       '  - module: {name: "m\\n| fake | row |", layers: [relu]}\n'
                                       '  - module: {name: "rtl\\u202eevil", layers: [relu]}\n'
                                       '  - module: {name: plain, layers: [relu]}\n')
    monkeypatch.chdir(tmp_path)
    for shell in ("bash", "zsh", "fish"):
        monkeypatch.setenv("_INCEPTION_COST_COMPLETE", f"{shell}_complete")
        monkeypatch.setenv("COMP_WORDS", "inception-cost odd.yaml -m ")
        monkeypatch.setenv("COMP_CWORD", "" if shell == "fish" else "3")  # fish gives the word typed
        with pytest.raises(SystemExit):
            main([])
        out = capsys.readouterr().out
        assert "plain" in out and "fake" not in out and "\u202e" not in out, (shell, out)


def test_conventions_devices_dtypes_formats_and_sweep_arguments(capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert complete(capsys, monkeypatch, "inception-cost googlenet -c ") == list(PRESETS)
    assert complete(capsys, monkeypatch, "inception-cost googlenet -c pt") == ["ptflops", "ptflops-aten"]
    assert complete(capsys, monkeypatch, "inception-cost roofline googlenet --device ") == builtin_devices()
    assert complete(capsys, monkeypatch, "inception-cost roofline googlenet --device h1") == \
        ["h100-measured", "h100-pcie", "h100-sxm"]
    assert complete(capsys, monkeypatch, "inception-cost accuracy m.json --device a1") == \
        ["a10", "a100-40gb", "a100-80gb", "a100-80gb-pcie"]
    assert complete(capsys, monkeypatch, "inception-cost calibrate m.json --base t") == ["t4"]
    assert complete(capsys, monkeypatch, "inception-cost memory googlenet --dtype ") == ["fp32", "bf16", "fp16", "int8"]
    assert complete(capsys, monkeypatch, "inception-cost googlenet -f ") == ["table", "markdown", "csv", "json", "html",
                                                                           "svg"]
    assert complete(capsys, monkeypatch, "inception-cost explain googlenet --conventions torchvision,f") == \
        ["torchvision,fvcore", "torchvision,flop-counter"]
    assert complete(capsys, monkeypatch, "inception-cost sweep keras-cifar10 -m inception --vary ") == ["filters="]
    assert complete(capsys, monkeypatch, "inception-cost sweep googlenet -m 3a --vary #5") == \
        ["#5x5 reduce=", "#5x5="]
    assert complete(capsys, monkeypatch, "inception-cost completion ") == ["bash", "zsh", "fish"]


def test_a_path_is_left_to_the_shell(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_INCEPTION_COST_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "inception-cost ./arch")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit):
        main([])
    assert capsys.readouterr().out.splitlines() == ["file,./arch"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_command_prints_the_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_INCEPTION_COST_COMPLETE" in result.output and f"{shell}_complete" in result.output
    assert "inception-cost" in result.output


def test_without_a_shell_one_plain_line_names_the_shells() -> None:
    # click words this "Choose from:\n\tbash,\n\tzsh,\n\tfish", which came out with its
    # newlines and tabs escaped: "Choose from:\\n\\tbash,\\n\\tzsh,\\n\\tfish"
    result = CliRunner().invoke(cli, ["completion"], prog_name="inception-cost")
    assert result.exit_code == 4
    assert result.stderr == ("inception-cost: Missing argument '{bash|zsh|fish}'. Choose from: bash, zsh, fish"
                             " (see 'inception-cost completion --help')\n")


def test_the_real_protocol_in_a_fresh_process_answers_quickly() -> None:
    """As the shell calls it: a new process; no YAML is read to complete a command name."""
    env = {**os.environ, "_INCEPTION_COST_COMPLETE": "bash_complete", "COMP_WORDS": "inception-cost sw",
           "COMP_CWORD": "1"}
    code = ("import sys; from inception_cost.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('yaml' in sys.modules, 'rich' in sys.modules, 'inception_cost.source.graphform' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["plain,sweep", "False False False"]

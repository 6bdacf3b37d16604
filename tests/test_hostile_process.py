"""Hostile surroundings: outputs that cannot be written, odd encodings, signals at any
moment, shell completion variables, special files, names that are also files.

Each ends in at most one stderr line and a code from the README's table, never a
traceback, with any previous output intact and no temporary file left. Most cases run
the real entry point in a subprocess (`python -m inception_cost`), which installs the
signal handlers the way the console script does.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.errors import ExitCode

ENTRY = [sys.executable, "-m", "inception_cost"]


def run(*args, env=None, timeout=20, **kwargs):
    """The command in a subprocess: (exit code, stderr)."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run([*ENTRY, *args], env=environment, timeout=timeout, stderr=subprocess.PIPE,
                            **{"stdout": subprocess.DEVNULL, **kwargs})
    return result.returncode, result.stderr.decode()


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("inception-cost: ") and not stderr.startswith("\n"), stderr
    return stderr


def test_output_that_cannot_be_written_is_exit_5(tmp_path):
    for args in (["list"], ["--version"], ["sweep", "--help"]):
        closed = subprocess.run([*ENTRY, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=lambda: os.close(1), timeout=20)
        assert closed.returncode == ExitCode.OUTPUT_NOT_WRITTEN, args
        assert "standard output is closed" in one_line(closed.stderr.decode())
    read_only = tmp_path / "read-only"
    read_only.write_text("")
    with read_only.open("rb") as handle:  # a descriptor open for reading only
        code, stderr = run("list", stdout=handle)
    assert code == ExitCode.OUTPUT_NOT_WRITTEN and "cannot write" in one_line(stderr)
    if os.path.exists("/dev/full"):
        for args in (["list"], ["googlenet", "-f", "json"], ["--help"], ["compare", "--help"]):
            with open("/dev/full", "wb") as full:
                code, stderr = run(*args, stdout=full)
            assert code == ExitCode.OUTPUT_NOT_WRITTEN, args
            assert "No space left" in one_line(stderr)


def test_a_reader_that_goes_away_is_exit_5():
    process = subprocess.Popen([*ENTRY, "export", "inception-resnet-v2", "-f", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # `| true`: nobody reads
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=20) == ExitCode.OUTPUT_NOT_WRITTEN
    assert "Broken pipe" in one_line(stderr)


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_reader_that_goes_away_midway_is_exit_5(unbuffered):
    """`| head -c 10` of a report larger than the pipe: the first write is cut short when
    the reader leaves. Under PYTHONUNBUFFERED=1 (as many container images set) Python's
    text stream wrote once and dropped the rest: exit 0, nothing said."""
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen([*ENTRY, "export", "inception-resnet-v2", "-f", "html"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.read(10) == b"<!DOCTYPE "  # the page is 530,272 bytes, the pipe 65,536
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=20) == ExitCode.OUTPUT_NOT_WRITTEN
    assert "Broken pipe" in one_line(stderr)


def test_closed_stderr_keeps_the_exit_code():
    result = subprocess.run([*ENTRY, "no-such-network"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=lambda: os.close(2), timeout=20)
    assert result.returncode == ExitCode.USAGE


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}])
def test_ascii_terminals_get_plain_characters(env):
    result = subprocess.run([*ENTRY, "devices"], capture_output=True, timeout=20,
                            env={**os.environ, "PYTHONUTF8": "0", **env})
    assert result.returncode == 0, result.stderr
    assert b"us per kernel" in result.stdout and result.stderr == b""  # the column "µs per kernel"


@pytest.mark.parametrize("env", [
    {"_INCEPTION_COST_COMPLETE": "bogus"},
    {"_INCEPTION_COST_COMPLETE": "bash_nothing"},
    {"_INCEPTION_COST_COMPLETE": "bash_complete"},  # without COMP_WORDS
    {"_INCEPTION_COST_COMPLETE": "zsh_complete", "COMP_WORDS": "x", "COMP_CWORD": "abc"},
])
def test_odd_completion_variables_are_usage_errors(env):
    code, stderr = run(env=env)
    assert code == ExitCode.USAGE and "_INCEPTION_COST_COMPLETE" in one_line(stderr)


def test_completion_still_works():
    code, stderr = run(env={"_INCEPTION_COST_COMPLETE": "bash_source"})
    assert code == 0 and stderr == ""


# A signal delivered at a chosen moment: while click is imported (the first tens of
# milliseconds), or while the report is being written to disk.
SIGNAL_AT = """
import builtins, os, signal, sys
target, signum = sys.argv[1], getattr(signal, sys.argv[2])
def kill():
    os.kill(os.getpid(), signum)
if target == "import":
    real = builtins.__import__
    def importing(name, *args, **kwargs):
        if name == "click":
            kill()
        return real(name, *args, **kwargs)
    builtins.__import__ = importing
else:
    os.fsync = lambda fd: kill()
sys.argv = ["inception-cost", "googlenet", "-o", target, "--force"]
from inception_cost.cli import main
main()
"""


@pytest.mark.parametrize("name,code,message", [
    ("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)"),
    ("SIGHUP", 129, "hung up (SIGHUP)")])
@pytest.mark.parametrize("moment", ["import", "write"])
def test_signals_end_in_one_line_and_leave_no_temporary_file(tmp_path, name, code, message, moment):
    target = tmp_path / "report.txt"
    target.write_text("the old report")
    where = "import" if moment == "import" else str(target)
    result = subprocess.run([sys.executable, "-c", SIGNAL_AT, where, name], capture_output=True,
                            timeout=20, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == code
    assert result.stderr.decode() == f"inception-cost: {message}\n"
    assert target.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_ctrl_c_inside_a_command_prints_no_blank_line(monkeypatch):
    from inception_cost.source import catalog

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(catalog, "load", interrupted)
    result = CliRunner().invoke(cli, ["googlenet"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr == "inception-cost: interrupted\n"


@pytest.mark.skipif(not os.path.exists("/proc/kmsg"), reason="needs /proc/kmsg")
def test_special_files_that_look_regular_do_not_hang(tmp_path):
    link = tmp_path / "device.yaml"
    link.symlink_to("/proc/kmsg")
    for args in (["/proc/kmsg"], [str(link)], ["roofline", "googlenet", "--device", str(link)]):
        started = time.perf_counter()
        code, stderr = run(*args, timeout=10)
        assert code == ExitCode.INVALID_ARCHITECTURE and "empty" in one_line(stderr)
        assert time.perf_counter() - started < 5


def test_output_names_a_folder_or_a_long_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for target in ("newdir/", "newdir/.", "newdir/..", "."):
        result = runner.invoke(cli, ["googlenet", "-o", target])
        assert result.exit_code == ExitCode.OUTPUT_NOT_WRITTEN and "names a folder" in result.stderr
    assert not os.path.exists("newdir")
    os.mkdir("folder")
    result = runner.invoke(cli, ["googlenet", "-o", "folder", "--force"])
    assert result.exit_code == ExitCode.OUTPUT_NOT_WRITTEN and "is a directory" in result.stderr
    long_name = "r" * 245 + ".json"  # 250 bytes: legal; its temporary name must be too
    assert runner.invoke(cli, ["googlenet", "-f", "json", "-o", long_name]).exit_code == 0
    assert sorted(os.listdir()) == ["folder", long_name]


def test_builtin_names_win_unless_the_argument_is_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    os.mkdir("googlenet")
    assert runner.invoke(cli, ["list"]).exit_code == 0
    os.rmdir("googlenet")
    (tmp_path / "googlenet").write_text("name: mine\ninput: 8x8x3\nlayers: [relu]\n")
    assert "GoogLeNet" in runner.invoke(cli, ["googlenet"]).stdout
    assert runner.invoke(cli, ["./googlenet"]).stdout.startswith("mine")
    (tmp_path / "mynet").write_text("input: 8x8x3\nlayers: [relu]\n")
    result = runner.invoke(cli, ["mynet"])
    assert result.exit_code == ExitCode.USAGE and "write './mynet'" in result.stderr
    result = runner.invoke(cli, ["roofline", "googlenet", "--device", "./h200"])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE and "no such file" in result.stderr
    # --device follows the same rule, hint included (README: Names and paths)
    (tmp_path / "mygpu").write_text((tmp_path / "googlenet").read_text())
    result = runner.invoke(cli, ["roofline", "googlenet", "--device", "mygpu"])
    assert result.exit_code == ExitCode.USAGE and "write './mygpu'" in result.stderr


def test_a_file_named_like_a_command_is_read_by_its_path(tmp_path, monkeypatch):
    """README: `show` does not make `list` a file; `./list` does, with or without it."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    (tmp_path / "list").write_text("name: mine\ninput: 8x8x3\nlayers: [relu]\n")
    assert "built-in architectures" in runner.invoke(cli, ["list"]).stdout
    result = runner.invoke(cli, ["show", "list"])
    assert result.exit_code == ExitCode.USAGE and "write './list'" in result.stderr
    for args in (["./list"], ["show", "./list"]):
        assert runner.invoke(cli, args).stdout.startswith("mine: cost by row"), args


def test_an_auxiliary_head_has_no_naive_form():
    result = CliRunner().invoke(cli, ["compare", "naive", "reduced", "--module", "aux1", "--train"])
    assert result.exit_code == ExitCode.USAGE and "no naive form" not in result.stdout
    assert "'aux1' is not a row" in one_line(result.stderr)


def test_every_exit_code_is_in_the_readme():
    from pathlib import Path

    readme = Path(__file__).parent.parent.joinpath("README.md").read_text()
    for code in ExitCode:
        assert f"\n| {int(code)} | " in readme, code


@pytest.mark.parametrize("args", [["{p}.onnx"], ["{p}.keras"], ["{p}.json"], ["calibrate", "{p}.json"]])
def test_model_and_measurement_files_that_would_block_are_refused_at_once(tmp_path, args):
    # every reader of user files (YAML, models, measurements) opens without blocking and
    # reads regular files only: a FIFO nobody writes to would hang a plain open()
    base = tmp_path / "model"
    fifo = str(base) + os.path.splitext(args[-1])[1]
    os.mkfifo(fifo)
    started = time.monotonic()
    code, stderr = run(*[a.format(p=base) for a in args], timeout=20)
    assert time.monotonic() - started < 10
    one_line(stderr)
    assert code == ExitCode.INVALID_ARCHITECTURE and stderr.strip().endswith("is not a regular file")

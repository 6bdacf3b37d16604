"""The table view on a real terminal: a pseudo-terminal of 60, 80 and 120 columns.

Every command runs in a child process whose standard output is a pty with that window
size (set by ioctl, no COLUMNS), as on a user's terminal. Checked against the JSON of
the same command: no line is wider than the terminal, every number on the screen is a
whole number of the report (nothing cut or wrapped), every column the screen shows has
all its values, and the columns left out are exactly the ones the note names.
"""

from __future__ import annotations

import json
import os
import pty
import re
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from inception_cost.cli.app import cli
from inception_cost.reports.model import FLOAT, INT, RATIO, SHAPE, SHARE
from inception_cost.reports.render import cell

COMMANDS = [
    ["googlenet"],
    ["googlenet", "--module", "3a"],
    ["inception-resnet-v2", "-m", "block35_3"],
    ["compare", "naive", "reduced"],
    ["compare", "googlenet", "googlenet-torchvision"],
    ["compare", "googlenet", "googlenet-torchvision", "--module", "3a"],
    ["factorize"],
    ["factorize", "googlenet", "--module", "3a"],
    ["export", "googlenet", "-f", "table"],
    ["list"],
    ["explain", "googlenet-torchvision"],
    ["memory", "googlenet", "--module", "3a"],
    ["roofline", "googlenet"],
    ["roofline", "googlenet", "--module", "3a"],
    ["devices"],
    ["accuracy", str(Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json")],
    ["sweep", "googlenet", "--module", "3a", "--vary", "#5x5 reduce=4..64:4", "--vary", "#3x3 reduce=32..192:16",
     "--top", "5"],
]
WIDTHS = (60, 80, 120)
MARK = "=====8<====="
# Runs every command in one process, as `inception-cost` would, on the terminal it is given.
DRIVER = f"""
import json, sys
from inception_cost.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main(args)
    except SystemExit:
        pass
    sys.stdout.write({MARK!r} + "\\n")
    sys.stdout.flush()
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMED = re.compile(r" in [\d.]+ s\b")  # the sweep's own run time differs from run to run


def run_on_terminal(commands: list[list[str]], columns: int, **env: str) -> list[str]:
    """The screen text of each command on a pty `columns` wide."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", **env})
    child = subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(commands)], stdin=slave, stdout=slave,
                             stderr=slave, env=environment, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    child.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    screens = text.split(MARK + "\n")
    assert len(screens) == len(commands) + 1, text[-2000:]
    return screens[:-1]


@pytest.fixture(scope="module", params=WIDTHS)
def screens(request: pytest.FixtureRequest) -> tuple[int, list[str]]:
    return request.param, run_on_terminal(COMMANDS, request.param, NO_COLOR="1")


def document(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "-f", "json"] if args[0] != "export" else [*args[:-2], "-f", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.output)
    return doc


def numbers(text: str) -> list[str]:
    """The numbers in a text as they are written: 1,234 / 9.68x / 7.5% / 28x28x256."""
    found = []
    for word in text.split():
        word = word.strip("();:,'`[]")
        word = word.rstrip(".") if not re.fullmatch(r"[\d,]+\.\d+", word) else word
        if re.fullmatch(r"[\d,.]*\d[\d,.]*[%x]?|\d+(x\d+)+", word):
            found.append(word)
    return found


def dropped_titles(chunk: str, columns: int) -> list[str]:
    match = re.search(rf"Not shown at {columns} columns: (.*?) \(--wide", " ".join(chunk.split()))
    return match.group(1).split(", ") if match else []


def shown(row: dict[str, Any], column: dict[str, Any]) -> str:
    """What the screen shows for a row's cell: the column's text where it has one (9.2K)."""
    if row.get(column.get("text_key", "")) is not None:
        return str(row[column["text_key"]])
    value = row.get(column["key"])
    return "" if value is None else cell(value, column["kind"])


@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(c[:3]) for c in COMMANDS])
def test_every_number_on_the_screen_is_whole_and_every_kept_column_complete(
        screens: tuple[int, list[str]], index: int) -> None:
    columns, texts = screens
    screen, args = texts[index], COMMANDS[index]
    assert "Traceback" not in screen and "internal error" not in screen, screen
    for line in screen.splitlines():
        assert len(line) <= columns, f"{len(line)} > {columns}: {line!r}"
    doc = document(args)
    piped = CliRunner().invoke(cli, args).output  # the plain view: every column, nothing wrapped
    assert "\x1b" not in piped
    whole = Counter(numbers(TIMED.sub("", piped)))
    for number in numbers(TIMED.sub("", screen.replace(f"Not shown at {columns} columns", ""))):
        assert number in whole, f"{number!r} on the {columns}-column screen is no number of the report"
    screen = " ".join(screen.split())  # a long title may wrap
    starts = [screen.index(" ".join(section["title"].split())) for section in doc["sections"]]
    for section, start, end in zip(doc["sections"], starts, [*starts[1:], len(screen)]):
        chunk = screen[start:end]
        on_screen = Counter(numbers(chunk))
        dropped = Counter(dropped_titles(chunk, columns))
        titles = Counter(c["title"] for c in section["columns"])
        assert not dropped - titles, f"the note names columns the section does not have: {dropped - titles}"
        rows = section["rows"] + ([section["total"]] if section["total"] else [])
        visible = [c for c in section["columns"] if any(r.get(c["key"]) not in (None, "") for r in rows)]
        kept = [c for c in visible if dropped[c["title"]] == 0 or titles[c["title"]] > dropped[c["title"]]]
        for column in kept:
            if column["kind"] not in (INT, SHARE, RATIO, FLOAT, SHAPE):
                continue
            values = Counter(shown(r, column) for r in rows) - Counter({"": 10**9})
            missing = values - on_screen
            assert not missing, f"column {column['title']!r} shown without {sorted(missing)} at {columns}"
        if columns >= 80:  # the names a user types (--module) and the MACs stay
            assert not {"row", "branch", "layer", "name", "MACs"} & set(dropped), dropped


def test_a_wide_terminal_shows_everything_and_narrow_ones_say_what_they_leave_out() -> None:
    narrow = run_on_terminal([["googlenet"], ["googlenet", "--wide"]], 80, NO_COLOR="1")
    assert "Not shown at 80 columns: #, type, depth, share of MACs" in " ".join(narrow[0].split())
    assert "--wide shows every column" in narrow[0]
    assert "Not shown" not in narrow[1] and "paper ops" in narrow[1] and "inception (3a)" in narrow[1]
    assert max(len(line) for line in narrow[1].splitlines()) > 80  # wider than the terminal, on request


def test_colour_on_a_terminal_only_and_as_the_environment_says() -> None:
    plain, coloured = (run_on_terminal([["googlenet"], ["sweep", "googlenet", "-m", "3a", "--vary",
                                                        "#5x5 reduce=4..64:4", "--top", "3"],
                                        ["roofline", "googlenet", "-m", "3a"]], 100, **env)
                       for env in ({"NO_COLOR": "1"}, {}))
    for bare, painted in zip(plain, coloured):
        assert "\x1b[" not in bare and "\x1b[" in painted
        # colour changes nothing else (a painted header may keep its padding at the line's end)
        assert [TIMED.sub("", line.rstrip()) for line in ANSI.sub("", painted).splitlines()] == \
            [TIMED.sub("", line) for line in bare.splitlines()]
    conv1 = next(line for line in coloured[0].splitlines() if " conv1 " in ANSI.sub("", line))
    assert "\x1b[1;31m" in conv1  # a flagged row of the paper check
    conv2 = next(line for line in coloured[0].splitlines() if " conv2 " in ANSI.sub("", line))
    assert "\x1b[1;31m" not in conv2
    pareto = [line for line in coloured[1].splitlines() if ANSI.sub("", line).rstrip().endswith(" yes")]
    assert pareto and all("\x1b[32m" in line for line in pareto)
    assert "\x1b[33mmemory" in coloured[2] or "\x1b[35moverhead" in coloured[2]  # the bound
    runner = CliRunner()
    assert "\x1b[" not in runner.invoke(cli, ["googlenet"]).output  # a pipe: plain text
    forced = runner.invoke(cli, ["googlenet"], env={"FORCE_COLOR": "1", "NO_COLOR": None}).output
    assert "\x1b[1;31m" in forced
    assert "\x1b[" not in runner.invoke(cli, ["googlenet"], env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output


def test_plain_columns_line_up_under_wide_and_combining_characters(tmp_path: Path) -> None:
    """The plain table (a pipe, a file) pads by the columns a character takes, not by its
    code points: a CJK or emoji name (2 columns each) once pushed every column after it
    right, and a combining accent (0 columns) pulled them left."""
    from inception_cost.reports.render import display_width

    assert [display_width(t) for t in ("3x3", "分支", "🎉", "e\u0301", "ünï", "µs")] == [3, 4, 2, 1, 3, 2]
    names = ["plain", "分支分支", "e\u0301e\u0301 🎉"]
    layers = "".join(f"  - relu: {{name: \"{n}\"}}\n" for n in names)
    (tmp_path / "wide.yaml").write_text(f"input: 8x8x3\nlayers:\n{layers}", encoding="utf-8")
    text = CliRunner().invoke(cli, [str(tmp_path / "wide.yaml")]).stdout.splitlines()
    rows = [line for line in text if any(n in line for n in names)]
    assert len(rows) == 3
    # the type column ("relu") starts at the same screen column on every row
    starts = {display_width(row[:row.index("relu", row.index(n) + len(n))])
              for row, n in zip(rows, names)}
    assert len(starts) == 1, rows

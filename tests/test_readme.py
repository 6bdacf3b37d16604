"""The README cannot drift: every command it shows is run, and what it shows of the output
is compared with what the command prints.

An example is a fenced block whose lines start with `$ inception-cost ARGS`, each
followed by the output it shows, or a Markdown excerpt under `<!-- $ inception-cost ARGS -->`
(up to the next blank line). Every line shown must be a line of the output, in the same
order; `...` (or a `| ... |` table row) marks where lines are left out. The output is the
plain one a pipe gets (stdout and stderr), run from the repository's root.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli.app import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PROMPT = "$ inception-cost "
MARKED = re.compile(r"^<!-- \$ inception-cost (.*) -->$")


def examples() -> list[tuple[int, str, list[str]]]:
    """(README line, arguments, the output lines it shows)."""
    found: list[tuple[int, str, list[str]]] = []
    lines = README.splitlines()
    fenced, language, current = False, "", None
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            fenced, language, current = not fenced, line[3:].strip(), None
            continue
        if fenced and language not in ("python", "yaml", "json") and line.startswith(PROMPT):
            current = (number, line[len(PROMPT):], [])
            found.append(current)
        elif fenced and current is not None:
            current[2].append(line)
        elif not fenced and MARKED.match(line):
            shown = []
            for following in lines[number:]:
                if not following.strip():
                    break
                shown.append(following)
            found.append((number, MARKED.match(line).group(1), shown))  # type: ignore[union-attr]
    return found


EXAMPLES = examples()


def gap(line: str) -> bool:
    return line.strip() == "..." or line.startswith("| ... |")


@pytest.mark.parametrize(("number", "command", "shown"), EXAMPLES, ids=[f"line {e[0]}: {e[1][:50]}" for e in EXAMPLES])
def test_every_command_the_readme_shows_prints_what_it_shows(monkeypatch: pytest.MonkeyPatch, number: int,
                                                             command: str, shown: list[str]) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(command))
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    printed = [line.rstrip() for line in result.output.splitlines()]
    at = 0
    for line in (s.rstrip() for s in shown if s.strip() and not gap(s)):
        try:
            at = printed.index(line, at) + 1
        except ValueError:
            close = [p for p in printed if p.split()[:2] == line.split()[:2]][:3]
            pytest.fail(f"README line {number}, `inception-cost {command}`: the README shows\n{line!r}\n"
                        f"which the command does not print (in this order); it prints e.g. {close}")


def test_the_readme_has_examples_of_every_command() -> None:
    shown = {shlex.split(command)[0] for _, command, _ in EXAMPLES}
    assert {"compare", "factorize", "sweep", "memory", "roofline", "explain", "list"} <= shown
    assert len(EXAMPLES) >= 12


def test_the_table_of_built_ins_holds() -> None:
    rows = re.findall(r"^\| `([\w-]+)` \| .* \| (\d+x\d+x\d+) \| ([\d,]+) \| ([\d,]+) \| (\d+) \|$", README, re.M)
    assert {name for name, *_ in rows} == set(ic.builtins())
    for name, _, params, macs, depth in rows:
        net = ic.analyse(name)
        assert (net.params, net.macs, net.report().meta["depth"]) == \
            (int(params.replace(",", "")), int(macs.replace(",", "")), int(depth)), name

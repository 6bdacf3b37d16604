"""The table view on a terminal: drawn by rich to the terminal's width, never cutting a number.

Every column gets a width computed here, before rich draws it: a number, a shape or a
ratio is never narrower than its widest value, and a text column never narrower than
its longest word. When even that does not fit, whole columns are left out, the least
important first (`Column.priority`), and a note under the table names them and how to
see them. rich then only wraps text at spaces and paints.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.cells import cell_len

from inception_cost.errors import printable
from inception_cost.reports.model import BEST, FLAGGED, INT, NUMERIC, SHAPE, Column, Report, Section
from inception_cost.reports.render import cell, shown, visible_columns

# between two columns: a cell's right padding, the divider, the next cell's left padding
GAP = 3
EDGE = 2  # the padding at the table's left and right edge
TEXT_WIDTH = 20  # a text column narrower than this reads badly: it is left out instead
STYLES = {FLAGGED: "bold red", BEST: "green", "compute": "cyan", "memory": "yellow", "overhead": "magenta"}
_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$")  # the padding rich leaves at a line's end
HEADING, SECTION, QUIET, TOTAL = "bold", "bold cyan", "dim", "bold"


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _whole(column: Column) -> bool:
    """Cells that are never wrapped: numbers and shapes."""
    return column.kind in NUMERIC or column.kind == SHAPE


class Layout:
    """Which columns of a section are shown, and how wide each is."""

    def __init__(self, columns: list[Column], body: list[list[str]], width: int | None) -> None:
        natural = [max([cell_len(c.title)] + [cell_len(r[i]) for r in body]) for i, c in enumerate(columns)]
        least = [max([_longest_word(c.title)] + [cell_len(r[i]) for r in body]) if _whole(c)
                 else min(natural[i], max([TEXT_WIDTH, _longest_word(c.title)] + [_longest_word(r[i]) for r in body]))
                 for i, c in enumerate(columns)]
        kept = list(range(len(columns)))

        def needed(sizes: list[int]) -> int:
            return sum(sizes[i] for i in kept) + GAP * (len(kept) - 1) + EDGE

        if width is not None:
            while len(kept) > 1 and needed(least) > width:
                drop = max(kept, key=lambda i: (columns[i].priority, i))
                group = columns[drop].group
                together = [i for i in kept if group and columns[i].group == group] or [drop]
                if len(together) == len(kept):
                    together = [drop]
                for i in together:
                    kept.remove(i)
        widths = {i: natural[i] for i in kept}
        excess = needed(natural) - width if width is not None else 0
        while excess > 0:  # narrow the widest text column that can still give a character
            shrinkable = [i for i in kept if widths[i] > least[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
        self.kept = kept
        self.widths = [widths[i] for i in kept]
        self.dropped = [columns[i] for i in range(len(columns)) if i not in kept]
        self.width = needed([widths.get(i, 0) for i in range(len(columns))])


def dropped_note(dropped: list[Column], width: int) -> str:
    names = ", ".join(printable(c.title) for c in dropped)
    return (f"Not shown at {width} columns: {names} (--wide shows every column; -f markdown, csv or json"
            " too).")


def table(report: Report, width: int | None = None, color: bool = False) -> str:
    """`width` None: every column at its natural width (`--wide`, or a pipe with FORCE_COLOR)."""
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    fitted = [_section_table(section, width, color) for section in report.sections]
    drawn = max([width or 0] + [grid_width for _, grid_width, _ in fitted])
    console = Console(file=buffer, width=drawn, force_terminal=color, color_system="standard" if color else None,
                      markup=False, highlight=False, emoji=False, soft_wrap=False)

    def say(text: str, style: str = "") -> None:
        console.print(Text(printable(text), style=style if color else ""))

    say(report.title, HEADING)
    if report.meta.get("source"):
        say(f"Source: {report.meta['source']}")
    for line in report.convention:
        say(line, QUIET)
    for section, (grid, _, dropped) in zip(report.sections, fitted):
        console.print()
        say(section.title, SECTION)
        if section.has_table:
            console.print(grid)
        console.print()
        if dropped and width is not None:
            say(dropped_note(dropped, width), QUIET)
        for note in section.notes:
            say(note)
    for note in report.notes:
        say(note)
    return "\n".join(_TRAILING.sub(r"\1", line) for line in buffer.getvalue().split("\n"))


def _section_table(section: Section, width: int | None, color: bool) -> tuple[Any, int, list[Column]]:
    """A rich Table of one section, fitted to `width`; its width; the columns left out."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    columns = visible_columns(section)
    rows = [(row, section.marks.get(i), False) for i, row in enumerate(section.rows)]
    if section.total:
        rows.append((section.total, None, True))
    body = [[cell(*shown(row, c)) if row.get(c.key) is not None or (c.kind != INT and not is_total)
             else "" for c in columns] for row, _, is_total in rows]
    layout = Layout(columns, body, width)
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=True, show_footer=False,
                 header_style=TOTAL if color else "")
    for i, w in zip(layout.kept, layout.widths):
        column = columns[i]
        grid.add_column(Text(printable(column.title), no_wrap=False), justify="right" if column.kind in NUMERIC
                        else "left", width=w, no_wrap=_whole(column), overflow="fold")
    for n, ((_, mark, is_total), cells) in enumerate(zip(rows, body)):
        last = n == len(section.rows) - 1 and section.total is not None
        style = (TOTAL if is_total else STYLES.get(mark or "", "")) if color else ""
        texts = []
        for i in layout.kept:
            value = cells[i]
            cell_style = STYLES.get(value, "") if color and columns[i].marks else ""
            texts.append(Text(value, style=cell_style))
        grid.add_row(*texts, style=style, end_section=last)
    return grid, layout.width, layout.dropped

"""The report model: what every output format shows, computed once.

A `Report` is a title, the counting convention, headline totals and sections of typed
rows. Renderers (`render.py`) turn one Report into a terminal table, Markdown, CSV or
JSON, so the same numbers come out everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Column kinds: how a renderer formats a value.
TEXT, INT, SHAPE, SHARE, RATIO, FLOAT = "text", "int", "shape", "share", "ratio", "float"
NUMERIC = (INT, SHARE, RATIO, FLOAT)  # right-aligned, never wrapped

# Column priorities: which columns a terminal too narrow for the whole table keeps. The
# highest number goes first; names and the figures a user acts on stay longest.
NAME, KEY, DETAIL, EXTRA = 0, 1, 2, 3

# Row and cell marks: what a renderer may emphasise (colour on a terminal, a CSS class
# in HTML). FLAGGED: a row whose printed figures disagree; BEST: a Pareto-optimal
# variant. A column with `marks` names its cell's mark by its value (a roofline bound).
FLAGGED, BEST = "flagged", "best"


class Column:
    __slots__ = ("key", "title", "kind", "priority", "marks", "text_key", "group")

    def __init__(self, key: str, title: str, kind: str = TEXT, priority: int = DETAIL,
                 marks: bool = False, text_key: str | None = None, group: str = "") -> None:
        self.key = key
        self.title = title
        self.kind = kind  # how a renderer formats its values
        self.priority = priority
        self.marks = marks
        # where a row keeps the text people read for the exact value under `key` (the
        # paper's units: 9.2K for 9,408); CSV and JSON give the value, the other views the text
        self.text_key = text_key
        self.group = group  # columns shown or left out together (the two sides of a comparison)

    def retitled(self, title: str) -> Column:
        return Column(self.key, title, self.kind, self.priority, self.marks, self.text_key, self.group)

    def __repr__(self) -> str:
        return f"Column({self.key!r}, {self.title!r}, {self.kind!r})"


class Section:
    __slots__ = ("title", "columns", "rows", "total", "notes", "marks", "_figures")

    def __init__(self, title: str, columns: list[Column], rows: list[dict[str, Any]],
                 total: dict[str, Any] | None = None, notes: list[str] | None = None,
                 marks: dict[int, str] | None = None,
                 figures: list[Any] | Callable[[], list[Any]] | None = None) -> None:
        self.title = title
        self.columns = columns
        self.rows = rows  # column key -> value (int, float, str or None)
        self.total = total
        self.notes = notes if notes is not None else []
        self.marks = marks if marks is not None else {}  # row index -> FLAGGED or BEST
        self._figures = figures if figures is not None else []

    @property
    def has_table(self) -> bool:
        """Whether there is a table to draw: a section with no rows and no total (a sweep
        where nothing fits) is its title and notes, never an empty header."""
        return bool(self.rows or self.total)

    @property
    def figures(self) -> list[Any]:
        """Modules drawn branch by branch (figures.ModuleFigure; two for a comparison), for
        HTML, SVG and Markdown; built when first asked for (a table never needs them)."""
        if callable(self._figures):
            self._figures = self._figures()
        return self._figures


class Report:
    __slots__ = ("title", "convention", "totals", "sections", "notes", "meta", "charts")

    def __init__(self, title: str, convention: list[str], totals: dict[str, Any], sections: list[Section],
                 notes: list[str] | None = None, meta: dict[str, Any] | None = None, charts: Any = None) -> None:
        self.title = title
        self.convention = convention  # lines
        self.totals = totals  # at least params and macs
        self.sections = sections
        self.notes = notes if notes is not None else []
        self.meta = meta if meta is not None else {}
        self.charts = charts  # the whole network's pictures (figures.Charts), for HTML and SVG

"""The report model: what every output format shows, computed once.

A `Report` is a title, the counting convention, headline totals and sections of typed
rows. Renderers (`render.py`) turn one Report into a terminal table, Markdown, CSV or
JSON, so the same numbers come out everywhere.
"""

from __future__ import annotations

from typing import Any

# Column kinds: how a renderer formats a value.
TEXT, INT, SHAPE, SHARE, RATIO, FLOAT = "text", "int", "shape", "share", "ratio", "float"


class Column:
    __slots__ = ("key", "title", "kind")

    def __init__(self, key: str, title: str, kind: str = TEXT) -> None:
        self.key = key
        self.title = title
        self.kind = kind  # how a renderer formats its values

    def __repr__(self) -> str:
        return f"Column({self.key!r}, {self.title!r}, {self.kind!r})"


class Section:
    __slots__ = ("title", "columns", "rows", "total", "notes")

    def __init__(self, title: str, columns: list[Column], rows: list[dict[str, Any]],
                 total: dict[str, Any] | None = None, notes: list[str] | None = None) -> None:
        self.title = title
        self.columns = columns
        self.rows = rows  # column key -> value (int, float, str or None)
        self.total = total
        self.notes = notes if notes is not None else []


class Report:
    __slots__ = ("title", "convention", "totals", "sections", "notes", "meta")

    def __init__(self, title: str, convention: list[str], totals: dict[str, Any], sections: list[Section],
                 notes: list[str] | None = None, meta: dict[str, Any] | None = None) -> None:
        self.title = title
        self.convention = convention  # lines
        self.totals = totals  # at least params and macs
        self.sections = sections
        self.notes = notes if notes is not None else []
        self.meta = meta if meta is not None else {}

"""The report model: what every output format shows, computed once.

A `Report` is a title, the counting convention, headline totals and sections of typed
rows. Renderers (`render.py`) turn one Report into a terminal table, Markdown, CSV or
JSON, so the same numbers come out everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Column kinds: how a renderer formats a value.
TEXT, INT, SHAPE, SHARE, RATIO, FLOAT = "text", "int", "shape", "share", "ratio", "float"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = TEXT


@dataclass
class Section:
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]  # column key -> value (int, float, str or None)
    total: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    title: str
    convention: list[str]  # lines
    totals: dict[str, Any]  # at least params and macs
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

"""The graph-form document of an imported model as YAML a person can read and edit: one
line per layer (`- conv: {name: conv1, filters: 64, kernel: 7, ...}`), structures and
modules as indented blocks."""

from __future__ import annotations

import re
from typing import Any

import yaml

from inception_cost.structures import STRUCTURES

TOP_ORDER = ("name", "title", "source", "notes", "input", "defaults", "blocks", "layers")


def dump(document: dict[str, Any]) -> str:
    lines: list[str] = []
    for key in TOP_ORDER:
        if key not in document:
            continue
        value = document[key]
        if key == "layers":
            lines.append("layers:")
            _items(value, 0, lines)
        elif key == "blocks":
            lines.append("blocks:")
            for name, block in value.items():
                lines.append(f"  {scalar(name)}:")
                lines.append("    layers:")
                _items(block["layers"], 4, lines)
        elif key == "notes" and "\n" in str(value):
            lines.append("notes: |")
            lines += [f"  {line}" for line in str(value).splitlines()]
        else:
            lines.append(f"{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def _items(items: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        (kind, body), = item.items()
        if kind not in STRUCTURES:
            lines.append(f"{pad}- {kind}: {flow(body)}" if body else f"{pad}- {kind}")
        elif kind == "gate":
            lines.append(f"{pad}- gate:")
            _items(body, indent + 4, lines)
        else:
            lines.append(f"{pad}- {kind}:")
            for key, value in body.items():
                if isinstance(value, list) and value:
                    lines.append(f"{pad}    {scalar(key)}:")
                    _items(value, indent + 6, lines)
                else:
                    lines.append(f"{pad}    {scalar(key)}: {flow(value)}")


PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
RESERVED = {"yes", "no", "true", "false", "on", "off", "null"}  # words YAML reads as another type


def scalar(value: Any) -> str:
    """One value as YAML reads it back (strings quoted where they would read as another type)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and PLAIN.fullmatch(value) and value.lower() not in RESERVED:
        return value
    text: str = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True)
    return text.strip().removesuffix("\n...").strip()


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)

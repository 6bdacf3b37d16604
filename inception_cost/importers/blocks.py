"""Repeated modules of an imported model written once: a module whose layers are identical
(names included) to another's becomes a use of a shared block, and consecutive uses
named `prefix<n>`, `prefix<n+1>` ... one module with `{i}`, `start` and `repeat`, so the
names stay the model's own. Works on the graph-form items, bottom-up: a block may use
blocks found inside it."""

from __future__ import annotations

import json
import re
from typing import Any

NUMBERED = re.compile(r"^(.*?)(\d+)$")
STRUCTURES = ("module", "concat", "add", "residual", "gate")  # items that hold items


def share(items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """(items with repeated modules as block uses, the blocks)."""
    counts: dict[str, int] = {}
    _count(items, counts)
    blocks: dict[str, Any] = {}
    names: dict[str, str] = {}  # signature -> block name
    return _rewrite(items, counts, blocks, names), blocks


def _signature(layers: list[Any]) -> str:
    return json.dumps(layers, sort_keys=True)


def _modules(items: list[Any]) -> list[dict[str, Any]]:
    return [item["module"] for item in items if "module" in item and "layers" in item["module"]]


def _count(items: list[Any], counts: dict[str, int]) -> None:
    """How often each module body occurs, inner modules first."""
    for item in items:
        for part in _parts(item):
            _count(part, counts)
    for module in _modules(items):
        key = _signature(module["layers"])
        counts[key] = counts.get(key, 0) + 1


def _parts(item: Any) -> list[list[Any]]:
    (kind, body), = item.items()
    if kind not in STRUCTURES:
        return []
    if isinstance(body, list):
        return [body]
    if isinstance(body, dict):
        return [v for v in body.values() if isinstance(v, list)]
    return []


def _rewrite(items: list[Any], counts: dict[str, int], blocks: dict[str, Any],
             names: dict[str, str]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        (kind, body), = item.items()
        if kind not in STRUCTURES:
            pass
        elif isinstance(body, list):
            body = _rewrite(body, counts, blocks, names)
        elif isinstance(body, dict):
            body = {k: _rewrite(v, counts, blocks, names) if isinstance(v, list) else v for k, v in body.items()}
        if kind == "module" and "layers" in body and counts.get(_signature(item["module"]["layers"]), 0) > 1:
            key = _signature(item["module"]["layers"])  # counted before the inner rewrite
            if key not in names:
                names[key] = _block_name(str(body["name"]), blocks)
                blocks[names[key]] = {"layers": body["layers"]}
            body = {"name": body["name"], "use": names[key]}
        out.append({kind: body})
    return _runs(out)


def _block_name(name: str, blocks: dict[str, Any]) -> str:
    base = NUMBERED.sub(lambda m: m.group(1).rstrip("._"), name) or f"block_{name}"  # layer1.2 -> layer1
    candidate, n = base, 1
    while candidate in blocks:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _runs(items: list[Any]) -> list[Any]:
    """Consecutive uses of one block named prefix<n>, prefix<n+1>, ...: one module with repeat."""
    out: list[Any] = []
    i = 0
    while i < len(items):
        j = i + 1
        first = _numbered_use(items[i])
        while first is not None and j < len(items):
            nxt = _numbered_use(items[j])
            if nxt is None or nxt[:2] != first[:2] or nxt[2] != first[2] + (j - i):
                break
            j += 1
        if first is not None and j - i > 1:
            prefix, block, start = first
            out.append({"module": {"name": f"{prefix}{{i}}", "use": block, "start": start, "repeat": j - i}})
        else:
            out.extend(items[i:j])
        i = j
    return out


def _numbered_use(item: Any) -> tuple[str, str, int] | None:
    body = item.get("module")
    if not isinstance(body, dict) or "use" not in body or "{" in str(body["name"]):
        return None
    match = NUMBERED.match(str(body["name"]))
    return (match.group(1), str(body["use"]), int(match.group(2))) if match else None

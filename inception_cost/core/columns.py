"""The vectorised cost core: whole columns of layers at once, exact integers.

A network is flattened once into a `LayerTable` (one list per field, one entry per
layer); each rule below takes columns and returns a column. Pure Python, no NumPy:
Python integers never overflow, so every count is exact.

The scalar `*_one` functions are the textbook formulas, kept for the property tests
that check every column element against them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from inception_cost.core.terms import TERMS, Term

Column = list[int]
Columns = dict[str, Column]  # field name -> column
TermColumns = dict[Term, Column]

# ---- scalar formulas (one layer) -------------------------------------------------


def conv_weights_one(kh: int, kw: int, cin: int, groups: int, cout: int) -> int:
    return kh * kw * (cin // groups) * cout


def conv_macs_one(kh: int, kw: int, cin: int, groups: int, cout: int, hout: int, wout: int) -> int:
    """MACs = kh * kw * (Cin / groups) * Cout * Hout * Wout."""
    return kh * kw * (cin // groups) * cout * hout * wout


def linear_macs_one(n_in: int, n_out: int, positions: int = 1) -> int:
    return n_in * n_out * positions


# ---- column rules -----------------------------------------------------------------


def conv_weights(kh: Column, kw: Column, cin: Column, groups: Column, cout: Column) -> Column:
    return [a * b * (c // g) * d for a, b, c, g, d in zip(kh, kw, cin, groups, cout)]


def conv_macs(kh: Column, kw: Column, cin: Column, groups: Column, cout: Column, hout: Column,
              wout: Column) -> Column:
    return [a * b * (c // g) * d * e * f
            for a, b, c, g, d, e, f in zip(kh, kw, cin, groups, cout, hout, wout)]


def linear_weights(cin: Column, cout: Column) -> Column:
    return [i * o for i, o in zip(cin, cout)]


def linear_macs(cin: Column, cout: Column, hout: Column, wout: Column) -> Column:
    """in x out per position (Hout x Wout positions; 1 on a flat input)."""
    return [i * o * h * w for i, o, h, w in zip(cin, cout, hout, wout)]


def per_channel(channels: Column, flags: Column, per: int = 1) -> Column:
    """`per` values per channel where the flag is set (biases: 1, batch-norm scale+shift: 2)."""
    return [c * per if f else 0 for c, f in zip(channels, flags)]


def out_numel(c: Columns) -> Column:
    return [h * w * k for h, w, k in zip(c["hout"], c["wout"], c["cout"])]


def in_numel(c: Columns) -> Column:
    return [h * w * k for h, w, k in zip(c["hin"], c["win"], c["cin"])]


def batch_norm(cout: Column, bn: Column, bn_scale: Column) -> dict[str, Column]:
    """Batch-norm parameter columns. bn_scale: 0 not said, 1 `scale: true`, 2 `scale: false`."""
    return {"params": [c * (1 if s == 2 else 2) if b else 0 for c, b, s in zip(cout, bn, bn_scale)],
            "channels": [c if b else 0 for c, b in zip(cout, bn)],
            "declared": [c if b and s == 1 else 0 for c, b, s in zip(cout, bn, bn_scale)]}


def where(values: Column, flags: Column, wanted: int = 1) -> Column:
    """values where the flag equals `wanted`, else 0."""
    return [v if f == wanted else 0 for v, f in zip(values, flags)]


# ---- the table --------------------------------------------------------------------

# What the kinds' column rules read: kernel, channels, sizes and per-layer flags.
FIELDS = ("kh", "kw", "cin", "cout", "groups", "hin", "win", "hout", "wout", "bias", "bn", "act",
          "functional", "scaled", "mult", "bn_scale")


class LayerTable:
    """Columns of layer fields; row i is layer i of the flattened graph."""

    def __init__(self) -> None:
        self.kind: list[str] = []
        self.columns: Columns = {name: [] for name in FIELDS}

    def __len__(self) -> int:
        return len(self.kind)

    def __getattr__(self, name: str) -> Column:  # table.cin, table.hout ...
        try:
            return self.__dict__["columns"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def append(self, kind: str, fields: Mapping[str, int]) -> int:
        self.kind.append(kind)
        for name, column in self.columns.items():
            column.append(fields.get(name, 0))
        return len(self.kind) - 1

    def row(self, i: int) -> dict[str, int]:
        return {name: column[i] for name, column in self.columns.items()}

    def select(self, rows: Sequence[int]) -> Columns:
        """The columns restricted to `rows`."""
        return {name: [column[i] for i in rows] for name, column in self.columns.items()}


class TermRules(Protocol):
    def terms(self, cols: Columns) -> TermColumns: ...


def evaluate(table: LayerTable, kinds: Mapping[str, TermRules]) -> TermColumns:
    """Apply each kind's column rules to its rows; return one full column per term."""
    n = len(table)
    rows_by_kind: dict[str, list[int]] = {}
    for i, kind in enumerate(table.kind):
        rows_by_kind.setdefault(kind, []).append(i)
    if len(rows_by_kind) == 1:  # one kind: its columns are the table's, no gather or scatter
        (kind,) = rows_by_kind
        terms = kinds[kind].terms(table.columns)
        return {name: terms.get(name) or [0] * n for name in TERMS}
    result: TermColumns = {name: [0] * n for name in TERMS}
    for kind, rows in rows_by_kind.items():
        for name, column in kinds[kind].terms(table.select(rows)).items():
            target = result[name]
            for i, value in zip(rows, column):
                target[i] = value
    return result

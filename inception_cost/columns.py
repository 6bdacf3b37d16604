"""The vectorised cost core: whole columns of layers at once, exact integers.

A network is flattened once into a `LayerTable` (one list per field, one entry per
layer); each rule below takes columns and returns a column. Pure Python, no NumPy:
Python integers never overflow, so every count is exact.

The scalar `*_one` functions are the textbook formulas, kept for the property tests
that check every column element against them.
"""

from __future__ import annotations

# ---- scalar formulas (one layer) -------------------------------------------------


def conv_weights_one(kh: int, kw: int, cin: int, groups: int, cout: int) -> int:
    return kh * kw * (cin // groups) * cout


def conv_macs_one(kh: int, kw: int, cin: int, groups: int, cout: int, hout: int, wout: int) -> int:
    """MACs = kh * kw * (Cin / groups) * Cout * Hout * Wout."""
    return kh * kw * (cin // groups) * cout * hout * wout


def linear_macs_one(n_in: int, n_out: int) -> int:
    return n_in * n_out


# ---- column rules -----------------------------------------------------------------


def conv_weights(kh, kw, cin, groups, cout) -> list:
    return [a * b * (c // g) * d for a, b, c, g, d in zip(kh, kw, cin, groups, cout)]


def conv_macs(kh, kw, cin, groups, cout, hout, wout) -> list:
    return [a * b * (c // g) * d * e * f
            for a, b, c, g, d, e, f in zip(kh, kw, cin, groups, cout, hout, wout)]


def linear_weights(cin, cout) -> list:
    return [i * o for i, o in zip(cin, cout)]


def per_channel(channels, flags, per: int = 1) -> list:
    """`per` values per channel where the flag is set (biases: 1, batch-norm scale+shift: 2)."""
    return [c * per if f else 0 for c, f in zip(channels, flags)]


def zeros(column) -> list:
    return [0] * len(column)


def column_sum(column) -> int:
    return sum(column)


# ---- the table --------------------------------------------------------------------

FIELDS = ("kh", "kw", "cin", "cout", "groups", "hin", "win", "hout", "wout", "bias", "bn")
COSTS = ("macs", "weights", "biases", "bn_params")


class LayerTable:
    """Columns of layer fields; row i is layer i of the flattened graph."""

    __slots__ = ("kind",) + FIELDS

    def __init__(self):
        self.kind = []
        for name in FIELDS:
            setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.kind)

    def append(self, kind: str, **values) -> int:
        self.kind.append(kind)
        for name in FIELDS:
            getattr(self, name).append(values.get(name, 0))
        return len(self.kind) - 1

    def select(self, rows: list) -> dict:
        """The columns restricted to `rows`, as a dict of lists."""
        return {name: [getattr(self, name)[i] for i in rows] for name in FIELDS}


def evaluate(table: LayerTable, kinds: dict) -> dict:
    """Apply each kind's column rules to its rows; return one column per cost."""
    n = len(table)
    result = {name: [0] * n for name in COSTS}
    rows_by_kind: dict = {}
    for i, kind in enumerate(table.kind):
        rows_by_kind.setdefault(kind, []).append(i)
    for kind, rows in rows_by_kind.items():
        costs = kinds[kind].costs(table.select(rows))
        for name in COSTS:
            column = costs.get(name)
            if column is None:
                continue
            target = result[name]
            for i, value in zip(rows, column):
                target[i] = value
    return result

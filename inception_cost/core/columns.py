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


def out_numel(c: dict) -> list:
    return [h * w * k for h, w, k in zip(c["hout"], c["wout"], c["cout"])]


def in_numel(c: dict) -> list:
    return [h * w * k for h, w, k in zip(c["hin"], c["win"], c["cin"])]


def where(values, flags, wanted: int = 1) -> list:
    """values where the flag equals `wanted`, else 0."""
    return [v if f == wanted else 0 for v, f in zip(values, flags)]


# ---- the table --------------------------------------------------------------------

FIELDS = ("kh", "kw", "cin", "cout", "groups", "hin", "win", "hout", "wout", "bias", "bn", "act",
          "functional", "scaled")
PARAMETER_TERMS = ("weights", "biases", "bn_params")
# What a layer can cost, term by term; a counting convention weighs these terms
# (conventions.py). *_out / *_in are element counts of the output / input tensor.
OPERATION_TERMS = (
    "conv_macs",           # kh * kw * Cin/groups * Cout * Hout * Wout
    "linear_macs",         # in * out
    "conv_bias_out",       # output elements of convs that have a bias
    "linear_bias_out",     # outputs of linear layers that have a bias
    "bn_out",              # output elements of batch norm (fused into a conv or alone)
    "act_fn_out",          # output elements of activations called as functions (conv/linear activation)
    "act_module_out",      # output elements of activation layers (modules)
    "pool_in_module",      # input elements of max / avg pool modules
    "pool_in_functional",  # input elements of max / avg pools called as functions
    "avgpool_out_module",  # output elements of avg pool modules
    "adaptive_in_module", "adaptive_in_functional",    # global / adaptive average pools
    "adaptive_out_module", "adaptive_out_functional",
    "softmax_out", "softmax_rows",
    "add_out",             # residual additions
    "scale_out",           # residual scalings (scale != 1)
)
TERMS = OPERATION_TERMS + PARAMETER_TERMS


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
    """Apply each kind's column rules to its rows; return one full column per term."""
    n = len(table)
    rows_by_kind: dict = {}
    for i, kind in enumerate(table.kind):
        rows_by_kind.setdefault(kind, []).append(i)
    if len(rows_by_kind) == 1:  # one kind: its columns are the table's, no gather or scatter
        (kind,) = rows_by_kind
        terms = kinds[kind].terms({name: getattr(table, name) for name in FIELDS})
        return {name: terms.get(name) or [0] * n for name in TERMS}
    result = {name: [0] * n for name in TERMS}
    for kind, rows in rows_by_kind.items():
        for name, column in kinds[kind].terms(table.select(rows)).items():
            target = result[name]
            for i, value in zip(rows, column):
                target[i] = value
    return result

"""Property tests of the vectorised core and the shape rules (Hypothesis)."""

from fractions import Fraction

from conftest import net
from hypothesis import given, settings
from hypothesis import strategies as st

from inception_cost.core import columns as col
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import window_out

small = st.integers(min_value=1, max_value=64)
kernel = st.integers(min_value=1, max_value=7)


@st.composite
def conv_rows(draw):
    groups = draw(st.integers(1, 4))
    return dict(kh=draw(kernel), kw=draw(kernel), groups=groups,
                cin=groups * draw(small), cout=groups * draw(small),
                hout=draw(small), wout=draw(small), bias=draw(st.integers(0, 1)),
                bn=draw(st.integers(0, 1)))


@given(st.lists(conv_rows(), min_size=1, max_size=40))
def test_column_rules_equal_the_scalar_formulas(rows):
    table = col.LayerTable()
    for r in rows:
        table.append("conv", r)
    costs = col.evaluate(table, CANONICAL)
    for i, r in enumerate(rows):
        assert costs["conv_macs"][i] == col.conv_macs_one(r["kh"], r["kw"], r["cin"], r["groups"],
                                                     r["cout"], r["hout"], r["wout"])
        assert costs["weights"][i] == col.conv_weights_one(r["kh"], r["kw"], r["cin"], r["groups"], r["cout"])
        assert costs["biases"][i] == r["cout"] * r["bias"]
        assert costs["bn_params"][i] == 2 * r["cout"] * r["bn"]


@given(st.lists(st.tuples(small, small), min_size=1, max_size=20))
def test_linear_column_rule(pairs):
    table = col.LayerTable()
    for n_in, n_out in pairs:
        table.append("linear", dict(cin=n_in, cout=n_out, hout=1, wout=1, kh=1, kw=1, groups=1, bias=1))
    costs = col.evaluate(table, CANONICAL)
    assert costs["linear_macs"] == [col.linear_macs_one(i, o) for i, o in pairs]
    assert costs["biases"] == [o for _, o in pairs]


@given(st.lists(conv_rows(), min_size=2, max_size=30), st.data())
def test_totals_are_additive_over_any_split(rows, data):
    table = col.LayerTable()
    for r in rows:
        table.append("conv", r)
    whole = col.evaluate(table, CANONICAL)
    cut = data.draw(st.integers(1, len(rows) - 1))
    parts = []
    for chunk in (rows[:cut], rows[cut:]):
        t = col.LayerTable()
        for r in chunk:
            t.append("conv", r)
        parts.append(col.evaluate(t, CANONICAL))
    for name in col.TERMS:
        assert sum(whole[name]) == sum(parts[0][name]) + sum(parts[1][name])


@given(size=st.integers(1, 300), k=st.integers(1, 11))
def test_same_padding_at_stride_1_keeps_the_size(size, k):
    assert window_out(size, k, 1, "same") == size
    if k % 2:  # odd kernels: explicit (k-1)/2 padding is the same thing
        assert window_out(size, k, 1, ((k - 1) // 2, (k - 1) // 2)) == size


@given(size=st.integers(1, 300), k=st.integers(1, 7), s=st.integers(1, 4), data=st.data())
def test_ceil_rounding_adds_at_most_one_output(size, k, s, data):
    p = data.draw(st.integers(0, k // 2))  # PyTorch allows at most half the kernel as padding
    floor = window_out(size, k, s, (p, p))
    ceil = window_out(size, k, s, (p, p), ceil=True)
    if floor is not None:
        assert floor <= ceil <= floor + 1


def _branch(widths, size):
    branches = "\n".join(
        f"      b{i}: [{{conv: {{filters: {w}, kernel: {k}}}}}]" for i, (w, k) in enumerate(widths))
    return net(f"input: {size}x{size}x8\nlayers:\n  - module:\n      name: m\n      layers:\n"
               f"        - concat:\n{branches.replace('      b', '            b')}\n")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(small, st.sampled_from([1, 3, 5])), min_size=1, max_size=5),
       st.integers(4, 20))
def test_concat_depth_is_the_sum_of_branch_depths(widths, size):
    a = _branch(widths, size)
    module = a.root.find("m")
    assert module.out_shape == (size, size, sum(w for w, _ in widths))
    assert module.macs == sum(module.children[0].children[i].macs for i in range(len(widths)))
    assert a.root.macs == sum(layer.macs for layer in a.root.layers())


def _chain(size, cin, convs):
    layers = "\n".join(f"  - conv: {{filters: {f}, kernel: {k}, bias: false}}" for f, k in convs)
    return net(f"input: {size}x{size}x{cin}\nlayers:\n{layers}\n")


@settings(max_examples=60, deadline=None)
@given(c=st.integers(2, 512), data=st.data(), k=st.sampled_from([3, 5, 7]),
       n=st.integers(1, 256), size=st.integers(1, 32))
def test_1x1_reduction_saves_the_stated_macs(c, data, k, n, size):
    r = data.draw(st.integers(1, c))
    naive = _chain(size, c, [(n, k)]).root.macs
    reduced = _chain(size, c, [(r, 1), (n, k)]).root.macs
    assert naive - reduced == ((c - r) * k * k * n - c * r) * size * size


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 256), size=st.integers(5, 40))
def test_two_3x3_cost_18_25_of_a_5x5(c, size):
    five = _chain(size, c, [(c, 5)]).root.macs
    two = _chain(size, c, [(c, 3), (c, 3)]).root.macs
    assert Fraction(two, five) == Fraction(18, 25)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 256), n=st.integers(2, 9), size=st.integers(9, 40))
def test_1xn_then_nx1_costs_2_over_n(c, n, size):
    square = _chain(size, c, [(c, n)]).root.macs
    factored = _chain(size, c, [(c, f"1x{n}"), (c, f"{n}x1")]).root.macs
    assert Fraction(factored, square) == Fraction(2, n)

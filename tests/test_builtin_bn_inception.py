"""BN-Inception (architectures/bn-inception.yaml) against the PyTorch port's own counts.

Provenance of the expected figures: pretrainedmodels 0.7.4 `bninception(num_classes=1000,
pretrained=None)` (built offline, random weights) under torch 2.14.1, eval mode, one
224x224x3 image (batch 1), shapes and counts taken with forward hooks. Params are
`sum(p.numel() for p in model.parameters())` (conv weight + conv bias + batch-norm weight
and bias + linear); MACs are conv (kh*kw*Cin/groups*Cout*Hout*Wout) + linear (in*out).
Per module: the port's layers `inception_<m>_*` summed; per branch: grouped by name
(`1x1`, `3x3`, `double_3x3`, `pool`). The architecture itself is the appendix table of
Ioffe & Szegedy 2015 (arXiv:1502.03167, Figure 5). No torch is imported here.
"""

import pytest
from conftest import builtin

from inception_cost.reports.network import network_report


@pytest.fixture(scope="module")
def bn_inception():
    return builtin("bn-inception")


# (module, input HxWxC, output HxWxC, params, MACs): the port's figures
MODULES = [
    ("3a", (28, 28, 192), (28, 28, 256), 219_552, 170_999_808),
    ("3b", (28, 28, 256), (28, 28, 320), 260_704, 203_112_448),
    ("3c", (28, 28, 320), (14, 14, 576), 385_632, 143_904_768),
    ("4a", (14, 14, 576), (14, 14, 576), 610_848, 119_218_176),
    ("4b", (14, 14, 576), (14, 14, 576), 666_240, 130_056_192),
    ("4c", (14, 14, 576), (14, 14, 608), 915_456, 178_827_264),
    ("4d", (14, 14, 608), (14, 14, 608), 1_144_000, 223_584_256),
    ("4e", (14, 14, 608), (7, 7, 1056), 1_451_008, 164_577_280),
    ("5a", (7, 7, 1056), (7, 7, 1024), 2_210_496, 108_079_104),
    ("5b", (7, 7, 1024), (7, 7, 1024), 2_281_248, 111_541_248),
]


def test_totals_equal_the_port(bn_inception):
    root = bn_inception.root
    assert root.in_shape == (224, 224, 3)
    assert root.out_shape == (1, 1, 1000)
    assert root.params == 11_295_240
    assert root.macs == 2_032_600_064
    # the port's split: conv weight 10,240,192 + linear weight 1,024,000;
    # conv bias 10,016 + linear bias 1,000; batch norm weight + bias 20,032
    assert root.weights == 10_240_192 + 1_024_000
    assert root.biases == 10_016 + 1_000
    assert root.bn_params == 20_032


def test_every_conv_has_a_bias_and_a_batch_norm(bn_inception):
    weighted = [n for n in bn_inception.root.layers() if n.kind in ("conv", "linear")]
    convs = [n for n in weighted if n.kind == "conv"]
    assert len(convs) == 69 and len(weighted) == 70
    assert all(n.biases == n.out_shape[2] and n.bn_params == 2 * n.out_shape[2] for n in convs)


@pytest.mark.parametrize("name,in_shape,out_shape,params,macs", MODULES)
def test_every_module_equals_the_port(bn_inception, name, in_shape, out_shape, params, macs):
    node = bn_inception.root.find(name)
    assert node.in_shape == in_shape
    assert node.out_shape == out_shape
    assert node.params == params
    assert node.macs == macs
    assert node.depth == 3  # reduce 1x1 -> 3x3 -> 3x3


def test_stem_and_head_rows(bn_inception):
    rows = {c.name: c for c in bn_inception.root.children}
    # a plain 7x7/2 conv in the port (the table's is separable): 7*7*3*64 + 64 + 2*64
    assert rows["conv1"].out_shape == (112, 112, 64)
    assert (rows["conv1"].params, rows["conv1"].macs) == (9_600, 118_013_952)
    assert rows["maxpool1"].out_shape == (56, 56, 64)
    # conv2_3x3_reduce (4,160 + 128) and conv2_3x3 (110,784 + 384)
    assert (rows["conv2"].params, rows["conv2"].macs) == (115_456, 12_845_056 + 346_816_512)
    assert rows["maxpool2"].out_shape == (28, 28, 192)
    assert rows["avgpool"].out_shape == (1, 1, 1024)
    assert (rows["linear"].params, rows["linear"].macs) == (1_025_000, 1_024_000)


def branches(analysis, name):
    return {b.name: b for b in analysis.root.find(name).children[0].children}


def test_branches_of_4c(bn_inception):
    got = {k: (b.params, b.macs, b.out_shape) for k, b in branches(bn_inception, "4c").items()}
    assert got == {
        "1x1": (92_640, 18_063_360, (14, 14, 160)),
        "3x3": (258_912, 50_577_408, (14, 14, 160)),
        "double_3x3": (489_792, 95_735_808, (14, 14, 160)),
        "pool": (74_112, 14_450_688, (14, 14, 128)),
    }


@pytest.mark.parametrize("name,expected", [
    ("3c", {"3x3": (226_144, 68_239_360, (14, 14, 160)),
            "double_3x3": (159_488, 75_665_408, (14, 14, 96)),
            "pool": (0, 0, (14, 14, 320))}),
    ("4e", {"3x3": (299_968, 26_091_520, (7, 7, 192)),
            "double_3x3": (1_151_040, 138_485_760, (7, 7, 256)),
            "pool": (0, 0, (7, 7, 608))}),
])
def test_stride2_modules_pass_the_input_through(bn_inception, name, expected):
    got = {k: (b.params, b.macs, b.out_shape) for k, b in branches(bn_inception, name).items()}
    assert got == expected


def test_pool_branch_types(bn_inception):
    first = {name: branches(bn_inception, name)["pool"].layers()[0].kind
             for name, *_ in MODULES}
    assert first == {"3a": "avg_pool", "3b": "avg_pool", "3c": "max_pool", "4a": "avg_pool",
                     "4b": "avg_pool", "4c": "avg_pool", "4d": "avg_pool", "4e": "max_pool",
                     "5a": "avg_pool", "5b": "max_pool"}


def test_report_flags_the_printed_outputs_that_do_not_add_up(bn_inception):
    report = network_report(bn_inception)
    rows = {row["name"]: row for row in report.sections[0].rows}
    # the table prints 576 / 576 / 1024 channels; the branches give 608 / 608 / 1056
    for name, printed in (("4c", "14x14x576"), ("4d", "14x14x576"), ("4e", "14x14x1024")):
        assert rows[name]["paper_output"] == printed
        assert rows[name]["check"] == "differs: output"
    for name in ("3a", "3b", "4a", "4b", "5a", "5b"):
        assert rows[name]["check"] == "ok"
    notes = "\n".join(report.sections[0].notes)
    assert "4c: output 14x14x576 printed, 14x14x608 computed" in notes
    assert "4d: output 14x14x576 printed, 14x14x608 computed" in notes
    assert "4e: output 14x14x1024 printed, 7x7x1056 computed" in notes


def test_report_flags_the_stride2_spatial_size_of_3c(bn_inception):
    # the table prints 3c at its input's 28x28; its stride-2 convs and pool give 14x14
    rows = {row["name"]: row for row in network_report(bn_inception).sections[0].rows}
    assert rows["3c"]["paper_output"] == "28x28x576"
    assert rows["3c"]["check"] == "differs: output"


def test_stated_params_shown_beside_the_total(bn_inception):
    assert bn_inception.network.stated["params"]["value"] == 13_600_000
    notes = network_report(bn_inception).sections[0].notes
    stated = [note for note in notes if "13.6M" in note]
    assert len(stated) == 1 and "11,295,240" in stated[0]


def test_module_types_are_two_blocks(bn_inception):
    blocks = {name: bn_inception.root.find(name).block for name, *_ in MODULES}
    assert {k for k, v in blocks.items() if v == "inception_stride2"} == {"3c", "4e"}
    assert {k for k, v in blocks.items() if v == "inception"} == set(blocks) - {"3c", "4e"}

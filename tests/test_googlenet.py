"""GoogLeNet (paper Table 1) against figures derived independently from the table.

Provenance: Szegedy et al. 2014, "Going deeper with convolutions", arXiv:1409.4842,
Table 1; the seed document's 3a figures (120,422,400 and 12,443,648 MACs). The
expected values here are recomputed from the printed widths with the textbook
formulas, not read back from the tool.
"""

import pytest

# (row, input HxW, input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
MODULES = [
    ("3a", 28, 192, 64, 96, 128, 16, 32, 32),
    ("3b", 28, 256, 128, 128, 192, 32, 96, 64),
    ("4a", 14, 480, 192, 96, 208, 16, 48, 64),
    ("4b", 14, 512, 160, 112, 224, 24, 64, 64),
    ("4c", 14, 512, 128, 128, 256, 24, 64, 64),
    ("4d", 14, 512, 112, 144, 288, 32, 64, 64),
    ("4e", 14, 528, 256, 160, 320, 32, 128, 128),
    ("5a", 7, 832, 256, 160, 320, 32, 128, 128),
    ("5b", 7, 832, 384, 192, 384, 48, 128, 128),
]


def module_weights(cin, c1, r3, c3, r5, c5, pp):
    return cin * c1 + cin * r3 + 9 * r3 * c3 + cin * r5 + 25 * r5 * c5 + cin * pp


@pytest.mark.parametrize("name,size,cin,c1,r3,c3,r5,c5,pp", MODULES)
def test_every_module_matches_the_formula(googlenet, name, size, cin, c1, r3, c3, r5, c5, pp):
    node = googlenet.root.find(name)
    weights = module_weights(cin, c1, r3, c3, r5, c5, pp)
    assert node.in_shape == (size, size, cin)
    assert node.out_shape == (size, size, c1 + c3 + c5 + pp)
    assert node.weights == weights
    assert node.biases == c1 + r3 + c3 + r5 + c5 + pp
    assert node.macs == weights * size * size
    assert node.depth == 2


def test_inception_3a_seed_figures(googlenet):
    node = googlenet.root.find("3a")
    assert node.out_shape == (28, 28, 256)
    assert node.weights == 163_328
    assert node.macs == 128_049_152
    branches = {b.name: b for b in node.children[0].children}
    assert branches["5x5"].macs == 2_408_448 + 10_035_200 == 12_443_648
    assert [b.out_shape[2] for b in branches.values()] == [64, 128, 32, 32]


def test_stem_rows(googlenet):
    rows = {c.name: c for c in googlenet.root.children}
    assert rows["conv1"].out_shape == (112, 112, 64)
    assert rows["conv1"].weights == 7 * 7 * 3 * 64 == 9_408
    assert rows["conv1"].macs == 9_408 * 112 * 112 == 118_013_952
    assert rows["conv2"].weights == 64 * 64 + 9 * 64 * 192 == 114_688  # 112K exactly
    assert rows["conv2"].macs == 114_688 * 56 * 56 == 359_661_568
    # 3x3/2 max pools with ceil rounding: 112 -> 56 -> 28 -> 14 -> 7
    assert [rows[f"maxpool{i}"].out_shape[0] for i in (1, 2, 3, 4)] == [56, 28, 14, 7]
    assert rows["linear"].weights == 1024 * 1000
    assert rows["linear"].macs == 1_024_000


def test_network_totals(googlenet):
    root = googlenet.root
    module_weights_sum = sum(module_weights(*m[2:]) for m in MODULES)
    assert root.weights == 9_408 + 114_688 + module_weights_sum + 1_024_000 == 6_990_272
    assert root.macs == 1_582_671_872  # about the paper's "1.5 billion multiply-adds"
    assert root.params == 6_998_552
    assert root.depth == 22  # "22 layers deep (when counting only layers with parameters)"
    assert root.out_shape == (1, 1, 1000)


def test_auxiliary_classifiers_only_in_training(googlenet, googlenet_train):
    names = [c.name for c in googlenet_train.root.children]
    assert names.index("aux1") == names.index("4a") + 1
    assert names.index("aux2") == names.index("4d") + 1
    assert "aux1" not in [c.name for c in googlenet.root.children]
    aux1 = googlenet_train.root.find("aux1")
    # avg pool 5x5/3: 14x14x512 -> 4x4x512; 1x1 conv 128; fc 2048 -> 1024; linear 1024 -> 1000
    assert aux1.weights == 512 * 128 + 4 * 4 * 128 * 1024 + 1024 * 1000
    assert aux1.biases == 128 + 1024 + 1000
    aux2 = googlenet_train.root.find("aux2")
    assert aux2.weights == 528 * 128 + 2048 * 1024 + 1024 * 1000
    assert aux1.loss_weight == 0.3
    assert googlenet_train.root.params == googlenet.root.params + aux1.params + aux2.params
    assert googlenet_train.root.macs == (googlenet.root.macs + 512 * 128 * 16 + 2048 * 1024
                                         + 1024 * 1000 + 528 * 128 * 16 + 2048 * 1024 + 1024 * 1000)


def test_paper_columns_are_checked(googlenet):
    from inception_cost.reports.network import network_report

    rows = {r["name"]: r for r in network_report(googlenet).sections[0].rows}
    flagged = {name for name, r in rows.items() if r["check"].startswith("differs")}
    # architectures.md: conv 7x7/2 (2.7K / 34M), params of 4a, 4c, 4d, 4e, 5b, and 5a in both
    assert flagged == {"conv1", "4a", "4c", "4d", "4e", "5a", "5b"}
    assert rows["conv1"]["check"] == "differs: params, ops"
    assert rows["5a"]["check"] == "differs: params, ops"
    assert rows["4c"]["check"] == "differs: params"  # 497.5K computed, 463K printed; ops hold
    # exact counts (3a's weights, the paper's params count weights), and the text in its units
    assert rows["3a"]["computed_params"] == 163_328 and rows["3a"]["computed_params_text"] == "159.5K"
    assert rows["3a"]["paper_params"] == "159K"
    assert rows["3b"]["check"] == "ok"  # 379.0K printed as 380K: within the table's rounding
    assert rows["5a"]["computed_ops"] == 51_079_168 and rows["5a"]["computed_ops_text"] == "51.1M"
    import csv
    import io

    from inception_cost.reports.render import to_csv

    table = list(csv.DictReader(io.StringIO(to_csv(network_report(googlenet)))))
    conv1 = next(r for r in table if r["name"] == "conv1")
    assert (conv1["computed_params"], conv1["computed_ops"]) == ("9408", "118013952")  # integers, not 9.2K
    assert all(rows[n]["check"] == "ok" for n in ("conv2", "3a", "3b", "4b", "linear", "maxpool1"))

"""The pictures: `export -f html` (one self-contained page), `-f svg` (the charts alone) and
the Mermaid diagrams of Markdown. Checked by parsing them and reading their numbers back
against the engine's (the same figures as the JSON report and the roofline estimate)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli.app import cli
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.memory import Dtype, layer_memory

SVG = "{http://www.w3.org/2000/svg}"
GOOGLENET_3A = {"1x1": 9_633_792, "3x3": 101_154_816, "5x5": 12_443_648, "pool": 4_816_896}  # README, tests


class Page(HTMLParser):
    """Every start tag with its attributes, in order, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def googlenet_page() -> Page:
    page = Page()
    page.feed(run(["export", "googlenet", "-f", "html", "--device", "h100-sxm", "--dtype", "fp16"]))
    return page


def test_the_page_is_self_contained(googlenet_page: Page) -> None:
    page = googlenet_page
    assert not page.having("link") and not page.having("img") and not page.having("iframe")
    assert all("src" not in a for _, a in page.tags)  # no script, image or frame from anywhere
    assert all(not a.get("href") for _, a in page.tags)
    text = run(["export", "googlenet", "-f", "html"])
    assert set(re.findall(r"https?://[^\"'\s)<]+", text)) <= {"http://www.w3.org/2000/svg"}  # a namespace only
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text and "<script>" in text


def test_tables_are_sortable_and_carry_the_raw_numbers(googlenet_page: Page) -> None:
    doc = ic.analyse("googlenet").to_dict()
    tables = googlenet_page.having("table", class_="sortable")
    assert len(tables) == 1 + 9  # the network and its nine inception modules
    numbers = [a["data-v"] for t, a in googlenet_page.tags if t == "td" and "data-v" in a]
    for row in doc["sections"][0]["rows"]:
        assert str(row["macs"]) in numbers and str(row["params"]) in numbers
    flagged = googlenet_page.having("tr", class_="flagged")
    assert len(flagged) == 7  # conv1, 4a, 4c, 4d, 4e, 5a, 5b: the README's flagged rows


def test_the_stacked_bars_are_each_modules_branches_to_scale(googlenet_page: Page) -> None:
    segments = googlenet_page.having("rect", class_="segment")
    net = ic.analyse("googlenet")
    expected = [(b.node.path, b.macs) for m in net.modules for b in m.branches]
    assert [(s["data-path"], int(s["data-macs"])) for s in segments] == expected
    scale = {round(float(s["width"]) / int(s["data-macs"]), 12) for s in segments if int(s["data-macs"]) > 10**6}
    assert max(scale) / min(scale) < 1.001  # one scale for every bar
    totals = [int(a["data-total"]) for t, a in googlenet_page.tags if "data-total" in a]
    assert totals == [m.macs for m in net.modules]


def test_each_module_is_drawn_branch_by_branch_with_its_layers(googlenet_page: Page) -> None:
    branches = [a for a in googlenet_page.having("g", class_="branch") if a["data-path"].startswith("3a/")]
    assert {a["data-path"].split("/")[1]: int(a["data-macs"]) for a in branches} == GOOGLENET_3A
    assert abs(float(branches[2]["data-share"]) - 12_443_648 / 128_049_152) < 1e-6
    layers = [a for a in googlenet_page.having("g", class_="layer") if a["data-path"].startswith("3a/")]
    assert [(a["data-path"], int(a["data-macs"])) for a in layers] == [
        ("3a/1x1/conv_1", 9_633_792), ("3a/3x3/conv_1", 14_450_688), ("3a/3x3/conv_2", 86_704_128),
        ("3a/5x5/conv_1", 2_408_448), ("3a/5x5/conv_2", 10_035_200), ("3a/pool/max_pool_1", 0),
        ("3a/pool/conv_1", 4_816_896)]


def test_the_roofline_has_one_point_per_layer_with_arithmetic(googlenet_page: Page) -> None:
    net = ic.analyse("googlenet")
    device = load_device("h100-sxm")
    peak, bandwidth = device.peak_flops("fp16"), device.bandwidth
    layers = [m for m in layer_memory(net.analysis, Dtype.FP16, 1) if m.flops and m.bytes_moved]
    points = googlenet_page.having("circle", class_="point")
    assert [p["data-path"] for p in points] == [m.node.path for m in layers]
    for point, m in zip(points, layers):
        intensity = m.flops / m.bytes_moved
        assert float(point["data-intensity"]) == pytest.approx(intensity, rel=1e-5)
        assert float(point["data-attainable"]) == pytest.approx(min(peak, intensity * bandwidth), rel=1e-5)
    roof = googlenet_page.having("polyline", class_="roof")
    assert len(roof) == 1


@pytest.mark.parametrize("tf32, roof", [([], 494.7e12), (["--no-tf32"], 66.9e12)])
def test_an_fp32_roofline_is_drawn_under_the_peak_its_convs_run_at(tf32: list[str], roof: float) -> None:
    """PyTorch runs fp32 convs on TF32 unless told not to: the plot's roof is the peak of
    the convs' math (h200: TF32 494.7, plain fp32 66.9 TFLOP/s), as `roofline` prices them.
    It used to be the fp32 peak whatever the convs ran in."""
    page = Page()
    page.feed(run(["export", "googlenet", "-f", "html", "--device", "h200", "--dtype", "fp32", "--batch", "8",
                   *tf32]))
    points = page.having("circle", class_="point")
    assert max(float(p["data-attainable"]) for p in points) == pytest.approx(roof, rel=1e-5)
    # the classifier is a linear layer: plain fp32 either way (PyTorch's matmul default), under its own roof
    linear = next(p for p in points if p["data-path"] == "linear/linear_1")
    assert float(linear["data-attainable"]) <= 66.9e12 * (1 + 1e-9)
    shown = "".join(page.text)
    assert ("fp32 (convs fp32, linear fp32)" if tf32 else "fp32 (convs tf32, linear fp32)") in shown


def test_a_depthwise_conv_is_drawn_under_the_cuda_cores_roof() -> None:
    """Depthwise convs run on CUDA cores (fp32) whatever the dtype: in int8 their points sat
    at the memory line above that roof, 'compute bound' by the latency model, a contradiction."""
    page = Page()
    page.feed(run(["export", "mobilenet-v2", "-f", "html", "--device", "h100-sxm", "--dtype", "int8",
                   "--batch", "64"]))
    points = {p["data-path"]: p for p in page.having("circle", class_="point")}
    assert float(points["features_2/depthwise"]["data-attainable"]) <= 66.9e12 * (1 + 1e-9)
    assert "fp32 peak 66.9 TFLOP/s" in "".join(page.text)  # the lower roof, drawn and named


@pytest.mark.parametrize("fmt", ["html", "svg", "markdown"])
def test_export_refuses_a_dtype_its_device_has_no_peak_for(fmt: str) -> None:
    """As roofline, compare, factorize and sweep do (exit 4): the HTML and SVG plot used
    to end in an internal error, and Markdown, which draws no roofline, said nothing."""
    result = CliRunner().invoke(cli, ["export", "googlenet", "-f", fmt, "--device", "t4", "--dtype", "bf16"])
    assert result.exit_code == 4 and "device 't4' has no peak for bf16" in result.output


def test_svg_is_the_charts_alone_as_one_document(tmp_path: Path) -> None:
    target = tmp_path / "charts.svg"
    run(["export", "googlenet", "-f", "svg", "-o", str(target)])
    root = ElementTree.parse(target).getroot()
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}svg")) == 1 + 9 + 1  # bars, the nine modules, the roofline
    segments = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "segment"]
    assert sum(int(e.get("data-macs", "0")) for e in segments) == sum(m.macs for m in ic.analyse("googlenet").modules)
    assert not list(root.iter(f"{SVG}table"))
    one = ElementTree.fromstring(run(["googlenet", "--module", "3a", "-f", "svg"]))
    assert len(one.findall(f"{SVG}svg")) == 1  # a module report: its branches
    nothing = CliRunner().invoke(cli, ["list", "-f", "svg"])
    assert nothing.exit_code == 4 and "nothing to draw" in nothing.output
    # the message names every command that draws a module: compare and factorize with
    # --module (and a lone factorize) draw too, which it once left out
    whole = CliRunner().invoke(cli, ["factorize", "googlenet", "-f", "svg"])
    assert whole.exit_code == 4 and "`--module M` of `NAME`, `compare` or `factorize`" in whole.stderr
    for args in (["factorize", "googlenet", "-m", "3a"], ["compare", "googlenet", "googlenet-torchvision", "-m", "3a"],
                 ["factorize"]):
        assert ElementTree.fromstring(run([*args, "-f", "svg"])).tag == f"{SVG}svg", args


def test_export_of_a_network_with_nothing_to_draw_says_why(tmp_path: Path) -> None:
    # no module, no conv or linear: once "-f svg draws the charts of `export`, ...", said to
    # someone running export
    flat = tmp_path / "flat.yaml"
    flat.write_text("input: 8x8x3\nlayers: [relu, {max_pool: {kernel: 2}}]\n")
    result = CliRunner().invoke(cli, ["export", str(flat), "-f", "svg"])
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr == ("inception-cost: nothing to draw: the network has no module with branches and no"
                             " conv or linear layer to place on the roofline (-f html or markdown show its"
                             " tables)\n")
    assert CliRunner().invoke(cli, ["export", str(flat), "-f", "html"]).exit_code == 0


def test_markdown_draws_each_module_as_mermaid() -> None:
    text = run(["export", "googlenet"])  # markdown is export's default
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert len(blocks) == 9
    first = blocks[0]
    assert first.startswith("flowchart TB") and '"input 28x28x192"' in first
    for name, macs in GOOGLENET_3A.items():
        assert f'"{name}: {macs:,} MACs' in first
    assert "input --> s0b2l0 --> s0b2l1 --> m0" in first and "m0((\"concat\"))" in first
    assert first.rstrip().endswith("m0 --> output")
    flops = run(["export", "googlenet", "-c", "flop-counter"])
    assert f'"5x5: {2 * GOOGLENET_3A["5x5"]:,} FLOPs' in flops


def test_names_from_a_file_cannot_inject_markup(tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text('name: "<script>alert(1)</script>"\ntitle: "<img src=x onerror=alert(1)>"\ninput: 8x8x3\n'
                    'layers:\n  - module: {name: "m</svg><script>", layers: [{concat: {"a\\"b": [{conv: {filters: 4,'
                    ' kernel: 1}}], c: [{conv: {filters: 4, kernel: 3}}]}}]}\n')
    for fmt in ("html", "svg"):
        text = run(["export", str(evil), "-f", fmt])
        assert "<script>alert" not in text and "<img" not in text and "</svg><script>" not in text
    ElementTree.fromstring(run(["export", str(evil), "-f", "svg"]))  # still well-formed
    markdown = run(["export", str(evil)])
    diagram = re.findall(r"```mermaid\n(.*?)```", markdown, re.S)
    assert diagram and "<" not in diagram[0].replace("<br/>", "") and '\\"' not in diagram[0]
    # the title, the module's and the branch's names in headings and table cells start no tag
    assert "<" not in re.sub(r"```mermaid\n.*?```", "", markdown, flags=re.S)
    assert "# &lt;img src=x onerror=alert(1)>" in markdown


def test_markdown_names_start_no_emphasis_or_link(tmp_path: Path) -> None:
    """A name with `*` or `[...](...)` shows as written once rendered, and so does the
    convention's kh*kw*Cin formula (CommonMark: `*kw*` between letters is emphasis)."""
    path = tmp_path / "marks.yaml"
    path.write_text('name: "*bold* [link](http://x)"\ninput: 8x8x3\nlayers:\n'
                    '  - conv: {name: "a*b*c", filters: 4, kernel: 1}\n')
    markdown = run(["export", str(path)])
    assert "# \\*bold\\* \\[link\\](http://x)" in markdown and "| a\\*b\\*c |" in markdown
    assert "conv kh\\*kw\\*Cin/groups" in markdown and "kh*kw" not in markdown


def test_compare_naive_reduced_draws_the_papers_figure_2() -> None:
    """The seed's point: the naive module's 5x5 branch, and the same branch after its 1x1 reduction."""
    page = Page()
    page.feed(run(["compare", "naive", "reduced", "-f", "html"]))
    branches = [(a["data-path"], int(a["data-macs"])) for a in page.having("g", class_="branch")]
    assert branches == [("3a/1x1", 9_633_792), ("3a/3x3", 173_408_256), ("3a/5x5", 120_422_400), ("3a/pool", 0),
                        *((f"3a/{name}", macs) for name, macs in GOOGLENET_3A.items())]
    assert "naive: inception (3a)" in "".join(page.text) and "reduced: inception (3a)" in "".join(page.text)
    assert len(re.findall(r"```mermaid", run(["compare", "naive", "reduced", "-f", "markdown"]))) == 2


def test_a_module_is_drawn_in_the_order_it_runs() -> None:
    """Parallel branches side by side with what merges them; the layers between them in one chain."""
    from inception_cost.reports.figures import module_figure

    block = module_figure(ic.analyse("inception-resnet-v2").analysis.root.find_or_fail("block35_1", "irv2"))
    assert [(s.merge, [c.name for c in s.columns]) for s in block.stages] == \
        [("concat", ["branch0", "branch1", "branch2"]), ("", [""])]
    assert [layer.description for layer in block.stages[1].columns[0].layers] == ["conv 1x1 320", "add (x0.17)", "relu"]
    assert sum(c.macs for s in block.stages for c in s.columns) == block.macs == 149_900_800
    inverted = module_figure(ic.analyse("mobilenet-v2").analysis.root.find_or_fail("features_5", "mbv2"))
    assert [s.merge for s in inverted.stages] == [""] and len(inverted.stages[0].columns[0].layers) == 6
    assert [layer.shortcut for layer in inverted.stages[0].columns[0].layers] == [""] * 5 + ["features_5/residual"]
    diagram = run(["mobilenet-v2", "-m", "features_5", "-f", "markdown"])
    assert "input -. shortcut .-> s0b0l5" in diagram
    assert 'class="shortcut"' in run(["inception-resnet-v2", "-m", "block35_1", "-f", "svg"])
    bottleneck = module_figure(ic.analyse("resnet50").analysis.root.find_or_fail("layer1_0", "resnet50"))
    assert [(s.merge, [c.name for c in s.columns]) for s in bottleneck.stages] == \
        [("add", ["body", "downsample"]), ("", [""])]


def test_accuracy_draws_estimated_against_measured_time(tmp_path: Path) -> None:
    """One point per priced case, at its measured and estimated µs (the JSON's), on log
    axes whose diagonal is exact; the page carries the same picture."""
    import json

    data = str(Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json")
    doc = json.loads(run(["accuracy", data, "--device", "h100-measured", "-f", "json"]))
    root = ElementTree.fromstring(run(["accuracy", data, "--device", "h100-measured", "-f", "svg"]))
    points = [e for e in root.iter(f"{SVG}circle") if e.get("class") == "point"]
    assert len(points) == doc["totals"]["cases"] == 234
    worst = doc["sections"][2]["rows"][0]  # 3a_naive_branch_5x5, fp32, batch 1: 36.25 µs measured
    drawn = [e for e in points if e.get("data-case") == worst["case"]
             and float(e.get("data-measured-us", "0")) == pytest.approx(worst["measured_us"], rel=1e-5)]
    assert len(drawn) == 1
    assert float(drawn[0].get("data-estimated-us", "0")) == pytest.approx(worst["estimated_us"], rel=1e-5)
    # an exact estimate lies on the diagonal: the same distance along both log axes
    (diagonal, *band) = [e for e in root.iter(f"{SVG}line") if e.get("class") == "band"]
    x1, y1, x2, y2 = (float(diagonal.get(k, "0")) for k in ("x1", "y1", "x2", "y2"))
    assert x2 - x1 == pytest.approx(y1 - y2) and len(band) == 2
    page = run(["accuracy", data, "--device", "h100-measured", "-f", "html"])
    assert "Estimated against measured time" in page and page.count('class="point"') == 234

"""What eager PyTorch allocates in one inference forward pass of six more built-ins, whole
and module by module, against `inception-cost memory NAME [--module M] --dtype fp32 -f
json` (`eager_peak_activation_bytes`); as inference_memory_cpu.py measures, which it uses.

Run by hand (torch only, the CPU is enough; a few minutes with --modules):

    python benchmarks/inference_memory_more_cpu.py [--modules] [NAME ...]

The networks (eager_nets.py) are built from torch.nn in the layout each YAML header names
(torchvision's EfficientNet-B0 and SqueezeNet 1.0, timm's Xception, Inception v4 and
Inception-ResNet-v2, a modular BN-Inception), each in more than one layout where the
layouts differ in what stays alive.

What it showed (torch 2.13.0, 2026-11-29; found by a helper, fixed and re-run): every
network in its YAML's layout is exact to the byte at batch 1 and 8, and so is every
module run alone, but for three implementations that keep named locals alive until a
module returns (timm's Inception v4 InceptionC: 0.639x; timm's Inception-ResNet-v2
blocks, whose branch outputs outlive their concat: 0.909x-0.949x, and 0.712x for the
last block8, which scales by 1.0 into a new tensor all the same) and two other layouts:
Xception in Keras's order (the shortcut before the body: 0.934x) and the pretrainedmodels
port of BN-Inception (every output a local of one flat function: 0.173x). The checks
found three rules the tool lacked: a view (dropout, flatten) of a module's kept input is
that input; a scaled residual (`out * scale + x`) writes one more tensor; a separable
conv's depthwise output is alive while its pointwise conv runs, and its batch norm runs
after its input is freed; and ReLU-like activations cost nothing in the least peak too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eager_nets as nets  # noqa: E402
from inference_memory_cpu import eager_peak  # noqa: E402

NETS = (  # (tool name, layout, builder, image size)
    ("efficientnet-b0", "torchvision (stages are nn.Sequential)", partial(nets.efficientnet_b0, True), 224),
    ("efficientnet-b0", "no stage containers", partial(nets.efficientnet_b0, False), 224),
    ("squeezenet1-0", "torchvision", nets.squeezenet1_0, 224),
    ("xception", "timm legacy_xception (body, then shortcut)", partial(nets.xception, False), 299),
    ("xception", "Keras order (shortcut first)", partial(nets.xception, True), 299),
    ("inception-v4", "timm", nets.inception_v4, 299),
    ("inception-resnet-v2", "timm (repeat Sequentials)", partial(nets.inception_resnet_v2, True), 299),
    ("bn-inception", "modular (GoogLeNet-like)", partial(nets.bn_inception, False), 224),
    ("bn-inception", "pretrainedmodels port (flat, all locals kept)", partial(nets.bn_inception, True), 224),
)


def tool_peak(name: str, batch: int, module: str | None = None) -> int:
    """The tool's eager PyTorch peak in fp32."""
    command = [sys.executable, "-m", "inception_cost", "memory", name, "--batch", str(batch), "--dtype", "fp32",
               "-f", "json"] + (["--module", module] if module else [])
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return int(json.loads(out)["totals"]["eager_peak_activation_bytes"])


def module_inputs(model: torch.nn.Module, x: torch.Tensor, modules: dict) -> dict:
    """The input shape of each named submodule in one forward pass."""
    shapes: dict = {}

    def note(name: str):  # a pre-hook that returns None leaves the module's input as it is
        def hook(module: torch.nn.Module, args: tuple) -> None:
            shapes.setdefault(name, args[0].shape)
        return hook

    hooks = [m.register_forward_pre_hook(note(name)) for name, m in modules.items()]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return shapes


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--modules"]
    torch.set_num_threads(min(8, torch.get_num_threads()))
    print(f"torch {torch.__version__}, fp32, eval, no_grad\n")
    print("| network | layout | part | batch | eager PyTorch | tool, eager | ratio |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, layout, build, size in NETS:
        if args and name not in args:
            continue
        torch.manual_seed(0)
        model, modules = build()
        model.eval()
        counted = json.loads(subprocess.run([sys.executable, "-m", "inception_cost", name, "-f", "json"],
                                            capture_output=True, text=True, check=True).stdout)["totals"]["params"]
        assert sum(p.numel() for p in model.parameters()) == counted, (name, layout)
        for batch in (1, 8):
            measured, ours = eager_peak(model, torch.randn(batch, 3, size, size)), tool_peak(name, batch)
            print(f"| {name} | {layout} | network | {batch} | {measured:,} | {ours:,} | {ours / measured:.3f}x |",
                  flush=True)
        if "--modules" in sys.argv:
            shapes = module_inputs(model, torch.randn(1, 3, size, size), modules)
            for part, module in modules.items():
                measured, ours = eager_peak(module, torch.randn(shapes[part])), tool_peak(name, 1, part)
                print(f"| {name} | {layout} | {part} | 1 | {measured:,} | {ours:,} | {ours / measured:.3f}x |",
                      flush=True)


if __name__ == "__main__":
    main()

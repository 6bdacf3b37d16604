"""What autograd saves in a training forward pass of MobileNetV2, DenseNet-121 and
ResNet-50, and the peak of one SGD step, against `inception-cost memory NAME --train
--batch N --dtype fp32` ("saved activations" and `training_peak_bytes`).

Run by hand (torch only, the CPU is enough; a few seconds):

    python benchmarks/saved_tensors_cpu.py [BATCH ...]      # default: 2

torchvision is not needed: the networks are built here from torch.nn in torchvision's
layout (3,504,872, 7,978,856 and 25,557,032 parameters, as torchvision's own). Saved: one forward pass in
train() mode at batch 2, 224x224, inside `torch.autograd.graph.saved_tensors_hooks`:
every tensor autograd packs is counted once per storage, the parameters and buffers left
out (autograd keeps the weights themselves, not copies), as benchmarks/training_cpu.py
does for GoogLeNet and Inception v3. The CPU's dropout keeps an fp32 noise tensor where
CUDA's keeps a 1-byte mask (the tool's figure): the script counts it as the mask.

Peak: one SGD step (forward, cross-entropy, backward, update) under torch.profiler with
memory events, the most bytes allocated at once plus what was allocated before the step
(weights, buffers, input, labels), as benchmarks/training_cpu.py measures GoogLeNet's.
The CPU's convolution library (oneDNN) also allocates scratch in a conv's backward (a
weight-sized copy of its gradient, activation-sized layout copies) that cuDNN does not
make: up to about 2% of ResNet-50's peak here, which the tool does not count.

These checks found relu6 (hardtanh: its backward reads its input), out-of-place elu and
average pools (they keep their input) counted wrongly by the tool, and the gradient that
waits at a branch point (a shortcut's input) left out of the peak; fixed 2026-11-29.
"""

from __future__ import annotations

import json
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, relu6: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if relu6 else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        first = [conv_bn(cin, hidden, 1)] if expand != 1 else []
        self.body = nn.Sequential(*first, conv_bn(hidden, hidden, 3, stride, hidden),
                                  conv_bn(hidden, cout, 1, relu6=False))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


def mobilenet_v2() -> nn.Module:
    layers: list[nn.Module] = [conv_bn(3, 32, 3, 2)]
    width = 32
    for expand, out, repeats, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                                         (6, 160, 3, 2), (6, 320, 1, 1)):
        for j in range(repeats):
            layers.append(InvertedResidual(width, out, stride if j == 0 else 1, expand))
            width = out
    return nn.Sequential(*layers, conv_bn(width, 1280, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(1280, 1000))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int = 32, size: int = 4) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(size * growth)
        self.conv2 = nn.Conv2d(size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        x = torch.cat(features, 1)
        x = self.conv1(F.relu(self.norm1(x), inplace=True))
        return [*features, self.conv2(F.relu(self.norm2(x), inplace=True))]


class DenseBlock(nn.Module):
    def __init__(self, layers: int, cin: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + 32 * i) for i in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features = layer(features)
        return torch.cat(features, 1)


def densenet121() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                               nn.MaxPool2d(3, 2, 1)]
    width = 64
    for i, repeats in enumerate((6, 12, 24, 16)):
        layers.append(DenseBlock(repeats, width))
        width += 32 * repeats
        if i < 3:
            layers.append(nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                                        nn.Conv2d(width, width // 2, 1, bias=False), nn.AvgPool2d(2, 2)))
            width //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width, 1000))


class Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True), nn.Conv2d(width, width * 4, 1, bias=False),
                                  nn.BatchNorm2d(width * 4))
        self.downsample = (nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False), nn.BatchNorm2d(width * 4))
                           if stride != 1 or cin != width * 4 else None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.downsample(x) if self.downsample is not None else x
        out: torch.Tensor = self.relu(self.body(x) + shortcut)
        return out


def resnet50() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                               nn.MaxPool2d(3, 2, 1)]
    width_in = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for j in range(blocks):
            layers.append(Bottleneck(width_in, width, stride if j == 0 else 1))
            width_in = width * 4
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))


def step_peak(model: nn.Module, batch: int) -> int:
    """The most bytes allocated at once in one SGD step, with what was allocated before it."""
    from torch.profiler import ProfilerActivity, profile

    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch, 3, 224, 224), torch.randint(0, 1000, (batch,))
    before = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers(), x, y))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    allocated = peak = 0
    for e in events:
        allocated += e.nbytes()
        peak = max(peak, allocated)
    return before + peak


def saved_bytes(model: nn.Module, batch: int) -> int:
    """Bytes autograd saves in one train() forward pass, dropout's fp32 noise as a 1-byte mask."""
    model.train()
    own = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.untyped_storage().data_ptr() not in own:
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    noise: set[int] = set()

    def dropout_noise(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        other = getattr(output.grad_fn, "_saved_other", None)  # MulBackward0: input x scaled noise
        if isinstance(other, torch.Tensor):
            noise.add(other.untyped_storage().data_ptr())

    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.register_forward_hook(dropout_noise)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(batch, 3, 224, 224))
    return sum(n // 4 if ptr in noise else n for ptr, n in storages.items())


def tool_bytes(name: str, batch: int) -> tuple[int, int]:
    """The tool's (saved activations, training peak) for one SGD step."""
    out = subprocess.run([sys.executable, "-m", "inception_cost", "memory", name, "--train", "--batch", str(batch),
                          "--dtype", "fp32", "--optimizer", "sgd", "-f", "json"],
                         capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    rows = [r for s in doc["sections"] for r in s["rows"] if r.get("part") == "saved activations"]
    return int(rows[0]["bytes"]), int(doc["totals"]["training_peak_bytes"])


def main() -> None:
    batches = [int(b) for b in sys.argv[1:]] or [2]
    print(f"torch {torch.__version__}, fp32, 224x224, SGD")
    for name, build in (("mobilenet-v2", mobilenet_v2), ("densenet121", densenet121), ("resnet50", resnet50)):
        for batch in batches:
            torch.manual_seed(0)
            model = build()
            params = sum(p.numel() for p in model.parameters())
            saved, peak = saved_bytes(model, batch), step_peak(model, batch)
            ours_saved, ours_peak = tool_bytes(name, batch)
            print(f"{name}, batch {batch}: {params:,} parameters; saved by autograd {saved:,} bytes, inception-cost"
                  f" {ours_saved:,} ({ours_saved - saved:+,}); step peak {peak:,}, inception-cost {ours_peak:,}"
                  f" ({ours_peak / peak:.4f}x)")


if __name__ == "__main__":
    main()

"""What autograd saves in a training forward pass of MobileNetV2 and DenseNet-121, against
`inception-cost memory NAME --train --batch 2 --dtype fp32` (its "saved activations").

Run by hand (torch only, the CPU is enough; a few seconds):

    python benchmarks/saved_tensors_cpu.py

torchvision is not needed: both networks are built here from torch.nn in torchvision's
layout (3,504,872 and 7,978,856 parameters, as torchvision's own). One forward pass in
train() mode at batch 2, 224x224, inside `torch.autograd.graph.saved_tensors_hooks`:
every tensor autograd packs is counted once per storage, the parameters and buffers left
out (autograd keeps the weights themselves, not copies), as benchmarks/training_cpu.py
does for GoogLeNet and Inception v3. The CPU's dropout keeps an fp32 noise tensor where
CUDA's keeps a 1-byte mask (the tool's figure): the script counts it as the mask.

These checks found relu6 (hardtanh: its backward reads its input), out-of-place elu and
average pools (they keep their input) counted wrongly by the tool; fixed 2026-11-29.
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


def tool_bytes(name: str, batch: int) -> int:
    out = subprocess.run([sys.executable, "-m", "inception_cost", "memory", name, "--train", "--batch", str(batch),
                          "--dtype", "fp32", "-f", "json"], capture_output=True, text=True, check=True).stdout
    rows = [r for s in json.loads(out)["sections"] for r in s["rows"] if r.get("part") == "saved activations"]
    return int(rows[0]["bytes"])


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, batch 2, fp32, 224x224")
    for name, build in (("mobilenet-v2", mobilenet_v2), ("densenet121", densenet121)):
        model = build()
        params = sum(p.numel() for p in model.parameters())
        pytorch, ours = saved_bytes(model, 2), tool_bytes(name, 2)
        print(f"{name}: {params:,} parameters; saved by autograd {pytorch:,} bytes, inception-cost {ours:,}"
              f" ({ours - pytorch:+,})")


if __name__ == "__main__":
    main()

"""What eager PyTorch allocates in one inference forward pass of torchvision's own
ConvNeXt-Tiny, ShuffleNetV2 1.0x, SqueezeNet 1.1 and MobileNetV3-Small, against
`inception-cost memory NAME --dtype fp32 -f json` (`eager_peak_activation_bytes`),
measured as inference_memory_cpu.py measures.

Run by hand from the repository root (torch and torchvision, the CPU is enough; seconds):

    python benchmarks/inference_memory_torchvision_cpu.py [BATCH ...]

What it showed (torch 2.13.0, torchvision 0.28.0, 2026-11-29): both equal to the byte at
batch 1 and 8 (ConvNeXt-Tiny 12,644,352 and 101,154,816 bytes; ShuffleNetV2 3,010,560 and
24,084,480); SqueezeNet 1.1 and MobileNetV3-Small too (5,442,112 and 43,536,896;
2,609,152 and 20,873,216).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference_memory_cpu import eager_peak, tool_peaks  # noqa: E402

MODELS = (("convnext-tiny", torchvision.models.convnext_tiny), ("shufflenet-v2", torchvision.models.shufflenet_v2_x1_0),
          ("squeezenet1-1", torchvision.models.squeezenet1_1),
          ("mobilenet-v3-small", torchvision.models.mobilenet_v3_small))


def main() -> None:
    batches = [int(b) for b in sys.argv[1:]] or [1, 8]
    print("| network | batch | eager PyTorch | tool, eager | tool, least |")
    print("|---|---:|---:|---:|---:|")
    for name, build in MODELS:
        model = build().eval()
        for batch in batches:
            measured = eager_peak(model, torch.randn(batch, 3, 224, 224))
            tool = tool_peaks(name, batch)
            eager, least = (f"{tool[0] / measured:.3f}x", f"{tool[1] / measured:.3f}x") if tool else ("-", "-")
            print(f"| {name} | {batch} | {measured:,} | {eager} | {least} |")


if __name__ == "__main__":
    main()

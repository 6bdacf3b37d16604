"""What eager PyTorch allocates in one inference forward pass, against `inception-cost
memory NAME --dtype fp32 -f json`: `eager_peak_activation_bytes` (its model of eager
PyTorch) and `peak_activation_bytes` (the least a freeing, folding executor needs).

Run by hand (torch only, the CPU is enough; under a minute):

    python benchmarks/inference_memory_cpu.py [BATCH ...]      # default: 1 8
    python benchmarks/inference_memory_cpu.py --cuda [BATCH ...]   # on a GPU (run_device_checks.sh)

With --cuda the same networks run on the GPU (cudnn.benchmark off, PyTorch's default) and
the figure is torch.cuda.max_memory_allocated during the forward pass less what was
allocated before the input: it includes cuDNN's workspaces and the caching allocator's
rounding to 512 bytes, which the tool leaves out, so it tells how far the CPU's rules
carry to a GPU. No GPU run has been made yet.

torchvision is not needed: GoogLeNet, Inception v3 and ResNet-50 are built here from
torch.nn in torchvision's layout (aux_logits=False, transform_input=False; 6,624,904,
23,834,568 and 25,557,032 parameters, as torchvision's own), MobileNetV2, DenseNet-121
and a ResNet-50 without stage containers come from saved_tensors_cpu.py beside this file.
One forward pass in eval() mode under torch.no_grad, with torch.profiler's memory
events: the most bytes allocated at once, read at the start and end of each top-level
operator so that the scratch oneDNN (the CPU's convolution library) allocates inside a
conv is left out, plus the input the caller holds.

What it showed (torch 2.13.0, 2026-11-29): the model is exact to the byte for GoogLeNet,
Inception v3, MobileNetV2 and the ResNet-50 without stage containers, and for single
modules of each (GoogLeNet 3a, Inception v3 Mixed_5b and Mixed_7b, ResNet-50 layer1_0
and layer1_1). Two layouts hold more than the YAML files describe: torchvision's
ResNet-50 runs each stage as an nn.Sequential, whose input stays alive until the stage
returns (0.932x), and its DenseNet keeps a dense block's outputs in a list and
concatenates them anew in every layer (0.811x).
"""

from __future__ import annotations

import bisect
import json
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import saved_tensors_cpu as stc  # noqa: E402


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x)
        return F.relu(x, inplace=True)


# ---------------- GoogLeNet (torchvision, aux_logits=False, transform_input=False)
class Inception(nn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(cin, pool_proj, kernel_size=1))

    def _forward(self, x):
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x):
        outputs = self._forward(x)
        return torch.cat(outputs, 1)


class GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x):
        x = self.conv1(x)
        x = self.maxpool1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.maxpool2(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.maxpool4(x)
        x = self.inception5a(x)
        x = self.inception5b(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


# ---------------- Inception v3 (torchvision, aux_logits=False, transform_input=False)
class InceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_1(x)
        branch5x5 = self.branch5x5_2(branch5x5)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_2(bd)
        bd = self.branch7x7dbl_3(bd)
        bd = self.branch7x7dbl_4(bd)
        bd = self.branch7x7dbl_5(bd)
        bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        bp = self.branch_pool(bp)
        return torch.cat([branch1x1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        b7 = self.branch7x7x3_2(b7)
        b7 = self.branch7x7x3_3(b7)
        b7 = self.branch7x7x3_4(b7)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class InceptionE(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = [self.branch3x3_2a(b3), self.branch3x3_2b(b3)]
        b3 = torch.cat(b3, 1)
        bd = self.branch3x3dbl_1(x)
        bd = self.branch3x3dbl_2(bd)
        bd = [self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)]
        bd = torch.cat(bd, 1)
        bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        bp = self.branch_pool(bp)
        return torch.cat([branch1x1, b3, bd, bp], 1)


class Inception3(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout"):
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(x, 1))


# ---------------- ResNet-50 exactly as torchvision's Bottleneck.forward
class TVBottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, width * 4, 1, bias=False), nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False), nn.BatchNorm2d(width * 4))
                           if stride != 1 or cin != width * 4 else None)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TVResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layer = []
            for j in range(blocks):
                layer.append(TVBottleneck(cin, width, stride if j == 0 else 1))
                cin = width * 4
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


NETS = (  # (tool name, layout, builder, image size)
    ("googlenet-torchvision", "torchvision", GoogLeNet, 224),
    ("inception-v3", "torchvision", Inception3, 299),
    ("mobilenet-v2", "torchvision", stc.mobilenet_v2, 224),
    ("resnet50", "blocks without stage containers", stc.resnet50, 224),
    ("resnet50", "torchvision (stages are nn.Sequential)", TVResNet50, 224),
    ("densenet121", "torchvision (dense block keeps a list)", stc.densenet121, 224),
)


def eager_peak(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes alive at most between top-level operators of one no_grad forward, input included."""
    with torch.no_grad():
        model(x)  # warm-up: oneDNN's first-call allocations are not the network's
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            model(x)
    events = list(prof.profiler.kineto_results.events())
    memory = sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]")
    ops = sorted(((e.start_ns(), e.end_ns()) for e in events if e.name().startswith("aten::")),
                 key=lambda o: (o[0], -o[1]))
    times, running, total = [t for t, _ in memory], [], 0
    for _, n in memory:
        total += n
        running.append(total)
    peak, last_end = 0, -1
    for start, end in ops:
        if start < last_end:
            continue  # inside another operator
        last_end = end
        for t in (start, end):
            i = bisect.bisect_right(times, t)
            peak = max(peak, running[i - 1] if i else 0)
    return peak + x.numel() * x.element_size()


def tool_peaks(name: str, batch: int) -> tuple[int, int] | None:
    """The tool's (eager PyTorch, least) inference peaks in fp32; None where it cannot run
    here (a GPU machine without click and PyYAML: compare the measured column later)."""
    run = subprocess.run([sys.executable, "-m", "inception_cost", "memory", name, "--batch", str(batch),
                          "--dtype", "fp32", "-f", "json"], capture_output=True, text=True)
    if run.returncode:
        return None
    totals = json.loads(run.stdout)["totals"]
    return int(totals["eager_peak_activation_bytes"]), int(totals["peak_activation_bytes"])


def cuda_peak(model: nn.Module, batch: int, size: int) -> int:
    """Bytes allocated at most on the GPU in one no_grad forward, beyond what was allocated
    before the input (the weights): the input, the activations, cuDNN's workspaces."""
    model = model.cuda()
    with torch.no_grad():
        model(torch.randn(batch, 3, size, size, device="cuda"))  # warm-up: cuDNN's first-call allocations
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    x = torch.randn(batch, 3, size, size, device="cuda")
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        model(x)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - before
    model.cpu()
    return peak


def main() -> None:
    cuda = "--cuda" in sys.argv
    batches = [int(b) for b in sys.argv[1:] if b != "--cuda"] or [1, 8]
    torch.set_num_threads(min(8, torch.get_num_threads()))
    where = torch.cuda.get_device_name(0) if cuda else "the CPU"
    print(f"torch {torch.__version__}, fp32, eval, no_grad, on {where}\n")
    print("| network | layout | batch | parameters | eager PyTorch | tool, eager | ratio | tool, least | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, layout, build, size in NETS:
        torch.manual_seed(0)
        model = build().eval()
        params = sum(p.numel() for p in model.parameters())
        for batch in batches:
            measured = cuda_peak(model, batch, size) if cuda else eager_peak(model, torch.randn(batch, 3, size, size))
            tool = tool_peaks(name, batch)
            if tool is None:
                print(f"| {name} | {layout} | {batch} | {params:,} | {measured:,} | - | - | - | - |", flush=True)
                continue
            eager, least = tool
            print(f"| {name} | {layout} | {batch} | {params:,} | {measured:,} | {eager:,} | {eager / measured:.3f}x"
                  f" | {least:,} | {least / measured:.3f}x |", flush=True)


if __name__ == "__main__":
    main()

"""One training step of torchvision GoogLeNet and Inception v3 in PyTorch, against
`inception-cost memory ... --train` (saved activations) and `roofline ... --train` (FLOPs).

Run by hand (torch and torchvision, CPU is enough; about 2.5 GB of memory at batch 32):

    python benchmarks/training_cpu.py [BATCH]

Saved activations: one forward pass of GoogLeNet (and of Inception v3 at a quarter of
the batch) in train() mode with the auxiliary heads (what `--train` counts), fp32,
inside `torch.autograd.graph.saved_tensors_hooks`: every tensor autograd packs is
recorded once per storage; the model's parameters and buffers are left out (autograd
saves the weights themselves, not copies). The tool counts the network's input as the
first conv's saved input, so it is counted here too.

On the CPU PyTorch's dropout saves an fp32 noise tensor where CUDA's fused dropout keeps
a 1-byte mask (the tool's figure): the script reports that difference apart.

Peak: one SGD step of GoogLeNet (forward, the three losses, backward, update) under
`torch.profiler` with memory events: the most bytes allocated at once, plus what was
allocated before the step (weights, buffers, the input and the labels), against the
`training_peak_bytes` of `memory googlenet-torchvision --train --optimizer sgd`. The CPU
allocator, not CUDA's caching one: like `torch.cuda.max_memory_allocated`, it counts
tensors, not cached blocks.

FLOPs: `torch.utils.flop_counter.FlopCounterMode` over a forward and backward pass of
both networks at batch 2 (convolution, convolution_backward, addmm, mm), against the sum
of the FLOPs column of `roofline NAME --train --batch 2` (its GEMMs; elementwise passes
count no FLOPs there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import torch
import torchvision


def saved_bytes(network: str, size: int, batch: int) -> tuple[int, int]:
    """(bytes autograd saves, of which dropout's noise) for one forward pass."""
    model = getattr(torchvision.models, network)(weights=None, aux_logits=True, init_weights=False).train()
    own = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    storages: dict[int, int] = {}
    dropout_noise: set[int] = set()

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in own:
            storages[ptr] = t.untyped_storage().nbytes()
        return t

    def note_dropout(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        node = output.grad_fn  # MulBackward0 of input x scaled noise: the noise is its saved `other`
        other = getattr(node, "_saved_other", None)
        if isinstance(other, torch.Tensor) and other.dtype.is_floating_point:
            dropout_noise.add(other.untyped_storage().data_ptr())

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.register_forward_hook(note_dropout)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(batch, 3, size, size))
    return sum(storages.values()), sum(storages.get(p, 0) for p in dropout_noise)


def step_peak(batch: int) -> int:
    """The most bytes allocated at once during one SGD training step, with what the step
    starts from."""
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch, 3, 224, 224), torch.randint(0, 1000, (batch,))
    before = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers(), x, y))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = model(x)
        loss = sum(F.cross_entropy(o, y) for o in out)
        loss.backward()
        optimizer.step()
        del out, loss
    allocated = peak = 0
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    for event in sorted(events, key=lambda e: e.start_ns()):
        allocated += event.nbytes()
        peak = max(peak, allocated)
    return before + peak


def tool(*args: str) -> Any:
    return json.loads(subprocess.run(["inception-cost", *args, "-f", "json"], check=True, capture_output=True,
                                     text=True).stdout)


def step_flops(network: str, size: int) -> int:
    """FLOPs PyTorch's counter sees in a forward and backward pass at batch 2."""
    from torch.utils.flop_counter import FlopCounterMode

    model = getattr(torchvision.models, network)(weights=None, aux_logits=True, init_weights=False).train()
    with FlopCounterMode(display=False) as counter:
        out = model(torch.randn(2, 3, size, size))
        sum(t.sum() for t in out if t is not None).backward()
    return counter.get_total_flops()


def main() -> None:
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, CPU")
    for network, name, size, images in (("googlenet", "googlenet-torchvision", 224, batch),
                                        ("inception_v3", "inception-v3", 299, max(1, batch // 4))):
        saved, noise = saved_bytes(network, size, images)
        mask = noise // 4  # one byte per element where the tool counts CUDA's mask
        report = tool("memory", name, "--train", "--batch", str(images), "--dtype", "fp32")
        ours = {r["part"]: r["bytes"] for r in report["sections"][1]["rows"]}["saved activations"]
        print(f"{network}, batch {images}, fp32: PyTorch saves {saved:,} bytes (dropout noise {noise:,});"
              f" with a 1-byte mask {saved - noise + mask:,}; inception-cost {ours:,}"
              f" ({ours - (saved - noise + mask):+,})")
    peak = step_peak(batch)
    ours = tool("memory", "googlenet-torchvision", "--train", "--batch", str(batch), "--dtype", "fp32",
                "--optimizer", "sgd")["totals"]["training_peak_bytes"]
    print(f"GoogLeNet, batch {batch}, fp32, one SGD step: peak {peak:,} bytes allocated; inception-cost {ours:,}"
          f" ({ours / peak - 1:+.1%})")
    for network, name, size in (("googlenet", "googlenet-torchvision", 224), ("inception_v3", "inception-v3", 299)):
        rows = tool("roofline", name, "--train", "--batch", "2")["sections"][0]["rows"]
        flops, counted = sum(r["flops"] for r in rows), step_flops(network, size)
        print(f"{network}, batch 2, forward + backward: PyTorch counts {counted:,} FLOPs, inception-cost"
              f" {flops:,} ({flops - counted:+,})")


if __name__ == "__main__":
    main()

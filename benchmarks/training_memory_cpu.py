"""What PyTorch saves for the backward pass of torchvision GoogLeNet, against
`inception-cost memory googlenet-torchvision --train`.

Run by hand (torch and torchvision, CPU is enough; about 2.5 GB of memory at batch 32):

    python benchmarks/training_memory_cpu.py [BATCH]

One forward pass in train() mode with the auxiliary heads (what `--train` counts), fp32,
inside `torch.autograd.graph.saved_tensors_hooks`: every tensor autograd packs is
recorded once per storage; the model's parameters and buffers are left out (autograd
saves the weights themselves, not copies). The tool counts the network's input as the
first conv's saved input, so it is counted here too.

On the CPU PyTorch's dropout saves an fp32 noise tensor where CUDA's fused dropout keeps
a 1-byte mask (the tool's figure): the script reports that difference apart.
"""

from __future__ import annotations

import json
import subprocess
import sys

import torch
import torchvision


def saved_bytes(batch: int) -> tuple[int, int]:
    """(bytes autograd saves, of which dropout's noise) for one forward pass."""
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False).train()
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
        model(torch.randn(batch, 3, 224, 224))
    return sum(storages.values()), sum(storages.get(p, 0) for p in dropout_noise)


def tool_bytes(batch: int) -> dict[str, int]:
    out = subprocess.run(["inception-cost", "memory", "googlenet-torchvision", "--train", "--batch", str(batch),
                          "--optimizer", "sgd", "--dtype", "fp32", "-f", "json"],
                         check=True, capture_output=True, text=True).stdout
    return {r["part"]: r["bytes"] for r in json.loads(out)["sections"][1]["rows"]}


def main() -> None:
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    torch.manual_seed(0)
    saved, noise = saved_bytes(batch)
    mask = noise // 4  # one byte per element where the tool counts CUDA's mask
    tool = tool_bytes(batch)["saved activations"]
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, batch {batch}, fp32, CPU")
    print(f"PyTorch saves                {saved:>15,} bytes (dropout noise {noise:,})")
    print(f"the same with a 1-byte mask  {saved - noise + mask:>15,} bytes")
    print(f"inception-cost               {tool:>15,} bytes ({tool - (saved - noise + mask):+,})")


if __name__ == "__main__":
    main()

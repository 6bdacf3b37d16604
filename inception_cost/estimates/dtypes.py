"""Element types of activations and weights, their sizes, and the batches estimates take."""

from __future__ import annotations

import enum

# the largest batch an estimate takes (--batch, the API's batch=, a measurement's batch)
MAX_BATCH = 1 << 16


class Dtype(str, enum.Enum):
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        return {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 1}[self.value]

    def __str__(self) -> str:
        return self.value

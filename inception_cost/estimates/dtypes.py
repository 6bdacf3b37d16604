"""Element types of activations and weights, and their sizes."""

from __future__ import annotations

import enum


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

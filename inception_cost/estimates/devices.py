"""Device profiles for the roofline estimate: peak throughput per dtype and bandwidth.

Built-in profiles live in `inception_cost/devices/*.yaml`; a user file has the same
keys: name, title, source, peak_tflops {fp32, bf16, fp16, int8}, bandwidth_gbs,
overhead_us (a fixed time per layer, e.g. a kernel launch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cost.errors import ArchitectureError, UsageError, did_you_mean

DTYPES = ("fp32", "bf16", "fp16", "int8")
KEYS = ("name", "title", "source", "notes", "peak_tflops", "bandwidth_gbs", "overhead_us")


@dataclass(frozen=True)
class Device:
    name: str
    title: str
    source: str
    peak_tflops: dict[str, float]  # dtype -> dense TFLOP/s (TOPS for int8)
    bandwidth_gbs: float  # GB/s = 10^9 bytes per second
    overhead_us: float = 0.0

    def peak_flops(self, dtype: str) -> float:
        return self.peak_tflops[dtype] * 1e12

    @property
    def bandwidth(self) -> float:
        return self.bandwidth_gbs * 1e9


def device_dir() -> Path:
    return Path(__file__).resolve().parent / "devices"


def builtin_devices() -> list[str]:
    return sorted(p.stem for p in device_dir().glob("*.yaml"))


def load_device(ref: str) -> Device:
    path = Path(ref)
    if path.suffix.lower() not in (".yaml", ".yml"):
        path = device_dir() / f"{ref}.yaml"
        if not path.is_file():
            names = builtin_devices()
            raise UsageError(f"unknown device '{ref}'{did_you_mean(ref, names)}; built-ins:"
                             f" {', '.join(names)} (or give the path of a device .yaml file)")
    from inception_cost.source.yamlsource import load_file

    display = path.name if path.parent == device_dir() else ref
    doc = load_file(path, display)

    def fail(key: str | None, message: str) -> ArchitectureError:
        line = doc.line_of(key) if hasattr(doc, "line_of") and key else getattr(doc, "line", None)
        return ArchitectureError(message, file=display, line=line)

    if not isinstance(doc, dict):
        raise fail(None, "a device file is a mapping (name, peak_tflops, bandwidth_gbs)")
    for key in doc:
        if key not in KEYS:
            raise fail(key, f"unknown key '{key}'{did_you_mean(key, KEYS)} (allowed: {', '.join(KEYS)})")
    for key in ("peak_tflops", "bandwidth_gbs"):
        if key not in doc:
            raise fail(None, f"missing '{key}'")
    peaks = doc["peak_tflops"]
    if not isinstance(peaks, dict) or not peaks:
        raise fail("peak_tflops", "'peak_tflops' maps dtypes (fp32, bf16, fp16, int8) to TFLOP/s")
    for dtype, value in peaks.items():
        if dtype not in DTYPES:
            raise fail("peak_tflops", f"unknown dtype '{dtype}'{did_you_mean(dtype, DTYPES)}")
        if not _positive(value):
            raise fail("peak_tflops", f"peak for {dtype} must be a positive number, got {value!r}")
    if not _positive(doc["bandwidth_gbs"]):
        raise fail("bandwidth_gbs", "'bandwidth_gbs' must be a positive number")
    overhead = doc.get("overhead_us", 0)
    if not _positive(overhead, allow_zero=True):
        raise fail("overhead_us", "'overhead_us' must be a number >= 0")
    return Device(name=str(doc.get("name", path.stem)), title=str(doc.get("title", path.stem)),
                  source=str(doc.get("source", "")), peak_tflops={k: float(v) for k, v in peaks.items()},
                  bandwidth_gbs=float(doc["bandwidth_gbs"]), overhead_us=float(overhead))


def _positive(value: Any, allow_zero: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return bool(value >= 0 if allow_zero else value > 0)

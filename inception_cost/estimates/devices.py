"""Device profiles for the roofline estimate: peak throughput per dtype and bandwidth.

Built-in profiles live in `inception_cost/devices/*.yaml`; a user file has the same
keys: name, title, source, peak_tflops {fp32, bf16, fp16, int8}, bandwidth_gbs,
overhead_us (a fixed time per layer, e.g. a kernel launch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cost.errors import ArchitectureError, UsageError, did_you_mean, shorten

DTYPES = ("fp32", "bf16", "fp16", "int8")
LOWEST, HIGHEST = 1e-6, 1e9  # a device's figures: TFLOP/s, GB/s, µs
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
    from inception_cost.source.catalog import is_path

    path = Path(ref)
    if not is_path(ref):  # the same rule as architectures: a separator or .yaml makes a path
        names = builtin_devices()
        path = device_dir() / f"{ref}.yaml"
        if ref not in names:
            raise UsageError(f"unknown device '{shorten(ref)}'{did_you_mean(ref, names)}; built-ins:"
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
        if not _in_range(value):
            raise fail("peak_tflops", f"peak for {dtype} must be a number from {LOWEST:g} to"
                                      f" {HIGHEST:g}, got {value!r}")
    if not _in_range(doc["bandwidth_gbs"]):
        raise fail("bandwidth_gbs", f"'bandwidth_gbs' must be a number from {LOWEST:g} to {HIGHEST:g}")
    overhead = doc.get("overhead_us", 0)
    if not _in_range(overhead, allow_zero=True):
        raise fail("overhead_us", f"'overhead_us' must be 0 or a number from {LOWEST:g} to {HIGHEST:g}")
    return Device(name=str(doc.get("name", path.stem)), title=str(doc.get("title", path.stem)),
                  source=str(doc.get("source", "")), peak_tflops={k: float(v) for k, v in peaks.items()},
                  bandwidth_gbs=float(doc["bandwidth_gbs"]), overhead_us=float(overhead))


def _in_range(value: Any, allow_zero: bool = False) -> bool:
    """Finite and within [LOWEST, HIGHEST]: every estimate then stays a finite float
    (no subnormal peak whose quotient overflows to infinity, no NaN in a report)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (allow_zero and value == 0) or LOWEST <= value <= HIGHEST

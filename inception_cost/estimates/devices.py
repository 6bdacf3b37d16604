"""Device profiles for the time estimates: peak throughput per math, bandwidth, and the
latency model's parameters.

Built-in profiles live in `inception_cost/estimates/devices/*.yaml`; a user file (or one
`inception-cost calibrate` writes) has the same keys: name, title, source, notes,
peak_tflops {fp32, tf32, bf16, fp16, int8}, bandwidth_gbs, overhead_us (the fixed time
of a kernel where there is no `latency` section) and `latency` (`latency.Latency`'s
fields, documented in the README and in the built-in profiles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inception_cost.errors import ArchitectureError, UsageError, did_you_mean, shorten
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.latency import LATENCY_KEYS, Latency, Model, Precision

DTYPES = ("fp32", "tf32", "bf16", "fp16", "int8")  # the maths a peak may be given for
LOWEST, HIGHEST = 1e-6, 1e9  # a device's figures: TFLOP/s, GB/s, µs
MAX_TILES = 64  # a profile's GEMM tiles: every conv is priced once per tile (the built-ins have 4)
KEYS = ("name", "title", "source", "notes", "peak_tflops", "bandwidth_gbs", "overhead_us", "latency")
TEXTS = {"name": 1_000, "title": 1_000, "source": 10_000, "notes": 10_000}  # the longest each may be


@dataclass(frozen=True)
class Device:
    name: str
    title: str
    source: str
    peak_tflops: dict[str, float]  # dtype -> dense TFLOP/s (TOPS for int8)
    bandwidth_gbs: float  # GB/s = 10^9 bytes per second
    overhead_us: float = 0.0
    latency: Latency = field(default_factory=Latency)

    def precision(self, dtype: Dtype, tf32: bool = True) -> Precision:
        """PyTorch's maths for `dtype` on this device (`Precision.of`, TF32 only where it has a peak)."""
        return Precision.of(dtype, tf32).on(self.peak_tflops)

    def model(self, precision: Precision) -> Model:
        """The latency model for `precision` (a math the device has no peak for runs as fp32);
        without a latency section the plain roofline with `overhead_us` per kernel."""
        latency = self.latency if self.latency != Latency() else Latency(kernel_us=self.overhead_us)
        return Model({k: v * 1e12 for k, v in self.peak_tflops.items()}, self.bandwidth, latency,
                     precision.on(self.peak_tflops))

    def check_dtype(self, dtype: Dtype) -> None:
        """A time estimate in `dtype` needs its peak here (bf16 on a T4 has none)."""
        if dtype.value not in self.peak_tflops:
            raise UsageError(f"device '{self.name}' has no peak for {dtype.value}"
                             f" (it has: {', '.join(self.peak_tflops)})")

    def peak_flops(self, dtype: str) -> float:
        return self.peak_tflops[dtype] * 1e12

    @property
    def bandwidth(self) -> float:
        return self.bandwidth_gbs * 1e9


def device_dir() -> Path:
    return Path(__file__).resolve().parent / "devices"


def builtin_devices() -> list[str]:
    return sorted(p.stem for p in device_dir().glob("*.yaml"))


# The built-in profile for a measured GPU's name (torch.cuda.get_device_name, as the
# measurement files record it): first match wins; variants with other clocks or memory
# (H100 NVL, H200 NVL, L40, A10G, V100 PCIe) have none.
GPU_NAMES = (("h200", r"\bh200\b(?!.*\bnvl\b)"), ("h100-pcie", r"\bh100\b.*\bpcie\b"),
             ("h100-sxm", r"\bh100\b(?!.*\bnvl\b)"), ("a100-40gb", r"\ba100\b.*\b40\s*gb\b"),
             ("a100-80gb-pcie", r"\ba100\b.*\bpcie\b"), ("a100-80gb", r"\ba100\b"), ("l40s", r"\bl40s\b"),
             ("l4", r"\bl4\b"), ("a10", r"\ba10\b"), ("t4", r"\bt4\b"), ("v100", r"\bv100\b(?!.*\bpcie\b)"))


def builtin_for_gpu(gpu: str | None) -> str | None:
    """The built-in profile of the GPU named `gpu` ('NVIDIA A100-SXM4-40GB': a100-40gb), or None."""
    import re

    if not gpu:
        return None
    return next((name for name, pattern in GPU_NAMES if re.search(pattern, gpu, re.IGNORECASE)), None)


def _got(value: Any) -> str:
    """What a figure was instead of a number, said plainly: YAML 1.1 reads `1e9` (no point,
    no sign) as text."""
    import re

    if value is None:
        return "nothing (null)"
    number = re.fullmatch(r"([-+]?[0-9]*\.?[0-9]+)[eE]([-+]?)([0-9]{1,3})", value.strip()) if isinstance(value, str) \
        else None
    if number:
        mantissa, sign, exponent = number.groups()
        written = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{sign or '+'}{exponent}"
        return f"the text {value!r} (YAML 1.1 reads it so: write {written})"
    return shorten(repr(value))


def load_device(ref: str) -> Device:
    from inception_cost.source.catalog import is_path

    path = Path(ref)
    if not is_path(ref):  # the same rule as architectures: a separator or .yaml makes a path
        names = builtin_devices()
        path = device_dir() / f"{ref}.yaml"
        if ref not in names:
            import os

            local = f" (to read the file '{shorten(ref)}' here, write './{shorten(ref)}')" if os.path.exists(ref) \
                else ""
            raise UsageError(f"unknown device '{shorten(ref)}'{did_you_mean(ref, names)}{local}; built-ins:"
                             f" {', '.join(names)} (or give the path of a device .yaml file)")
    from inception_cost.source.yamlsource import YMap, load_file

    display = path.name if path.parent == device_dir() else ref
    doc = load_file(path, display, "a device profile",
                    "a device profile: a YAML mapping with peak_tflops and bandwidth_gbs")

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
                                      f" {HIGHEST:g}, got {_got(value)}")
    if not _in_range(doc["bandwidth_gbs"]):
        raise fail("bandwidth_gbs", f"'bandwidth_gbs' must be a number from {LOWEST:g} to {HIGHEST:g},"
                                    f" got {_got(doc['bandwidth_gbs'])}")
    overhead = doc.get("overhead_us", 0)
    if not _in_range(overhead, allow_zero=True):
        raise fail("overhead_us", f"'overhead_us' must be 0 or a number from {LOWEST:g} to {HIGHEST:g}")
    for key, longest in TEXTS.items():  # shown in every estimate's report
        text = doc.get(key, "")
        if isinstance(text, (dict, list)) or len(str(text)) > longest:
            raise fail(key, f"'{key}' is text of at most {longest:,} characters")
    if "fp32" not in peaks:
        raise fail("peak_tflops", "'peak_tflops' needs fp32 (the rate of the CUDA cores: depthwise convs, and"
                   " fp32 convs where it lists no tf32)")
    if "latency" in doc:
        section = doc["latency"]

        def fail_at(key: str | None, message: str) -> ArchitectureError:
            """At the faulty key's own line where the section knows it, else at `latency:`."""
            if key is not None and isinstance(section, YMap):
                return ArchitectureError(message, file=display, line=section.line_of(key))
            return fail("latency", message)

        latency = _latency(section, fail_at)
    else:
        latency = Latency()
    return Device(name=str(doc.get("name", path.stem)), title=str(doc.get("title", path.stem)),
                  source=str(doc.get("source", "")), peak_tflops={k: float(v) for k, v in peaks.items()},
                  bandwidth_gbs=float(doc["bandwidth_gbs"]), overhead_us=float(overhead), latency=latency)


def _latency(section: Any, fail: Callable[[str | None, str], ArchitectureError]) -> Latency:
    """The `latency:` section, every value checked."""
    if not isinstance(section, dict):
        raise fail(None, f"'latency' is a mapping of: {', '.join(LATENCY_KEYS)}")
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in LATENCY_KEYS:
            raise fail(key, f"unknown latency key '{key}'{did_you_mean(key, LATENCY_KEYS)}")
        if key == "sms":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
                raise fail(key, "latency 'sms' must be a whole number from 0 to 100000")
        elif key == "layout_copies":
            if not isinstance(value, bool):
                raise fail(key, "latency 'layout_copies' must be true or false")
        elif key == "tiles":
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_TILES or not all(
                    isinstance(t, list) and len(t) == 2 and all(_whole(x) for x in t) for t in value):
                raise fail(key, "latency 'tiles' is a list of [rows, columns] pairs of whole numbers 1..4096,"
                                f" at most {MAX_TILES} of them")
            value = tuple((int(a), int(b)) for a, b in value)
        elif key in ("efficiency", "winograd", "window_exponent"):
            if not isinstance(value, dict) or not all(
                    m in DTYPES and _in_range(v) and v <= 100 for m, v in value.items()):
                raise fail(key, f"latency '{key}' maps maths ({', '.join(DTYPES)}) to positive numbers")
            value = {m: float(v) for m, v in value.items()}
        elif not _in_range(value, allow_zero=key in ("kernel_us", "gemm_us", "tile_overhead", "pool_gops")) \
                or value > 1e6:
            raise fail(key, f"latency '{key}' must be a number from {LOWEST:g} to 1e6")
        else:
            value = float(value)
        values[key] = value
    return Latency(**values)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4096


def _in_range(value: Any, allow_zero: bool = False) -> bool:
    """Finite and within [LOWEST, HIGHEST]: every estimate then stays a finite float
    (no subnormal peak whose quotient overflows to infinity, no NaN in a report)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (allow_zero and value == 0) or LOWEST <= value <= HIGHEST

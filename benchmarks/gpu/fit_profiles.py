"""Fit the built-in H100 profile on h100_latency.json and derive the other GPUs from it.

Run by hand from the repository root: `python benchmarks/gpu/fit_profiles.py` (about a
minute). Writes inception_cost/estimates/devices/h100-measured.yaml and one derived profile per
entry of DATASHEETS (h100-sxm, h200, h100-pcie, a100-80gb, a100-40gb, a100-80gb-pcie, l40s, a10, l4, t4,
v100).

h100-measured is `inception-cost calibrate h100_latency.json` with the measured peaks.
The others have no measurements: their peaks, bandwidth and SM counts are datasheet
figures, and their latency parameters are the fitted H100's, with every efficiency
rescaled so that it is the same share of the datasheet peak as on the H100 (measured
matmul rate / H100 datasheet peak), the elementwise bandwidth share likewise
(3000 GB/s measured copy / 3350 datasheet), pool throughput scaled with bandwidth, and
the fixed kernel costs kept. GPUs before Ampere (T4, V100) have no TF32 and no bf16: their
profiles list no peak for them, so fp32 convs run as fp32 there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from inception_cost.estimates import calibrate as cal
from inception_cost.estimates.accuracy import Accuracy
from inception_cost.estimates.devices import Device, device_dir, load_device
from inception_cost.estimates.measurements import read_measurements

HERE = Path(__file__).resolve().parent
# name: (title, source, sms, dense TFLOP/s per math, GB/s)
DATASHEETS = {
    "h100-sxm": ("NVIDIA H100 SXM5 80 GB", "NVIDIA H100 Tensor Core GPU datasheet (dense)", 132,
                 {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4, "int8": 1978.9}, 3350),
    "h200": ("NVIDIA H200 SXM 141 GB", "NVIDIA H200 Tensor Core GPU datasheet (dense)", 132,
             {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4, "int8": 1978.9}, 4800),
    "h100-pcie": ("NVIDIA H100 PCIe 80 GB", "NVIDIA H100 Tensor Core GPU datasheet (dense: half the sparse"
                  " figures)", 114, {"fp32": 51.2, "tf32": 378, "bf16": 756, "fp16": 756, "int8": 1513}, 2000),
    "a100-80gb": ("NVIDIA A100 SXM 80 GB", "NVIDIA A100 Tensor Core GPU datasheet (dense)", 108,
                  {"fp32": 19.5, "tf32": 156, "bf16": 312, "fp16": 312, "int8": 624}, 2039),
    "a100-40gb": ("NVIDIA A100 SXM 40 GB", "NVIDIA A100 Tensor Core GPU datasheet (dense)", 108,
                  {"fp32": 19.5, "tf32": 156, "bf16": 312, "fp16": 312, "int8": 624}, 1555),
    # the 40 GB PCIe card has the SXM 40 GB's figures; the 80 GB one less bandwidth than its SXM
    "a100-80gb-pcie": ("NVIDIA A100 PCIe 80 GB", "NVIDIA A100 Tensor Core GPU datasheet (dense)", 108,
                       {"fp32": 19.5, "tf32": 156, "bf16": 312, "fp16": 312, "int8": 624}, 1935),
    "l40s": ("NVIDIA L40S 48 GB", "NVIDIA L40S datasheet (dense: half the sparse figures)", 142,
             {"fp32": 91.6, "tf32": 183, "bf16": 362, "fp16": 362, "int8": 733}, 864),
    "a10": ("NVIDIA A10 24 GB", "NVIDIA A10 Tensor Core GPU datasheet (dense: half the sparse figures)", 72,
            {"fp32": 31.2, "tf32": 62.5, "bf16": 125, "fp16": 125, "int8": 250}, 600),
    "l4": ("NVIDIA L4 24 GB", "NVIDIA L4 Tensor Core GPU datasheet (dense: half the sparse figures)", 58,
           {"fp32": 30.3, "tf32": 60, "bf16": 121, "fp16": 121, "int8": 242.5}, 300),
    # before Ampere: no TF32 and no bf16 (fp32 convs run as fp32; --dtype bf16 is refused)
    "t4": ("NVIDIA T4 16 GB", "NVIDIA T4 Tensor Core GPU datasheet (FP16 with FP32 accumulate)", 40,
           {"fp32": 8.1, "fp16": 65, "int8": 130}, 320),
    "v100": ("NVIDIA V100 SXM2 32 GB", "NVIDIA V100 Tensor Core GPU datasheet (SXM2)", 80,
             {"fp32": 15.7, "fp16": 125}, 900),
}


def derive(fitted: Device, name: str) -> Device:
    title, source, sms, peaks, bandwidth = DATASHEETS[name]
    h100 = DATASHEETS["h100-sxm"][3]
    lat = fitted.latency
    share = {m: fitted.peak_tflops.get(m, h100[m]) / h100[m] for m in h100}
    efficiency = {m: e * share[m] for m, e in lat.efficiency.items() if m in peaks}
    stream = fitted.bandwidth_gbs / DATASHEETS["h100-sxm"][4]
    return replace(fitted, name=name, title=f"{title} (derived from the fitted H100 profile)", source=source,
                   peak_tflops=peaks, bandwidth_gbs=bandwidth,
                   latency=replace(lat, sms=sms, efficiency=efficiency,
                                   winograd={m: v for m, v in lat.winograd.items() if m in peaks},
                                   window_exponent={m: v for m, v in lat.window_exponent.items() if m in peaks},
                                   bandwidth_efficiency=lat.bandwidth_efficiency * stream,
                                   pool_gops=lat.pool_gops * bandwidth / fitted.bandwidth_gbs))


def main() -> None:
    info, cases = read_measurements(str(HERE / "h100_latency.json"))
    start = cal.measured_device(load_device("h100-sxm"), info, "h100-measured")
    fitted = cal.fit(start, cases)
    accuracy = Accuracy.of([(cal.predict_us(fitted, c), c.measured_us) for c in cases])
    fitted = replace(fitted, title="NVIDIA H100 80GB HBM3 (SXM), fitted on benchmarks/gpu/h100_latency.json")
    (device_dir() / "h100-measured.yaml").write_text(cal.profile_yaml(
        fitted, "benchmarks/gpu/h100_latency.json (torch 2.11, cuDNN 9.19, CUDA graphs, NCHW):"
        " peaks = measured matmul rates and copy bandwidth; latency fitted by inception-cost calibrate",
        f"fitted on {accuracy}; held-out accuracy in the README"))
    for name in DATASHEETS:
        derived = derive(fitted, name)
        (device_dir() / f"{name}.yaml").write_text(cal.profile_yaml(
            derived, DATASHEETS[name][1],
            "no measurements: latency parameters derived from h100-measured (benchmarks/gpu/fit_profiles.py):"
            " efficiencies as the same share of the datasheet peak, fixed kernel costs kept"))
    print(f"h100-measured fitted on {accuracy}")


if __name__ == "__main__":
    main()

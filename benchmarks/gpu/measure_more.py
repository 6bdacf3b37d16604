#!/usr/bin/env python3
"""Calibration data for a latency and training-cost model of CNN layers (GPU benchmark).

Stand-alone: needs torch and torchvision; not part of the inception_cost package and not
imported by it. It adds to measure_latency.py (same timing method) these groups:

  peaks     matmul rates per dtype (fp32, tf32, fp16, bf16), device-to-device copy bandwidth,
            and the cost of a tiny kernel, eager and inside a CUDA graph
  convs     single nn.Conv2d layers (bias=False) on a designed, seeded sample of implicit-GEMM
            sizes M = batch*Hout*Wout, N = Cout, K = Cin/groups*kh*kw (1x1 ... 7x7, 1xn and nx1,
            stride 1 and 2, depthwise, grouped; 16..1024 channels, 7..112 pixels, batch 1/32/256)
            plus the conv shapes of GoogLeNet and Inception-v3, in fp16, bf16, fp32 with TF32
            ("tf32") and fp32 without TF32 ("fp32"); NCHW, and a subset in channels_last
  kernels   non-conv kernels alone: BatchNorm2d (eval), ReLU, MaxPool 3x3/1 and 3x3/2, AvgPool
            3x3/1, adaptive average pooling to 1x1, torch.cat of 4 tensors, elementwise add, and
            the NCHW -> channels_last copy
  networks  torchvision googlenet and inception_v3 (eval, whole forward pass)
  training  torchvision googlenet training steps at batch 32 (sgd, sgd with momentum, adam;
            fp32 with TF32 and torch.autocast fp16 with GradScaler): time and memory
  fusion    conv, conv+BN, conv+BN+ReLU and conv(bias)+ReLU (BN folded), eager vs CUDA graph,
            and conv+BN+ReLU under torch.compile (run in a child process with a time limit)

Every record carries its static configuration (op, channels, kernel, stride, padding, dilation,
groups, input and output size, batch, dtype, TF32 flag, memory format, MACs per image
= kh*kw*(Cin/groups)*Cout*Hout*Wout) so that a static calculator can recompute it. Times are
microseconds per call of the whole batch.

Timing (see bench()): the first call (which includes cudnn.benchmark's algorithm search) is
timed apart; then "eager" = back-to-back calls timed with CUDA events, and "graph" = the same
calls captured in a CUDA graph and replayed (close to pure GPU time, without launch gaps). The
number of calls per repeat adapts to the call's length (about --target-us per repeat); the
median over --repeats repeats is the headline number.

Each group gets a share of --time-budget (the shares are cumulative, so time a group leaves
goes to the next); a group that reaches its deadline stops starting cases and says how many it
left out. The JSON is rewritten after every group and every 15 s within one.

Usage (from the repository root):
  python3 benchmarks/gpu/measure_more.py --device cuda --out h100_more.json
  python3 benchmarks/gpu/measure_more.py --plan            # case counts and a time estimate
  python3 benchmarks/gpu/measure_more.py --device cpu --quick --out /tmp/more.json   # smoke test
"""

import argparse
import copy
import datetime
import functools
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

T0 = time.time()  # set before torch is imported, so that the time budget counts the import

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

warnings.filterwarnings("ignore")

GROUP_ORDER = ["peaks", "convs", "kernels", "networks", "training", "fusion"]
# Shares of the time budget, in the order above; the deadlines are cumulative.
GROUP_SHARE = {"peaks": 5, "convs": 110, "kernels": 25, "networks": 80, "training": 30, "fusion": 80}

MODES = {  # name: (dtype, TF32 allowed for cuDNN convolutions and cuBLAS matmuls)
    "fp16": (torch.float16, False),
    "bf16": (torch.bfloat16, False),
    "tf32": (torch.float32, True),
    "fp32": (torch.float32, False),
}
MODE_BYTES = {"fp16": 2, "bf16": 2, "tf32": 4, "fp32": 4}
ACT_LIMIT_BYTES = 4e9  # skip geometries whose input + output activations (at 4 bytes) exceed this

LOG_PREFIX = ""


def log(msg):
    print(f"[{time.time() - T0:7.1f}s]{LOG_PREFIX} {msg}", flush=True)


def short(ex):
    return f"{type(ex).__name__}: {ex}"[:400]


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


# --------------------------------------------------------------------------- precision


def set_mode(mode):
    """Set the TF32 flags for a mode and return its dtype.

    Only the legacy flags are used: torch raises when they and the newer fp32_precision API
    are mixed."""
    dtype, tf32 = MODES[mode]
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    return dtype


def precision_state():
    matmul = torch.backends.cuda.matmul
    return dict(matmul_allow_tf32=matmul.allow_tf32,
                cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                cudnn_benchmark=torch.backends.cudnn.benchmark,
                cudnn_deterministic=torch.backends.cudnn.deterministic,
                matmul_fp16_reduced_precision_reduction=getattr(matmul, "allow_fp16_reduced_precision_reduction", None),
                matmul_bf16_reduced_precision_reduction=getattr(matmul, "allow_bf16_reduced_precision_reduction", None))


def memory_format(name):
    return torch.channels_last if name == "channels_last" else torch.contiguous_format


# --------------------------------------------------------------------------- timing


class Timer:
    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def per_call_us(self, fn, iters):
        """Mean time of one call over `iters` back-to-back calls (CUDA events on a GPU)."""
        if self.cuda:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) * 1e3 / iters
        t = time.perf_counter()
        for _ in range(iters):
            fn()
        return (time.perf_counter() - t) * 1e6 / iters


def summarize(us, **extra):
    d = dict(median_us=statistics.median(us), min_us=min(us), max_us=max(us),
             repeats_us=[round(u, 3) for u in us])
    d.update(extra)
    return d


def bench(timer, fn, settings, graph=True, target_scale=1.0):
    """Time fn(): first call, eager repeats and (on CUDA) CUDA-graph replays. Returns a dict."""
    target = settings.target_us * target_scale
    t = time.perf_counter()
    fn()
    timer.sync()
    first_ms = (time.perf_counter() - t) * 1e3
    fn()
    timer.sync()
    est = timer.per_call_us(fn, 1)
    if est < 2000:
        est = timer.per_call_us(fn, 3)
    repeats = settings.repeats if est < 5000 else max(3, settings.repeats - 2)
    iters = clamp(int(target / est), 1, 50)
    out = dict(first_call_ms=round(first_ms, 3))
    out["eager"] = summarize([timer.per_call_us(fn, iters) for _ in range(repeats)], calls_per_repeat=iters)
    if graph and timer.cuda and not settings.no_graph:
        out["graph"] = graph_time(timer, fn, est, repeats, target)
    return out


def graph_time(timer, fn, est_us, repeats, target_us):
    """Capture `calls` calls of fn in a CUDA graph and time its replays (per call)."""
    try:
        calls = clamp(int(target_us / 2 / est_us), 1, 10)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            for _ in range(calls):
                fn()
        graph.replay()
        timer.sync()
        per_replay = timer.per_call_us(graph.replay, 1)
        replays = clamp(int(target_us / per_replay), 1, 20)
        us = [timer.per_call_us(graph.replay, replays) / calls for _ in range(repeats)]
        del graph
        return summarize(us, calls_per_graph=calls, replays_per_repeat=replays)
    except Exception as ex:  # record, don't die
        try:
            torch.cuda.synchronize()
        except Exception:
            pass
        return {"error": short(ex)}


def add_rates(rec, flop=None, nbytes=None):
    for k in ("eager", "graph"):
        t = rec.get(k, {}).get("median_us")
        if t:
            if flop:
                rec[k]["tflops_at_median"] = flop / t / 1e6
            if nbytes:
                rec[k]["gbps_at_median"] = nbytes / t / 1e3


def timing_str(rec):
    if "timings_eager" in rec:  # a training record
        t = rec["timings_eager"]
        return "  ".join(f"{k} {v['median_us']:9.1f} us" for k, v in t.items())
    e = rec.get("eager", {}).get("median_us", float("nan"))
    g = rec.get("graph", {}).get("median_us", float("nan"))
    s = f"eager {e:9.1f} us  graph {g:9.1f} us"
    tf = rec.get("graph", rec.get("eager", {})).get("tflops_at_median")
    if tf:
        s += f"  {tf:6.1f} TFLOP/s"
    return s


# --------------------------------------------------------------------------- conv cases


def conv_geometry(cin, cout, kernel, stride, padding, groups, h, w, batch, source, tag=None):
    """Static configuration of one Conv2d call (bias=False, dilation 1)."""
    kh, kw = kernel
    ph, pw = padding
    hout = (h + 2 * ph - kh) // stride + 1
    wout = (w + 2 * pw - kw) // stride + 1
    kind = "depthwise" if groups == cin == cout and groups > 1 else "grouped" if groups > 1 else "dense"
    prefix = {"depthwise": "dw", "grouped": "g", "dense": ""}[kind]
    family = f"{prefix}{kh}x{kw}" + (f"s{stride}" if stride > 1 else "")
    macs = kh * kw * (cin // groups) * cout * hout * wout
    return dict(op="conv2d", family=family, kind=kind, source=source, tag=tag,
                cin=cin, cout=cout, kernel=[kh, kw], stride=[stride, stride], padding=[ph, pw],
                dilation=[1, 1], groups=groups, bias=False, hin=h, win=w, hout=hout, wout=wout, batch=batch,
                macs_per_image=macs, macs_total=macs * batch,
                gemm=dict(m=batch * hout * wout, n=cout, k=(cin // groups) * kh * kw, groups=groups,
                          n_per_group=cout // groups),
                in_elems=batch * cin * h * w, out_elems=batch * cout * hout * wout,
                weight_elems=cout * (cin // groups) * kh * kw)


def geometry_key(g):
    return (g["cin"], g["cout"], tuple(g["kernel"]), g["stride"][0], tuple(g["padding"]), g["groups"],
            g["hin"], g["win"], g["batch"])


def act_bytes(g, elem_bytes=4):
    return (g["in_elems"] + g["out_elems"]) * elem_bytes


# Conv layers of torchvision's GoogLeNet (224x224) and Inception-v3 (299x299) with their input size.
# (tag, cin, cout, kernel, stride, padding, H=W, flags): flag L = also at batch 256;
# flag D = at batch 32 also in bf16 and fp32 without TF32 (and at batch 1 in tf32).
INCEPTION_CONVS = [
    ("googlenet.conv1", 3, 64, (7, 7), 2, (3, 3), 224, "LD"),
    ("googlenet.conv3", 64, 192, (3, 3), 1, (1, 1), 56, "LD"),
    ("googlenet.inception3a.branch1", 192, 64, (1, 1), 1, (0, 0), 28, "LD"),
    ("googlenet.inception3a.branch2.0", 192, 96, (1, 1), 1, (0, 0), 28, "L"),
    ("googlenet.inception3a.branch2.1", 96, 128, (3, 3), 1, (1, 1), 28, "LD"),
    ("googlenet.inception3a.branch3.0", 192, 16, (1, 1), 1, (0, 0), 28, "L"),
    ("googlenet.inception3a.branch3.1", 16, 32, (3, 3), 1, (1, 1), 28, "LD"),  # torchvision: 3x3 in the "5x5" branch
    ("paper.inception3a.5x5", 16, 32, (5, 5), 1, (2, 2), 28, "L"),  # the paper's 5x5
    ("googlenet.inception3a.branch4.1", 192, 32, (1, 1), 1, (0, 0), 28, "L"),
    ("googlenet.inception4e.branch1", 528, 256, (1, 1), 1, (0, 0), 14, ""),
    ("googlenet.inception4e.branch2.0", 528, 160, (1, 1), 1, (0, 0), 14, ""),
    ("googlenet.inception4e.branch2.1", 160, 320, (3, 3), 1, (1, 1), 14, "LD"),
    ("googlenet.inception4e.branch3.0", 528, 32, (1, 1), 1, (0, 0), 14, ""),
    ("googlenet.inception4e.branch3.1", 32, 128, (3, 3), 1, (1, 1), 14, ""),
    ("paper.inception4e.5x5", 32, 128, (5, 5), 1, (2, 2), 14, "D"),
    ("googlenet.inception4e.branch4.1", 528, 128, (1, 1), 1, (0, 0), 14, ""),
    ("googlenet.inception5b.branch1", 832, 384, (1, 1), 1, (0, 0), 7, "D"),
    ("inception_v3.Conv2d_1a_3x3", 3, 32, (3, 3), 2, (0, 0), 299, "LD"),
    ("inception_v3.Conv2d_2a_3x3", 32, 32, (3, 3), 1, (0, 0), 149, "L"),
    ("inception_v3.Conv2d_2b_3x3", 32, 64, (3, 3), 1, (1, 1), 147, "LD"),
    ("inception_v3.Conv2d_3b_1x1", 64, 80, (1, 1), 1, (0, 0), 73, ""),
    ("inception_v3.Conv2d_4a_3x3", 80, 192, (3, 3), 1, (0, 0), 73, "L"),
    ("inception_v3.Mixed_5b.branch5x5_2", 48, 64, (5, 5), 1, (2, 2), 35, "D"),
    ("inception_v3.Mixed_5b.branch3x3dbl_2", 64, 96, (3, 3), 1, (1, 1), 35, ""),
    ("inception_v3.Mixed_5b.branch3x3dbl_3", 96, 96, (3, 3), 1, (1, 1), 35, ""),
    ("inception_v3.Mixed_6a.branch3x3", 288, 384, (3, 3), 2, (0, 0), 35, "L"),
    ("inception_v3.Mixed_7a.branch3x3_2", 192, 320, (3, 3), 2, (0, 0), 17, ""),
    ("inception_v3.Mixed_7b.branch1x1", 1280, 320, (1, 1), 1, (0, 0), 8, ""),
    ("inception_v3.Mixed_7b.branch3x3_1", 1280, 384, (1, 1), 1, (0, 0), 8, ""),
    ("inception_v3.Mixed_7b.branch3x3_2a", 384, 384, (1, 3), 1, (0, 1), 8, "LD"),
    ("inception_v3.Mixed_7b.branch3x3_2b", 384, 384, (3, 1), 1, (1, 0), 8, "LD"),
    ("inception_v3.Mixed_7b.branch3x3dbl_1", 1280, 448, (1, 1), 1, (0, 0), 8, ""),
    ("inception_v3.Mixed_7b.branch3x3dbl_2", 448, 384, (3, 3), 1, (1, 1), 8, "LD"),
    ("inception_v3.Mixed_7c.branch3x3dbl_1", 2048, 448, (1, 1), 1, (0, 0), 8, "D"),
]
# Inception-v3's 17x17 modules (Mixed_6b: 128 channels, 6c/6d: 160, 6e: 192) and their 1x7/7x1 convs.
for _block, _c in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6e", 192)):
    _f = "LD" if _c in (128, 192) else ""
    INCEPTION_CONVS += [
        (f"inception_v3.{_block}.branch7x7_1", 768, _c, (1, 1), 1, (0, 0), 17, "D" if _c == 192 else ""),
        (f"inception_v3.{_block}.branch7x7_2", _c, _c, (1, 7), 1, (0, 3), 17, _f),
        (f"inception_v3.{_block}.branch7x7dbl_2", _c, _c, (7, 1), 1, (3, 0), 17, _f),
    ]
    if _c != 192:  # for 192 channels these are the two above
        INCEPTION_CONVS += [
            (f"inception_v3.{_block}.branch7x7_3", _c, 192, (7, 1), 1, (3, 0), 17, ""),
            (f"inception_v3.{_block}.branch7x7dbl_5", _c, 192, (1, 7), 1, (0, 3), 17, ""),
        ]

# The random grid: families (kernel, stride, kind, weight) and the values they are sampled from.
GRID_FAMILIES = [
    ((1, 1), 1, "dense", 6), ((1, 1), 2, "dense", 1),
    ((3, 3), 1, "dense", 6), ((3, 3), 2, "dense", 2),
    ((5, 5), 1, "dense", 2), ((7, 7), 1, "dense", 1), ((7, 7), 2, "dense", 1),
    ((1, 3), 1, "dense", 1.5), ((3, 1), 1, "dense", 1.5), ((1, 7), 1, "dense", 1.5), ((7, 1), 1, "dense", 1.5),
    ((3, 3), 1, "depthwise", 2.5), ((3, 3), 2, "depthwise", 1), ((5, 5), 1, "depthwise", 1.5),
    ((5, 5), 2, "depthwise", 0.5), ((3, 3), 1, "grouped", 2), ((3, 3), 2, "grouped", 0.5),
]
GRID_CHANNELS = [16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 768, 1024]
GRID_SPATIAL = [7, 8, 14, 17, 28, 35, 56, 112]
GRID_BATCHES, GRID_BATCH_WEIGHTS = [1, 32, 256], [0.35, 0.4, 0.25]
GRID_GROUPS = [2, 4, 8, 32]
GRID_COUNT = 100  # geometries
GRID_MAX_MACS = 4e11  # per call (whole batch)
FP32_MAX_MACS = 8e10  # fp32 without TF32 only below this
GRID_MODE_P = {"tf32": 0.6, "bf16": 0.25, "fp32": 0.25}  # fp16 always
CHANNELS_LAST = dict(inception_b32=16, inception_b256=4, grid=12, tf32=8)


def inception_geometry(row, batch):
    tag, cin, cout, k, s, p, h, _ = row
    return conv_geometry(cin, cout, k, s, p, 1, h, h, batch, "inception", tag)


def grid_geometries(rng, count, taken):
    out = []
    weights = [f[3] for f in GRID_FAMILIES]
    for _ in range(200000):
        if len(out) >= count:
            break
        (kh, kw), stride, kind, _ = rng.choices(GRID_FAMILIES, weights)[0]
        h = rng.choice(GRID_SPATIAL)
        batch = rng.choices(GRID_BATCHES, GRID_BATCH_WEIGHTS)[0]
        cin = rng.choice(GRID_CHANNELS)
        if kind == "depthwise":
            groups, cout = cin, cin
        elif kind == "grouped":
            groups = rng.choice(GRID_GROUPS)
            if cin % groups or cin // groups < 2:
                continue
            cout = rng.choice([c for c in GRID_CHANNELS if c % groups == 0])
        else:
            groups, cout = 1, rng.choice(GRID_CHANNELS)
        g = conv_geometry(cin, cout, (kh, kw), stride, (kh // 2, kw // 2), groups, h, h, batch, "grid")
        if g["hout"] < 1 or act_bytes(g) > ACT_LIMIT_BYTES or g["macs_total"] > GRID_MAX_MACS:
            continue
        if geometry_key(g) in taken:
            continue
        taken.add(geometry_key(g))
        out.append(g)
    return out


def case(geometry, mode, mf="contiguous"):
    c = dict(geometry)
    c.update(mode=mode, memory_format=mf)
    return c


def conv_cases(quick, seed):
    rng = random.Random(seed)
    if quick:
        geos = [conv_geometry(8, 16, (1, 1), 1, (0, 0), 1, 8, 8, 2, "quick"),
                conv_geometry(8, 8, (3, 3), 2, (1, 1), 1, 9, 9, 1, "quick"),
                conv_geometry(16, 16, (3, 3), 1, (1, 1), 16, 8, 8, 2, "quick"),
                conv_geometry(8, 8, (1, 7), 1, (0, 3), 1, 7, 7, 1, "quick"),
                conv_geometry(16, 16, (3, 3), 1, (1, 1), 4, 8, 8, 1, "quick")]
        cases = [case(g, m) for g in geos for m in ("tf32", "fp32")]
        cases += [case(geos[0], "fp16"), case(geos[0], "bf16"), case(geos[1], "bf16", "channels_last")]
        return cases
    cases, taken = [], set()
    inc32, inc256 = [], []
    for row in INCEPTION_CONVS:
        flags = row[7]
        g1, g32 = inception_geometry(row, 1), inception_geometry(row, 32)
        for g in (g1, g32):
            taken.add(geometry_key(g))
        cases += [case(g1, "fp16"), case(g32, "fp16"), case(g32, "tf32")]
        inc32.append(g32)
        if "D" in flags:
            cases += [case(g1, "tf32"), case(g32, "bf16"), case(g32, "fp32")]
        if "L" in flags:
            g256 = inception_geometry(row, 256)
            taken.add(geometry_key(g256))
            inc256.append(g256)
            cases.append(case(g256, "fp16"))
            if "D" in flags:
                cases.append(case(g256, "tf32"))
    grid = grid_geometries(rng, GRID_COUNT, taken)
    for g in grid:
        cases.append(case(g, "fp16"))
        for mode in ("tf32", "bf16", "fp32"):
            if mode == "fp32" and g["macs_total"] > FP32_MAX_MACS:
                continue
            if rng.random() < GRID_MODE_P[mode]:
                cases.append(case(g, mode))
    cl = (rng.sample(inc32, CHANNELS_LAST["inception_b32"]) + rng.sample(inc256, CHANNELS_LAST["inception_b256"])
          + rng.sample(grid, CHANNELS_LAST["grid"]))
    cases += [case(g, "fp16", "channels_last") for g in cl]
    cases += [case(g, "tf32", "channels_last") for g in rng.sample(cl, CHANNELS_LAST["tf32"])]
    rng.shuffle(cases)  # a run cut short keeps a random subset
    return cases


def describe_conv(c):
    name = c["tag"] or f"{c['family']} {c['cin']}->{c['cout']}" + (f" g{c['groups']}" if c["kind"] == "grouped" else "")
    mf = " CL" if c["memory_format"] == "channels_last" else ""
    return f"{name} {c['hin']}x{c['win']} b{c['batch']} {c['mode']}{mf}"


def measure_conv(run, c):
    dtype = set_mode(c["mode"])
    mf = memory_format(c["memory_format"])
    conv = nn.Conv2d(c["cin"], c["cout"], tuple(c["kernel"]), stride=tuple(c["stride"]), padding=tuple(c["padding"]),
                     dilation=tuple(c["dilation"]), groups=c["groups"], bias=c["bias"])
    conv = conv.to(device=run.device, dtype=dtype, memory_format=mf).eval()
    x = torch.randn(c["batch"], c["cin"], c["hin"], c["win"], device=run.device, dtype=dtype)
    x = x.contiguous(memory_format=mf)
    with torch.no_grad():
        y = conv(x)
        assert list(y.shape) == [c["batch"], c["cout"], c["hout"], c["wout"]], y.shape
        del y
        res = bench(run.timer, lambda: conv(x), run.args)
    rec = dict(c)
    rec.update(dtype=str(dtype).replace("torch.", ""), tf32_allowed=MODES[c["mode"]][1],
               precision=precision_state(), **res)
    add_rates(rec, flop=2 * c["macs_total"])
    run.free_after = act_bytes(c) > 1e9
    return rec


# --------------------------------------------------------------------------- non-conv kernels

KERNEL_OPS = ["batchnorm", "relu", "maxpool3x3s1", "maxpool3x3s2", "avgpool3x3s1", "adaptive_avgpool1x1",
              "cat4", "add", "to_channels_last"]
KERNEL_SIZES = [(64, 112), (192, 28), (288, 35), (768, 17), (2048, 8)]  # (C, H=W)


def kernel_cases(quick):
    if quick:
        return [dict(op=op, c=16, h=8, w=8, batch=2, mode=m, memory_format="contiguous")
                for op in KERNEL_OPS for m in ("fp32", "bf16")]
    cases = []
    for op in KERNEL_OPS:
        for c, h in KERNEL_SIZES:
            for batch in (1, 32, 256):
                modes = ("fp16", "fp32", "bf16") if batch == 32 else ("fp16", "fp32")
                cases += [dict(op=op, c=c, h=h, w=h, batch=batch, mode=m, memory_format="contiguous") for m in modes]
            if op != "to_channels_last" and (c, h) in ((192, 28), (768, 17)):
                cases.append(dict(op=op, c=c, h=h, w=h, batch=32, mode="fp16", memory_format="channels_last"))
    return cases


def describe_kernel(c):
    mf = " CL" if c["memory_format"] == "channels_last" else ""
    return f"{c['op']} {c['c']}x{c['h']}x{c['w']} b{c['batch']} {c['mode']}{mf}"


def kernel_fn(op, x):
    """(callable, parameters, number of inputs of x's size that it reads) for a non-conv kernel on x."""
    c = x.shape[1]
    if op == "batchnorm":
        bn = nn.BatchNorm2d(c, eps=1e-3).to(device=x.device, dtype=x.dtype).eval()
        bn.running_mean.uniform_(-0.1, 0.1)
        bn.running_var.uniform_(0.5, 1.5)
        return (lambda: bn(x)), dict(eps=1e-3, affine=True, module="nn.BatchNorm2d eval"), 1
    if op == "relu":
        return (lambda: F.relu(x)), dict(inplace=False), 1
    if op in ("maxpool3x3s1", "maxpool3x3s2", "avgpool3x3s1", "adaptive_avgpool1x1"):
        params = {
            "maxpool3x3s1": dict(kernel=3, stride=1, padding=1, ceil_mode=False),
            "maxpool3x3s2": dict(kernel=3, stride=2, padding=0, ceil_mode=True),  # torchvision GoogLeNet's
            "avgpool3x3s1": dict(kernel=3, stride=1, padding=1, ceil_mode=False, count_include_pad=True),
            "adaptive_avgpool1x1": dict(output_size=1),
        }[op]
        if op.startswith("maxpool"):
            m = nn.MaxPool2d(3, params["stride"], params["padding"], ceil_mode=params["ceil_mode"])
        elif op.startswith("avgpool"):
            m = nn.AvgPool2d(3, 1, 1)
        else:
            m = nn.AdaptiveAvgPool2d(1)
        return (lambda: m(x)), params, 1
    if op == "cat4":
        mf = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and x.shape[2] > 1 \
            else torch.contiguous_format
        b, _, h, w = x.shape
        parts = [torch.randn(b, c // 4, h, w, device=x.device, dtype=x.dtype).contiguous(memory_format=mf)
                 for _ in range(4)]
        return (lambda: torch.cat(parts, 1)), dict(parts=4, part_channels=[c // 4] * 4, dim=1), 1
    if op == "add":
        y = torch.randn_like(x)
        return (lambda: x + y), dict(inplace=False), 2
    if op == "to_channels_last":
        return (lambda: x.contiguous(memory_format=torch.channels_last)), dict(), 1
    raise ValueError(op)


def measure_kernel(run, c):
    dtype = set_mode(c["mode"])
    mf = memory_format(c["memory_format"])
    x = torch.randn(c["batch"], c["c"], c["h"], c["w"], device=run.device, dtype=dtype).contiguous(memory_format=mf)
    with torch.no_grad():
        fn, params, reads = kernel_fn(c["op"], x)
        y = fn()
        out_shape = list(y.shape)
        out_elems = y.numel()
        del y
        res = bench(run.timer, fn, run.args)
    esize = x.element_size()
    nbytes = (reads * x.numel() + out_elems) * esize
    rec = dict(c)
    rec.update(params=params, dtype=str(dtype).replace("torch.", ""), tf32_allowed=MODES[c["mode"]][1],
               cin=c["c"], cout=out_shape[1], hin=c["h"], win=c["w"], hout=out_shape[2], wout=out_shape[3],
               in_shape=list(x.shape), out_shape=out_shape,
               in_elems=x.numel(), out_elems=out_elems, bytes_moved=nbytes,
               bytes_note="minimum traffic: every input read once, every output written once", **res)
    add_rates(rec, nbytes=nbytes)
    run.free_after = nbytes > 1e9
    return rec


# --------------------------------------------------------------------------- layer tables


def layer_table(model, hw):
    """Per-layer static configuration of a model (forward hooks, batch 1, on the CPU, eval)."""
    model = copy.deepcopy(model).cpu().float().eval()
    names = {m: n for n, m in model.named_modules()}
    rows, hooks = [], []

    def hook(mod, inp, outp):
        x = inp[0]
        row = dict(name=names[mod], type=type(mod).__name__, in_shape=list(x.shape[1:]), out_shape=list(outp.shape[1:]),
                   params={n: list(p.shape) for n, p in mod.named_parameters(recurse=False)},
                   buffers={n: list(b.shape) for n, b in mod.named_buffers(recurse=False)})
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            ho, wo = outp.shape[2:]
            row.update(kernel=[kh, kw], stride=list(mod.stride), padding=list(mod.padding),
                       dilation=list(mod.dilation), groups=mod.groups, bias=mod.bias is not None,
                       cin=mod.in_channels, cout=mod.out_channels,
                       macs=kh * kw * (mod.in_channels // mod.groups) * mod.out_channels * ho * wo)
        elif isinstance(mod, nn.Linear):
            row.update(cin=mod.in_features, cout=mod.out_features, bias=mod.bias is not None,
                       macs=mod.in_features * mod.out_features)
        elif isinstance(mod, nn.BatchNorm2d):
            row.update(eps=mod.eps, momentum=mod.momentum, affine=mod.affine, macs=0)
        else:
            row["macs"] = 0
            for a in ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "output_size", "p"):
                if hasattr(mod, a):
                    v = getattr(mod, a)
                    row[a] = list(v) if isinstance(v, tuple) else v
        rows.append(row)

    kinds = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Dropout)
    for m in model.modules():
        if isinstance(m, kinds):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        y = model(torch.randn(1, 3, hw, hw))
    for h in hooks:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return dict(input_chw=[3, hw, hw], output=list(y.shape[1:]), layers=rows,
                macs_per_image=sum(r["macs"] for r in rows),
                conv_macs_per_image=sum(r["macs"] for r in rows if r["type"] == "Conv2d"),
                params=params, buffers=sum(b.numel() for b in model.buffers()),
                note="torchvision BasicConv2d = Conv2d(bias=False) + BatchNorm2d + F.relu (ReLU and torch.cat "
                     "are functional calls, so they have no rows here)")


def build_network(name):
    import torchvision

    if name == "googlenet":
        return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    if name == "inception_v3":
        return torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    raise ValueError(name)


# --------------------------------------------------------------------------- networks

NETWORK_HW = {"googlenet": 224, "inception_v3": 299}
QUICK_HW = {"googlenet": 64, "inception_v3": 80}


def network_cases(quick):
    if quick:
        return [dict(net=n, hw=QUICK_HW[n], batch=1, mode=m, memory_format="contiguous")
                for n in ("googlenet", "inception_v3") for m in ("tf32", "bf16")]
    cases = [dict(net=n, hw=NETWORK_HW[n], batch=b, mode=m, memory_format="contiguous")
             for b in (1, 32, 256) for n in ("googlenet", "inception_v3") for m in ("fp16", "bf16", "tf32")]
    cases += [dict(net=n, hw=NETWORK_HW[n], batch=b, mode="fp16", memory_format="channels_last")
              for b in (32, 256) for n in ("googlenet", "inception_v3")]
    return cases


def describe_network(c):
    mf = " CL" if c["memory_format"] == "channels_last" else ""
    return f"{c['net']} {c['hw']}x{c['hw']} b{c['batch']} {c['mode']}{mf}"


def measure_network(run, c):
    dtype = set_mode(c["mode"])
    mf = memory_format(c["memory_format"])
    table = run.layer_table(c["net"], c["hw"])
    model = copy.deepcopy(run.base_model(c["net"])).to(device=run.device, dtype=dtype, memory_format=mf).eval()
    x = torch.randn(c["batch"], 3, c["hw"], c["hw"], device=run.device, dtype=dtype).contiguous(memory_format=mf)
    with torch.no_grad():
        res = bench(run.timer, lambda: model(x), run.args, target_scale=5.0)
    rec = dict(c)
    rec.update(dtype=str(dtype).replace("torch.", ""), tf32_allowed=MODES[c["mode"]][1], precision=precision_state(),
               layer_table=f"{c['net']}_{c['hw']}", macs_per_image=table["macs_per_image"],
               macs_total=table["macs_per_image"] * c["batch"], params=table["params"], **res)
    rec["timing_used"] = "graph" if "median_us" in rec.get("graph", {}) else "eager"
    add_rates(rec, flop=2 * rec["macs_total"])
    run.free_after = True
    return rec


# --------------------------------------------------------------------------- training


def training_cases(quick):
    b, hw = (2, 32) if quick else (32, 224)
    return [dict(net="googlenet", hw=hw, batch=b, precision=p, optimizer=o)
            for p in ("fp32_tf32", "amp_fp16") for o in ("sgd", "sgd_momentum", "adam")]


def describe_training(c):
    return f"{c['net']} train b{c['batch']} {c['precision']} {c['optimizer']}"


def make_optimizer(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01)
    if name == "sgd_momentum":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    raise ValueError(name)


def tensor_bytes(tensors, device_type=None):
    return sum(t.numel() * t.element_size() for t in tensors
               if torch.is_tensor(t) and (device_type is None or t.device.type == device_type))


def measure_training(run, c):
    set_mode("tf32")  # fp32 parts may use TF32 in both configurations (cudnn's default)
    dev, cuda = run.device, run.timer.cuda
    amp = c["precision"] == "amp_fp16"
    table = run.layer_table(c["net"], c["hw"])
    memory = {}
    if cuda:
        torch.cuda.synchronize()
        memory["allocated_before_case"] = torch.cuda.memory_allocated()  # e.g. cuBLAS workspaces held
    model = copy.deepcopy(run.base_model(c["net"])).to(dev).train()
    params = list(model.parameters())
    x = torch.randn(c["batch"], 3, c["hw"], c["hw"], device=dev)
    target = torch.randint(0, 1000, (c["batch"],), device=dev)
    criterion = nn.CrossEntropyLoss()
    opt = make_optimizer(c["optimizer"], params)
    # init_scale 2**10 instead of 2**16 only shortens the warm-up: a step whose scaled gradients overflow
    # is skipped (no optimizer update) and halves the scale, and such steps must not be timed.
    scaler = torch.amp.GradScaler(dev.type, init_scale=2.0 ** 10) if amp else None

    def mem():
        return torch.cuda.memory_allocated() if cuda else None

    def peak():
        return torch.cuda.max_memory_allocated() if cuda else None

    def reset_peak():
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def forward_loss():
        with torch.autocast(device_type=dev.type, dtype=torch.float16, enabled=amp):
            return criterion(model(x), target)

    def backward(loss):
        (scaler.scale(loss) if scaler else loss).backward()

    def update():
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def fwd():
        forward_loss()

    def fwd_bwd():
        backward(forward_loss())
        opt.zero_grad(set_to_none=True)

    def step():
        backward(forward_loss())
        update()
        opt.zero_grad(set_to_none=True)

    reset_peak()
    memory["allocated_model_and_batch"] = mem()
    t = time.perf_counter()
    step()
    run.timer.sync()
    first_step_ms = (time.perf_counter() - t) * 1e3
    memory["peak_first_step"] = peak()
    warm_steps, stable = 1, 0
    while warm_steps < (8 if run.args.quick else 30) and stable < (1 if run.args.quick else 3):
        scale = scaler.get_scale() if scaler else None
        step()
        warm_steps += 1
        stable = stable + 1 if not scaler or scaler.get_scale() >= scale else 0
    # One instrumented step: what is held after the forward pass, the backward pass and the update.
    reset_peak()
    memory["allocated_before_step"] = mem()  # weights + optimizer state + batch (+ scaler)
    loss = forward_loss()
    run.timer.sync()
    memory["allocated_after_forward"] = mem()  # + activations saved for backward (+ autocast weight copies)
    memory["peak_forward"] = peak()
    backward(loss)
    del loss
    run.timer.sync()
    memory["allocated_after_backward"] = mem()  # + gradients
    memory["peak_forward_backward"] = peak()
    grad_bytes = tensor_bytes([p.grad for p in params if p.grad is not None])
    update()
    opt.zero_grad(set_to_none=True)
    run.timer.sync()
    memory["peak_step"] = peak()
    memory["allocated_after_step"] = mem()
    if cuda:
        memory["reserved"] = torch.cuda.memory_reserved()
    state = [v for per_param in opt.state.values() for v in per_param.values() if torch.is_tensor(v)]
    timings = {}
    scale_before = scaler.get_scale() if scaler else None
    iters = 1 if run.args.quick else 2
    for name, fn in (("forward", fwd), ("forward_backward", fwd_bwd), ("step", step)):
        fn()
        run.timer.sync()
        timings[name] = summarize([run.timer.per_call_us(fn, iters) for _ in range(run.args.repeats)],
                                  calls_per_repeat=iters)
    rec = dict(c)
    rec.update(
        mode="tf32", precision_flags=precision_state(), loss="CrossEntropyLoss", num_classes=1000,
        autocast_dtype="float16" if amp else None, grad_scaler=amp,
        optimizer_defaults={k: (v if isinstance(v, (bool, int, float, str, type(None))) else str(v))
                            for k, v in opt.defaults.items()},
        layer_table=f"{c['net']}_{c['hw']}", macs_per_image=table["macs_per_image"],
        params=sum(p.numel() for p in params), trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=tensor_bytes(params), buffer_bytes=tensor_bytes(list(model.buffers())),
        grad_bytes=grad_bytes,
        optimizer_state_bytes_on_device=tensor_bytes(state, dev.type),
        optimizer_state_bytes_elsewhere=tensor_bytes(state) - tensor_bytes(state, dev.type),
        optimizer_state_tensors=len(state), batch_bytes=tensor_bytes([x, target]),
        memory_bytes=memory, first_step_ms=round(first_step_ms, 3), timings_eager=timings,
        step_median_us=timings["step"]["median_us"],
        timing_note="eager (no CUDA graph); times are per call of the whole batch",
        warmup_steps=warm_steps, grad_scaler_init_scale=2.0 ** 10 if amp else None,
        grad_scale_before_timing=scale_before, grad_scale_after_timing=scaler.get_scale() if scaler else None,
        note_grad_scale="a lower scale after timing means some timed steps overflowed and skipped the update",
    )
    run.free_after = True
    return rec


# --------------------------------------------------------------------------- fusion

# (tag, cin, cout, kernel, stride, padding, H=W)
FUSION_SHAPES = [
    ("googlenet.inception3a.branch2.1", 96, 128, (3, 3), 1, (1, 1), 28),
    ("googlenet.inception3a.branch1", 192, 64, (1, 1), 1, (0, 0), 28),
    ("inception_v3.Mixed_6b.branch7x7_2", 128, 128, (1, 7), 1, (0, 3), 17),
    ("inception_v3.Mixed_7b.branch3x3dbl_2", 448, 384, (3, 3), 1, (1, 1), 8),
    ("googlenet.conv1", 3, 64, (7, 7), 2, (3, 3), 224),
]
FUSION_VARIANTS = ["conv", "conv_bn", "conv_bn_relu", "conv_bias_relu"]


def fusion_cases(quick):
    if quick:
        g = conv_geometry(8, 16, (3, 3), 1, (1, 1), 1, 8, 8, 2, "quick")
        eager = [dict(case(g, m), variant=v) for m in ("tf32", "bf16") for v in FUSION_VARIANTS]
        return eager, [dict(case(g, "tf32"), variant="conv_bn_relu")]
    eager, compiled = [], []
    for batch in (32, 1):
        for tag, cin, cout, k, s, p, h in FUSION_SHAPES:
            g = conv_geometry(cin, cout, k, s, p, 1, h, h, batch, "fusion", tag)
            eager += [dict(case(g, m), variant=v) for m in ("fp16", "tf32") for v in FUSION_VARIANTS]
            compiled.append(dict(case(g, "fp16"), variant="conv_bn_relu"))
    return eager, compiled


def describe_fusion(c):
    return f"{c['variant']:14s} {c['tag'] or c['family']} {c['hin']}x{c['win']} b{c['batch']} {c['mode']}"


def fusion_module(c):
    v = c["variant"]
    layers = [nn.Conv2d(c["cin"], c["cout"], tuple(c["kernel"]), stride=tuple(c["stride"]),
                        padding=tuple(c["padding"]), bias=v == "conv_bias_relu")]
    if v in ("conv_bn", "conv_bn_relu"):
        bn = nn.BatchNorm2d(c["cout"], eps=1e-3)
        bn.running_mean.uniform_(-0.1, 0.1)
        bn.running_var.uniform_(0.5, 1.5)
        layers.append(bn)
    if v in ("conv_bn_relu", "conv_bias_relu"):
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def measure_fusion(run, c, compiled=False):
    dtype = set_mode(c["mode"])
    model = fusion_module(c).to(device=run.device, dtype=dtype).eval()
    x = torch.randn(c["batch"], c["cin"], c["hin"], c["win"], device=run.device, dtype=dtype)
    rec = dict(c)
    with torch.no_grad():
        fn = model
        if compiled:
            torch._dynamo.reset()
            fn = torch.compile(model, dynamic=False)
            t = time.perf_counter()
            fn(x)
            run.timer.sync()
            rec["compile_s"] = round(time.perf_counter() - t, 3)
        res = bench(run.timer, lambda: fn(x), run.args)
    rec.update(dtype=str(dtype).replace("torch.", ""), tf32_allowed=MODES[c["mode"]][1], precision=precision_state(),
               compiled=compiled, bn_eps=1e-3 if "bn" in c["variant"] else None, **res)
    add_rates(rec, flop=2 * c["macs_total"])
    return rec


def compile_worker(args):
    """Child process: torch.compile cases from a spec file; writes its results after every case."""
    global LOG_PREFIX
    LOG_PREFIX = " [compile child]"
    global T0
    with open(args.compile_worker) as f:
        spec = json.load(f)
    T0 = spec["t0"]  # log on the parent's clock
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    run = Run(args, device, child=True)
    out = dict(records=[], failed=[], not_run=0, env=dict(
        TORCHINDUCTOR_COMPILE_THREADS=os.environ.get("TORCHINDUCTOR_COMPILE_THREADS")))
    try:
        import torch._inductor.config as inductor_config

        out["inductor_config"] = {k: getattr(inductor_config, k, None)
                                  for k in ("freezing", "compile_threads", "max_autotune")}
    except Exception as ex:
        out["inductor_config"] = short(ex)

    def save():
        with open(args.out + ".tmp", "w") as f:
            json.dump(out, f, indent=1, default=str)
        os.replace(args.out + ".tmp", args.out)

    save()
    for i, c in enumerate(spec["cases"]):
        if time.time() > spec["start_deadline"]:
            out["not_run"] = len(spec["cases"]) - i
            log(f"time limit: {out['not_run']} compile cases not run")
            break
        try:
            rec = measure_fusion(run, c, compiled=True)
        except Exception as ex:
            out["failed"].append(dict(case=c, error=short(ex)))
            log(f"FAILED {describe_fusion(c)}: {short(ex)}")
            save()
            break  # a compiler that failed once will fail again: don't spend the time
        out["records"].append(rec)
        log(f"compiled {describe_fusion(c)} compile {rec['compile_s']:.1f} s  {timing_str(rec)}")
        save()
    out["finished"] = True
    save()


def run_compile_child(run, cases, limit_s):
    """Run the torch.compile cases in a child process, killed (with its own children) after limit_s."""
    info = dict(limit_s=round(limit_s, 1), cases_planned=len(cases))
    with tempfile.TemporaryDirectory(prefix="measure_more_") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as f:
            json.dump(dict(cases=cases, t0=T0, start_deadline=time.time() + max(5.0, limit_s - 15.0)), f)
        cmd = [sys.executable, os.path.abspath(__file__), "--compile-worker", spec_path, "--out", out_path,
               "--device", run.args.device, "--repeats", str(run.args.repeats), "--target-us", str(run.args.target_us)]
        if run.args.quick:
            cmd.append("--quick")
        env = dict(os.environ)
        env.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # compile in the child itself: no worker pool to start
        t = time.time()
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        try:
            info["returncode"] = proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            info["returncode"] = f"killed after {limit_s:.0f} s"
            log(f"compile child killed after {limit_s:.0f} s")
        info["wall_s"] = round(time.time() - t, 1)
        try:
            with open(out_path) as f:
                info.update(json.load(f))
        except Exception as ex:
            info["read_error"] = short(ex)
    return info


# --------------------------------------------------------------------------- peaks


def measure_peaks(run):
    dev, timer, quick = run.device, run.timer, run.args.quick
    out = {}
    n = 2 ** 20 if quick else 2 ** 28  # 2**28 fp32 = 1 GiB
    a = torch.randn(n, device=dev)
    b = torch.empty_like(a)
    copy_ab = functools.partial(b.copy_, a)
    copy_ab()
    timer.sync()
    us = [timer.per_call_us(copy_ab, 2 if quick else 10) for _ in range(3)]
    nbytes = 2 * a.numel() * a.element_size()
    out["d2d_copy"] = summarize(us, bytes_read_plus_written=nbytes, gbps_at_median=nbytes / statistics.median(us) / 1e3)
    del a, b, copy_ab
    size = 256 if quick else 8192
    for mode in ("fp32", "tf32", "fp16", "bf16"):
        dt = set_mode(mode)
        a = torch.randn(size, size, device=dev, dtype=dt)
        b = torch.randn(size, size, device=dev, dtype=dt)
        c = torch.empty(size, size, device=dev, dtype=dt)
        mm = functools.partial(torch.mm, a, b, out=c)
        mm()
        timer.sync()
        us = [timer.per_call_us(mm, 2 if quick else 5) for _ in range(3)]
        flop = 2 * size ** 3
        out[f"matmul_{mode}"] = summarize(us, n=size, flop=flop, precision=precision_state(),
                                          tflops_at_median=flop / statistics.median(us) / 1e6)
        log(f"peaks: matmul {mode} {out[f'matmul_{mode}']['tflops_at_median']:.1f} TFLOP/s")
        del a, b, c, mm
    set_mode("fp32")
    x = torch.zeros(1, device=dev)
    out["tiny_add"] = bench(timer, lambda: x.add_(1.0), run.args)
    log(f"peaks: copy {out['d2d_copy']['gbps_at_median']:.0f} GB/s; tiny add {timing_str(out['tiny_add'])}")
    run.free()
    return out


# --------------------------------------------------------------------------- environment


def nvidia_smi():
    queries = ["name,driver_version,pstate,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,"
               "temperature.gpu",
               "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu"]
    for q in queries:
        try:
            r = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv"], capture_output=True, text=True,
                               timeout=20)
            if r.returncode == 0:
                return r.stdout.strip()
            last = (r.stdout + r.stderr).strip()[:300]
        except Exception as ex:
            return f"unavailable: {short(ex)}"
    return f"failed: {last}"


def environment(device):
    env = dict(
        timestamp_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        python=sys.version.split()[0], platform=platform.platform(),
        torch=torch.__version__, torch_cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        device=str(device), cpu_count=os.cpu_count(),
    )
    try:
        import torchvision

        env["torchvision"] = torchvision.__version__
    except Exception as ex:
        env["torchvision"] = f"unavailable: {short(ex)}"
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        env.update(gpu_name=p.name, sm_count=p.multi_processor_count, total_memory_bytes=p.total_memory,
                   capability=f"{p.major}.{p.minor}")
        for a in ("L2_cache_size", "max_threads_per_multi_processor", "regs_per_multiprocessor",
                  "shared_memory_per_multiprocessor", "shared_memory_per_block_optin", "clock_rate",
                  "memory_clock_rate", "memory_bus_width", "warp_size"):
            v = getattr(p, a, None)
            if v is not None:
                env[a] = v
        env["l2_cache_bytes"] = env.get("L2_cache_size")
        env["nvidia_smi_start"] = nvidia_smi()
    return env


# --------------------------------------------------------------------------- run


class Run:
    def __init__(self, args, device, child=False):
        self.args, self.device, self.timer = args, device, Timer(device)
        self.deadline = {}
        self.free_after = False  # set by a measure function whose case was large
        self.last_save = 0.0
        self._models, self._tables = {}, {}
        self.result = {} if child else dict(
            description=(
                "Calibration measurements for a latency and training-cost model (see the docstring of "
                "benchmarks/gpu/measure_more.py). Times are microseconds per call of the whole batch: 'eager' "
                "= back-to-back PyTorch calls timed with CUDA events (includes CPU dispatch and launch gaps), "
                "'graph' = the same calls replayed from a CUDA graph (close to pure GPU time). median_us is the "
                "median over repeats. macs_per_image = kh*kw*(Cin/groups)*Cout*Hout*Wout summed over layers; "
                "macs_total = macs_per_image*batch; tflops_at_median = 2*macs_total/median. Modes: fp16, bf16, "
                "tf32 (fp32 tensors, TF32 allowed in cuDNN and cuBLAS), fp32 (TF32 disallowed). torch.no_grad, "
                "eval(), cudnn.benchmark=True, random inputs and weights; the same input on every call, so "
                "small cases run from the L2 cache."),
            script="benchmarks/gpu/measure_more.py", argv=sys.argv[1:], settings=vars(args),
            environment=environment(device), group_seconds={}, not_run={}, failed=[],
            peaks={}, convs=[], kernels=[], networks=[], training=[], fusion=[], fusion_compiled={},
            layer_tables={}, finished=False)

    def save(self):
        self.result["elapsed_s"] = round(time.time() - T0, 1)
        tmp = self.args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.result, f, indent=1, default=str)
        os.replace(tmp, self.args.out)
        self.last_save = time.time()

    def maybe_save(self):
        if time.time() - self.last_save > 15:
            self.save()

    def free(self):
        if self.timer.cuda:
            torch.cuda.empty_cache()

    def out_of_time(self, group):
        return time.time() - T0 > self.deadline.get(group, float("inf"))

    def base_model(self, net):
        if net not in self._models:
            self._models[net] = build_network(net)
        return self._models[net]

    def layer_table(self, net, hw):
        key = f"{net}_{hw}"
        if key not in self._tables:
            self._tables[key] = layer_table(self.base_model(net), hw)
            self.result.setdefault("layer_tables", {})[key] = self._tables[key]
        return self._tables[key]

    def run_cases(self, group, cases, measure, describe):
        records = self.result[group]
        n = len(cases)
        for i, c in enumerate(cases):
            if self.out_of_time(group):
                self.result["not_run"][group] = n - i
                log(f"{group}: its time share is used up; {n - i} of {n} cases not run")
                break
            self.free_after = False
            try:
                rec = measure(self, c)
            except Exception as ex:
                self.result["failed"].append(dict(group=group, case=c, error=short(ex)))
                log(f"{group} {i + 1}/{n} FAILED {describe(c)}: {short(ex)}")
                self.free()
                continue
            if self.free_after:  # the case's tensors are gone now that measure() has returned
                self.free()
            records.append(rec)
            log(f"{group} {i + 1}/{n} {describe(c):60s} {timing_str(rec)}")
            self.maybe_save()
        self.save()


def set_deadlines(run, groups):
    now = time.time() - T0
    remaining = max(0.0, run.args.time_budget - now)
    total = sum(GROUP_SHARE[g] for g in groups)
    acc = 0.0
    for g in groups:
        acc += GROUP_SHARE[g]
        run.deadline[g] = now + remaining * acc / total
    run.result["deadlines_s"] = {g: round(v, 1) for g, v in run.deadline.items()}


# --------------------------------------------------------------------------- plan (time estimate)

# Rough H100 rates for the estimate only (FLOP/s achieved by convs, bytes/s).
EST_RATE = {"fp16": 200e12, "bf16": 200e12, "tf32": 100e12, "fp32": 30e12}
EST_BW = 2.0e12


def est_bench_s(call_us, args, search_calls):
    """Seconds that bench() spends on a case whose call takes call_us (plus cudnn's algorithm search)."""
    reps = args.repeats if call_us < 5000 else max(3, args.repeats - 2)
    per_repeat = max(args.target_us, call_us)
    calls = search_calls + 2 + 3 + 2 + 1 + 1 + 1  # search, warm-up, estimate, side stream, capture, replays
    return 0.07 + calls * call_us * 1e-6 + 2 * reps * per_repeat * 1e-6


def est_conv_us(c):
    rate = EST_RATE[c["mode"]] * (0.1 if c["groups"] > 1 else 1.0)
    nbytes = (c["in_elems"] + c["out_elems"] + c["weight_elems"]) * MODE_BYTES[c["mode"]]
    return 8 + 1e6 * max(2 * c["macs_total"] / rate, nbytes / EST_BW)


def plan(args):
    rows = {}
    convs = conv_cases(args.quick, args.seed)
    rows["convs"] = (len(convs), sum(est_bench_s(est_conv_us(c), args, 20) for c in convs))
    kern = kernel_cases(args.quick)
    rows["kernels"] = (len(kern), sum(
        est_bench_s(6 + 3 * c["batch"] * c["c"] * c["h"] * c["w"] * MODE_BYTES[c["mode"]] / EST_BW * 1e6, args, 0)
        for c in kern))
    nets = network_cases(args.quick)
    gmacs = {"googlenet": 1.5e9, "inception_v3": 5.7e9}
    floor = {"googlenet": 3500.0, "inception_v3": 7000.0}

    def net_us(c):
        return max(floor[c["net"]], 1e6 * 2 * gmacs[c["net"]] * c["batch"] / (0.25 * EST_RATE[c["mode"]]))

    # cudnn.benchmark searches every new conv shape of the network (some 60): about 2.5 s a case
    rows["networks"] = (len(nets), sum(2.5 + est_bench_s(net_us(c), args, 20) for c in nets))
    train = training_cases(args.quick)
    # the first step of each precision searches forward and backward algorithms (~6 s)
    rows["training"] = (len(train), 2 * 6.0 + len(train) * (10 + 3 * args.repeats * 2) * 15e-3)
    eager, compiled = fusion_cases(args.quick)
    fus = sum(est_bench_s(est_conv_us(c) * 1.5, args, 20) for c in eager)
    rows["fusion"] = (len(eager) + len(compiled), fus + min(args.compile_timeout, 10 + 4 * len(compiled)))
    rows["peaks"] = (6, 3.0)
    total = 8.0  # imports, CUDA start, environment
    print(f"{'group':10s} {'cases':>6s} {'est. s':>7s}")
    for g in GROUP_ORDER:
        n, s = rows[g]
        total += s
        print(f"{g:10s} {n:6d} {s:7.1f}")
    print(f"{'total':10s} {sum(r[0] for r in rows.values()):6d} {total:7.1f}  (time budget {args.time_budget:.0f} s; "
          f"the compile child is capped at {args.compile_timeout:.0f} s)")
    modes = {}
    for c in convs:
        k = (c["mode"], c["memory_format"])
        modes[k] = modes.get(k, 0) + 1
    print("convs by mode and memory format:", {f"{m}/{f}": n for (m, f), n in sorted(modes.items())})
    fams = {}
    for c in convs:
        fams[c["family"]] = fams.get(c["family"], 0) + 1
    print("convs by family:", dict(sorted(fams.items())))
    print("convs by batch:", {b: sum(c["batch"] == b for c in convs) for b in (1, 2, 32, 256)})


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default="h100_more.json")
    ap.add_argument("--groups", default=",".join(GROUP_ORDER),
                    help=f"comma list of {','.join(GROUP_ORDER)} (run in that order)")
    ap.add_argument("--time-budget", type=float, default=330.0,
                    help="seconds (from start) after which no new case starts; shared out among the groups")
    ap.add_argument("--quick", action="store_true", help="a handful of tiny cases per group (smoke test)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per case and method")
    ap.add_argument("--target-us", type=float, default=2000.0, help="aimed length of one timed repeat")
    ap.add_argument("--seed", type=int, default=0, help="seed of the conv grid sample and its order")
    ap.add_argument("--no-graph", action="store_true", help="eager timing only")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile in the fusion group")
    ap.add_argument("--compile-timeout", type=float, default=75.0, help="seconds before the compile child is killed")
    ap.add_argument("--plan", action="store_true", help="print case counts and a time estimate, run nothing")
    ap.add_argument("--compile-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.target_us = min(args.repeats, 2), min(args.target_us, 200.0)
    if args.plan:
        plan(args)
        return
    if args.compile_worker:
        compile_worker(args)
        return

    groups = [g for g in GROUP_ORDER if g in args.groups.split(",")]
    unknown = set(args.groups.split(",")) - set(GROUP_ORDER)
    if unknown:
        ap.error(f"unknown groups: {sorted(unknown)}")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.error("CUDA is not available (use --device cpu for a smoke test)")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(args.seed)
    run = Run(args, device)
    log(f"environment: {json.dumps(run.result['environment'])}")
    set_deadlines(run, groups)
    log(f"groups {groups}; deadlines (s from start) {run.result['deadlines_s']}")
    run.save()

    for g in groups:
        t = time.time()
        log(f"=== {g}")
        try:
            if g == "peaks":
                with torch.no_grad():
                    run.result["peaks"] = measure_peaks(run)
            elif g == "convs":
                cases = conv_cases(args.quick, args.seed)
                log(f"convs: {len(cases)} cases")
                run.run_cases("convs", cases, measure_conv, describe_conv)
                if device.type == "cuda":
                    run.result["environment"]["nvidia_smi_after_convs"] = nvidia_smi()
            elif g == "kernels":
                run.run_cases("kernels", kernel_cases(args.quick), measure_kernel, describe_kernel)
            elif g == "networks":
                run.run_cases("networks", network_cases(args.quick), measure_network, describe_network)
            elif g == "training":
                run.run_cases("training", training_cases(args.quick), measure_training, describe_training)
            elif g == "fusion":
                eager, compiled = fusion_cases(args.quick)
                run.run_cases("fusion", eager, measure_fusion, describe_fusion)
                limit = min(args.compile_timeout, run.deadline["fusion"] - (time.time() - T0))
                if args.no_compile:
                    run.result["fusion_compiled"] = dict(skipped="--no-compile")
                elif limit < 20:
                    run.result["fusion_compiled"] = dict(skipped=f"only {limit:.0f} s left")
                    log("fusion: no time left for torch.compile")
                else:
                    log(f"fusion: torch.compile of {len(compiled)} cases in a child process, limit {limit:.0f} s")
                    run.result["fusion_compiled"] = run_compile_child(run, compiled, limit)
        except Exception as ex:  # a group that breaks must not lose the others
            run.result["failed"].append(dict(group=g, error=short(ex)))
            log(f"group {g} FAILED: {short(ex)}")
            run.free()
        run.result["group_seconds"][g] = round(time.time() - t, 1)
        run.save()

    if device.type == "cuda":
        run.result["environment"]["nvidia_smi_end"] = nvidia_smi()
    run.result["finished"] = True
    run.save()
    counts = {g: len(run.result[g]) for g in ("convs", "kernels", "networks", "training", "fusion")}
    counts["fusion_compiled"] = len(run.result.get("fusion_compiled", {}).get("records", []))
    log(f"done: records {counts}; failed {len(run.result['failed'])}; not run {run.result['not_run']}; "
        f"wrote {args.out}")


if __name__ == "__main__":
    main()

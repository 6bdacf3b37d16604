#!/usr/bin/env python3
"""Measure GPU latencies of Inception building blocks, as evidence for a
roofline time estimate in the static MAC/parameter calculator.

Not part of the package and not imported by it: a stand-alone benchmark.
It needs torch (and torchvision for the whole-network group).

Every case records the exact layer configuration (kernel, stride, padding,
Cin, Cout, input and output HxW, MACs = kh*kw*(Cin/groups)*Cout*Hout*Wout per
image) so that a static calculator can reproduce its MACs, and the measured
latency per forward call (median and min over repeats, microseconds), both for
eager PyTorch (includes per-kernel launch overhead) and, where capture works,
for a CUDA graph that replays several forward calls (close to pure GPU time).

Usage:
  python3 measure_latency.py --device cuda --out h100_latency.json
  python3 measure_latency.py --device cpu --quick --out /tmp/x.json   # smoke test
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import torch
import torch.nn as nn

warnings.filterwarnings("ignore")

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


# ---------------------------------------------------------------------------
# Layer specs: plain tuples, turned into nn modules and into static configs.
#   ("conv", cin, cout, (kh, kw), stride, (ph, pw), relu, bias)
#   ("maxpool", k, stride, pad)
# A branch is a list of ops; a module is a list of (name, branch).
# ---------------------------------------------------------------------------


def conv(cin, cout, k, pad, relu=True, bias=True, stride=1):
    if isinstance(k, int):
        k = (k, k)
    if isinstance(pad, int):
        pad = (pad, pad)
    return ("conv", cin, cout, k, stride, pad, relu, bias)


def maxpool(k=3, s=1, p=1):
    return ("maxpool", k, s, p)


def build_branch(ops):
    layers = []
    for op in ops:
        if op[0] == "conv":
            _, cin, cout, k, s, p, relu, bias = op
            layers.append(nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias))
            if relu:
                layers.append(nn.ReLU(inplace=True))
        elif op[0] == "maxpool":
            _, k, s, p = op
            layers.append(nn.MaxPool2d(k, stride=s, padding=p))
        else:
            raise ValueError(op)
    return nn.Sequential(*layers)


class Concat(nn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], 1)


def out_hw(h, w, k, s, p):
    kh, kw = k if isinstance(k, tuple) else (k, k)
    ph, pw = p if isinstance(p, tuple) else (p, p)
    return (h + 2 * ph - kh) // s + 1, (w + 2 * pw - kw) // s + 1


def branch_config(ops, cin, h, w):
    """Static per-image configuration of a branch: list of layers, final C,H,W."""
    layers = []
    c = cin
    for op in ops:
        if op[0] == "conv":
            _, ci, co, k, s, p, relu, bias = op
            assert ci == c, (ci, c)
            ho, wo = out_hw(h, w, k, s, p)
            macs = k[0] * k[1] * ci * co * ho * wo
            layers.append(dict(
                type="conv", kernel=list(k), stride=s, padding=list(p), groups=1,
                cin=ci, cout=co, in_hw=[h, w], out_hw=[ho, wo], bias=bias, relu=relu,
                macs=macs, params=k[0] * k[1] * ci * co + (co if bias else 0),
                in_elems=ci * h * w, out_elems=co * ho * wo))
            c, h, w = co, ho, wo
        else:
            _, k, s, p = op
            ho, wo = out_hw(h, w, k, s, p)
            layers.append(dict(
                type="maxpool", kernel=[k, k], stride=s, padding=[p, p],
                cin=c, cout=c, in_hw=[h, w], out_hw=[ho, wo], macs=0, params=0,
                compares=k * k * c * ho * wo, in_elems=c * h * w, out_elems=c * ho * wo))
            h, w = ho, wo
    return layers, (c, h, w)


def totals(layers):
    return dict(
        macs_per_image=sum(l["macs"] for l in layers),
        params=sum(l["params"] for l in layers),
        # Sum over layers of (input + output activations), per image: a
        # layer-by-layer (unfused) traffic estimate in elements.
        act_elems_per_image=sum(l["in_elems"] + l["out_elems"] for l in layers),
    )


def make_case(name, group, branches, cin, h, w, concat):
    """branches: list of (branch_name, ops). concat: whether outputs are concatenated."""
    blist = []
    allayers = []
    outs = []
    for bname, ops in branches:
        layers, (c, ho, wo) = branch_config(ops, cin, h, w)
        for l in layers:
            l["branch"] = bname
        allayers += layers
        outs.append((c, ho, wo))
        blist.append(build_branch(ops))
    if concat:
        assert len({(o[1], o[2]) for o in outs}) == 1
        out_shape = [sum(o[0] for o in outs), outs[0][1], outs[0][2]]
        module = Concat(blist)
    else:
        assert len(blist) == 1
        out_shape = list(outs[0])
        module = blist[0]
    cfg = dict(name=name, group=group, input_chw=[cin, h, w], output_chw=out_shape,
               concat=concat, layers=allayers)
    cfg.update(totals(allayers))
    return cfg, module


# --------------------------- GoogLeNet modules -----------------------------

# name: (Cin, H, #1x1, #3x3red, #3x3, #5x5red, #5x5, poolproj)
GOOGLENET = {
    "3a": (192, 28, 64, 96, 128, 16, 32, 32),
    "3b": (256, 28, 128, 128, 192, 32, 96, 64),
    "4a": (480, 14, 192, 96, 208, 16, 48, 64),
    "4b": (512, 14, 160, 112, 224, 24, 64, 64),
    "4c": (512, 14, 128, 128, 256, 24, 64, 64),
    "4d": (512, 14, 112, 144, 288, 32, 64, 64),
    "4e": (528, 14, 256, 160, 320, 32, 128, 128),
    "5a": (832, 7, 256, 160, 320, 32, 128, 128),
    "5b": (832, 7, 384, 192, 384, 48, 128, 128),
}


def reduced_branches(cin, n1, r3, n3, r5, n5, pp):
    return [
        ("1x1", [conv(cin, n1, 1, 0)]),
        ("3x3", [conv(cin, r3, 1, 0), conv(r3, n3, 3, 1)]),
        ("5x5", [conv(cin, r5, 1, 0), conv(r5, n5, 5, 2)]),
        ("pool", [maxpool(), conv(cin, pp, 1, 0)]),
    ]


def naive_branches(cin, n1, n3, n5):
    return [
        ("1x1", [conv(cin, n1, 1, 0)]),
        ("3x3", [conv(cin, n3, 3, 1)]),
        ("5x5", [conv(cin, n5, 5, 2)]),
        ("pool", [maxpool()]),
    ]


def cases_3a():
    cin, h, n1, r3, n3, r5, n5, pp = GOOGLENET["3a"]
    out = []
    red = reduced_branches(cin, n1, r3, n3, r5, n5, pp)
    nai = naive_branches(cin, n1, n3, n5)
    out.append(make_case("3a_reduced_module", "googlenet_3a", red, cin, h, h, True))
    for bname, ops in red:
        out.append(make_case(f"3a_reduced_branch_{bname}", "googlenet_3a", [(bname, ops)], cin, h, h, False))
    out.append(make_case("3a_naive_module", "googlenet_3a", nai, cin, h, h, True))
    for bname, ops in nai:
        out.append(make_case(f"3a_naive_branch_{bname}", "googlenet_3a", [(bname, ops)], cin, h, h, False))
    return out


def cases_modules():
    out = []
    for name, (cin, h, n1, r3, n3, r5, n5, pp) in GOOGLENET.items():
        out.append(make_case(f"inception_{name}", "googlenet_modules",
                             reduced_branches(cin, n1, r3, n3, r5, n5, pp), cin, h, h, True))
    return out


# --------------------------- factorised convs ------------------------------

def cases_factorised():
    out = []
    g = "factorised"

    def single(name, ops, c, h):
        out.append(make_case(name, g, [("seq", ops)], c, h, h, False))

    def nb(cin, cout, k, pad):
        return conv(cin, cout, k, pad, relu=False, bias=False)

    for c, h in [(64, 35), (192, 28)]:
        single(f"conv5x5_{c}_{h}x{h}", [nb(c, c, 5, 2)], c, h)
        single(f"conv3x3_{c}_{h}x{h}", [nb(c, c, 3, 1)], c, h)
        single(f"conv3x3x2_{c}_{h}x{h}", [nb(c, c, 3, 1), nb(c, c, 3, 1)], c, h)
    for c, h in [(192, 17), (384, 8)]:
        single(f"conv3x3_{c}_{h}x{h}", [nb(c, c, 3, 1)], c, h)
        single(f"conv1x3_{c}_{h}x{h}", [nb(c, c, (1, 3), (0, 1))], c, h)
        single(f"conv1x3_3x1_{c}_{h}x{h}", [nb(c, c, (1, 3), (0, 1)), nb(c, c, (3, 1), (1, 0))], c, h)
    for c, h in [(192, 17), (128, 17)]:
        single(f"conv7x7_{c}_{h}x{h}", [nb(c, c, 7, 3)], c, h)
        single(f"conv1x7_{c}_{h}x{h}", [nb(c, c, (1, 7), (0, 3))], c, h)
        single(f"conv1x7_7x1_{c}_{h}x{h}", [nb(c, c, (1, 7), (0, 3)), nb(c, c, (7, 1), (3, 0))], c, h)
    return out


# --------------------------- whole networks --------------------------------

def network_config(name, model, hw):
    """Per-layer configuration of a torchvision model via forward hooks (CPU, batch 1)."""
    layers = []
    hooks = []

    def hook(mod, inp, outp):
        x = inp[0]
        _, ci, h, w = x.shape if x.dim() == 4 else (x.shape[0], x.shape[1], 1, 1)
        if isinstance(mod, nn.Conv2d):
            _, co, ho, wo = outp.shape
            kh, kw = mod.kernel_size
            g = mod.groups
            layers.append(dict(
                type="conv", name=mod._cost_name, kernel=[kh, kw], stride=list(mod.stride),
                padding=list(mod.padding), groups=g, cin=ci, cout=co, in_hw=[h, w], out_hw=[ho, wo],
                bias=mod.bias is not None, macs=kh * kw * (ci // g) * co * ho * wo,
                params=sum(p.numel() for p in mod.parameters()), in_elems=ci * h * w,
                out_elems=co * ho * wo))
        elif isinstance(mod, nn.Linear):
            layers.append(dict(
                type="linear", name=mod._cost_name, cin=mod.in_features, cout=mod.out_features,
                macs=mod.in_features * mod.out_features,
                params=sum(p.numel() for p in mod.parameters()),
                in_elems=mod.in_features, out_elems=mod.out_features))
        else:
            o = outp
            _, co, ho, wo = o.shape
            d = dict(type=type(mod).__name__, name=mod._cost_name, cin=ci, cout=co,
                     in_hw=[h, w], out_hw=[ho, wo], macs=0,
                     params=sum(p.numel() for p in mod.parameters()),
                     in_elems=ci * h * w, out_elems=co * ho * wo)
            for a in ("kernel_size", "stride", "padding"):
                if hasattr(mod, a):
                    v = getattr(mod, a)
                    d[a] = list(v) if isinstance(v, (tuple, list)) else v
            layers.append(d)

    kinds = (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.BatchNorm2d)
    for n, m in model.named_modules():
        if isinstance(m, kinds):
            m._cost_name = n
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        y = model(torch.randn(1, 3, hw, hw))
    for hk in hooks:
        hk.remove()
    cfg = dict(name=name, group="networks", input_chw=[3, hw, hw], output_chw=list(y.shape[1:]),
               layers=layers,
               macs_per_image=sum(l["macs"] for l in layers),
               conv_macs_per_image=sum(l["macs"] for l in layers if l["type"] == "conv"),
               params=sum(p.numel() for p in model.parameters()),
               act_elems_per_image=sum(l["in_elems"] + l["out_elems"] for l in layers))
    return cfg


def cases_networks():
    import torchvision
    out = []
    m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    m.eval()
    cfg = network_config("torchvision_googlenet", m, 224)
    cfg["note"] = ("torchvision GoogLeNet: BasicConv2d = conv(bias=False)+BatchNorm+ReLU; its "
                   "'5x5' branch uses a 3x3 conv (known torchvision quirk), so MACs differ from the paper.")
    out.append((cfg, m))
    m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    m.eval()
    cfg = network_config("torchvision_inception_v3", m, 299)
    cfg["note"] = "torchvision Inception-v3: BasicConv2d = conv(bias=False)+BatchNorm(eps=1e-3)+ReLU."
    out.append((cfg, m))
    return out


# --------------------------- precision handling ----------------------------

def set_precision(mode):
    """mode: fp32 (no TF32), tf32, fp16, bf16. Returns the torch dtype."""
    tf32 = mode == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    return {"fp32": torch.float32, "tf32": torch.float32,
            "fp16": torch.float16, "bf16": torch.bfloat16}[mode]


def precision_state():
    return dict(matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
                cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                cudnn_benchmark=torch.backends.cudnn.benchmark)


# --------------------------- timing ----------------------------------------

class Timer:
    def __init__(self, device):
        self.device = device
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def time_loop(self, fn, iters, repeats):
        """Per-call time in microseconds for each repeat of `iters` calls of fn."""
        res = []
        for _ in range(repeats):
            if self.cuda:
                s = torch.cuda.Event(enable_timing=True)
                e = torch.cuda.Event(enable_timing=True)
                s.record()
                for _ in range(iters):
                    fn()
                e.record()
                e.synchronize()
                res.append(s.elapsed_time(e) * 1000.0 / iters)
            else:
                t = time.perf_counter()
                for _ in range(iters):
                    fn()
                res.append((time.perf_counter() - t) * 1e6 / iters)
        return res


def summarize(us):
    return dict(median_us=statistics.median(us), min_us=min(us), repeats_us=[round(u, 3) for u in us])


def bench_case(timer, module, x, warmup, iters, repeats, graph_calls, use_graph):
    """Eager and (optionally) CUDA-graph timing of module(x). Returns dict."""
    fn = lambda: module(x)
    for _ in range(warmup):
        fn()
    timer.sync()
    r = {"eager": summarize(timer.time_loop(fn, iters, repeats))}
    if use_graph and timer.cuda:
        try:
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    fn()
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                for _ in range(graph_calls):
                    fn()
            replays = max(1, iters // graph_calls)
            for _ in range(2):
                g.replay()
            timer.sync()
            us = timer.time_loop(g.replay, replays, repeats)
            us = [u / graph_calls for u in us]
            r["graph"] = summarize(us)
            r["graph"]["calls_per_graph"] = graph_calls
            r["graph"]["replays_per_repeat"] = replays
            del g
        except Exception as ex:  # record, don't die
            r["graph"] = {"error": f"{type(ex).__name__}: {ex}"[:300]}
    return r


def kernel_trace(timer, fn):
    """The GPU kernels one call runs, in order: [{"name", "us"}] from torch.profiler. The
    names say which algorithm cuDNN picked (implicit GEMM, Winograd, FFT; tensor-core or
    not; tile size), which the latencies alone do not: the evidence a model of cuDNN's
    choices needs. Empty where there is no GPU or the profiler fails."""
    if not timer.cuda:
        return []
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    try:
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            timer.sync()
        return [dict(name=e.name[:300], us=round(e.time_range.elapsed_us(), 3))
                for e in prof.events() if e.device_type == DeviceType.CUDA]
    except Exception as ex:  # record, don't die
        return [dict(name=f"profiler failed: {type(ex).__name__}: {ex}"[:300], us=0.0)]


# --------------------------- peaks -----------------------------------------

def measure_peaks(timer, device, quick):
    out = {}
    # device-to-device copy bandwidth, counting bytes read + written
    n = (2 ** 20 if quick else 2 ** 28)  # 2**28 fp32 = 1 GiB
    a = torch.randn(n, device=device)
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    timer.sync()
    us = timer.time_loop(lambda: b.copy_(a), 3 if quick else 20, 3 if quick else 5)
    nbytes = 2 * a.numel() * a.element_size()
    out["d2d_copy"] = dict(bytes_per_copy_read_plus_write=nbytes, **summarize(us),
                           gbps_at_median=nbytes / statistics.median(us) / 1e3,
                           gbps_at_min=nbytes / min(us) / 1e3)
    del a, b
    # big square matmul
    N = 256 if quick else 8192
    for mode in ("fp32", "tf32", "fp16", "bf16"):
        dt = set_precision(mode)
        A = torch.randn(N, N, device=device, dtype=dt)
        B = torch.randn(N, N, device=device, dtype=dt)
        C = torch.empty(N, N, device=device, dtype=dt)
        f = lambda: torch.mm(A, B, out=C)
        for _ in range(3):
            f()
        timer.sync()
        us = timer.time_loop(f, 2 if quick else 10, 3)
        flop = 2 * N ** 3
        out[f"matmul_{mode}"] = dict(n=N, flop=flop, precision=precision_state(), **summarize(us),
                                     tflops_at_median=flop / statistics.median(us) / 1e6,
                                     tflops_at_min=flop / min(us) / 1e6)
        del A, B, C
        log(f"peak matmul {mode}: {out[f'matmul_{mode}']['tflops_at_median']:.1f} TFLOP/s")
    set_precision("fp32")
    # tiny-op launch latency (eager and graph): a floor for small layers
    x = torch.randn(1, device=device)
    r = bench_case(timer, lambda t: t.add_(1.0), x, 20, 20 if quick else 200, 3 if quick else 5,
                   10, True)
    out["tiny_add_launch"] = r
    log(f"d2d copy: {out['d2d_copy']['gbps_at_median']:.0f} GB/s; tiny op eager "
        f"{r['eager']['median_us']:.2f} us")
    return out


# --------------------------- environment -----------------------------------

def environment(device):
    env = dict(
        timestamp_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        python=sys.version.split()[0], platform=platform.platform(),
        torch=torch.__version__, torch_cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        device=str(device),
    )
    try:
        import torchvision
        env["torchvision"] = torchvision.__version__
    except Exception:
        env["torchvision"] = None
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        env.update(gpu_name=p.name, sm_count=p.multi_processor_count,
                   total_memory_bytes=p.total_memory,
                   capability=f"{p.major}.{p.minor}",
                   l2_cache_bytes=getattr(p, "L2_cache_size", None))
        try:  # read-only query
            q = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm,"
                 "clocks.mem,power.limit,temperature.gpu", "--format=csv"],
                capture_output=True, text=True, timeout=20)
            env["nvidia_smi"] = q.stdout.strip()
        except Exception as ex:
            env["nvidia_smi"] = f"unavailable: {ex}"
    return env


# --------------------------- main ------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default="h100_latency.json")
    ap.add_argument("--modes", default="fp32,tf32,fp16", help="comma list of fp32,tf32,fp16,bf16")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--groups", default="peaks,3a,factorised,modules,networks")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--graph-calls", type=int, default=10, help="forward calls captured per CUDA graph")
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--soft-budget", type=float, default=200.0,
                    help="seconds after which iteration counts drop (warm-up 5, 3x10; the CUDA graph"
                         " is still captured and replayed once per repeat)")
    ap.add_argument("--hard-budget", type=float, default=300.0, help="seconds after which cases are skipped")
    ap.add_argument("--quick", action="store_true", help="tiny counts and sizes for a smoke test")
    ap.add_argument("--kernels", action="store_true",
                    help="also record each case's GPU kernel names and times (one profiled call): which"
                         " algorithm cuDNN picked")
    args = ap.parse_args()

    if args.quick:
        args.warmup, args.iters, args.repeats = 1, 2, 2
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    timer = Timer(device)
    modes = args.modes.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    groups = args.groups.split(",")

    result = dict(
        description=("Latency of GoogLeNet/Inception building blocks (PyTorch eager and CUDA-graph "
                     "replay), eval mode, torch.no_grad, cudnn.benchmark=True, NCHW layout. Times "
                     "are per forward call of the whole batch, microseconds. MACs are per image."),
        settings=dict(warmup=args.warmup, iters=args.iters, repeats=args.repeats,
                      graph_calls=args.graph_calls, graph=not args.no_graph, modes=modes,
                      batches=batches, soft_budget_s=args.soft_budget, hard_budget_s=args.hard_budget,
                      quick=args.quick),
        environment=environment(device),
        peaks=None, cases=[], configs={}, skipped=[])
    log(f"env: {json.dumps(result['environment'])}")

    def save():
        result["elapsed_s"] = round(time.time() - T0, 1)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.out)

    torch.manual_seed(0)
    with torch.no_grad():
        if "peaks" in groups:
            result["peaks"] = measure_peaks(timer, device, args.quick)
            save()

        case_groups = []
        if "3a" in groups:
            case_groups.append(("googlenet_3a", cases_3a()))
        if "factorised" in groups:
            case_groups.append(("factorised", cases_factorised()))
        if "modules" in groups:
            case_groups.append(("googlenet_modules", cases_modules()))
        if "networks" in groups:
            try:
                case_groups.append(("networks", cases_networks()))
            except Exception as ex:
                result["skipped"].append(dict(group="networks", error=f"{type(ex).__name__}: {ex}"[:300]))
                log(f"networks group unavailable: {ex}")

        for gname, cases in case_groups:
            for cfg, _ in cases:
                result["configs"][cfg["name"]] = cfg
            net = gname == "networks"
            for mode in modes:
                for bs in batches:
                    dt = set_precision(mode)
                    elapsed = time.time() - T0
                    if elapsed > args.hard_budget:
                        result["skipped"].append(dict(group=gname, mode=mode, batch=bs))
                        log(f"SKIP {gname} {mode} b{bs}: over hard budget")
                        continue
                    reduced = elapsed > args.soft_budget
                    warmup, iters, repeats = args.warmup, args.iters, args.repeats
                    if net and bs > 1:  # whole networks at batch 32: fewer iterations
                        warmup, iters, repeats = max(1, warmup // 2), max(2, iters // 2), repeats
                    if reduced:
                        warmup, iters, repeats = min(warmup, 5), min(iters, 10), min(repeats, 3)
                    # past the soft budget the graph timing stays (the latency model reads only it),
                    # with the reduced counts: capture once, then one replay per repeat
                    use_graph = not args.no_graph
                    for cfg, module in cases:
                        c, h, w = cfg["input_chw"]
                        module = module.to(device=device, dtype=dt).eval()
                        x = torch.randn(bs, c, h, w, device=device, dtype=dt)
                        try:
                            r = bench_case(timer, module, x, warmup, iters, repeats,
                                           args.graph_calls, use_graph)
                            y = module(x)
                            assert list(y.shape) == [bs] + cfg["output_chw"], (cfg["name"], y.shape)
                        except Exception as ex:
                            result["skipped"].append(dict(group=gname, mode=mode, batch=bs, name=cfg["name"],
                                                          error=f"{type(ex).__name__}: {ex}"[:300]))
                            log(f"FAILED {cfg['name']} {mode} b{bs}: {ex}")
                            if timer.cuda:
                                torch.cuda.empty_cache()
                            continue
                        flop = 2 * cfg["macs_per_image"] * bs
                        for k in ("eager", "graph"):
                            if k in r and "median_us" in r[k]:
                                r[k]["tflops_at_median"] = flop / r[k]["median_us"] / 1e6
                        rec = dict(name=cfg["name"], group=gname, mode=mode,
                                   dtype=str(dt).replace("torch.", ""), batch=bs,
                                   macs_per_image=cfg["macs_per_image"],
                                   macs_total=cfg["macs_per_image"] * bs,
                                   precision=precision_state(), reduced_counts=reduced,
                                   warmup=warmup, iters=iters, repeats=repeats, **r)
                        if args.kernels:
                            rec["kernels"] = kernel_trace(timer, lambda: module(x))
                        result["cases"].append(rec)
                        gm = r.get("graph", {}).get("median_us", float("nan"))
                        log(f"{gname:18s} {mode:4s} b{bs:<3d} {cfg['name']:28s} "
                            f"eager {r['eager']['median_us']:10.1f} us  graph {gm:10.1f} us")
                        del x, y
                    save()
                    if timer.cuda:
                        torch.cuda.empty_cache()

    # headline: naive vs reduced 3a 5x5 branch
    head = []
    byk = {(c["name"], c["mode"], c["batch"]): c for c in result["cases"]}
    cfgs = result["configs"]
    if "3a_naive_branch_5x5" in cfgs:
        mac_ratio = cfgs["3a_naive_branch_5x5"]["macs_per_image"] / cfgs["3a_reduced_branch_5x5"]["macs_per_image"]
        for mode in modes:
            for bs in batches:
                a = byk.get(("3a_naive_branch_5x5", mode, bs))
                b = byk.get(("3a_reduced_branch_5x5", mode, bs))
                if not a or not b:
                    continue
                row = dict(mode=mode, batch=bs, mac_ratio=mac_ratio)
                for k in ("eager", "graph"):
                    if "median_us" in a.get(k, {}) and "median_us" in b.get(k, {}):
                        row[f"{k}_naive_us"] = a[k]["median_us"]
                        row[f"{k}_reduced_us"] = b[k]["median_us"]
                        row[f"{k}_latency_ratio"] = a[k]["median_us"] / b[k]["median_us"]
                head.append(row)
    result["headline_3a_5x5_naive_vs_reduced"] = head
    result["finished"] = True
    save()
    log("headline: 3a 5x5 branch naive/reduced (MAC ratio %.2f)" % (head[0]["mac_ratio"] if head else float("nan")))
    for row in head:
        log(f"  {row['mode']:4s} b{row['batch']:<3d} eager {row.get('eager_latency_ratio', float('nan')):.2f}x "
            f"({row.get('eager_naive_us', 0):.1f}/{row.get('eager_reduced_us', 0):.1f} us)  graph "
            f"{row.get('graph_latency_ratio', float('nan')):.2f}x "
            f"({row.get('graph_naive_us', 0):.1f}/{row.get('graph_reduced_us', 0):.1f} us)")
    log("done")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The device checks of issue 14, prepared for one short call on a machine with a GPU
# (torch and torchvision installed; run from the repository root; results under $OUT).
#
#   OUT=/tmp/out bash benchmarks/gpu/run_device_checks.sh     # about 9 minutes on an H100
#
# 1. measure_latency.py on this GPU: the calibration and held-out data for a GPU the model
#    has not seen (fp32, tf32, fp16, bf16; batch 1, 32 and 256), with the kernels cuDNN ran
#    for each case (`--kernels`: which algorithm it picked), about 3 minutes;
# 2. measure_more.py: single convs over an implicit-GEMM grid, non-conv kernels, whole
#    networks, GoogLeNet training steps at batch 32 with torch.cuda.max_memory_allocated,
#    fusion; capped at 300 s, torch.compile skipped (its compile time is not ours to spend);
# 3. eager inference memory on the GPU (benchmarks/inference_memory_cpu.py --cuda, batch 1
#    and 32: max_memory_allocated against the tool's eager peak), under a minute;
# 4. nvidia-smi and versions beside them.
# Each step has its own time limit, so a step that overruns leaves the others' results.
set -u
OUT=${OUT:-/tmp/gpu_checks}
mkdir -p "$OUT"
GPU=$(python3 -c "import torch; print(torch.cuda.get_device_name(0).split()[1].lower())" 2>/dev/null || echo gpu)
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import torch, torchvision; print(torch.__version__, torchvision.__version__,
torch.backends.cudnn.version())" > "$OUT/versions.txt" 2>&1
timeout 240 python3 benchmarks/gpu/measure_latency.py --device cuda --modes fp32,tf32,fp16,bf16 \
    --batches 1,32,256 --soft-budget 150 --hard-budget 200 --kernels --out "$OUT/${GPU}_latency.json" \
    > "$OUT/measure_latency.log" 2>&1
timeout 330 python3 benchmarks/gpu/measure_more.py --device cuda --time-budget 300 --no-compile \
    --out "$OUT/${GPU}_more.json" > "$OUT/measure_more.log" 2>&1
timeout 90 python3 benchmarks/inference_memory_cpu.py --cuda 1 32 > "$OUT/inference_memory_cuda.md" 2>&1
ls -la "$OUT"

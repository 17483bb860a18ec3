#!/usr/bin/env bash
# Issue 4's benchmark, for one device call after scripts/gpu_build.sh: the measured bf16 matmul
# peak, our dense LoRA step (train-bench, method base) and the HF transformers + PEFT anchor,
# side by side on the same GPU. Raw JSON lines under $OUT (or /tmp/jenga-bench), table last.
#   bench/core/dense_vs_hf.sh [--ours-only] [--steps N]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/jenga-bench}; mkdir -p "$out"
W=${WORKER:-build-gpu/bin/jenga-worker}
ours_only=0; steps=5
while [ $# -gt 0 ]; do case "$1" in --ours-only) ours_only=1 ;; --steps) steps="$2"; shift ;; esac; shift; done

$W gemm-peak > "$out/gemm_peak.jsonl"
peak=$(python3 -c 'import json,sys; [print(r["values"]["tflops"]) for r in map(json.loads, open(sys.argv[1])) if r["event"]=="summary"]' "$out/gemm_peak.jsonl")
echo "bf16 matmul peak: $peak TFLOP/s"
: > "$out/ours.jsonl"
for model in llama2-7b llama3-8b; do
  for point in "4096 false" "8192 false" "16384 false" "16384 true" "32768 true"; do
    set -- $point
    params="{\"seq_len\":$1,\"checkpointing\":$2,\"steps\":$steps,\"warmup\":1,\"peak_tflops\":$peak}"
    spec="{\"name\":\"$model\",\"hf_config\":\"configs/models/hf/$model/config.json\"}"
    timeout 150 $W train-bench --params "$params" --model-spec "$spec" 2>&1 | sed "s/^{\"event\"/{\"model\":\"$model\",\"seq\":$1,\"ckpt\":$2,\"event\"/" >> "$out/ours.jsonl"
  done
done
if [ $ours_only = 0 ]; then
  PYTHONUNBUFFERED=1 timeout ${HF_TIMEOUT:-300} python3 bench/anchors/hf_peft_baseline.py > "$out/hf.jsonl" 2> "$out/hf.stderr"
fi
python3 bench/core/compare_dense.py "$out/ours.jsonl" "$out/hf.jsonl" | tee "$out/table.md"

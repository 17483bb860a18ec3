#!/usr/bin/env bash
# Issue 5's benchmark, for one device call after scripts/gpu_build.sh: our dense LoRA step (base),
# Jenga (method jenga, default settings) and the HF transformers + PEFT anchor on the same GPU.
# Raw JSON lines under $OUT (or /tmp/jenga-bench), table last.
#   bench/core/jenga_vs_hf.sh [--no-hf] [--steps N] [--points "4096:false 8192:false ..."] [--models "llama2-7b llama3-8b"]
#     [--methods "base jenga llora 2d offload"] [--hf-points "llama2-7b:4096:0 ..."] [--no-table]
#   JENGA_MEMORY_CAP_GIB caps our runs' device memory (e.g. 80 on a larger card: "does it fit on an H100").
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/jenga-bench}; mkdir -p "$out"
W=${WORKER:-build-gpu/bin/jenga-worker}
hf=1; table=1; hf_points=""; steps=5; points="4096:false 8192:false 16384:false"; models="llama2-7b llama3-8b"; methods="base jenga"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-hf) hf=0 ;;
    --steps) steps="$2"; shift ;;
    --points) points="$2"; shift ;;
    --models) models="$2"; shift ;;
    --methods) methods="$2"; shift ;;
    --hf-points) hf_points="$2"; shift ;;
    --no-table) table=0 ;;
  esac
  shift
done
for model in $models; do
  for point in $points; do
    seq=${point%%:*}; ckpt=${point##*:}
    for method in $methods; do
      params="{\"seq_len\":$seq,\"checkpointing\":$ckpt,\"steps\":$steps,\"warmup\":1,\"method\":\"$method\"}"
      [ -n "${JENGA_MEMORY_CAP_GIB:-}" ] && method_tag="$method@${JENGA_MEMORY_CAP_GIB}GiB" || method_tag=$method
      spec="{\"name\":\"$model\",\"hf_config\":\"configs/models/hf/$model/config.json\"}"
      timeout 200 $W train-bench --params "$params" --model-spec "$spec" 2>&1 |
        sed "s/^{\"event\"/{\"model\":\"$model\",\"seq\":$seq,\"ckpt\":$ckpt,\"method\":\"$method_tag\",\"event\"/" >> "$out/jenga.jsonl"
    done
  done
done
if [ $hf = 1 ]; then
  # shellcheck disable=SC2086
  PYTHONUNBUFFERED=1 timeout ${HF_TIMEOUT:-300} python3 bench/anchors/hf_peft_baseline.py $hf_points >> "$out/hf.jsonl" 2>> "$out/hf.stderr"
fi
[ $table = 1 ] && python3 bench/core/compare_jenga.py "$out/jenga.jsonl" "$out/hf.jsonl" | tee "$out/jenga_table.md"

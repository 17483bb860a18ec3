#!/usr/bin/env bash
# The loss gap of Jenga vs dense LoRA after real fine-tuning on real text, in one GPU call after
# scripts/gpu_build.sh: (1) pre-train a small byte-level Llama on linux-doc's train split (HF),
# (2) train its block predictors (predictor-train), (3) fine-tune LoRA for N steps with each method
# on the train split and (4) score every adapter on held-out validation sequences with every token.
# Needs datasets/build/linux-doc/{train,val}.txt.gz (datasets/linux_doc.py build). JSON lines under $OUT.
#   bench/core/loss_gap/run.sh [--seq 4096] [--steps 200] [--pretrain-seconds 180]
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${OUT:-/tmp/jenga-loss-gap}; mkdir -p "$out"
W=${WORKER:-build-gpu/bin/jenga-worker}
seq=4096; steps=200; pre_s=180; pred_steps=300; eval_n=16; lr=1e-3
while [ $# -gt 0 ]; do
  case "$1" in
    --seq) seq="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --pretrain-seconds) pre_s="$2"; shift ;;
    --predictor-steps) pred_steps="$2"; shift ;;
    --eval) eval_n="$2"; shift ;;
    *) echo "loss_gap: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=/tmp/jenga-loss-gap-work; mkdir -p "$work"
d=datasets/build/linux-doc
python3 datasets/linux_doc.py pack $d/train.txt.gz "$work/train.u16" || exit 1
python3 datasets/linux_doc.py pack $d/val.txt.gz "$work/val.u16" || exit 1
PYTHONUNBUFFERED=1 python3 bench/core/loss_gap/pretrain_byte_llama.py --train $d/train.txt.gz --out "$work/model" \
  --steps 4000 --max-seconds "$pre_s" > "$out/pretrain.log" 2>&1 || { tail "$out/pretrain.log"; exit 1; }
tail -n 1 "$out/pretrain.log"
cp "$work/model/config.json" "$work/model/pretrain.json" "$out/" 2>/dev/null
spec="{\"name\":\"byte-llama\",\"hf_config\":\"$work/model/config.json\",\"checkpoint\":\"$work/model\"}"
data="\"weights\":\"checkpoint\",\"data\":\"$work/train.u16\",\"data_format\":\"uint16\""
tag() { sed "s/^{\"event\"/{\"run\":\"$1\",\"event\"/"; }

# Predictors for this model, trained on the train split (lr raised from the artifact's 2e-5: these
# start from scratch and get pred_steps steps, not 400 at 16K; targets normalised per map, since
# this small model's maps are far smaller than the 1024 the artifact divides Llama-2's by).
$W predictor-train --model-spec "$spec" --params "{\"seq_len\":$seq,\"steps\":$pred_steps,\"lr\":1e-3,\"normalize_targets\":true,\"prune_every\":100,$data,\"output\":\"$work/predictors\"}" \
  2>&1 | tag predictor-train >> "$out/loss_gap.jsonl"

ft() {  # name, extra params[, seq_len]
  $W train-bench --model-spec "$spec" --params "{\"seq_len\":${3:-$seq},\"steps\":$steps,\"warmup\":10,\"lr\":$lr,$data,\"eval_data\":\"$work/val.u16\",\"eval_sequences\":$eval_n$2}" \
    2>&1 | tag "$1" >> "$out/loss_gap.jsonl"
}
ft base-at-pretrain-length ',"method":"base"' 1024
ft base ',"method":"base"'
ft jenga ',"method":"jenga","predictors":"'"$work/predictors"'"'
ft jenga-exact ',"method":"jenga","selector":"exact"'
ft jenga-no-mlp-prune ',"method":"jenga","predictors":"'"$work/predictors"'","mlp_prune_ratio":0'
ft jenga-random-predictors ',"method":"jenga"'
ft llora ',"method":"llora"'
python3 bench/core/loss_gap/summarize.py "$out/loss_gap.jsonl" | tee "$out/loss_gap.md"

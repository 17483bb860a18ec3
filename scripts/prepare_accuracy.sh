#!/usr/bin/env bash
# What the accuracy experiments (Fig 15, Tables 6 and 7) read on a GPU profile, made if missing:
#   datasets/build/linux-doc/{train,val}.txt.gz  (datasets/linux_doc.py build: apt-get download)
#   datasets/build/linux-doc/{train,val}.u16      (byte-level token files)
#   datasets/build/longbench-synth/*.jsonl        (datasets/longbench_synth.py, seed 0)
#   checkpoints/byte-llama/                       (the reference model: ~2 minutes on one GPU)
#   scripts/prepare_accuracy.sh [--gpu N]   (pre-train on GPU N; default 0)
# Exits 1, saying what is missing, when something cannot be made (e.g. no apt-get access).
set -euo pipefail
cd "$(dirname "$0")/.."
gpu=0
[ "${1:-}" = --gpu ] && gpu=$2
d=datasets/build/linux-doc
if [ ! -f $d/train.txt.gz ] || [ ! -f $d/val.txt.gz ]; then
  python3 datasets/linux_doc.py build ||
    { echo "prepare_accuracy: no linux-doc corpus (needs 'apt-get download linux-doc-6.1', or carry $d/*.txt.gz)" >&2; exit 1; }
fi
for s in train val; do [ -f $d/$s.u16 ] || python3 datasets/linux_doc.py pack $d/$s.txt.gz $d/$s.u16; done
[ -f datasets/build/longbench-synth/ruler_cwe.jsonl ] ||
  python3 datasets/longbench_synth.py --text $d/val.txt.gz --out datasets/build/longbench-synth --samples 50 --context-chars 3000 \
    --tasks passkey,kv_retrieval,ruler_niah_multikey,ruler_vt,ruler_cwe
if [ ! -f checkpoints/byte-llama/model.safetensors ]; then
  CUDA_VISIBLE_DEVICES=$gpu PYTHONUNBUFFERED=1 python3 bench/core/loss_gap/pretrain_byte_llama.py \
    --train $d/train.txt.gz --out checkpoints/byte-llama --steps 3000 --max-seconds 150 | tail -n 1
fi
echo "prepare_accuracy: corpus, token files, LongBench-format tasks and checkpoints/byte-llama ready"

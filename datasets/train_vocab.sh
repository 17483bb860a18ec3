#!/usr/bin/env bash
# The reference model's own SentencePiece vocabulary: BPE with byte fallback and Llama-2's
# whitespace handling (what core/text reads), trained by Debian's sentencepiece on linux-doc's
# train split. Deterministic for a given input and sentencepiece version.
#   datasets/train_vocab.sh [--vocab 8000] [--out datasets/vocab/linux-doc-8k]
set -euo pipefail
cd "$(dirname "$0")/.."
vocab=8000; out=datasets/vocab/linux-doc-8k
while [ $# -gt 0 ]; do
  case "$1" in
    --vocab) vocab="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "train_vocab: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v spm_train >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq sentencepiece; }
train=datasets/build/linux-doc/train.txt
[ -f $train ] || { echo "train_vocab: $train missing (datasets/linux_doc.py build)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
spm_train --input=$train --model_prefix="$out" --vocab_size="$vocab" --model_type=bpe \
  --byte_fallback=true --character_coverage=1.0 --split_digits=true \
  --normalization_rule_name=identity --remove_extra_whitespaces=false \
  --bos_id=1 --eos_id=2 --unk_id=0 --pad_id=-1 \
  --input_sentence_size=2000000 --shuffle_input_sentence=true --seed_sentencepiece_size=1000000 \
  --max_sentence_length=8192 --num_threads=2 --random_seed=0 --minloglevel=1
rm -f "$out.vocab"
echo "train_vocab: $out.model ($(stat -c %s "$out.model") bytes, sentencepiece $(dpkg-query -W -f '${Version}' sentencepiece 2>/dev/null || echo '?'))"

#!/usr/bin/env python3
"""LongBench-format retrieval tasks built from our own corpora, with a fixed seed.

Two datasets, one JSON object per line with LongBench's fields (input, context, answers, length,
dataset, language, all_classes, _id), so `jenga-worker longbench` and train-bench's longbench_data
read them as they read LongBench's own files:
  passkey       a five-digit pass key stated once at a random depth of a stretch of real text;
                "What is the pass key?"; scored as the share of numbers in the answer that are right
  kv_retrieval  eight "key -> value" lines (random hex) scattered through the text; the value of
                one key is asked; scored by token F1 (an exact value scores 1)
Contexts are consecutive characters of the text, cut at line ends, `--context-chars` long (bytes
= tokens for byte-level models).

  datasets/longbench_synth.py --text datasets/build/linux-doc/val.txt.gz --out datasets/build/longbench-synth \
      --samples 50 --context-chars 3000
"""
import argparse, gzip, json, os, random


def read_text(path):
    raw = gzip.open(path, "rb").read() if path.endswith(".gz") else open(path, "rb").read()
    return raw.decode("utf-8", errors="replace")


def window(text, rng, chars):
    if len(text) <= chars + 2:
        raise SystemExit(f"longbench_synth: the text ({len(text)} chars) is shorter than one context ({chars})")
    start = rng.randrange(0, len(text) - chars)
    nl = text.find("\n", start)
    start = nl + 1 if 0 <= nl < start + chars // 4 else start
    return text[start:start + chars]


def insert_at_line(ctx, rng, line):
    cut = ctx.find("\n", rng.randrange(0, max(1, len(ctx))))
    cut = len(ctx) if cut < 0 else cut + 1
    return ctx[:cut] + line + ctx[cut:]


def passkey(text, rng, chars, i):
    key = str(rng.randrange(10000, 100000))
    needle = f"The pass key is {key}. Remember it. {key} is the pass key.\n"
    ctx = insert_at_line(window(text, rng, chars - len(needle)), rng, needle)
    return {"input": "What is the pass key?", "context": ctx, "answers": [key], "length": len(ctx),
            "dataset": "passkey", "language": "en", "all_classes": None, "_id": f"passkey-{i}"}


def kv_retrieval(text, rng, chars, i):
    pairs = [(f"{rng.getrandbits(24):06x}", f"{rng.getrandbits(24):06x}") for _ in range(8)]
    lines = [f"Key {k} has the value {v}.\n" for k, v in pairs]
    ctx = window(text, rng, chars - sum(len(l) for l in lines))
    for line in lines:
        ctx = insert_at_line(ctx, rng, line)
    k, v = pairs[rng.randrange(len(pairs))]
    return {"input": f"What is the value of key {k}?", "context": ctx, "answers": [v], "length": len(ctx),
            "dataset": "kv_retrieval", "language": "en", "all_classes": None, "_id": f"kv_retrieval-{i}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--context-chars", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    text = read_text(a.text)
    os.makedirs(a.out, exist_ok=True)
    for name, make in (("passkey", passkey), ("kv_retrieval", kv_retrieval)):
        rng = random.Random(f"{a.seed}-{name}")
        path = os.path.join(a.out, name + ".jsonl")
        with open(path, "w") as f:
            for i in range(a.samples):
                f.write(json.dumps(make(text, rng, a.context_chars, i), ensure_ascii=False) + "\n")
        print(f"{path}: {a.samples} samples of {a.context_chars} chars")


if __name__ == "__main__":
    main()

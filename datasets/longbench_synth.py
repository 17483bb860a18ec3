#!/usr/bin/env python3
"""LongBench-format retrieval tasks built from our own corpora, with a fixed seed.

Two datasets, one JSON object per line with LongBench's fields (input, context, answers, length,
dataset, language, all_classes, _id), so `jenga-worker longbench` and train-bench's longbench_data
read them as they read LongBench's own files:
  passkey       a five-digit pass key stated once at a random depth of a stretch of real text;
                "What is the pass key?"; scored as the share of numbers in the answer that are right
  kv_retrieval  eight "key -> value" lines (random hex) scattered through the text; the value of
                one key is asked; scored by token F1 (an exact value scores 1)
and three RULER-style tasks (scored as RULER does: the share of the answers found in the answer):
  ruler_niah_multikey  four "special magic number for <key>" needles, one asked for
  ruler_vt             variable tracking: VAR A = <n>, then VAR B = VAR A, ... (a chain of four)
                       scattered through the text; "which variables hold <n>?"
  ruler_cwe            common words: a list of words from the text, ten of them repeated often;
                       "what are the ten most common words?"
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


def ruler_niah_multikey(text, rng, chars, i):
    keys = [f"{rng.getrandbits(24):06x}" for _ in range(4)]
    values = [str(rng.randrange(1000000, 10000000)) for _ in keys]
    lines = [f"One of the special magic numbers for {k} is: {v}.\n" for k, v in zip(keys, values)]
    ctx = window(text, rng, chars - sum(len(l) for l in lines))
    for line in lines:
        ctx = insert_at_line(ctx, rng, line)
    j = rng.randrange(len(keys))
    return {"input": f"What is the special magic number for {keys[j]} mentioned in the text?", "context": ctx,
            "answers": [values[j]], "length": len(ctx), "dataset": "ruler_niah_multikey", "language": "en",
            "all_classes": None, "_id": f"ruler_niah_multikey-{i}"}


def ruler_vt(text, rng, chars, i):
    names = []
    while len(names) < 4:
        n = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))
        if n not in names:
            names.append(n)
    value = str(rng.randrange(10000, 100000))
    lines = [f"VAR {names[0]} = {value}.\n"] + [f"VAR {b} = VAR {a}.\n" for a, b in zip(names, names[1:])]
    ctx = window(text, rng, chars - sum(len(l) for l in lines))
    # Keep the chain's order: each assignment goes after the previous one.
    pos = 0
    for line in lines:
        lo = min(len(ctx), pos)
        cut = ctx.find("\n", rng.randrange(lo, max(lo + 1, min(len(ctx), lo + max(1, (len(ctx) - lo) // 2)))))
        cut = len(ctx) if cut < 0 else cut + 1
        ctx = ctx[:cut] + line + ctx[cut:]
        pos = cut + len(line)
    return {"input": f"Find all variables that are assigned the value {value} in the text above.", "context": ctx,
            "answers": names, "length": len(ctx), "dataset": "ruler_vt", "language": "en", "all_classes": None,
            "_id": f"ruler_vt-{i}"}


def ruler_cwe(text, rng, chars, i):
    vocab = sorted({w for w in (t.strip(".,;:()[]`'\"*").lower() for t in text.split()) if w.isalpha() and 3 <= len(w) <= 10})
    if len(vocab) < 40:
        raise SystemExit("longbench_synth: the text has too few distinct words for ruler_cwe")
    common = rng.sample(vocab, 10)
    rare = [w for w in rng.sample(vocab, 40) if w not in common]
    items, size = [], 0
    while True:
        w = rng.choice(common) if rng.random() < 0.5 else rng.choice(rare)
        item = f"{len(items) + 1}. {w}"
        if size + len(item) + 1 > chars:
            break
        items.append(item)
        size += len(item) + 1
    ctx = " ".join(items)
    return {"input": "What are the 10 most common words in the list above?", "context": ctx, "answers": common,
            "length": len(ctx), "dataset": "ruler_cwe", "language": "en", "all_classes": None, "_id": f"ruler_cwe-{i}"}


TASKS = {"passkey": None, "kv_retrieval": None, "ruler_niah_multikey": ruler_niah_multikey, "ruler_vt": ruler_vt,
         "ruler_cwe": ruler_cwe}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--context-chars", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default="passkey,kv_retrieval", help=f"comma-separated, of {', '.join(TASKS)}")
    a = ap.parse_args()
    text = read_text(a.text)
    os.makedirs(a.out, exist_ok=True)
    TASKS.update(passkey=passkey, kv_retrieval=kv_retrieval)
    for name in a.tasks.split(","):
        if name not in TASKS:
            raise SystemExit(f"longbench_synth: unknown task {name!r}; known: {', '.join(TASKS)}")
        make = TASKS[name]
        rng = random.Random(f"{a.seed}-{name}")
        path = os.path.join(a.out, name + ".jsonl")
        with open(path, "w") as f:
            for i in range(a.samples):
                f.write(json.dumps(make(text, rng, a.context_chars, i), ensure_ascii=False) + "\n")
        print(f"{path}: {a.samples} samples of {a.context_chars} chars")


if __name__ == "__main__":
    main()

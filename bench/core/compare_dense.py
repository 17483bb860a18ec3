"""Joins our train-bench summaries with the HF+PEFT anchor's lines: one Markdown table."""
import json, sys

def load(path):
    try:
        return [json.loads(l) for l in open(path) if l.startswith("{")]
    except FileNotFoundError:
        return []

ours, hf = {}, {}
for r in load(sys.argv[1]):
    key = (r["model"], r["seq"], r["ckpt"])
    if r.get("event") == "summary":
        ours.setdefault(key, {}).update(r["values"])
    elif r.get("event") == "end":
        ours.setdefault(key, {})["status"] = r["status"]
for r in load(sys.argv[2]) if len(sys.argv) > 2 else []:
    hf[(r["model"], r["seq"], r["ckpt"])] = r

print("| model | seq | ckpt | ours peak GiB | HF peak GiB | mem ratio | ours step s | HF step s | time ratio | ours MFU |")
print("|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(set(ours) | set(hf)):
    o, h = ours.get(key, {}), hf.get(key, {})
    op = o.get("peak_allocated_mib"); ot = o.get("step_ms")
    o_mem = f"{op/1024:.2f}" if op else o.get("status", "—")
    o_t = f"{ot/1000:.3f}" if ot else "—"
    h_mem = "OOM" if h.get("oom") else (f"{h['peak_gib']:.2f}" if "peak_gib" in h else "—")
    h_t = f"{h['step_s']:.3f}" if "step_s" in h else "—"
    mr = f"{op/1024/h['peak_gib']:.2f}" if op and "peak_gib" in h else "—"
    tr = f"{ot/1000/h['step_s']:.2f}" if ot and "step_s" in h else "—"
    mfu = f"{o['mfu']*100:.1f}%" if "mfu" in o else "—"
    print(f"| {key[0]} | {key[1]} | {key[2]} | {o_mem} | {h_mem} | {mr} | {o_t} | {h_t} | {tr} | {mfu} |")

"""Joins train-bench summaries (methods base and jenga) with the HF+PEFT anchor: one Markdown table."""
import json, sys

def load(path):
    try:
        return [json.loads(l) for l in open(path) if l.startswith("{")]
    except FileNotFoundError:
        return []

runs, hf = {}, {}
for r in load(sys.argv[1]):
    key = (r["model"], r["seq"], r["ckpt"])
    d = runs.setdefault(key, {}).setdefault(r["method"], {})
    if r.get("event") == "summary":
        d.update(r["values"])
    elif r.get("event") == "end":
        d["status"] = r["status"]; d["message"] = r.get("message", "")
for r in load(sys.argv[2]) if len(sys.argv) > 2 else []:
    hf[(r["model"], r["seq"], r["ckpt"])] = r

def gib(d):
    v = d.get("peak_allocated_mib")
    return v / 1024 if v else None

def cell(v, fmt):
    return fmt.format(v) if v is not None else "—"

print("| model | seq | ckpt | base GiB | jenga GiB | HF GiB | jenga/HF mem | base s | jenga s | HF s | jenga/HF time | jenga/base time | kept |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(set(runs) | set(hf)):
    b, j, h = runs.get(key, {}).get("base", {}), runs.get(key, {}).get("jenga", {}), hf.get(key, {})
    hm = None if h.get("oom") else h.get("peak_gib")
    ht = h.get("step_s")
    bt = b.get("step_ms") / 1000 if b.get("step_ms") else None
    jt = j.get("step_ms") / 1000 if j.get("step_ms") else None
    def st(d, v, fmt):
        return cell(v, fmt) if v is not None else d.get("status", "—")
    hm_s = "OOM" if h.get("oom") else cell(hm, "{:.2f}")
    print(f"| {key[0]} | {key[1]} | {key[2]} | {st(b, gib(b), '{:.2f}')} | {st(j, gib(j), '{:.2f}')} | {hm_s} | "
          f"{cell(gib(j) / hm if gib(j) and hm else None, '{:.2f}')} | {st(b, bt, '{:.3f}')} | {st(j, jt, '{:.3f}')} | {cell(ht, '{:.3f}')} | "
          f"{cell(jt / ht if jt and ht else None, '{:.2f}')} | {cell(jt / bt if jt and bt else None, '{:.2f}')} | {cell(j.get('kept_fraction'), '{:.3f}')} |")

others = sorted({(k, m) for k, ms in runs.items() for m in ms if m not in ("base", "jenga")})
if others:
    print("\n| model | seq | ckpt | method | peak GiB | step s | mem/base | time/base | mem/HF | kept |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, m in others:
        d, b, h = runs[key][m], runs[key].get("base", {}), hf.get(key, {})
        t = d.get("step_ms") / 1000 if d.get("step_ms") else None
        bt = b.get("step_ms") / 1000 if b.get("step_ms") else None
        hm = None if h.get("oom") else h.get("peak_gib")
        mem = cell(gib(d), "{:.2f}") if gib(d) else d.get("status", "—")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {m} | {mem} | {cell(t, '{:.3f}')} | "
              f"{cell(gib(d) / gib(b) if gib(d) and gib(b) else None, '{:.2f}')} | {cell(t / bt if t and bt else None, '{:.2f}')} | "
              f"{cell(gib(d) / hm if gib(d) and hm else None, '{:.2f}')} | {cell(d.get('kept_fraction'), '{:.3f}')} |")

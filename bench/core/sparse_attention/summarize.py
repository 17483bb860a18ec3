"""attention-bench records (jenga-worker attention-bench, one run per length) -> a Markdown table
per sequence length: time, speedup over dense SDPA and TFLOP/s for each layout, forward and
forward+backward, then the goal line (10% of the blocks >= 5x faster than dense)."""
import json
import sys


def runs(path):
    """One dict per worker run: its params, its metrics {(layout, param, kernel, pass): {name: value}}, its summary."""
    out = []
    for line in open(path):
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("event") == "start":
            out.append({"params": r["params"], "metrics": {}, "summary": {}})
        elif r.get("event") == "metric" and out:
            t = r["tags"]
            key = (t["layout"], t["param"], t.get("forward_kernel"), t["pass"])
            out[-1]["metrics"].setdefault(key, {"density": t["density"]})[r["name"]] = r["value"]
        elif r.get("event") == "summary" and out:
            out[-1]["summary"] = r["values"]
    return out


def cells(m):
    if m is None:
        return ["", "", ""]
    sp = m.get("speedup_vs_dense")
    tf = f"{m['tflops_block']:.0f} / {m['tflops_effective']:.0f}" if "tflops_block" in m else f"{m['tflops_effective']:.0f}"
    return [f"{m['attention_ms']:.2f}", "" if sp is None else f"{sp:.2f}", tf]


def main(path):
    all_runs = runs(path)
    for run in all_runs:
        p = run["params"]
        print(f"\n### S = {p['seq_len']} (Hq {p.get('heads', 32)}, Hkv {p.get('kv_heads', 8)}, D {p.get('head_dim', 128)}, "
              f"{p.get('dtype', 'bf16')}, block_q {p.get('block_q', 64)})\n")
        print("| layout | density | fwd ms | fwd x dense | fwd TFLOP/s block / effective | fwd+bwd ms | fwd+bwd x dense | fwd+bwd TFLOP/s block / effective |")
        print("|---|---|---|---|---|---|---|---|")
        rows = []
        for (layout, param, kernel, _) in run["metrics"]:
            if (layout, param, kernel) not in rows:
                rows.append((layout, param, kernel))
        for layout, param, kernel in rows:
            f = run["metrics"].get((layout, param, kernel, "fwd"))
            b = run["metrics"].get((layout, param, kernel, "fwd_bwd"))
            name = layout if layout.startswith("sdpa") else f"{layout} {param:g}"
            if kernel:
                name += f" ({kernel})"
            print(f"| {name} | {(f or b)['density']:.3f} | " + " | ".join(cells(f) + cells(b)) + " |")
    if all_runs:
        last = max(all_runs, key=lambda r: r["params"]["seq_len"])
        for pass_ in ("fwd", "fwd_bwd"):
            sp = last["summary"].get(f"speedup_topk10_{pass_}")
            if sp is not None:
                print(f"\nGoal ({pass_}, S = {last['params']['seq_len']}): 10% of the blocks >= 5x faster than dense SDPA: "
                      f"{sp:.2f}x -> {'met' if sp >= 5 else 'NOT met'}")


if __name__ == "__main__":
    main(sys.argv[1])

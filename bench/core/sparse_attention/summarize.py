"""sparse_attention.jsonl -> a Markdown table per sequence length: time and speedup over dense
SDPA for each layout, forward and forward+backward, and the goal line."""
import json
import sys


def main(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    goal = [r for r in rows if "goal" in r]
    runs = [r for r in rows if "layout" in r]
    for S in sorted({r["S"] for r in runs}):
        at = [r for r in runs if r["S"] == S]
        head = at[0]
        print(f"\n### S = {S} (Hq {head['Hq']}, Hkv {head['Hkv']}, D {head['D']}, bf16)\n")
        print("| layout | density | fwd ms | fwd x dense | fwd TFLOP/s block / effective | fwd+bwd ms | fwd+bwd x dense | fwd+bwd TFLOP/s block / effective |")
        print("|---|---|---|---|---|---|---|---|")
        keys = []
        for r in at:
            k = (r["layout"], r.get("param"), r.get("forward_kernel"))
            if k not in keys:
                keys.append(k)
        for k in keys:
            f = next((r for r in at if (r["layout"], r.get("param"), r.get("forward_kernel")) == k and r["pass"] == "fwd"), None)
            b = next((r for r in at if (r["layout"], r.get("param"), r.get("forward_kernel")) == k and r["pass"] == "fwd_bwd"), None)
            name = k[0] if k[1] is None else f"{k[0]} {k[1]:g}"
            if k[2]:
                name += f" ({k[2]})"

            def cells(r):
                if r is None:
                    return ["", "", ""]
                sp = r.get("speedup_vs_dense")
                tf = f"{r['tflops_block']:.0f} / {r['tflops_effective']:.0f}" if "tflops_block" in r else f"{r['tflops_effective']:.0f}"
                return [f"{r['ms']:.2f}", "" if sp is None else f"{sp:.2f}", tf]

            d = (f or b)["density"]
            print(f"| {name} | {d:.3f} | " + " | ".join(cells(f) + cells(b)) + " |")
    for g in goal:
        print(f"\nGoal ({g['pass']}, forward kernel {g.get('forward_kernel')}, S = {g['S']}): {g['goal']}: "
              f"{g['speedup']:.2f}x -> {'met' if g['met'] else 'NOT met'}")


if __name__ == "__main__":
    main(sys.argv[1])

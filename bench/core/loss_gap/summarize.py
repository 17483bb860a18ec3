#!/usr/bin/env python3
"""Table of bench/core/loss_gap/run.sh's JSON lines: held-out loss per method and its gap to base."""
import json, sys
from collections import defaultdict


def main(path):
    summary, losses, errors = {}, defaultdict(list), {}
    for line in open(path):
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        run = r.get("run", "?")
        if r.get("event") == "summary":
            summary[run] = r["values"]
        elif r.get("event") == "step" and "loss" in r:
            losses[run].append(r["loss"])
        elif r.get("event") == "end" and r.get("status") != "ok":
            errors[run] = r.get("error", r.get("status"))
    if "predictor-train" in summary:
        p = summary["predictor-train"]
        print(f"predictor-train: final loss {p['final_loss']:.4g}, recall of exact top blocks {p['recall']:.3f}, "
              f"params {p['predictor_params_initial']} -> {p['predictor_params']}, {p['step_ms']:.1f} ms/step\n")
    base = summary.get("base", {}).get("eval_loss")
    print("| run | held-out loss, all tokens | gap vs base | held-out loss, method's forward | train loss (last 20 steps) | kept | step ms |")
    print("|---|---|---|---|---|---|---|")
    for run, v in summary.items():
        if run == "predictor-train":
            continue
        ev = v.get("eval_loss")
        gap = f"{100 * (ev - base) / base:+.2f}%" if ev is not None and base else ""
        tail = losses[run][-20:]
        em = v.get("eval_loss_method")
        print(f"| {run} | {ev:.4f} | {gap} | {'' if em is None else f'{em:.4f}'} | {sum(tail) / max(1, len(tail)):.4f} | "
              f"{v.get('kept_fraction', 1):.3f} | {v.get('step_ms', 0):.1f} |")
    for run, e in errors.items():
        print(f"\n{run}: FAILED: {e}")


if __name__ == "__main__":
    main(sys.argv[1])

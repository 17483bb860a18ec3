#!/usr/bin/env bash
# What Jenga's parts cost, on the GPU after scripts/gpu_build.sh: the block selection's time per
# step (predictors, or exact maps as an oracle; time_selection brackets it with syncs), the
# predictors' weight memory, and the fused block-row kernels against per-token index ops.
#   bench/core/jenga_overheads.sh [--model llama2-7b] [--seqs "4096 16384"] [--steps 4]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/jenga-overheads}; mkdir -p "$out"
W=${WORKER:-build-gpu/bin/jenga-worker}
model=llama2-7b; seqs="4096 16384"; steps=4
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift ;;
    --seqs) seqs="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    *) echo "jenga_overheads: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
spec="{\"name\":\"$model\",\"hf_config\":\"configs/models/hf/$model/config.json\"}"
for seq in $seqs; do
  for v in 'base:"method":"base"' 'jenga:"method":"jenga"' 'jenga-index-ops:"method":"jenga","fused_rows":false' \
           'jenga-timed:"method":"jenga","time_selection":true' 'jenga-exact-timed:"method":"jenga","selector":"exact","time_selection":true'; do
    name=${v%%:*}; extra=${v#*:}
    timeout 200 $W train-bench --model-spec "$spec" --params "{\"seq_len\":$seq,\"steps\":$steps,\"warmup\":1,$extra}" 2>&1 |
      sed "s/^{\"event\"/{\"variant\":\"$name\",\"seq\":$seq,\"event\"/" >> "$out/overheads.jsonl"
  done
done
python3 - "$out/overheads.jsonl" <<'PY' | tee "$out/overheads.md"
import json, sys
rows = {}
for l in open(sys.argv[1]):
    if not l.startswith("{"): continue
    r = json.loads(l)
    if r.get("event") == "summary": rows[(r["seq"], r["variant"])] = r["values"]
    elif r.get("event") == "end" and r.get("status") != "ok": rows[(r["seq"], r["variant"])] = {"error": r.get("message", r.get("status"))}
print("| seq | variant | step s | peak GiB | selection ms/step | predictor MiB | kept |")
print("|---|---|---|---|---|---|---|")
for (seq, name), v in sorted(rows.items()):
    if "error" in v:
        print(f"| {seq} | {name} | failed: {v['error']} | | | | |"); continue
    sel = v.get("selection_ms"); pm = v.get("predictor_mib"); peak = v.get("peak_allocated_mib")
    print(f"| {seq} | {name} | {v['step_ms'] / 1000:.3f} | {'' if peak is None else f'{peak / 1024:.2f}'} | {'' if sel is None else f'{sel:.1f}'} | "
          f"{'' if pm is None else f'{pm:.1f}'} | {v.get('kept_fraction', 1):.3f} |")
PY

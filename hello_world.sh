#!/usr/bin/env bash
# The environment check to run first. Reports, in order:
#   1. toolchain and library versions   2. GPU(s) and driver
#   3. model checkpoints and datasets named in configs/ (missing ones: where to get them)
#   4. a real training step on this machine through jenga-worker
# and ends with one PASSED / FAILED line (exit code 0 / 1). Builds what is missing first
# (scripts/bootstrap.sh) unless --no-build; --build-dir DIR picks an existing build.
set -uo pipefail
cd "$(dirname "$0")"

build_dir=build; do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) do_build=0 ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "hello_world: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

failures=0
ok()   { printf '  [ ok ] %s\n' "$*"; }
warn() { printf '  [warn] %s\n' "$*"; }
bad()  { printf '  [FAIL] %s\n' "$*"; failures=$((failures + 1)); }
todo() { printf '  [todo] %s\n' "$*"; }
ver()  { "$@" 2>&1 | head -n 1; }
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

echo "== 1. Toolchain and libraries"
for tool in g++ cmake ninja git; do
  if command -v "$tool" >/dev/null; then ok "$tool: $(ver "$tool" --version)"; else bad "$tool: not found (scripts/bootstrap.sh installs it)"; fi
done
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  ok "nvcc: $(PATH=$PATH:/usr/local/cuda/bin nvcc --version | grep -o 'release [0-9.]*')"
else
  warn "nvcc: not found (CUDA kernels will not be built; CPU path only)"
fi
if command -v dpkg-query >/dev/null; then
  for p in libtorch-dev libfmt-dev libyaml-cpp-dev libsqlite3-dev libboost-dev libgtest-dev nlohmann-json3-dev gnuplot-nox; do
    v=$(pkgver "$p"); [ "$v" = "not installed" ] && warn "$p: not installed" || ok "$p: $v"
  done
fi
if command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
  ok "python3 torch: $(python3 -c 'import torch;print(torch.__version__, "cuda", torch.version.cuda)')"
fi

if [ $do_build = 1 ] && { [ ! -x "$build_dir/bin/jenga-worker" ] || [ ! -x "$build_dir/bin/jenga" ]; }; then
  echo "== building (first run; scripts/bootstrap.sh --build-dir $build_dir)"
  scripts/bootstrap.sh --build-dir "$build_dir" --target jenga --target jenga-worker >/dev/null || bad "build failed: run scripts/bootstrap.sh to see why"
fi
worker="$build_dir/bin/jenga-worker"; cli="$build_dir/bin/jenga"
[ -x "$cli" ] && ok "jenga (harness CLI): $cli" || bad "jenga (harness CLI): not built ($cli)"
[ -x "$worker" ] && ok "jenga-worker (core): $worker" || bad "jenga-worker (core): not built ($worker)"

echo "== 2. GPU(s) and driver"
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader | while read -r line; do ok "GPU $line"; done
else
  warn "no NVIDIA GPU visible: systems experiments need one; plots from logs (RUNME-a.sh) do not"
fi
if [ -x "$worker" ]; then
  info=$("$worker" info 2>&1)
  if echo "$info" | grep -q '"status":"ok"'; then
    ok "worker sees: $(echo "$info" | grep -o '"gpu":"[^"]*"' | head -1), torch $(echo "$info" | grep -o '"torch":"[^"]*"' | head -1 | cut -d'"' -f4), device $(echo "$info" | grep -o '"device":"[^"]*"' | head -1 | cut -d'"' -f4)"
  else
    bad "jenga-worker info failed: $(echo "$info" | tail -n 1)"
  fi
fi

echo "== 3. Model checkpoints and datasets named in configs/"
yaml_value() { sed -n "s/^$2:[[:space:]]*//p" "$1" | head -n 1 | sed 's/^"\(.*\)"$/\1/'; }
shopt -s nullglob
models=(configs/models/*.yaml)
[ ${#models[@]} -eq 0 ] && warn "no model configs under configs/models/"
for m in "${models[@]}"; do
  name=$(basename "$m" .yaml); hf=$(yaml_value "$m" hf_config); ckpt=$(yaml_value "$m" checkpoint); src=$(yaml_value "$m" source)
  if [ -n "$hf" ] && [ ! -f "$hf" ]; then bad "$name: HF config $hf is missing"; continue; fi
  if [ -z "$ckpt" ]; then ok "$name: random-init model (no checkpoint needed)"
  elif compgen -G "$ckpt/*.safetensors" >/dev/null; then ok "$name: checkpoint $ckpt"
  else warn "$name: checkpoint $ckpt missing (systems runs use random init; accuracy runs need it: get ${src:-the weights} in HF safetensors format into $ckpt/)"
  fi
done
if [ -f datasets/manifest.yaml ]; then
  while read -r path; do
    [ -e "$path" ] && ok "dataset $path" || warn "dataset $path missing (datasets/README.md says how to build it)"
  done < <(sed -n 's/^[[:space:]]*output:[[:space:]]*//p' datasets/manifest.yaml)
else
  todo "datasets: no manifest yet (datasets/manifest.yaml arrives with the accuracy pipeline)"
fi

echo "== 4. A real training step"
if [ -x "$worker" ]; then
  out=$("$worker" selftest --params '{"steps":10}' 2>&1)
  if echo "$out" | grep -q '"event":"end","status":"ok"'; then
    ok "forward + backward + AdamW on a small MLP: loss $(echo "$out" | grep -o '"first_loss":[0-9.e-]*' | cut -d: -f2) -> $(echo "$out" | grep -o '"last_loss":[0-9.e-]*' | cut -d: -f2)"
  else
    bad "selftest failed: $(echo "$out" | tail -n 1)"
  fi
  if "$worker" --help | grep -q '^  train-bench'; then
    # A tiny Llama on the CPU; a Llama-2-7B-shaped model (random init) at 4K tokens on a GPU.
    if echo "$info" | grep -q '"cuda_available":true'; then
      model=llama2-7b; params='"seq_len":4096,"steps":2,"warmup":1'
    else
      model=tiny-llama; params='"seq_len":512,"steps":3,"warmup":1'
    fi
    hf="configs/models/hf/$model/config.json"
    for method in base jenga; do
      out=$("$worker" train-bench --params "{$params,\"method\":\"$method\",\"hf_config\":\"$hf\"}" 2>&1)
      if echo "$out" | grep -q '"event":"end","status":"ok"'; then
        peak=$(echo "$out" | grep -o '"peak_allocated_mib":[0-9.]*' | cut -d: -f2)
        [ -n "$peak" ] && peak="peak $peak MiB" || peak="peak memory not measured on CPU"
        ok "LoRA step, $model, method $method: $(echo "$out" | grep -o '"step_ms":[0-9.]*' | cut -d: -f2) ms, $peak, loss $(echo "$out" | grep -o '"final_loss":[0-9.]*' | cut -d: -f2), tokens kept $(echo "$out" | grep -o '"kept_fraction":[0-9.]*' | tail -n 1 | cut -d: -f2)"
      elif echo "$out" | grep -q 'not built yet'; then
        todo "LoRA step, method $method: not in this build of jenga-worker ($(echo "$out" | tail -n 1))"
      else
        bad "LoRA step, $model, method $method failed: $(echo "$out" | tail -n 1)"
      fi
    done
  else
    todo "LoRA model step with token elimination: not built yet (core engine and Jenga sparsity are issues 4 and 5)"
  fi
else
  bad "no jenga-worker to run a step with"
fi

echo
if [ $failures -eq 0 ]; then echo "hello_world: PASSED"; exit 0; else echo "hello_world: FAILED ($failures problem(s) above)"; exit 1; fi

#!/usr/bin/env python3
"""Writes the golden-parity fixtures the C++ model tests compare against (tests/fixtures/golden/).

Runs where python3 has torch + transformers (5.x; 4.4x also works) + safetensors (+ peft if installed;
without it the adapter is written in PEFT's format by this script), with no
network: every model is built from a config in this file and randomly initialised with fixed seeds.
Deterministic: the same library versions give byte-identical files (CPU, one thread, explicit
generators, sorted JSON).

For each case <name> it writes tests/fixtures/golden/<name>/:
  config.json, model.safetensors       HF save_pretrained output (fp32); one case is sharded
                                       (model-0000x-of-0000n.safetensors + model.safetensors.index.json)
  inputs.json                          {"input_ids": [48 ids], "labels": [48 ids]}; labels == input_ids,
                                       HF shifts inside: loss = mean CE(logits[:-1], input_ids[1:])
  expected.safetensors                 "logits" [48, vocab] fp32, "loss" [] fp32
and for the LoRA case also <name>/lora/:
  adapter_model.safetensors, adapter_config.json   PEFT save_pretrained (r=4, alpha=8, q/k/v/o)
  expected.safetensors                 "logits", "loss" with the adapter applied
  grads.safetensors                    d loss / d every LoRA A and B, keyed by the PEFT file key
                                       (base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight)
plus golden/manifest.json (the cases and what each exercises) and golden/README.md.

Reference values are computed in float64 from the fp32 weights that were saved, then stored as
fp32: they are the exact answer for those weights, so a C++ fp32 forward is judged on its own
rounding only. The fp32 HF forward (and HF's own loss) is checked against them as a sanity test.

Usage: python3 scripts/make_golden_fixtures.py [--out DIR]
"""

import argparse
import copy
import hashlib
import inspect
import json
import math
import os
import re
import shutil
import sys

import torch
import torch.nn.functional as F

SEQ_LEN = 48
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
LORA_R, LORA_ALPHA = 4, 8
SIZE_BUDGET = 2 * 1024 * 1024  # all fixtures together

# name -> what to build. rope: (theta, scaling dict or None) in the transformers-4.x spelling.
CASES = [
    dict(name="llama2", family="llama", seed=1001,
         note="Llama-2 style: MHA, untied head, default RoPE",
         cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128,
                  rms_norm_eps=1e-5, tie_word_embeddings=False),
         rope=(10000.0, None)),
    dict(name="llama3", family="llama", seed=1002, lora=True,
         note="Llama-3 style: GQA 4q/2kv, tied head, llama3 RoPE scaling (factor 8, original context 64)",
         cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                  rms_norm_eps=1e-5, tie_word_embeddings=True),
         rope=(500000.0, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 64})),
    dict(name="llama_linear", family="llama", seed=1003, shard=True,
         note="Llama with linear RoPE scaling (factor 2), tied head, sharded checkpoint",
         cfg=dict(vocab_size=256, hidden_size=64, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                  rms_norm_eps=1e-6, tie_word_embeddings=True),
         rope=(10000.0, {"rope_type": "linear", "factor": 2.0})),
    dict(name="opt_postnorm_proj", family="opt", seed=1004,
         note="OPT-350m style: post-norm (no final LayerNorm), project_in/out 32 <-> 64",
         cfg=dict(vocab_size=256, hidden_size=64, ffn_dim=128, num_hidden_layers=2, num_attention_heads=4,
                  word_embed_proj_dim=32, do_layer_norm_before=False, max_position_embeddings=64)),
    dict(name="opt_prenorm", family="opt", seed=1005,
         note="OPT-1.3b style: pre-norm with final LayerNorm, no projection",
         cfg=dict(vocab_size=256, hidden_size=48, ffn_dim=96, num_hidden_layers=2, num_attention_heads=4,
                  word_embed_proj_dim=48, do_layer_norm_before=True, max_position_embeddings=64)),
]


def log(*a):
    print(*a, flush=True)


def versions():
    import safetensors
    import transformers
    v = {"torch": torch.__version__, "transformers": transformers.__version__, "safetensors": safetensors.__version__}
    try:
        import peft
        v["peft"] = peft.__version__
    except ImportError:
        v["peft"] = None
    return v


def transformers_major():
    import transformers
    return int(transformers.__version__.split(".")[0])


# ---------------------------------------------------------------------------------------------
# Building models

def llama_config(case):
    from transformers import LlamaConfig
    theta, scaling = case["rope"]
    kw = dict(case["cfg"], hidden_act="silu", attention_bias=False, mlp_bias=False, attention_dropout=0.0,
              bos_token_id=1, eos_token_id=2, pad_token_id=None)
    probe = LlamaConfig()
    if hasattr(probe, "rope_parameters"):  # transformers 5: one dict holding rope_theta too
        rp = {"rope_type": "default", "rope_theta": theta}
        if scaling:
            rp.update(scaling)
            rp["rope_theta"] = theta
        kw["rope_parameters"] = rp
    else:
        kw["rope_theta"] = theta
        kw["rope_scaling"] = scaling
    return LlamaConfig(**kw)


def opt_config(case):
    from transformers import OPTConfig
    kw = dict(case["cfg"], activation_function="relu", enable_bias=True, layer_norm_elementwise_affine=True,
              dropout=0.0, attention_dropout=0.0, layerdrop=0.0,
              pad_token_id=1, bos_token_id=2, eos_token_id=2)
    return OPTConfig(**kw)


def instantiate(model_cls, config):
    """The model with eager attention (the plain math reference), on CPU, fp32."""
    try:
        model = model_cls._from_config(config, attn_implementation="eager")
    except (TypeError, ValueError, AttributeError):
        config._attn_implementation = "eager"
        model = model_cls(config)
    model = model.to(torch.float32).eval()
    impl = getattr(model.config, "_attn_implementation", "eager")
    if impl != "eager":
        raise SystemExit(f"could not select eager attention (got {impl})")
    return model


def build(case):
    if case["family"] == "llama":
        from transformers import LlamaForCausalLM
        model = instantiate(LlamaForCausalLM, llama_config(case))
    else:
        from transformers import OPTForCausalLM
        model = instantiate(OPTForCausalLM, opt_config(case))
    randomize(model, case["seed"])
    if model.config.tie_word_embeddings:
        assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr(), \
            "tied head is not tied"
    return model


def randomize(model, seed):
    """Overwrites HF's init (std 0.02 weights, unit norms, zero biases: nearly uniform logits that
    would hide mistakes) with values that make every tensor matter: matrices ~ N(0, 1/fan_in),
    embeddings ~ N(0, 0.3^2), norm weights ~ 1 + N(0, 0.1^2), biases ~ N(0, 0.1^2)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):  # tied tensors appear once
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif "norm" in name:  # RMSNorm / LayerNorm weights
                p.copy_(1.0 + 0.1 * noise)
            elif "embed" in name:  # token and (OPT) position embeddings
                p.copy_(0.3 * noise)
            else:
                p.copy_(noise / math.sqrt(p.shape[1]))


def check_rope(model, case):
    """The rotary frequencies HF actually uses must show the configured scaling (guards against a
    config spelling this transformers version silently ignores)."""
    if case["family"] != "llama":
        return
    rot = model.model.rotary_emb
    inv = rot.inv_freq.double()
    c = model.config
    dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    theta, scaling = case["rope"]
    base = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).double() / dim))
    if scaling is None:
        ok = torch.allclose(inv, base, rtol=1e-6)
    elif scaling["rope_type"] == "linear":
        ok = torch.allclose(inv, base / scaling["factor"], rtol=1e-6)
    else:  # llama3: some unchanged, some divided by factor, some smoothed in between
        ratio = base / inv
        ok = bool((ratio - 1).abs().min() < 1e-6) and bool((ratio - scaling["factor"]).abs().min() < 1e-4) and \
            bool(((ratio > 1 + 1e-3) & (ratio < scaling["factor"] - 1e-3)).any())
    if not ok:
        raise SystemExit(f"{case['name']}: HF's inv_freq does not reflect rope {case['rope']}: {inv.tolist()}")


# ---------------------------------------------------------------------------------------------
# Saving

def save_model(model, out_dir, shard):
    kw = {}
    params = inspect.signature(model.save_pretrained).parameters
    if "safe_serialization" in params:
        kw["safe_serialization"] = True
    if shard:
        kw["max_shard_size"] = "100KB"
    model.save_pretrained(out_dir, **kw)
    # Only the config and the weights are fixtures.
    for f in os.listdir(out_dir):
        if f not in ("config.json", "model.safetensors", "model.safetensors.index.json") and \
                not re.fullmatch(r"model-\d+-of-\d+\.safetensors", f):
            os.remove(os.path.join(out_dir, f))
    if shard and not os.path.exists(os.path.join(out_dir, "model.safetensors.index.json")):
        shard_by_hand(out_dir)
    if not shard and not os.path.exists(os.path.join(out_dir, "model.safetensors")):
        raise SystemExit(f"{out_dir}: save_pretrained wrote no model.safetensors: {os.listdir(out_dir)}")


def shard_by_hand(out_dir):
    """This transformers ignored max_shard_size: split model.safetensors as it would have."""
    from safetensors.torch import load_file, save_file
    single = os.path.join(out_dir, "model.safetensors")
    tensors = load_file(single)
    names = sorted(tensors)
    n = 3
    groups = [names[i::n] for i in range(n)]
    weight_map, total = {}, 0
    for i, group in enumerate(groups):
        fname = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        save_file({k: tensors[k].contiguous() for k in group}, os.path.join(out_dir, fname), metadata={"format": "pt"})
        for k in group:
            weight_map[k] = fname
            total += tensors[k].numel() * tensors[k].element_size()
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")
    os.remove(single)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def save_expected(path, logits, loss):
    from safetensors.torch import save_file
    # One metadata key only: safetensors keeps metadata in a hash map, so several keys come out
    # in a random order and the file would differ from run to run.
    save_file({"logits": logits.to(torch.float32).contiguous(), "loss": loss.to(torch.float32).reshape(())},
              path, metadata={"format": "pt"})


# ---------------------------------------------------------------------------------------------
# Reference values

def token_ids(case):
    g = torch.Generator().manual_seed(case["seed"] + 7)
    # Skip ids 0-2 (pad/bos/eos in these configs): nothing special may happen to the inputs.
    return torch.randint(3, case["cfg"]["vocab_size"], (SEQ_LEN,), generator=g, dtype=torch.int64)


def forward(model, ids, labels=False):
    kw = dict(input_ids=ids[None], attention_mask=torch.ones_like(ids)[None], use_cache=False)
    if labels:
        kw["labels"] = ids[None]
    return model(**kw)


def shifted_loss(logits, ids):
    """HF's causal-LM loss: token t predicts token t+1, mean over the S-1 predictions."""
    return F.cross_entropy(logits[:-1], ids[1:], reduction="mean")


def reference(model, ids):
    """float64 logits and loss of the (fp32) model, plus a check against HF's own fp32 forward."""
    m64 = copy.deepcopy(model).to(torch.float64).eval()
    with torch.no_grad():
        logits = forward(m64, ids).logits[0]
        loss = shifted_loss(logits, ids)
        out32 = forward(model, ids, labels=True)
    compare(out32.logits[0], logits, out32.loss, loss, "HF fp32 forward vs float64 reference")
    return logits, loss


def compare(logits32, logits64, loss32, loss64, what, tol=1e-4):
    rel = (logits32.double() - logits64).abs().max().item() / logits64.abs().max().item()
    dl = abs(loss32.item() - loss64.item())
    if rel > tol or dl > tol * max(1.0, abs(loss64.item())):
        raise SystemExit(f"{what}: logits max rel err {rel:.3g}, loss diff {dl:.3g}")
    return rel, dl


def have_peft():
    try:
        import peft  # noqa: F401
        return True
    except ImportError:
        return False


def lora_config():
    from peft import LoraConfig
    return LoraConfig(r=LORA_R, lora_alpha=LORA_ALPHA, lora_dropout=0.0, target_modules=list(LORA_TARGETS),
                      bias="none", task_type="CAUSAL_LM")


def peft_key(param_name):
    """named_parameters() name -> the key PEFT writes to adapter_model.safetensors."""
    return re.sub(r"\.(lora_[AB])\.default\.", r".\1.", param_name)


class LoraLinear(torch.nn.Module):
    """PEFT's LoRA Linear, for machines without peft: base(x) + B(A(x)) * alpha / r."""

    def __init__(self, base):
        super().__init__()
        self.base_layer = base
        self.lora_A = torch.nn.Linear(base.in_features, LORA_R, bias=False, dtype=base.weight.dtype)
        self.lora_B = torch.nn.Linear(LORA_R, base.out_features, bias=False, dtype=base.weight.dtype)
        self.scaling = LORA_ALPHA / LORA_R

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


def attach_lora(model):
    """LoRA on q/k/v/o of every layer, base frozen. Returns (model to call, {PEFT key: parameter})."""
    if have_peft():
        from peft import get_peft_model
        pm = get_peft_model(model, lora_config()).eval()
        return pm, {peft_key(n): p for n, p in pm.named_parameters() if ".lora_A." in n or ".lora_B." in n}
    for p in model.parameters():
        p.requires_grad_(False)
    params = {}
    for path, module in list(model.named_modules()):
        leaf = path.rsplit(".", 1)[-1]
        if leaf in LORA_TARGETS and isinstance(module, torch.nn.Linear):
            parent = model.get_submodule(path.rsplit(".", 1)[0])
            wrapped = LoraLinear(module)
            setattr(parent, leaf, wrapped)
            params[f"base_model.model.{path}.lora_A.weight"] = wrapped.lora_A.weight
            params[f"base_model.model.{path}.lora_B.weight"] = wrapped.lora_B.weight
    return model.eval(), params


def save_adapter(wrapped, params, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    if have_peft():
        wrapped.save_pretrained(out_dir)
        for f in os.listdir(out_dir):
            if f not in ("adapter_model.safetensors", "adapter_config.json"):
                p = os.path.join(out_dir, f)
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    else:
        from safetensors.torch import save_file
        save_file({k: v.detach().contiguous() for k, v in sorted(params.items())},
                  os.path.join(out_dir, "adapter_model.safetensors"), metadata={"format": "pt"})
        write_json(os.path.join(out_dir, "adapter_config.json"), {
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": LORA_R, "lora_alpha": LORA_ALPHA,
            "lora_dropout": 0.0, "target_modules": LORA_TARGETS, "bias": "none", "fan_in_fan_out": False,
            "use_rslora": False, "use_dora": False, "inference_mode": True, "base_model_name_or_path": None,
            "init_lora_weights": True, "modules_to_save": None, "layers_to_transform": None,
            "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {}})
    # PEFT writes target_modules from a set: sort it so the file is deterministic.
    cfg_path = os.path.join(out_dir, "adapter_config.json")
    with open(cfg_path) as f:
        acfg = json.load(f)
    if isinstance(acfg.get("target_modules"), list):
        acfg["target_modules"] = sorted(acfg["target_modules"])
    write_json(cfg_path, acfg)


def make_lora(model, case, out_dir):
    from safetensors.torch import load_file, save_file

    pm, params = attach_lora(copy.deepcopy(model))
    # PEFT starts B at zero (the adapter would do nothing): give A and B seeded random values.
    g = torch.Generator().manual_seed(case["seed"] + 100)
    with torch.no_grad():
        for key in sorted(params):
            p = params[key]
            p.copy_(0.2 * torch.randn(p.shape, generator=g, dtype=torch.float32))
    save_adapter(pm, params, out_dir)
    saved = load_file(os.path.join(out_dir, "adapter_model.safetensors"))
    if set(saved) != set(params):
        raise SystemExit(f"adapter file keys {sorted(saved)[:2]}... differ from ours {sorted(params)[:2]}...")

    # float64 reference: the same base and adapter values, in double.
    pm64, params64 = attach_lora(copy.deepcopy(model).to(torch.float64))
    pm64 = pm64.to(torch.float64)
    with torch.no_grad():
        for key, p in params64.items():
            p.copy_(params[key].double())
    ids = token_ids(case)
    logits = forward(pm64, ids).logits[0]
    loss = shifted_loss(logits, ids)
    loss.backward()
    grads = {k: p.grad.detach().to(torch.float32).contiguous() for k, p in params64.items()}
    if any(p.requires_grad for n, p in pm64.named_parameters() if ".lora_" not in n):
        raise SystemExit("base weights are not frozen")
    for k, v in grads.items():
        if v.shape != saved[k].shape or not torch.isfinite(v).all() or v.abs().max() == 0:
            raise SystemExit(f"bad gradient for {k}")
    with torch.no_grad():
        out32 = forward(pm, ids, labels=True)
    compare(out32.logits[0], logits.detach(), out32.loss, loss.detach(), "LoRA fp32 forward vs float64 reference")
    save_expected(os.path.join(out_dir, "expected.safetensors"), logits.detach(), loss.detach())
    save_file(dict(sorted(grads.items())), os.path.join(out_dir, "grads.safetensors"), metadata={"format": "pt"})
    return loss.item(), len(grads)


# ---------------------------------------------------------------------------------------------
# Re-loading what was written (the files, not the in-memory model, are the fixture)

def verify_reload(case, case_dir):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    ids = torch.tensor(json.load(open(os.path.join(case_dir, "inputs.json")))["input_ids"])
    exp = load_file(os.path.join(case_dir, "expected.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(case_dir, attn_implementation="eager").to(torch.float32).eval()
    with torch.no_grad():
        out = forward(model, ids, labels=True)
    compare(out.logits[0], exp["logits"].double(), out.loss, exp["loss"].double(), f"{case['name']}: reloaded model")
    if case.get("lora"):
        lexp = load_file(os.path.join(case_dir, "lora", "expected.safetensors"))
        if have_peft():
            from peft import PeftModel
            pm = PeftModel.from_pretrained(model, os.path.join(case_dir, "lora")).eval()
        else:
            pm, params = attach_lora(model)
            saved = load_file(os.path.join(case_dir, "lora", "adapter_model.safetensors"))
            with torch.no_grad():
                for k, p in params.items():
                    p.copy_(saved[k])
        with torch.no_grad():
            out = forward(pm, ids, labels=True)
        compare(out.logits[0], lexp["logits"].double(), out.loss, lexp["loss"].double(), f"{case['name']}: reloaded adapter")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


README = """# Golden fixtures (generated: do not edit)

Written by `scripts/make_golden_fixtures.py` (see its docstring); `manifest.json` lists the cases,
what each exercises, the library versions and a SHA-256 per file. Re-run the script to regenerate.

Per case `<name>/`: `config.json` + weights (HF `save_pretrained`, fp32; `llama_linear` is sharded
with `model.safetensors.index.json`), `inputs.json` (`input_ids`, 48 tokens; `labels` equal to
`input_ids`, shifted inside HF's loss), `expected.safetensors` (`logits` [48, vocab] fp32, `loss` []).
The LoRA case adds `<name>/lora/` (PEFT adapter, `expected.safetensors` with the adapter applied,
`grads.safetensors`: d loss / d each LoRA tensor under its adapter-file key).

Expected values are float64 computations on the saved fp32 weights (exact for those weights),
stored as fp32. Loss: mean cross-entropy of logits[t] against input_ids[t+1], t < 47.
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(here), "tests", "fixtures", "golden"))
    ap.add_argument("--only", nargs="*", help="case names (default: all)")
    args = ap.parse_args()

    torch.set_num_threads(1)  # CPU reductions in one fixed order
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)  # anything HF draws outside our generators (its own init) is seeded too
    vers = versions()
    log("versions:", json.dumps(vers))
    if transformers_major() < 5:
        log("note: transformers < 5; the intended generator is 5.x (the fixtures should still be equivalent)")

    os.makedirs(args.out, exist_ok=True)
    manifest = {"generator": "scripts/make_golden_fixtures.py", "versions": vers, "seq_len": SEQ_LEN, "cases": []}
    for case in CASES:
        if args.only and case["name"] not in args.only:
            continue
        torch.manual_seed(case["seed"])
        case_dir = os.path.join(args.out, case["name"])
        shutil.rmtree(case_dir, ignore_errors=True)
        os.makedirs(case_dir)

        model = build(case)
        check_rope(model, case)
        save_model(model, case_dir, case.get("shard", False))
        ids = token_ids(case)
        write_json(os.path.join(case_dir, "inputs.json"), {"input_ids": ids.tolist(), "labels": ids.tolist()})
        logits, loss = reference(model, ids)
        save_expected(os.path.join(case_dir, "expected.safetensors"), logits, loss)
        entry = {"name": case["name"], "family": case["family"], "note": case["note"],
                 "sharded": bool(case.get("shard")), "lora": bool(case.get("lora")),
                 "num_params": sum(p.numel() for p in model.parameters()),
                 "loss": round(loss.item(), 6)}
        if case.get("lora"):
            lora_loss, n = make_lora(model, case, os.path.join(case_dir, "lora"))
            entry.update(lora_loss=round(lora_loss, 6), lora_tensors=n,
                         lora={"r": LORA_R, "alpha": LORA_ALPHA, "targets": LORA_TARGETS,
                               "written_by": "peft" if have_peft() else "this script (peft not installed)"})
        verify_reload(case, case_dir)
        files = {}
        for root, _, names in os.walk(case_dir):
            for n in sorted(names):
                p = os.path.join(root, n)
                files[os.path.relpath(p, args.out)] = {"bytes": os.path.getsize(p), "sha256": sha256(p)}
        entry["files"] = dict(sorted(files.items()))
        manifest["cases"].append(entry)
        log(f"{case['name']:18s} params {entry['num_params']:7d}  loss {loss.item():.5f}"
            + (f"  lora loss {entry['lora_loss']:.5f} ({entry['lora_tensors']} tensors)" if case.get("lora") else "")
            + f"  {sum(f['bytes'] for f in files.values()) / 1024:.0f} KiB  {case['note']}")

    if not args.only:
        write_json(os.path.join(args.out, "manifest.json"), manifest)
        with open(os.path.join(args.out, "README.md"), "w") as f:
            f.write(README)
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(args.out) for n in ns)
    log(f"total {total / 1024:.0f} KiB in {args.out}" + ("  (over the 2 MiB budget!)" if total > SIZE_BUDGET else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

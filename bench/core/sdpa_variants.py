"""Forward + backward time of causal SDPA for Llama shapes on this GPU: native GQA (enable_gqa)
against key/value heads expanded to the query heads, per backend. Picks what compat.hpp uses.
Prints one JSON line per variant: {"heads":..,"kv":..,"seq":..,"variant":..,"backend":..,"ms":..}."""
import json, torch
from torch.nn.attention import SDPBackend, sdpa_kernel
import torch.nn.functional as F

def bench(fn, reps=5):
    for _ in range(2): fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps): fn()
    end.record(); torch.cuda.synchronize()
    return start.elapsed_time(end) / reps

backends = {"default": None, "flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION}
for hq, hkv in [(32, 8), (32, 32)]:
    for seq in [4096, 16384]:
        q = torch.randn(1, hq, seq, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        k = torch.randn(1, hkv, seq, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        v = torch.randn(1, hkv, seq, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        variants = {"expand": lambda: F.scaled_dot_product_attention(q, k.repeat_interleave(hq // hkv, 1), v.repeat_interleave(hq // hkv, 1), is_causal=True)}
        if hq != hkv:
            variants["native_gqa"] = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        for vname, f in variants.items():
            for bname, b in backends.items():
                def step():
                    o = f(); o.sum().backward()
                try:
                    if b is None: ms = bench(step)
                    else:
                        with sdpa_kernel([b]): ms = bench(step)
                    r = round(ms, 3)
                except Exception as e:
                    r = "unsupported: " + str(e).splitlines()[0][:80]
                print(json.dumps(dict(heads=hq, kv=hkv, seq=seq, variant=vname, backend=bname, ms=r)), flush=True)

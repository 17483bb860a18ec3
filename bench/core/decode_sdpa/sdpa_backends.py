"""Per-step time of one decode step's attention (Llama-3-8B shapes: 32 query heads, 8 key/value
heads, D 128, bf16) through torch SDPA on each backend, with the key count growing by one each
step as in generation. A backend that builds a plan per shape pays it at every step.

    python3 bench/core/decode_sdpa/sdpa_backends.py [--start 32768] [--steps 16]
"""
import argparse
import statistics
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", type=int, default=32768)
    ap.add_argument("--steps", type=int, default=16)
    a = ap.parse_args()
    dev = torch.device("cuda")
    k = torch.randn(1, 8, a.start + 2 * a.steps, 128, device=dev, dtype=torch.bfloat16)
    v = torch.randn_like(k)
    q = torch.randn(1, 32, 1, 128, device=dev, dtype=torch.bfloat16)
    backends = {"default": None, "flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
                "cudnn": SDPBackend.CUDNN_ATTENTION, "math": SDPBackend.MATH}
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, keys {a.start}..+{a.steps}")
    for name, b in backends.items():
        times = []
        try:
            for i in range(a.steps):
                S = a.start + i
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                if b is None:
                    torch.nn.functional.scaled_dot_product_attention(q, k[:, :, :S], v[:, :, :S], enable_gqa=True)
                else:
                    with sdpa_kernel(b):
                        torch.nn.functional.scaled_dot_product_attention(q, k[:, :, :S], v[:, :, :S], enable_gqa=True)
                torch.cuda.synchronize()
                times.append((time.perf_counter() - t0) * 1e3)
            # The same lengths again: anything cached per shape is warm now.
            again = []
            for i in range(a.steps):
                S = a.start + i
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                with sdpa_kernel(b) if b is not None else torch.no_grad():
                    torch.nn.functional.scaled_dot_product_attention(q, k[:, :, :S], v[:, :, :S], enable_gqa=True)
                torch.cuda.synchronize()
                again.append((time.perf_counter() - t0) * 1e3)
            print(f"{name:10s} new lengths: median {statistics.median(times):8.3f} ms (first {times[0]:.3f}); "
                  f"repeated lengths: median {statistics.median(again):8.3f} ms")
        except RuntimeError as e:
            print(f"{name:10s} unavailable: {str(e).splitlines()[0][:120]}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Pre-trains a small byte-level Llama (vocab 256) on a text corpus with HF transformers, so that
the loss-gap experiment fine-tunes a model that has learnt real text rather than a random one.

  pretrain_byte_llama.py --train train.txt.gz --out DIR [--steps 2000] [--seq 1024] [--batch 32]
                         [--max-seconds 180] [--layers 8] [--hidden 512] [--heads 8]

Writes DIR/config.json + DIR/model.safetensors (bf16; the layout jenga-worker loads) and
DIR/pretrain.json (steps run, tokens seen, final loss, wall time).
"""
import argparse, gzip, json, math, os, time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--max-seconds", type=float, default=180)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    # The pre-training length: longer fine-tuning runs extend the context by RoPE position
    # interpolation (jenga-worker scales RoPE by seq_len / max_position_embeddings).
    ap.add_argument("--max-positions", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    raw = gzip.open(a.train, "rb").read() if a.train.endswith(".gz") else open(a.train, "rb").read()
    data = torch.frombuffer(bytearray(raw), dtype=torch.uint8).to("cuda")
    cfg = LlamaConfig(vocab_size=256, hidden_size=a.hidden, intermediate_size=int(a.hidden * 8 / 3 / 64 + 0.5) * 64,
                      num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.heads,
                      max_position_embeddings=a.max_positions, rope_theta=10000.0, tie_word_embeddings=False,
                      bos_token_id=None, eos_token_id=None, pad_token_id=None)
    model = LlamaForCausalLM(cfg).to("cuda", torch.bfloat16)
    model.config.use_cache = False
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warm = max(1, a.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / a.steps)))))
    gen = torch.Generator(device="cuda").manual_seed(a.seed)
    t0 = time.time()
    step, loss_avg = 0, None
    while step < a.steps and time.time() - t0 < a.max_seconds:
        starts = torch.randint(0, data.numel() - a.seq - 1, (a.batch,), device="cuda", generator=gen)
        idx = starts[:, None] + torch.arange(a.seq + 1, device="cuda")[None, :]
        batch = data[idx].long()
        out = model(input_ids=batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(out.logits.float().reshape(-1, 256), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        if step % 50 == 0 or step == 1:
            l = loss.item()
            loss_avg = l if loss_avg is None else 0.9 * loss_avg + 0.1 * l
            print(f"step {step} loss {l:.4f} ({time.time() - t0:.0f} s)", flush=True)
    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out, safe_serialization=True)
    info = {"steps": step, "tokens": step * a.batch * a.seq, "final_loss": loss.item(), "seconds": time.time() - t0,
            "params": sum(p.numel() for p in model.parameters()), "seq": a.seq, "batch": a.batch, "lr": a.lr,
            "corpus": os.path.basename(a.train)}
    with open(os.path.join(a.out, "pretrain.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info))


if __name__ == "__main__":
    main()

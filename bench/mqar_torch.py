"""Trains the HOPE LM of `hope-models hope-lm` on hope-train's MQAR task in PyTorch.

The quick loop for finding the settings of the README's training example (issue 13) before
spending a `hope-compile --train` on them, and the reference its first losses are compared
with: the same task (hope-train's `mqar` format, the same Philox4x32-10 sequences of the same
seed, docs/training.md "Tasks"), the same weights (the safetensors of `hope-models
--weights-out`), the same loss (mean cross-entropy over the scored positions, over the model's
whole vocabulary), AdamW with hope-compile's defaults (betas 0.9/0.999, eps 1e-8, decoupled
weight decay, clipping by the global norm, linear warm-up) and the same evaluation (the first
`--eval-batches` x `--batch` sequences of the held-out stream, argmax accuracy at the targets).

The model runs chunk-parallel (bench/torch_models.py's HOPE block, autograd through its
hand-written inner updates: second-order terms included) in float32 on one thread:

    hope-models hope-lm --config=tiny --eta-scale=0.3 -o lm.mlir --weights-out=lm.safetensors
    python bench/mqar_torch.py --weights=lm.safetensors --eta-scale=0.3 --lr=3e-3 --steps=1500

`--eta-scale` must be the one the weights' model was written with (it is no weight)."""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_models import HopeOptions, make_hope_block, _rms_norm  # noqa: E402
from reference.hope_block import SelfModOptions  # noqa: E402  (torch_models put test/ on the path)

MASK32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    """Random123's Philox4x32-10 (models/include/nl/Models/SeededWeights.h)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


class SequenceRandom:
    """tools/hope-train/Tasks.cpp's generator: key = seed, counter = (index, split, block)."""

    def __init__(self, seed: int, split: int, index: int):
        self.seed, self.split, self.index = seed, split, index
        self.block, self.words = 0, []

    def next(self) -> int:
        if not self.words:
            counter = (self.index & MASK32, self.index >> 32, self.split, self.block)
            self.words = list(philox4x32_10(counter, (self.seed & MASK32, self.seed >> 32)))[::-1]
            self.block += 1
        return self.words.pop()

    def below(self, bound: int) -> int:
        return (self.next() * bound) >> 32


def mqar_sequence(seed, split, index, vocab, pairs, length):
    """One sequence of hope-train's `mqar` (tools/hope-train/SyntheticTasks.cpp, MqarTask)."""
    random = SequenceRandom(seed, split, index)
    tokens, targets = [0] * length, [-1] * length
    keys = list(range(1, vocab // 2))
    for i in range(pairs):
        j = i + random.below(len(keys) - i)
        keys[i], keys[j] = keys[j], keys[i]
    values = []
    for i in range(pairs):
        values.append(vocab // 2 + random.below(vocab - vocab // 2))
        tokens[2 * i], tokens[2 * i + 1] = keys[i], values[i]
    slots = list(range((length - 2 * pairs) // 2))
    for i in range(pairs):
        j = i + random.below(len(slots) - i)
        slots[i], slots[j] = slots[j], slots[i]
    chosen = sorted(slots[:pairs])
    order = list(range(pairs))
    for i in range(pairs - 1, 0, -1):
        j = random.below(i + 1)
        order[i], order[j] = order[j], order[i]
    for j in range(pairs):
        at = 2 * pairs + 2 * chosen[j]
        tokens[at], tokens[at + 1] = keys[order[j]], values[order[j]]
        targets[at] = values[order[j]]
    return tokens, targets


def mqar_batch(seed, split, first, batch, vocab, pairs, length):
    rows = [mqar_sequence(seed, split, first + b, vocab, pairs, length) for b in range(batch)]
    return (torch.tensor([r[0] for r in rows], dtype=torch.long),
            torch.tensor([r[1] for r in rows], dtype=torch.long))


class HopeLM:
    """@hope_lm: embedding, HOPE blocks (chunk-parallel), RMSNorm, LM head."""

    def __init__(self, weights: dict, options: HopeOptions):
        self.weights, self.options = weights, options
        self.layers = len({n.split(".")[0] for n in weights if n.startswith("layer")})
        self.block = make_hope_block()
        self.per_layer = [{n[len(f"layer{l}."):]: w for n, w in weights.items() if n.startswith(f"layer{l}.")}
                          for l in range(self.layers)]

    def __call__(self, tokens):
        x = self.weights["embedding"][tokens]
        for layer in self.per_layer:
            x = self.block(x, layer, self.options)
        return torch.matmul(_rms_norm(x, self.weights["final_norm"], self.options.rms_eps), self.weights["lm_head"].T)


def lr_factor(step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """nl.lr_schedule (hope-compile --warmup --total-steps): linear warm-up, then cosine decay to
    min_ratio at step `total` (0: none)."""
    if step <= warmup:
        return step / warmup
    if total <= warmup:
        return 1.0
    p = min(1.0, (step - warmup) / (total - warmup))
    return min_ratio + (1.0 - min_ratio) * (1.0 + math.cos(math.pi * p)) / 2.0


def masked_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)


def evaluate(model, held):
    loss_sum, correct, scored = 0.0, 0, 0
    with torch.no_grad():
        for tokens, targets in held:
            logits = model(tokens)
            mask = targets >= 0
            loss_sum += F.cross_entropy(logits[mask], targets[mask], reduction="sum").item()
            correct += (logits[mask].argmax(-1) == targets[mask]).sum().item()
            scored += mask.sum().item()
    return loss_sum / scored, correct / scored


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True, help="safetensors of hope-models hope-lm --weights-out")
    p.add_argument("--eta-scale", type=float, required=True, help="the model's --eta-scale")
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--chunk-other", type=int, default=2)
    p.add_argument("--chunk-mem", type=int, default=4)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--cosine", action="store_true", help="hope-train --cosine: decay to 0.1 x --lr at --steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-batches", type=int, default=4)
    p.add_argument("--print-losses", type=int, default=0, help="print the loss of the first N steps")
    p.add_argument("--curves", help="write step,train_loss,eval_loss,eval_accuracy here (csv)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--f64", action="store_true", help="run in float64 (hope-train's f64 models)")
    p.add_argument("--retention-bias", type=float, default=0.0, help="the model's --retention-bias")
    p.add_argument("--normalize-values", action="store_true", help="the model was built with --normalize-values")
    p.add_argument("--bounded-eta", action="store_true", help="the model was built with --bounded-eta")
    p.add_argument("--memory-eta-scale", type=float, help="the model's --memory-eta-scale")
    p.add_argument("--memory-model", choices=("mlp", "linear"), default="mlp", help="the model's --memory-model")
    p.add_argument("--target-outer-gradient", action="store_true",
                   help="the model was built with --target-outer-gradient")
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    weights = {n: (w.double() if a.f64 else w.float()).clone().requires_grad_(True) for n, w in load_file(a.weights).items()}
    options = HopeOptions(SelfModOptions(heads=a.heads, chunk_other=a.chunk_other, chunk_mem=a.chunk_mem,
                                         eta_scale=a.eta_scale, retention_bias=a.retention_bias,
                                         normalize_values=a.normalize_values,
                                         bounded_eta=a.bounded_eta, memory_eta_scale=a.memory_eta_scale,
                                         memory_model=a.memory_model,
                                         vhat_outer_gradient=a.target_outer_gradient))
    model = HopeLM(weights, options)
    params = list(weights.values())
    optimizer = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=a.weight_decay)
    held = [mqar_batch(a.seed, 1, i * a.batch, a.batch, a.vocab, a.pairs, a.seq_len) for i in range(a.eval_batches)]
    rows, since, count, start = [], 0.0, 0, time.monotonic()
    for step in range(1, a.steps + 1):
        tokens, targets = mqar_batch(a.seed, 0, (step - 1) * a.batch, a.batch, a.vocab, a.pairs, a.seq_len)
        for group in optimizer.param_groups:
            group["lr"] = a.lr * lr_factor(step, a.warmup, a.steps if a.cosine else 0)
        loss = masked_loss(model(tokens), targets)
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, a.clip) if a.clip > 0 else \
            torch.sqrt(sum((q.grad.double() ** 2).sum() for q in params))
        optimizer.step()
        if step <= a.print_losses:
            print(f"step {step}: loss {loss.item():.6f} grad_norm {float(norm):.6f}", flush=True)
        if not math.isfinite(loss.item()):
            sys.exit(f"step {step}: the loss is {loss.item()}")
        since, count = since + loss.item(), count + 1
        if step % a.eval_every == 0 or step == a.steps:
            eval_loss, accuracy = evaluate(model, held)
            rows.append((step, since / count, eval_loss, accuracy))
            elapsed = time.monotonic() - start
            print(f"step {step}: train loss {since / count:.4f}, held-out loss {eval_loss:.4f}, "
                  f"accuracy {100 * accuracy:.2f}% ({elapsed:.0f} s)", flush=True)
            since, count = 0.0, 0
    if a.curves:
        with open(a.curves, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "train_loss", "eval_loss", "eval_accuracy"])
            w.writerows(rows)


if __name__ == "__main__":
    main()

"""Initial weights for the associative-recall example (docs/training.md, "The associative-recall
example"): hope-models' seeded weights of a HOPE LM with two changes, for `hope-train --init` and
bench/mqar_torch.py --weights.

- `--shift-conv`: every block's causal convolution starts as a token shift: even channels hold
  the previous token (tap W-2), odd ones the current token (tap W-1), the other taps 0. At a
  value token, the key sits in the even channels and the value in the odd ones; at a query
  token, the query key is in the odd ones. (The seeded N(0, 1/W^2) taps mix the 4 tokens of the
  window in every channel.)
- `--branch-scale=s`: multiplies M_k's and M_v's output matrices (`mk_w2`, `mv_w2`) by s. With
  their identity skip, k = l2n(x + W_2 s(W_1 x)) and v = l2n(x + ...) start nearly equal (both
  ~x), so M_mem's writes (v - k) carry little; a larger branch makes them differ from the start.

    hope-models hope-lm --config=tiny --layers=1 ... -o lm.mlir --weights-out=seeded.safetensors
    python bench/mqar_init.py seeded.safetensors --shift-conv --branch-scale=4 -o init.safetensors
"""

from __future__ import annotations

import argparse
import re

import torch
from safetensors.torch import load_file, save_file


def shift_conv(weight: torch.Tensor) -> torch.Tensor:
    """[D, W] taps: even channels the previous token, odd ones the current token."""
    shifted = torch.zeros_like(weight)
    window = weight.shape[1]
    shifted[0::2, window - 2] = 1.0
    shifted[1::2, window - 1] = 1.0
    return shifted


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", help="safetensors of hope-models --weights-out")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--shift-conv", action="store_true")
    p.add_argument("--branch-scale", type=float, default=1.0)
    a = p.parse_args()
    weights = load_file(a.weights)
    changed = []
    for name, value in weights.items():
        if a.shift_conv and re.fullmatch(r"(layer\d+\.)?conv", name):
            weights[name] = shift_conv(value)
            changed.append(name)
        elif a.branch_scale != 1.0 and re.fullmatch(r"(layer\d+\.)?m[kv]_w2", name):
            weights[name] = value * a.branch_scale
            changed.append(name)
    if not changed:
        raise SystemExit(f"{a.weights}: nothing to change (no conv / mk_w2 / mv_w2, or no option given)")
    save_file({n: t.contiguous() for n, t in weights.items()}, a.output)
    print(f"{a.output}: changed {', '.join(changed)}")


if __name__ == "__main__":
    main()

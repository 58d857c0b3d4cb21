"""Helpers shared by the tests."""

import torch


def rel_err(a: torch.Tensor, ref: torch.Tensor) -> float:
    """The error metric of the semantics doc, section 8: max|a - ref| / max|ref|."""
    a, ref = a.detach().to(torch.float64), ref.detach().to(torch.float64)
    return float((a - ref).abs().max() / ref.abs().max())


def max_rel_err(xs, refs) -> float:
    return max(rel_err(a, b) for a, b in zip(xs, refs))

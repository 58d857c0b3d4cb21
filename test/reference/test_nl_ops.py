"""nl_ops against independent torch formulations of the dialect reference's definitions."""

import math

import pytest
import torch
import torch.nn.functional as F

from . import nl_ops
from .util import rel_err

D64 = torch.float64


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D64)


def test_linear_acts_on_the_left():
    x, w = _x(2, 5, 3), _x(4, 3, seed=1)
    assert rel_err(nl_ops.linear(x, w), x @ w.T) < 1e-15


def test_split_merge_heads():
    x = _x(2, 5, 12)
    xh = nl_ops.split_heads(x, 3)
    assert xh.shape == (2, 3, 5, 4)
    assert torch.equal(xh[1, 2, 3], x[1, 3, 8:12])  # head h = features h*d .. h*d+d-1
    assert torch.equal(nl_ops.merge_heads(xh), x)


def test_rms_norm():
    x, s = _x(2, 5, 8), _x(8, seed=1)
    ref = F.rms_norm(x, (8,), s, eps=1e-6)
    assert rel_err(nl_ops.rms_norm(x, s), ref) < 1e-14


def test_l2_normalize_clamps_the_norm():
    x = _x(3, 7)
    assert rel_err(nl_ops.l2_normalize(x), F.normalize(x, dim=-1, eps=1e-12)) < 1e-15
    tiny = torch.full((4,), 1e-9, dtype=D64)
    assert torch.allclose(nl_ops.l2_normalize(tiny, eps=1e-6), tiny / 1e-6)


def test_activations():
    x = _x(100) * 3
    assert rel_err(nl_ops.activation("gelu", x), F.gelu(x, approximate="none")) < 1e-15
    assert rel_err(nl_ops.activation("gelu", x), F.gelu(x, approximate="tanh")) > 1e-6  # exact, not tanh
    assert rel_err(nl_ops.activation("silu", x), F.silu(x)) < 1e-15
    assert rel_err(nl_ops.activation("softplus", x), torch.log1p(torch.exp(x))) < 1e-14
    assert rel_err(nl_ops.activation("sigmoid", x), 1 / (1 + torch.exp(-x))) < 1e-15


def test_rate_drops_the_width_one_dim():
    x = _x(2, 3, 5, 1)
    r = nl_ops.rate("softplus", x, scale=1e-3)
    assert r.shape == (2, 3, 5)
    assert rel_err(r, 1e-3 * F.softplus(x[..., 0])) < 1e-15
    with pytest.raises(ValueError):
        nl_ops.rate("sigmoid", _x(2, 3, 5, 2))


def test_causal_conv_matches_depthwise_conv1d():
    x, w = _x(2, 9, 6), _x(6, 4, seed=1)
    ref = F.conv1d(F.pad(x.transpose(1, 2), (3, 0)), w[:, None, :], groups=6).transpose(1, 2)
    assert rel_err(nl_ops.causal_conv(x, w), ref) < 1e-15
    # impulse at token s reaches tokens s .. s+W-1 with weights w[c, W-1], ..., w[c, 0]
    imp = torch.zeros(1, 9, 6, dtype=D64)
    imp[0, 2] = 1.0
    y = nl_ops.causal_conv(imp, w)
    assert torch.equal(y[0, :2], torch.zeros(2, 6, dtype=D64))
    assert torch.allclose(y[0, 2:6], w.flip(1).T)


def test_chunk_pool_last_chunk_shorter():
    x = _x(2, 10, 3)
    p = nl_ops.chunk_pool(x, 4)
    assert p.shape == (2, math.ceil(10 / 4), 3)
    assert torch.allclose(p[:, 0], x[:, 0:4].mean(1))
    assert torch.allclose(p[:, 2], x[:, 8:10].mean(1))


def test_causal_attention_matches_torch_sdpa():
    """The token-by-token attention of hope_block.py against torch's fused causal attention."""
    from .hope_block import causal_attention

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 5, generator=g, dtype=torch.float64) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(causal_attention(q, k, v), expected, atol=1e-12)

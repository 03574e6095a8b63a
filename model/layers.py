"""Building blocks shared by the pathways: multi-head attention with a boolean "allowed"
mask, post-norm Transformer blocks, sinusoidal positions, masked pooling.

Conventions: sequences are ``(B, T, D)``; ``valid`` is ``(B, T)`` bool (True = real frame);
``allow`` is ``(B, Tq, Tk)`` or ``(B, 1, Tk)`` bool (True = query may attend to key).
Attention itself has no dropout (it cost more than the whole matrix product on CPU).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """``(T,)`` float positions -> ``(T, dim)`` sinusoidal encodings."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device) / max(1, half))
    ang = positions[:, None].float() * freq[None, :]
    enc = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if enc.shape[1] < dim:
        enc = F.pad(enc, (0, dim - enc.shape[1]))
    return enc


def safe_allow(allow: torch.Tensor) -> torch.Tensor:
    """Rows with no allowed key (padding queries) may attend everywhere, so the output stays
    finite; those rows are padding and never reach a real position."""
    empty = ~allow.any(-1, keepdim=True)
    return allow | empty


def padding_allow(valid_k: torch.Tensor) -> torch.Tensor:
    """Full attention over real keys: ``(B, 1, Tk)`` (broadcast over queries) from ``(B, Tk)``."""
    return valid_k[:, None, :]


class Attention(nn.Module):
    """Multi-head attention ``(B, Tq, D)`` x ``(B, Tk, D)`` -> ``(B, Tq, D)``."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, allow: torch.Tensor) -> torch.Tensor:
        """queries ``x`` ``(B, Tq, D)``, keys/values ``kv`` ``(B, Tk, D)``, ``allow`` bool
        ``(B, Tq, Tk)`` or broadcastable (``(B, 1, Tk)``) -> ``(B, Tq, D)``."""
        b, tq, d = x.shape
        h = self.heads
        q = self.q(x).view(b, tq, h, d // h).transpose(1, 2)
        k, v = self.kv(kv).view(b, kv.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=safe_allow(allow)[:, None])
        return self.out(y.transpose(1, 2).reshape(b, tq, d))


class Block(nn.Module):
    """Post-norm Transformer block: ``a = LN(a + MSA(a, h, h))``; ``a = LN(a + FFN(a))``.
    ``kv`` defaults to ``x`` (self-attention)."""

    def __init__(self, dim: int, heads: int, ffn_mult: int, dropout: float) -> None:
        super().__init__()
        self.attn = Attention(dim, heads, dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, ffn_mult * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn_mult * dim, dim)
        )
        self.norm2 = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allow: torch.Tensor, kv: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``(B, Tq, D)``, ``allow`` bool ``(B, Tq, Tk)`` (or ``(B, 1, Tk)``), ``kv``
        ``(B, Tk, D)`` (default ``x``) -> ``(B, Tq, D)``."""
        x = self.norm1(x + self.drop(self.attn(x, x if kv is None else kv, allow)))
        return self.norm2(x + self.drop(self.ffn(x)))


def masked_mean(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``(B, T, D)``, ``(B, T)`` -> ``(B, D)`` mean over real positions."""
    w = valid.to(x.dtype)[..., None]
    return (x * w).sum(1) / w.sum(1).clamp_min(1.0)


def masked_mean_std(x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation over real positions: ``(B, T, D)``, ``(B, T)`` ->
    two ``(B, D)`` tensors (the deviation floored at 1e-4 so its gradient stays finite)."""
    mean = masked_mean(x, valid)
    w = valid[..., None].to(x.dtype)
    var = ((x - mean[:, None, :]) ** 2 * w).sum(1) / w.sum(1).clamp_min(1.0)
    return mean, var.clamp_min(1e-8).sqrt()

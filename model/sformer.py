"""Relationship pathway: a SpeechFormer-style hierarchy ("S-former").

Input ``(B, T, n_mels)`` at a 10 ms hop with ``valid`` ``(B, T)``; output the utterance-stage
sequence ``(B, U, D3)`` with its ``valid`` mask (U = utterance length / Q3).

Frame embedding (linear + sinusoidal positions), then three steps. In step ``l`` the tokens
have a duration ``q_l`` ms (10, Q1 = 50, Q2 = 250) and width ``D_l``; the utterance is cut
into non-overlapping segments of ``word_ms`` (1 s), each with a learnable *word token*:

1. every word token attends to the tokens of its segment: ``t = Norm(t + MSA(t, n, n))``,
   ``t = Norm(t + FFN(t))``;
2. every token attends to its overlapping local window of ``window_ms[l]`` (50 / 250 / 1000 ms:
   frames -> phonemes -> words) plus its segment's word token, ``h = Concat(t, a)``:
   ``a = Norm(a + MSA(a, h, h))``, ``a = Norm(FFN(a) + a)``.

Between steps a *merge block* average-pools the tokens with window = stride = ``merge_ms``
(in absolute time, so 250 -> 800 ms works too), projects linearly to the next width and applies
LayerNorm; word tokens are projected (not pooled). After step 3 the final merge (Q3 = 800 ms)
feeds ``utterance_layers`` standard Transformer blocks over the whole utterance.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from model.config import ModelConfig
from model.layers import Block, padding_allow, sinusoid


def merge_index(n: int, q_in: float, q_out: float, device: torch.device) -> torch.Tensor:
    """Output-token index of each of ``n`` input tokens of ``q_in`` ms pooled at ``q_out`` ms."""
    return torch.floor(torch.arange(n, device=device, dtype=torch.float64) * q_in / q_out + 1e-9).long()


def pool_tokens(x: torch.Tensor, valid: torch.Tensor, q_in: float, q_out: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked average pooling in time: ``(B, T, D)`` -> ``(B, T', D)`` and ``valid`` ``(B, T')``."""
    idx = merge_index(x.shape[1], q_in, q_out, x.device)
    n_out = int(idx[-1]) + 1
    assign = torch.nn.functional.one_hot(idx, n_out).to(x.dtype).T  # (T', T)
    w = valid.to(x.dtype)
    summed = torch.einsum("ut,btd->bud", assign, x * w[..., None])
    count = torch.einsum("ut,bt->bu", assign, w)
    return summed / count.clamp_min(1.0)[..., None], count > 0


class Merge(nn.Module):
    """Average pooling (window = stride = ``q_out``) -> Linear -> LayerNorm."""

    def __init__(self, d_in: int, d_out: int, q_in: float, q_out: float) -> None:
        super().__init__()
        self.q_in, self.q_out = q_in, q_out
        self.proj = nn.Linear(d_in, d_out)
        self.norm = nn.LayerNorm(d_out)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, T, d_in)``, ``valid`` ``(B, T)`` -> ``(B, T', d_out)`` and ``valid``
        ``(B, T')``, ``T' = ceil(T * q_in / q_out)``."""
        x, valid = pool_tokens(x, valid, self.q_in, self.q_out)
        return self.norm(self.proj(x)), valid


class Step(nn.Module):
    """One S-former step at token duration ``q_ms`` with local window ``window_ms``."""

    def __init__(self, dim: int, cfg: ModelConfig, q_ms: float, window_ms: float, layers: int) -> None:
        super().__init__()
        self.q_ms, self.word_ms = q_ms, float(cfg.word_ms)
        self.radius = max(1, int(window_ms / (2 * q_ms)))
        self.word_blocks = nn.ModuleList(Block(dim, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(layers))
        self.token_blocks = nn.ModuleList(Block(dim, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(layers))

    def masks(self, valid: torch.Tensor, n_words: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(word -> its segment's tokens) ``(B, S, T)`` and (token -> [word tokens | window])
        ``(B, T, S + T)`` allowed-masks."""
        t = valid.shape[1]
        dev = valid.device
        seg = merge_index(t, self.q_ms, self.word_ms, dev)  # (T,)
        own = seg[None, :] == torch.arange(n_words, device=dev)[:, None]  # (S, T)
        word_allow = own[None] & valid[:, None, :]
        pos = torch.arange(t, device=dev)
        window = (pos[:, None] - pos[None, :]).abs() <= self.radius  # (T, T)
        tok_allow = torch.cat([own.T[None].expand(valid.shape[0], -1, -1), window[None] & valid[:, None, :]], dim=2)
        return word_allow, tok_allow

    def forward(self, a: torch.Tensor, valid: torch.Tensor, words: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens ``a`` ``(B, T, D)``, ``valid`` ``(B, T)``, word tokens ``words`` ``(B, S, D)``
        -> updated ``a`` ``(B, T, D)`` and ``words`` ``(B, S, D)``."""
        word_allow, tok_allow = self.masks(valid, words.shape[1])
        for wblk, tblk in zip(self.word_blocks, self.token_blocks):
            words = wblk(words, word_allow, kv=a)
            a = tblk(a, tok_allow, kv=torch.cat([words, a], dim=1))
        return a, words


class SFormer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d1, d2, d3 = cfg.sformer_dims
        q = [cfg.hop_ms, float(cfg.merge_ms[0]), float(cfg.merge_ms[1])]
        self.cfg = cfg
        self.embed = nn.Linear(cfg.n_mels, d1)
        self.word = nn.Parameter(torch.randn(d1) * 0.02)
        self.steps = nn.ModuleList(
            Step(d, cfg, q[i], cfg.window_ms[i], cfg.sformer_layers[i]) for i, d in enumerate((d1, d2, d3))
        )
        self.merges = nn.ModuleList(
            [Merge(d1, d2, q[0], q[1]), Merge(d2, d3, q[1], q[2]), Merge(d3, d3, q[2], float(cfg.merge_ms[2]))]
        )
        self.word_proj = nn.ModuleList([nn.Linear(d1, d2), nn.Linear(d2, d3)])
        self.utterance = nn.ModuleList(
            Block(d3, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(cfg.utterance_layers)
        )
        self.out_dim = d3

    def forward(self, s: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """normalised features ``s`` ``(B, T, n_mels)``, ``valid`` ``(B, T)`` -> utterance-level
        tokens ``(B, T3, sformer_dims[2])`` (merged to ``merge_ms[2]``) and their ``valid`` ``(B, T3)``."""
        b, t, _ = s.shape
        d1 = self.embed.out_features
        a = self.embed(s) + sinusoid(torch.arange(t, device=s.device), d1)[None]
        n_words = max(1, math.ceil(t * self.cfg.hop_ms / self.cfg.word_ms))
        words = self.word[None, None, :] + sinusoid(torch.arange(n_words, device=s.device) * 100, d1)[None]
        words = words.expand(b, -1, -1)
        for i, step in enumerate(self.steps):
            a, words = step(a, valid, words)
            a, valid = self.merges[i](a, valid)
            if i < 2:
                words = self.word_proj[i](words)
        allow = padding_allow(valid)
        for blk in self.utterance:
            a = blk(a, allow)
        return a, valid

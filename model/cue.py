"""Crucial-cue pathway (masked recovery).

Input: normalised log-mel ``s`` ``(B, T, n_mels)``, ``valid`` ``(B, T)`` and a time mask ``m``
``(B, T)`` bool (True = masked; all False at inference). ``s_m = s * (1 - m)``;
``s' = s_m + Linear(m)`` (mask embedding in the mel domain); input projection to ``dim`` plus
sinusoidal positions; ``cue_layers`` post-norm Transformer blocks with key-padding masks
(``LN(x + MSA(x))``, ``LN(x + FFN(x))``); recovery head ``dim -> n_mels``.
Returns the hidden sequence ``(B, T, dim)`` and the recovery ``(B, T, n_mels)``.
"""

from __future__ import annotations

import torch
from torch import nn

from model.config import ModelConfig
from model.layers import Block, padding_allow, sinusoid


class CuePathway(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.mask_embed = nn.Linear(1, cfg.n_mels)
        self.proj = nn.Linear(cfg.n_mels, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(cfg.cue_layers))
        self.recover = nn.Linear(cfg.dim, cfg.n_mels)
        self.dim = cfg.dim

    def forward(
        self, s: torch.Tensor, valid: torch.Tensor, m: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``s`` ``(B, T, n_mels)``, ``valid`` ``(B, T)``, mask ``m`` ``(B, T)`` bool (None: no
        masking) -> hidden ``(B, T, dim)`` and recovery ``(B, T, n_mels)``."""
        if m is None:
            m = torch.zeros(s.shape[:2], dtype=torch.bool, device=s.device)
        mf = m.to(s.dtype)[..., None]
        x = s * (1.0 - mf) + self.mask_embed(mf)
        t = s.shape[1]
        x = self.proj(x) + sinusoid(torch.arange(t, device=s.device), self.dim)[None]
        allow = padding_allow(valid)
        for blk in self.blocks:
            x = blk(x, allow)
        return x, self.recover(x)


def recovery_loss(recon: torch.Tensor, target: torch.Tensor, m: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """MSE on the masked real frames only (L1 of the paper); 0 if nothing is masked."""
    sel = (m & valid).to(recon.dtype)[..., None]
    n = sel.sum() * recon.shape[-1]
    return ((recon - target) ** 2 * sel).sum() / n.clamp_min(1.0)

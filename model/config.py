"""Configuration dataclasses: features, network (every ablation variant), training.

All three are plain dataclasses of JSON-able values, stored as JSON in the model file, so a
model file never needs pickled code to be rebuilt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: The network variants of the paper's ablation (Table 5).
VARIANTS = ("st", "sformer", "st_cue", "esernet")
#: Feature normalisation modes (:attr:`FeatureConfig.normalisation`).
NORMALISATIONS = ("global", "speaker")
#: Pooling of the pathways' frames (:attr:`ModelConfig.pooling`).
POOLINGS = ("mean", "mean_std")


class _JsonConfig:
    """``to_dict``/``from_dict`` for the configuration dataclasses (lists become tuples again;
    unknown keys, e.g. from a newer version, are ignored)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names})


def recipe_name(method: str, normalisation: str = "global") -> str:
    """The name of a method's cross-validation runs and stored figures: ``esernet`` or, with
    speaker normalisation, ``esernet-spknorm`` (results folders ``bench/out/<name>-<protocol>``,
    ``evaluation`` keys ``<name>/<protocol>`` in a model file)."""
    return f"{method}-spknorm" if normalisation == "speaker" else method


@dataclass(frozen=True)
class FeatureConfig(_JsonConfig):
    """Log-mel front end: 16 kHz audio, 25 ms Hann window, 10 ms hop, ``n_mels`` bins,
    ``log(max(power, floor))``."""

    sample_rate: int = 16000
    n_fft: int = 400
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 80
    f_min: float = 20.0
    f_max: float = 8000.0
    log_floor: float = 1e-6
    #: ``"global"``: one per-bin mean/std fitted on the training set (stored in the file).
    #: ``"speaker"``: each speaker's log-mel is standardised with that speaker's own per-bin
    #: mean/std (over all of their utterances the model is given together), shrunk towards
    #: the stored global statistics by ``speaker_prior_s`` seconds of pseudo-frames, so a
    #: speaker heard for 2 s is half-way between their own and the global statistics.
    normalisation: str = "global"
    speaker_prior_s: float = 3.0
    #: Append prosody channels (log F0, voicing, log energy; :mod:`model.prosody`) to the
    #: log-mel channels of every frame (the second recipe).
    prosody: bool = False

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, not {self.normalisation!r}")
        if not self.speaker_prior_s > 0:
            raise ValueError("speaker_prior_s must be positive")

    @property
    def speaker_normalised(self) -> bool:
        return self.normalisation == "speaker"

    @property
    def hop_s(self) -> float:
        return self.hop_length / self.sample_rate

    @property
    def n_channels(self) -> int:
        """Feature channels per frame: ``n_mels`` (+ 3 prosody channels)."""
        return self.n_mels + (3 if self.prosody else 0)


@dataclass(frozen=True)
class ModelConfig(_JsonConfig):
    """ESERNet and its ablations, built from one configuration.

    ``variant``: ``"st"`` plain Transformer, ``"sformer"`` relationship pathway only,
    ``"st_cue"`` plain Transformer + crucial-cue pathway, ``"esernet"`` cue pathway + S-former.
    Times are in milliseconds of audio; widths are feature dimensions.
    """

    variant: str = "esernet"
    n_classes: int = 7
    n_mels: int = 80  # input channels per frame (FeatureConfig.n_channels)
    dim: int = 64  # width of the cue pathway and of S-former step 1
    heads: int = 4
    ffn_mult: int = 2
    dropout: float = 0.1
    # crucial-cue pathway (masked recovery)
    cue_layers: int = 2
    mask_rate: float = 0.15  # alpha: fraction of frames masked
    mask_span: int = 7  # contiguous span length in frames
    # S-former (relationship pathway)
    sformer_dims: tuple[int, int, int] = (64, 80, 96)  # widths of steps 1, 2, 3
    sformer_layers: tuple[int, int, int] = (1, 1, 1)  # blocks per step
    window_ms: tuple[int, int, int] = (50, 250, 1000)  # local attention window per step
    merge_ms: tuple[int, int, int] = (50, 250, 800)  # Q1, Q2, Q3 average-pooling sizes
    word_ms: int = 1000  # one learnable word token per segment of this length
    utterance_layers: int = 1  # standard Transformer blocks after the last merge
    # plain Transformer (ST variants)
    st_layers: int = 3
    # classifier and loss
    classifier_hidden: int = 64
    #: ``"mean"``: each pathway's frames mean-pooled; ``"mean_std"``: mean and standard
    #: deviation over real frames (the spread of a pathway's features, e.g. pitch range).
    pooling: str = "mean"
    #: Also give the classifier the utterance's input statistics (mean and standard deviation
    #: of every feature channel over its real frames, LayerNorm-ed), as a token beside the
    #: pathways: the functionals a classic SVM baseline lives on.
    input_stats: bool = False
    loss_pi: float = 0.9  # L = (1 - pi) * MSE(masked) + pi * CE
    hop_ms: float = 10.0  # frame hop of the input features

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")

    @property
    def has_cue(self) -> bool:
        return self.variant in ("st_cue", "esernet")

    @property
    def has_sformer(self) -> bool:
        return self.variant in ("sformer", "esernet")


@dataclass(frozen=True)
class TrainConfig(_JsonConfig):
    """Training settings (optimiser, schedule, early stopping, augmentation)."""

    epochs: int = 30  # length of the LR schedule and the most epochs run
    stop_after: int = 0  # >0: stop after this many epochs (final model: epochs from CV)
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.05
    optimizer: str = "adamw"  # "adamw" or "sgd" (momentum 0.9)
    schedule: str = "cosine"  # "cosine" (with warm-up) or "constant"
    warmup_epochs: int = 2
    patience: int = 8  # early stopping on validation UA (epochs without gain)
    crop_s: float = 3.0  # random training crops of this length
    seed: int = 0
    label_smoothing: float = 0.05
    # augmentation (probabilities per training item)
    p_noise: float = 0.5  # additive room noise or babble ...
    snr_db: tuple[float, float] = (5.0, 30.0)  # ... at a random SNR in this range
    p_gain: float = 0.5
    gain_db: tuple[float, float] = (-12.0, 6.0)
    p_speed: float = 0.3  # speed perturbation (changes tempo and pitch)
    p_utterance_stats: float = 0.2  # speaker normalisation: share of training crops normalised
    # with their own utterance's statistics instead (speakers
    # heard once, files predicted one by one)
    speeds: tuple[float, ...] = (0.9, 1.1)
    spec_time_masks: int = 2  # SpecAugment
    spec_time_width: int = 20
    spec_freq_masks: int = 2
    spec_freq_width: int = 10
    extra: dict[str, Any] = field(default_factory=dict)

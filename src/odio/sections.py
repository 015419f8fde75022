"""The sections of a run's settings that say how models are trained: the fold split, the
TF-IDF backend, encoder fine-tuning, stacking and training-time augmentation.

They are part of :class:`odio.config.RunConfig` (``cv``, ``tfidf``, ``transformer``,
``stack``, ``augment``) and are imported from :mod:`odio.config`; they live here so that
each module stays one concept of a readable size. Every field's docstring is its
description, shown by ``odio train --help`` for the settings that have a flag.

>>> from odio.config import CVConfig
>>> CVConfig().folds
5
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    """Shared behaviour: unknown keys rejected, docstrings as field descriptions, no NaN or
    infinity (``--lr nan`` would pass ``gt=0`` checks and train nothing)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)


class CVConfig(Section):
    """How the training rows are split into folds.

    Example:
        >>> CVConfig().folds
        5
    """

    folds: int = Field(5, ge=1)
    """Number of folds; one model is trained per fold. 1: one model on every row, no
    out-of-fold scores (stage 1 of a staged schedule, for --init)."""
    seed: int = 42
    """Seed of the fold split and of training."""
    split: Literal["auto", "stratified", "kfold"] = "auto"
    """stratified (iterative multi-label stratification; plain for one label), kfold
    (shuffled KFold) or auto (stratified)."""


MAX_NGRAM = 10
"""Longest n-gram: a word of n characters has about n x (high - low + 1) character n-grams,
so a bound keeps one long word from costing memory without limit (longer n-grams are
seen once and dropped by ``min_df`` anyway)."""


class TfidfConfig(Section):
    """The TF-IDF + logistic regression backend.

    Example:
        >>> TfidfConfig().char_ngrams
        (2, 5)
    """

    char_ngrams: tuple[int, int] = (2, 5)
    """Character n-gram range inside word boundaries (char_wb)."""
    word_ngrams: tuple[int, int] = (1, 2)
    """Word n-gram range."""
    min_df: int = Field(2, ge=1)
    """Ignore n-grams seen in fewer training tweets (keeps saved models small)."""
    C: float = Field(3.0, gt=0)
    """Inverse regularisation strength of each label's logistic regression."""
    class_weight: Literal["balanced"] | None = "balanced"
    """balanced re-weights rare labels; null for none."""
    max_iter: int = Field(2000, ge=1)
    """Solver iteration limit."""

    @field_validator("char_ngrams", "word_ngrams")
    @classmethod
    def _ngram_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high <= MAX_NGRAM:
            raise ValueError(f"must be (low, high) with 1 <= low <= high <= {MAX_NGRAM}")
        return value


class TransformerConfig(Section):
    """Fine-tuning a Hugging Face encoder (RoBERTuito, BETO, XLM-R, ...), one model per fold.

    The default learning rate is 3e-5 with linear warmup and decay, not the 3e-4 without a
    schedule of the reference blog post: at 3e-4 a pretrained encoder forgets much of its
    pretraining in the first epoch, which is why the post's scores fell after epoch 1.

    Example:
        >>> TransformerConfig(lr="3e-5").lr
        3e-05
    """

    lr: float = Field(3e-5, gt=0)
    """Peak AdamW learning rate."""
    weight_decay: float = Field(0.01, ge=0)
    """AdamW weight decay (never applied to biases and LayerNorm weights)."""
    warmup: float = Field(0.1, ge=0, lt=1)
    """Fraction of the optimisation steps spent warming up linearly; then linear decay to 0."""
    max_epochs: int = Field(3, ge=1)
    """Most epochs per fold; early stopping on the validation loss often stops sooner."""
    patience: int = Field(1, ge=1)
    """Epochs without a lower validation loss before stopping."""
    batch_size: int = Field(32, ge=1)
    """Training batch size (per device)."""
    eval_batch_size: int = Field(64, ge=1)
    """Batch size for validation and prediction."""
    max_length: int = Field(128, ge=8)
    """Token limit per tweet; capped by the model's position limit."""
    pooling: Literal["mean", "cls"] = "mean"
    """mean (over real tokens, padding masked out) or cls (the first token)."""
    dropout: float = Field(0.2, ge=0, lt=1)
    """Dropout before the linear head."""
    freeze_embeddings: bool = False
    """Do not train the embedding matrix (large speed-up for XLM-R-size vocabularies)."""
    freeze_layers: int = Field(0, ge=0)
    """Do not train the embeddings nor the lowest N encoder layers: the backward pass stops
    above them (faster on a CPU; see benchmarks/RESULTS.md)."""
    cache_frozen: bool = False
    """Compute the output of the frozen layers (freeze_layers) once per tweet, in eval mode
    (no dropout there), and train, validate and score held-out and test tweets with the
    upper layers alone: several times faster on a CPU (the recipes of
    benchmarks/RESULTS.md). The shipped model is the whole encoder."""
    pos_weight: bool = False
    """Weight each label's positives by negatives/positives (capped at 10) for rare labels."""
    group_by_length: bool = True
    """Batch tweets of similar length together (less padding); batch order still shuffled."""
    num_workers: int = Field(0, ge=0)
    """DataLoader workers; 0 (the main process) avoids oversubscribing a small CPU."""
    compile: bool = False
    """torch.compile the encoder; falls back to eager with a warning if it fails."""
    accelerator: str = "auto"
    """Lightning accelerator: auto, cpu, gpu, mps, ..."""
    devices: str = "auto"
    """Lightning devices: auto, a count such as 2, or a list such as 0,1."""
    strategy: str = "auto"
    """Lightning strategy, e.g. ddp for several devices: on one machine odio runs it in
    spawned workers (gloo on the CPU)."""
    precision: str = "32-true"
    """Lightning precision: 32-true, bf16-mixed or 16-mixed."""
    accumulate_grad_batches: int = Field(1, ge=1)
    """Gradient accumulation steps."""
    num_nodes: int = Field(1, ge=1)
    """Machines for multi-node DDP, each started by a cluster launcher (torchrun, SLURM)."""
    fast_dev_run: bool = False
    """Debug: run one training and one validation batch per fold."""
    overfit_batches: float = Field(0.0, ge=0)
    """Debug: train and validate on this many (or this fraction of) batches."""
    ear_weight: float = Field(0.0, ge=0)
    """Entropy-based attention regularisation (EAR; Attanasio et al., Findings of ACL 2022,
    "Entropy-based Attention Regularization Frees Unintended Bias Mitigation from Lists"):
    the training loss minus this weight times the attention entropy (head-averaged, per real
    token, summed over layers), so that no word gets all the attention; no word list
    needed. The paper uses 0.01; 0 (the default) is off."""
    checkpoint_minutes: float = Field(10.0, gt=0)
    """An encoder run writes its resume point to ``OUT.partial`` this often during
    training (``odio train --resume`` continues from it)."""
    init: str | None = None
    """Start every fold's encoder (and its head, when the labels match) from a finished odio
    encoder run or model directory (its first member, fold_0) instead of the pretrained
    base; the base model must be the same. Stage 2 of a two-stage schedule."""

    @field_validator("devices", mode="before")
    @classmethod
    def _devices_as_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return value


class StackConfig(Section):
    """The meta-learner of a stacked model (``model: stack:tfidf+<encoder>``).

    Example:
        >>> StackConfig().features
        'label'
    """

    C: float = Field(1.0, gt=0)
    """Inverse regularisation strength of each label's logistic regression."""
    features: Literal["label", "all"] = "label"
    """label: a label's meta-model sees that label's probability from every base; all: every
    label's probability from every base (chosen by nested out-of-fold f1_custom on the
    Datathon training set, benchmarks/RESULTS.md)."""


class AugmentConfig(Section):
    """Obfuscated copies of training tweets (see :mod:`odio.text.augment`) and counter-speech
    copies of hateful ones (see :mod:`odio.text.framing`), added to the training part of each
    fold only (never to the held-out fold or the test set).

    Example:
        >>> AugmentConfig(spacing=0.2).active
        True
    """

    swaps: float = Field(0.0, ge=0, le=1)
    """Probability that a tweet gets a copy with two letters of a word swapped."""
    deletions: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a letter of a word dropped."""
    leetspeak: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a word in leetspeak (m4r1c0n)."""
    spacing: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a word's letters spaced out (o d i o)."""
    framing: float = Field(0.0, ge=0, le=1)
    """Probability that a tweet with a positive label gets a copy quoted to condemn it,
    reported, rejected or thrown back at its author, with every label 0."""

    @property
    def active(self) -> bool:
        """Whether any copy can be made."""
        return any(self.model_dump().values())

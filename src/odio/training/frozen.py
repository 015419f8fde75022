"""Frozen lower layers computed once (``transformer.cache_frozen``): a CPU schedule.

With the embeddings and the lowest ``freeze_layers`` layers frozen, their output for a
tweet is the same in every epoch and every fold (every fold starts from the same weights),
so :class:`FrozenLayers` computes it once per tweet (in eval mode: no dropout in the frozen
part) and keeps it; training, validation and the scoring of held-out and test tweets then
run the upper layers alone (with 8 of e5-small's 12 layers frozen, 4 of 12 layers' work per
tweet and epoch instead of 12).

It uses the encoder's own forward for both parts, so masks and attention outputs (for EAR)
are built as usual: the lower part runs with the layer list cut to the frozen layers; the
upper part runs with the list cut to the others, the embeddings' output replaced by the
cached states (a forward hook). The member that is shipped is the whole encoder, unchanged.

Example:
    >>> frozen = FrozenLayers(encoder, 8)  # doctest: +SKIP
    >>> states = frozen.states(ids)  # doctest: +SKIP
    >>> with frozen.upper(padded_states):  # doctest: +SKIP
    ...     logits = classifier(input_ids, attention_mask)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from odio.errors import OdioError
from odio.text.tokens import pad

__all__ = ["FrozenLayers", "layer_list_owner", "pad_states"]


class FrozenLayers:
    """The output of an encoder's frozen embeddings and lowest ``n`` layers, per tweet.

    Args:
        encoder: a Hugging Face encoder with an ``embeddings`` module and a layer list.
        n: how many of the lowest layers are frozen (and cached).
        pad_id: the tokenizer's padding id.
        batch_size: tweets per forward pass while caching.
        cache: where the outputs are kept (shared by the folds of a cross-validation,
            whose encoders start from the same weights).
    """

    def __init__(
        self,
        encoder: nn.Module,
        n: int,
        pad_id: int,
        batch_size: int = 64,
        cache: dict[tuple[int, ...], torch.Tensor] | None = None,
    ) -> None:
        self.encoder = encoder
        self.owner, self.attribute = layer_list_owner(encoder)
        self.layers: nn.ModuleList = getattr(self.owner, self.attribute)
        if not 0 < n < len(self.layers):
            raise OdioError(
                f"cache_frozen needs 0 < freeze_layers < {len(self.layers)} (the encoder's "
                f"layers), not {n}"
            )
        embeddings = getattr(encoder, "embeddings", None)
        if not isinstance(embeddings, nn.Module):
            raise OdioError(
                f"cache_frozen: a {type(encoder).__name__} has no embeddings module; "
                "set cache_frozen: false"
            )
        self.embeddings = embeddings
        self.n = n
        self.pad_id = pad_id
        self.batch_size = batch_size
        self._states = {} if cache is None else cache

    @contextmanager
    def _only(self, layers: nn.ModuleList) -> Iterator[None]:
        setattr(self.owner, self.attribute, layers)
        try:
            yield
        finally:
            setattr(self.owner, self.attribute, self.layers)

    def states(self, ids: Sequence[Sequence[int]], progress: bool = False) -> list[torch.Tensor]:
        """Each tweet's ``(tokens, hidden)`` output of the frozen part, computed once."""
        todo = sorted(
            {tuple(i) for i in ids if tuple(i) not in self._states}, key=len, reverse=True
        )
        if todo:
            device = next(self.encoder.parameters()).device
            was_training = self.encoder.training
            self.encoder.eval()
            bar = tqdm(total=len(todo), desc="frozen layers", unit="tweet", disable=not progress)
            try:
                with torch.no_grad(), self._only(self.layers[: self.n]):
                    for start in range(0, len(todo), self.batch_size):
                        chunk = todo[start : start + self.batch_size]
                        input_ids, mask = pad([list(c) for c in chunk], self.pad_id)
                        out = self.encoder(
                            input_ids=torch.from_numpy(input_ids).to(device),
                            attention_mask=torch.from_numpy(mask).to(device),
                        ).last_hidden_state.cpu()
                        for row, key in enumerate(chunk):
                            self._states[key] = out[row, : len(key)].clone()
                        bar.update(len(chunk))
            finally:
                bar.close()
                self.encoder.train(was_training)
        return [self._states[tuple(i)] for i in ids]

    @contextmanager
    def upper(self, states: torch.Tensor) -> Iterator[None]:
        """Within it, the encoder runs its upper layers on ``states`` (``(batch, seq,
        hidden)``, padded like the batch's ids) instead of its embeddings and lower layers."""

        def replace(module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
            return states.to(device=output.device, dtype=output.dtype)

        hook = self.embeddings.register_forward_hook(replace)
        try:
            with self._only(self.layers[self.n :]):
                yield
        finally:
            hook.remove()


def pad_states(states: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack ``(tokens, hidden)`` tensors into ``(batch, longest, hidden)``, zero-padded.

    >>> pad_states([torch.ones(2, 3), torch.ones(1, 3)]).shape
    torch.Size([2, 2, 3])
    """
    return nn.utils.rnn.pad_sequence(list(states), batch_first=True)


def layer_list_owner(encoder: nn.Module) -> tuple[nn.Module, str]:
    """The module holding the encoder's stack of layers, and its attribute name.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> bert = BertModel(BertConfig(hidden_size=8, num_hidden_layers=3,
        ...     num_attention_heads=2, intermediate_size=16, vocab_size=50))
        >>> owner, name = layer_list_owner(bert)
        >>> type(owner).__name__, name
        ('BertEncoder', 'layer')
    """
    for path in ("encoder.layer", "transformer.layer", "layers", "layer"):
        owner: Any = encoder
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if isinstance(getattr(owner, name, None), nn.ModuleList):
            return owner, name
    raise OdioError(
        f"freeze_layers: cannot find the layers of a {type(encoder).__name__}; set freeze_layers: 0"
    )

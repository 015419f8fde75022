"""What an encoder trains on: tokenised tweets, padded batches, length-grouped batch order.

Texts are tokenised once per cross-validation (``EncoderTrainer.encode``): :class:`Encoded`
holds the ids and labels, :class:`Collator` pads each batch to its longest item, and
:class:`LengthGroupedBatches` draws shuffled batches of similar length (and shards them
under DDP).

Example:
    >>> batch = Collator(pad_id=0)([([5, 6, 7], None, None), ([8], None, None)])
    >>> batch["attention_mask"].tolist()
    [[1, 1, 1], [1, 0, 0]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from odio.text.tokens import pad

__all__ = ["Collator", "Encoded", "LengthGroupedBatches"]


Item = tuple[list[int], "torch.Tensor | None", "torch.Tensor | None"]
"""A tweet's token ids, its labels and its frozen layers' output (or ``None``)."""


class Encoded(torch.utils.data.Dataset):
    """Tweets tokenised once (no padding), with their labels and, when the frozen layers
    are cached (:mod:`odio.training.frozen`), their output."""

    def __init__(
        self,
        ids: list[list[int]],
        Y: np.ndarray | None = None,
        states: list[torch.Tensor] | None = None,
    ) -> None:
        self.ids = ids
        self.Y = None if Y is None else torch.as_tensor(np.asarray(Y), dtype=torch.float32)
        self.states = states

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Item:
        y = None if self.Y is None else self.Y[i]
        return self.ids[i], y, None if self.states is None else self.states[i]


class Collator:
    """Pads a batch to its longest item (dynamic padding)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, items: Sequence[Item]) -> dict:
        input_ids, mask = pad([item[0] for item in items], self.pad_id)
        batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if items[0][1] is not None:
            batch["labels"] = torch.stack([y for _, y, _ in items if y is not None])
        states = [s for _, _, s in items if s is not None]
        if states:
            batch["states"] = torch.nn.utils.rnn.pad_sequence(states, batch_first=True)
        return batch


class LengthGroupedBatches(torch.utils.data.Sampler):
    """Shuffled batches of similar-length items: sort within shuffled pools of 50 batches.

    Seeded and reshuffled each epoch (``set_epoch``), so runs are reproducible. Under DDP
    every process draws the same batches and keeps every ``world_size``-th one from its
    rank on (the first ones repeat so that every process takes as many steps).
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, group: bool) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group = group
        self.epoch = 0
        self.skip = 0
        """Batches of the next epoch already trained (a resumed epoch): left out once."""
        self.drawn = -1
        """The epoch whose batches were drawn last (the one in progress)."""

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume(self, epoch: int, done: int) -> None:
        """Go on with ``epoch``, of which ``done`` batches were trained already."""
        self.epoch, self.skip = (epoch, done) if done < len(self) else (epoch + 1, 0)

    def __len__(self) -> int:
        _, world = _rank_and_world()
        return -(-self._n_batches() // world)

    def _n_batches(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        rank, world = _rank_and_world()
        batches = list(self._batches())
        if world > 1:
            batches += batches[: len(self) * world - len(batches)]
            batches = batches[rank::world]
        skip, self.skip = self.skip, 0
        yield from batches[skip:]

    def _batches(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.drawn, self.epoch = self.epoch, self.epoch + 1
        order = rng.permutation(len(self.lengths))
        if self.group:
            pool = self.batch_size * 50
            order = np.concatenate(
                [
                    chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                    for chunk in np.array_split(order, max(1, -(-len(order) // pool)))
                ]
            )
        batches = [
            order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)
        ]
        for b in rng.permutation(len(batches)):
            yield batches[b]


def _rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes (``(0, 1)`` outside DDP)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1

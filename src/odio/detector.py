"""The Detector: fold models, labels, thresholds and normalisation as one object to use.

A saved Detector is a self-describing directory::

    model/
      config.json      labels, thresholds, backend, runtime, base model, preprocessing, version
      README.md        model card with the cross-validation and test metrics
      fold_0/ ...      one folder per fold member, written by its backend (no pickle)

Transformer members run with PyTorch, or with ONNX Runtime once exported
(:mod:`odio.onnx`); :meth:`Detector.load` picks the runtime from the files it finds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from odio import __version__
from odio.backend import Backend, backend_class
from odio.errors import OdioError
from odio.metrics import binarize
from odio.preprocess import PreprocessOptions, preprocess_many

if TYPE_CHECKING:
    from odio.explain import Explanation

CONFIG_FILE = "config.json"
RUNTIMES = ("torch", "onnx")
"""Runtimes of transformer members; TF-IDF members always run with scikit-learn."""
CONFIG_KEYS = frozenset(
    "odio_version backend runtime base_model labels thresholds preprocess members".split()
)
"""The ``config.json`` keys the Detector owns; any other key is kept in ``info``."""


@runtime_checkable
class TokenisedMember(Protocol):
    """A member that scores token ids, so members with one tokenizer share one encoding."""

    def encoding_key(self) -> str:
        """Equal for members whose :meth:`encode` gives identical ids."""
        ...

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of normalised texts."""
        ...

    def predict_encoded(self, ids: list[list[int]]) -> np.ndarray:
        """``(n, n_labels)`` probabilities of token ids, in input order."""
        ...


class Detector:
    """An ensemble of fold models that scores raw tweets.

    Probabilities are the mean of the members' probabilities ("blending"); decisions
    compare them with per-label thresholds tuned on out-of-fold predictions.

    Example:
        >>> from odio.tfidf import TfidfBackend
        >>> from odio.config import TfidfConfig
        >>> texts = ["te odio weon", "buen dia", "odio a todos", "lindo dia"]
        >>> Y = np.array([[1], [0], [1], [0]])
        >>> member = TfidfBackend(TfidfConfig(min_df=1)).fit(texts, Y)
        >>> det = Detector([member], ["Odio"], backend="tfidf")
        >>> det.predict(["odio"])[0]["decisions"]
        {'Odio': True}
    """

    def __init__(
        self,
        members: Sequence[Backend],
        labels: Sequence[str],
        *,
        backend: str,
        thresholds: Sequence[float] | np.ndarray | None = None,
        preprocess: PreprocessOptions | None = None,
        base_model: str | None = None,
        runtime: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        if not members:
            raise ValueError("a Detector needs at least one member model")
        self.members = list(members)
        self.labels = list(labels)
        self.backend = backend
        self.thresholds = (
            np.full(len(self.labels), 0.5)
            if thresholds is None
            else np.asarray(thresholds, dtype=float)
        )
        if self.thresholds.shape != (len(self.labels),):
            raise ValueError("one threshold per label is needed")
        self.preprocess = preprocess or PreprocessOptions()
        self.base_model = base_model
        self.runtime = runtime or ("scikit-learn" if backend == "tfidf" else "torch")
        """What runs the members: ``torch``, ``onnx`` or ``scikit-learn``."""
        self.info = dict(info or {})
        """Free-form run facts kept in ``config.json`` (metrics, data settings)."""

    def normalise(self, texts: Sequence[str]) -> list[str]:
        """The texts as the members see them (the saved preprocessing options applied)."""
        return preprocess_many(texts, self.preprocess)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` blended probabilities of raw texts, in input order.

        Texts are normalised once; members sharing a tokenizer (the folds of a run) share
        one tokenisation, and score length-sorted batches padded to their longest row.
        """
        return self.predict_proba_normalised(self.normalise(texts))

    def predict_proba_normalised(self, normalised: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` blended probabilities of already normalised texts.

        What :meth:`predict_proba` runs after :meth:`normalise`; explanations call it to
        score edited copies of a normalised text.
        """
        total = np.zeros((len(normalised), len(self.labels)))
        encoded: dict[str, list[list[int]]] = {}
        for member in self.members:
            if isinstance(member, TokenisedMember):
                key = member.encoding_key()
                if key not in encoded:
                    encoded[key] = member.encode(normalised)
                total += member.predict_encoded(encoded[key])
            else:
                total += member.predict_proba(normalised)
        return total / len(self.members)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 decisions for probabilities from :meth:`predict_proba`."""
        return binarize(probabilities, self.thresholds)

    def predict(self, texts: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        """Per text: ``{"probabilities": {label: p}, "decisions": {label: bool}}``."""
        P = self.predict_proba(texts)
        D = self.decide(P)
        return [
            {
                "probabilities": {lab: float(p) for lab, p in zip(self.labels, row, strict=True)},
                "decisions": {lab: bool(d) for lab, d in zip(self.labels, drow, strict=True)},
            }
            for row, drow in zip(P, D, strict=True)
        ]

    def explain(
        self, text: str, labels: Sequence[str] | None = None, *, method: str | None = None
    ) -> Explanation:
        """Which words of ``text`` push each label's probability up or down, in log-odds.

        TF-IDF models are decomposed exactly (``linear``); other models are explained by
        removing one word at a time (``occlusion``). See :func:`odio.explain.explain`.

        Example:
            >>> detector = Detector.load("runs/tfidf/model")  # doctest: +SKIP
            >>> detector.explain("ándate a tu país").top("Odio", 2)  # doctest: +SKIP
            ([('país', 0.975...), ('ándate', 0.830...)], [])
        """
        from odio.explain import explain

        return explain(self, text, labels, method=method)

    def config(self) -> dict[str, Any]:
        """What ``config.json`` holds."""
        return {
            "odio_version": __version__,
            "backend": self.backend,
            "runtime": self.runtime,
            "base_model": self.base_model,
            "labels": self.labels,
            "thresholds": {
                lab: float(t) for lab, t in zip(self.labels, self.thresholds, strict=True)
            },
            "preprocess": self.preprocess.to_dict(),
            "members": [f"fold_{i}" for i in range(len(self.members))],
            **self.info,
        }

    def save(self, directory: str | Path) -> Path:
        """Write the self-describing model directory; returns its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = self.config()
        for name, member in zip(config["members"], self.members, strict=True):
            member.save(directory / name)
        (directory / CONFIG_FILE).write_text(
            json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        (directory / "README.md").write_text(model_card(config), encoding="utf-8")
        return directory

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> Detector:
        """Read a directory written by :meth:`save` (or a run directory holding ``model/``).

        Args:
            directory: the model directory, or the run directory that holds it.
            runtime: for transformer models, ``torch`` or ``onnx``; ``None`` picks ONNX
                Runtime when the members are ONNX files (written by ``odio export``).
            threads: CPU threads for inference (``torch.set_num_threads``, which is
                process-wide, or ONNX Runtime's intra-op threads); ``None`` keeps the
                default. TF-IDF models ignore it.

        Example:
            >>> Detector.load("runs/e5/model-int8", threads=2).runtime  # doctest: +SKIP
            'onnx'
        """
        directory = find_model_dir(directory)
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("backend") == "stack":
            from odio.stack import StackedDetector

            return StackedDetector.load_dir(directory, config, runtime=runtime, threads=threads)
        runtime, load_member = _member_loader(config, directory, runtime, threads)
        members = [load_member(directory / name) for name in config["members"]]
        return cls.from_config(config, members, runtime=runtime)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], members: Sequence[Backend], *, runtime: str | None = None
    ) -> Detector:
        """A Detector from ``config.json`` contents and its loaded members."""
        labels = config["labels"]
        return cls(
            members,
            labels,
            backend=config["backend"],
            thresholds=[config["thresholds"][lab] for lab in labels],
            preprocess=PreprocessOptions.from_dict(config["preprocess"]),
            base_model=config.get("base_model"),
            runtime=runtime or config.get("runtime"),
            info={k: v for k, v in config.items() if k not in CONFIG_KEYS},
        )


def find_model_dir(directory: str | Path) -> Path:
    """The model directory at ``directory`` or in its ``model/``, with a clear error.

    >>> find_model_dir("no/such/run")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model directory not found: no/such/run
    """
    directory = Path(directory)
    if not (directory / CONFIG_FILE).exists() and (directory / "model" / CONFIG_FILE).exists():
        directory = directory / "model"
    if not directory.exists():
        raise OdioError(f"model directory not found: {directory}")
    if not (directory / CONFIG_FILE).exists():
        raise OdioError(
            f"{directory} is not an odio model: it has no {CONFIG_FILE} "
            "(give the run's model/ directory)"
        )
    return directory


def _member_loader(
    config: dict[str, Any], directory: Path, runtime: str | None, threads: int | None
) -> tuple[str | None, Callable[[Path], Backend]]:
    """The runtime to use and the function that loads one member folder with it."""
    backend = config["backend"]
    if runtime is not None and runtime not in RUNTIMES:
        raise OdioError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if backend != "transformer":
        if runtime is not None:
            raise OdioError(
                f"{directory} is a {backend} model, which runs with scikit-learn; "
                "a runtime applies to transformer models only"
            )
        return None, backend_class(backend).load
    first = directory / config["members"][0]
    has_onnx = any(first.glob("*.onnx"))
    has_torch = any(first.glob("model*.safetensors"))
    runtime = runtime or ("onnx" if has_onnx else "torch")
    if runtime == "onnx" and not has_onnx:
        raise OdioError(
            f"{directory} has no ONNX files; create them with: odio export {directory} OUT"
        )
    if runtime == "torch" and not has_torch:
        raise OdioError(
            f"{directory} is an ONNX export without PyTorch weights: use the onnx runtime, "
            "or the model directory it was exported from"
        )
    if runtime == "onnx":
        from odio.onnx import OnnxBackend

        return runtime, functools.partial(OnnxBackend.load, threads=threads)
    from odio.transformer import TransformerBackend

    return runtime, functools.partial(TransformerBackend.load, threads=threads)


def model_card(config: dict[str, Any]) -> str:
    """A Markdown model card from a model's ``config.json`` contents."""
    labels = config["labels"]
    metrics = config.get("metrics", {})
    lines = [
        "# odio hate-speech detector",
        "",
        f"- backend: `{config['backend']}`"
        + (f", base model `{config['base_model']}`" if config.get("base_model") else ""),
        _members_line(config),
        f"- runtime: {_runtime_line(config)}",
        f"- labels: {', '.join(labels)}",
        "- thresholds (tuned on out-of-fold predictions): "
        + ", ".join(f"{k} {v:.2f}" for k, v in config["thresholds"].items()),
        f"- odio version: {config['odio_version']}",
    ]
    if "data" in config:
        lines.append(f"- data: {json.dumps(config['data'], ensure_ascii=False)}")
    rows = []
    if "cv" in metrics:
        cv = metrics["cv"]["f1_custom"]
        rows.append(
            f"| cross-validation (mean ± std over folds, 0.5) | "
            f"{cv['mean']:.4f} ± {cv['std']:.4f} | |"
        )
    for split in ("oof", "test"):
        for key, name in (("at_0.5", "0.5"), ("tuned", "tuned")):
            s = metrics.get(split, {}).get(key)
            if s:
                first = s["per_label"][labels[0]]["f1"]
                rows.append(
                    f"| {split} at {name} thresholds | {s['f1_custom']:.4f} | {first:.4f} |"
                )
    if rows:
        lines += [
            "",
            "## Metrics",
            "",
            f"| evaluation | f1_custom | F1({labels[0]}) |",
            "|---|---|---|",
            *rows,
        ]
        if "oof" in metrics:
            lines += [
                "",
                "Out-of-fold scores at tuned thresholds are optimistic: the "
                "thresholds were tuned on those same predictions.",
            ]
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from odio import Detector",
        "detector = Detector.load('path/to/model')",
        "detector.predict(['texto de un tweet'])",
        "```",
        "",
    ]
    return "\n".join(lines)


def _members_line(config: dict[str, Any]) -> str:
    if config["backend"] == "stack":
        bases = ", ".join(
            f"`{b['model']}` ({b['backend']}, `{b['dir']}/`)" for b in config["bases"]
        )
        return (
            f"- stacked: a logistic regression per label on the probabilities of {bases}, "
            "fitted on their out-of-fold predictions"
        )
    return f"- members: {len(config['members'])} fold models, probabilities averaged"


def _runtime_line(config: dict[str, Any]) -> str:
    runtime = config.get("runtime") or "torch"
    onnx = config.get("onnx")
    if runtime != "onnx" or not onnx:
        return runtime
    how = onnx.get("quantization") or "fp32"
    return f"ONNX Runtime, `fold_k/{onnx['file']}` ({how}, opset {onnx['opset']})"

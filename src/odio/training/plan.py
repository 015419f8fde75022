"""The run's plan: what a run's settings mean for its labels, resolved once.

A :class:`~odio.config.RunConfig` says ``metric: auto`` and ``objective: auto`` and leaves
the normalisation to the backend; which headline metric, which threshold objective per
label, which decision rule and which normalisation a run uses depend on the labels of the
training file. :func:`plan_run` resolves them once, when the labels are known, and the
cross-validation, the stacking and the run's writer receive the same :class:`RunPlan`.

>>> from odio.config import RunConfig
>>> plan = plan_run(RunConfig(), ["Odio", "Mujeres"])
>>> plan.backend, plan.metric, plan.objectives, plan.decision_rule
('tfidf', 'f1_custom', ('f1', 'f1'), 'independent')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from odio.config import RunConfig
from odio.errors import OdioError
from odio.metrics import default_objective, resolve_metric
from odio.models.blend import Blend
from odio.text.preprocess import PreprocessOptions
from odio.training.trainers import backend_name, default_preprocess


@dataclass(frozen=True)
class RunPlan:
    """What a run does, every ``auto`` resolved for its labels."""

    model: str
    """``tfidf``, an encoder (hub id or folder) or ``stack:A+B``."""
    backend: str
    """``tfidf``, ``transformer`` or ``stack``."""
    labels: tuple[str, ...]
    """Label names, the main label first."""
    metric: str
    """The headline metric (``f1_custom``, ``macro_f1``, ``main_f1`` or ``accuracy``)."""
    objectives: tuple[str, ...]
    """The threshold objective of each label."""
    decision_rule: str
    """``independent`` or ``targets_require_main``."""
    preprocess: PreprocessOptions | None
    """The normalisation of the texts (see :func:`normalisation`); ``None`` for a stack
    (each base has its own)."""

    def blend(self, members: Sequence[Any]) -> Blend:
        """The fitted members of this plan's model as one detector (mean probability).

        >>> plan_run(RunConfig(model="stack:tfidf+my/encoder"), ["Odio"]).blend([])
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: a stack is not a blend of members: each base is
        """
        if self.preprocess is None:
            raise OdioError("a stack is not a blend of members: each base is")
        return Blend(
            list(members),
            self.preprocess,
            backend=self.backend,
            base_model=None if self.backend == "tfidf" else self.model,
        )

    def for_base(self, model: str, preprocess: PreprocessOptions | None = None) -> RunPlan:
        """The plan of one base of a stack: same labels, metric and thresholds' objectives,
        its own backend and normalisation (``preprocess``, or the backend's default).

        >>> plan = plan_run(RunConfig(model="stack:tfidf+my/encoder"), ["Odio"])
        >>> base = plan.for_base("tfidf")
        >>> base.backend, base.preprocess.emoji
        ('tfidf', False)
        """
        backend = backend_name(model)
        return replace(
            self, model=model, backend=backend, preprocess=normalisation(backend, preprocess)
        )


def normalisation(backend: str, given: PreprocessOptions | None) -> PreprocessOptions:
    """The steps a backend's texts go through: its default (:func:`default_preprocess`)
    with the steps the run's settings name set as they say.

    A setting names only what it changes: ``preprocess: {deobfuscate: true}`` adds
    de-obfuscation to TF-IDF's own normalisation (which keeps handles, links, hashtags and
    emoji as written) instead of replacing it with every other step's default.

    >>> tfidf = normalisation("tfidf", PreprocessOptions(deobfuscate=True))
    >>> tfidf.deobfuscate, tfidf.emoji, normalisation("transformer", None).emoji
    (True, False, True)
    """
    named = {} if given is None else {k: getattr(given, k) for k in given.model_fields_set}
    # every step named, so that config.yaml records each one
    return PreprocessOptions(**{**default_preprocess(backend).model_dump(), **named})


def plan_run(config: RunConfig, labels: Sequence[str]) -> RunPlan:
    """Resolve ``config`` for a training set with ``labels``.

    Raises:
        OdioError: the metric does not fit the labels, or a per-label objective names a
            label the run does not have.

    >>> plan_run(RunConfig(metric="f1_custom"), ["HS"])
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: setting 'metric' (--metric): f1_custom needs a main label and at least one target label
    """  # noqa: E501 - a doctest output line cannot be wrapped
    labels = list(labels)
    try:
        metric = resolve_metric(config.metric, labels)
    except ValueError as exc:
        raise OdioError(f"setting 'metric' (--metric): {exc}") from None
    unknown = sorted(set(config.thresholds.per_label) - set(labels))
    if unknown:
        raise OdioError(
            f"setting 'thresholds.per_label' names {unknown[0]!r}, which is not a label "
            f"({', '.join(labels)})"
        )
    objective = config.thresholds.objective
    if objective == "auto":
        objective = default_objective(metric, len(labels))
    backend = backend_name(config.model)
    preprocess = None if backend == "stack" else normalisation(backend, config.preprocess)
    return RunPlan(
        model=config.model,
        backend=backend,
        labels=tuple(labels),
        metric=metric,
        objectives=tuple(config.thresholds.per_label.get(label, objective) for label in labels),
        decision_rule=config.thresholds.decision_rule,
        preprocess=preprocess,
    )

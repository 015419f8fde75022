"""Distillation: one student model trained on a run's fold ensemble, instead of k models.

The teacher is a finished run: its out-of-fold probabilities are the soft labels of the
training tweets (each from a fold model that never saw that tweet), and its blended
probabilities those of any unlabelled tweets given (``--unlabelled``, e.g. the Datathon's
referenced tweets). The student has the teacher's backend, normalisation and tokenizer (or
another encoder, ``--student``), is fitted once on every row against those soft labels for
the epochs the teacher's folds kept, and keeps the teacher's thresholds and decision rule:
it learns to give the teacher's probabilities. The result is an ordinary model directory
whose card names its teacher and both test scores.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import RunConfig
from odio.data.labelled import LabelledData, load_labelled
from odio.data.tables import Table, is_text, read_table, require_columns
from odio.errors import OdioError
from odio.files import check_replaceable, replacing
from odio.metrics import best_epoch, score_at_both
from odio.models.blend import Blend
from odio.models.modeldir import load_model, save_model
from odio.models.protocols import TextModel
from odio.runs import RunData, read_run
from odio.text.preprocess import preprocess_many
from odio.training.cv import create_trainer
from odio.training.trainers import backend_name, default_preprocess

log = logging.getLogger(__name__)


def distill_run(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    unlabelled: str | Path | None = None,
    student: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a single student model on a finished run's soft labels and save it.

    Args:
        run_dir: a finished ``odio train`` run (not a stack).
        out_dir: the model directory to write.
        unlabelled: a file of extra tweets (its text column as the run's), labelled by the
            teacher's blended probabilities.
        student: the student's model (``tfidf`` or an encoder); default the teacher's.
        overwrite: replace an earlier model at ``out_dir``.
        progress: show progress bars.

    Returns:
        What was done: rows, seconds, and the teacher's and the student's test scores (when
        the run had a test set).

    Example:
        >>> distill_run("runs/e5", "models/e5-distilled",
        ...             unlabelled="referenced_tweets_data.csv")  # doctest: +SKIP
    """
    start = time.perf_counter()
    out = Path(out_dir)
    check_replaceable(out, kind="model", overwrite=overwrite, inputs=[run_dir, unlabelled])
    run = read_run(run_dir)
    config = _run_config(run)
    teacher, saved = load_model(run.path / "model")
    if not isinstance(teacher, Blend):
        raise OdioError(f"{run_dir} holds a stacked model; distil one of its bases")
    thresholds = np.array([saved["thresholds"][label] for label in run.labels])
    rule = saved.get("decision_rule", "independent")
    config = config.model_copy(update={"model": student or config.model})
    backend = backend_name(config.model)
    same = student is None or backend == run.metrics["backend"]
    preprocess = (
        teacher.preprocess if same and isinstance(teacher, Blend) else default_preprocess(backend)
    )
    oof = run.frame("oof")
    prepared = preprocess_many(oof["text"].astype(str).tolist(), preprocess)
    Y = run.arrays("oof")[1]
    test = _test_set(run)
    extra: list[str] = []
    if unlabelled:
        candidates = _unlabelled_texts(unlabelled, config.data.text_column)
        candidates_prepared = preprocess_many(candidates, preprocess)
        kept = _new_rows(
            candidates_prepared,
            training=prepared,
            test=preprocess_many(test.texts, preprocess) if test else [],
        )
        extra = [candidates[i] for i in kept]
        prepared += [candidates_prepared[i] for i in kept]
    if extra:
        log.info("labelling %d unlabelled tweets with the teacher", len(extra))
        Y = np.vstack([Y, teacher.predict_proba(extra)])
    # The student learns the teacher's probabilities as they are: no re-weighting of rare
    # labels (pos_weight), for the epochs the teacher's folds kept.
    epochs = _kept_epochs(run.metrics)
    settings = {"pos_weight": False, **({"max_epochs": epochs} if epochs else {})}
    config = config.model_copy(
        update={"transformer": config.transformer.model_copy(update=settings)}
    )
    trainer = create_trainer(config)
    inputs = trainer.encode(prepared)
    fitted = trainer.fit(inputs, Y, progress="student" if progress else None)
    blend = Blend(
        [fitted.member],
        preprocess,
        backend=backend,
        base_model=None if backend == "tfidf" else config.model,
    )
    scores = _test_scores(run, test, {"teacher": teacher, "student": blend}, thresholds, rule)
    info = {
        **{k: v for k, v in saved.items() if k in ("data", "metric")},
        "distilled_from": {
            "run": str(run.path),
            "teacher": run.metrics.get("model"),
            "members": len(getattr(teacher, "members", [])),
            "rows": len(oof),
            "unlabelled_rows": len(extra),
            "epochs": epochs,
            **scores,
        },
    }
    if "test" in scores.get("student", {}):
        info["metrics"] = {"test": scores["student"]["test"]}
    with replacing(out, what="the model", kind="model") as tmp:
        save_model(tmp, blend, run.labels, thresholds, info, rule)
    return {"rows": len(prepared), "seconds": round(time.perf_counter() - start, 1), **scores}


def _run_config(run: RunData) -> RunConfig:
    """The run's settings, from its ``config.yaml``."""
    return RunConfig.from_dict({k: v for k, v in run.config.items() if k in RunConfig.model_fields})


def _unlabelled_texts(path: str | Path, text_column: str) -> list[str]:
    table = Table(path)
    frame = read_table(table)
    require_columns(table, frame, [text_column])
    return [t for t in frame[text_column] if is_text(t)]


def _new_rows(texts: list[str], *, training: list[str], test: list[str]) -> list[int]:
    """The positions of ``texts`` that are neither repeats nor tweets of the training or
    test set, all three normalised: what the model sees is what must differ.

    A training tweet already has its out-of-fold soft label, and a test tweet taught to the
    student would make its test score a score on data it was fitted to.

    Example:
        >>> _new_rows(["a", "b", "b", "c", "d"], training=["a"], test=["c"])
        [1, 4]
    """
    trained, held_out = set(training), set(test)
    kept: list[int] = []
    seen: set[str] = set()
    repeats = in_training = in_test = 0
    for i, text in enumerate(texts):
        if text in held_out:
            in_test += 1
        elif text in trained:
            in_training += 1
        elif text in seen:
            repeats += 1
        else:
            seen.add(text)
            kept.append(i)
    if in_training or in_test or repeats:
        log.warning(
            "unlabelled: left out %d tweets of the test set, %d of the training set and "
            "%d repeats (once normalised); %d remain",
            in_test,
            in_training,
            repeats,
            len(kept),
        )
    return kept


def _kept_epochs(metrics: dict[str, Any]) -> int | None:
    """The mean epoch the teacher's folds kept (lowest validation loss), rounded."""
    kept = [best_epoch(f.get("history") or []) for f in metrics.get("folds") or []]
    epochs = [int(k["epoch"]) for k in kept if k is not None]
    return max(1, round(float(np.mean(epochs)))) if epochs else None


def _test_set(run: RunData) -> LabelledData | None:
    """The run's test file, when it had one and it is still there."""
    test_path = (run.metrics.get("data") or {}).get("test", {}).get("path")
    if not test_path or not Path(test_path).is_file():
        return None
    return load_labelled(test_path, _run_config(run).data, training=False)


def _test_scores(
    run: RunData,
    test: LabelledData | None,
    models: dict[str, TextModel],
    thresholds: np.ndarray,
    rule: str,
) -> dict[str, Any]:
    """Each model on the run's test set, at 0.5 and at the (teacher's tuned) thresholds."""
    if test is None:
        return {}
    metric = run.metrics.get("metric", "auto")
    return {
        name: {
            "test": score_at_both(
                test.Y,
                model.predict_proba(test.texts),
                test.labels,
                thresholds,
                metric=metric,
                rule=rule,
            )
        }
        for name, model in models.items()
    }

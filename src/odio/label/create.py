"""Making a labelling project: from a file of tweets (any format ``odio predict`` reads, its
ids and other columns kept), optionally scored by a run's fold models to rank the queue, or
from a run's out-of-fold predictions, to review the labels it most likely has wrong.

Example:
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "t.csv"), "w").write("id,text,user\\n7,hola,@a\\n")
    >>> p = init_project(os.path.join(folder, "p.db"), os.path.join(folder, "t.csv"))
    >>> t = p.tweet(0); t.key, t.text, t.context
    ('7', 'hola', {'user': '@a'})
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odio.errors import OdioError
from odio.label.project import Project, Tweet

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DEFAULT_STRATEGY = "uncertainty"
"""How the queue is ranked when a model is given (tweets in file order without one)."""
REVIEW_TOP = 100
"""Suspected label errors a review project holds by default."""


def member_probabilities(model: str | Path, texts: Sequence[str]) -> np.ndarray:
    """``(members, n, labels)``: every fold model's probabilities of ``texts`` (a model with
    one member, or that is no blend of folds, gives one).

    Example:
        >>> member_probabilities("runs/tfidf", ["hola"]).shape  # doctest: +SKIP
        (5, 1, 5)
    """
    import numpy as np

    from odio.inference.detector import Detector
    from odio.models.blend import Blend
    from odio.models.protocols import TokenisedMember
    from odio.text.tokens import encode

    detector = Detector.load(model)
    blend = detector.model
    if not isinstance(blend, Blend):
        return detector.predict_proba(texts)[None]
    prepared = blend.prepare(texts)
    out = []
    for member in blend.members:
        if isinstance(member, TokenisedMember):
            out.append(
                member.predict_encoded(encode(member.tokenizer, prepared, member.max_length))
            )
        else:
            out.append(member.predict_proba(prepared))
    return np.stack(out)


def read_tweets(
    source: str | Path,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    format: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
) -> tuple[list[Tweet], str | None]:
    """The tweets of a file, cells read verbatim, and the id column found (the given one,
    else ``id`` or ``tweet_id``); rows without text are left out, with a warning."""
    import pandas as pd

    from odio.data.labelled import id_column_of
    from odio.data.tables import Table, is_text, iter_table, require_columns

    table = Table(source, format=format, sep=sep, encoding=encoding)
    frames = list(iter_table(table, as_text=True))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame.columns) and frame.columns[0] == "":
        frame = frame.drop(columns=[""])
    id_column = id_column_of(frame.columns, id_column)
    require_columns(table, frame, [text_column] + ([id_column] if id_column else []))
    others = [c for c in frame.columns if c not in (text_column, id_column)]
    tweets: list[Tweet] = []
    for row, record in enumerate(frame.to_dict("records")):
        text = record[text_column]
        if not is_text(text):
            continue
        key = None if id_column is None else _cell(record[id_column])
        context = {str(c): _cell(record[c]) for c in others}
        tweets.append(Tweet(row, str(text), None if key is None else str(key), context))
    if len(tweets) < len(frame):
        log.warning("%s: %d rows without text left out", table.name, len(frame) - len(tweets))
    if not tweets:
        raise OdioError(f"{table.name}: no row has a text in column {text_column!r}")
    return tweets, id_column


def init_project(
    path: str | Path,
    source: str | Path,
    *,
    labels: Sequence[str] | None = None,
    model: str | Path | None = None,
    strategy: str | None = None,
    seed: int = 0,
    **reading: Any,
) -> Project:
    """A new project holding the tweets of ``source`` (see :func:`read_tweets` for
    ``reading``), ranked by ``strategy`` over ``model``'s fold probabilities when a model
    is given (the labels are then the model's)."""
    tweets, id_column = read_tweets(source, **reading)
    tweets = [Tweet(i, t.text, t.key, t.context) for i, t in enumerate(tweets)]
    scores = None
    if model is not None:
        from odio.inference.detector import Detector

        detector = Detector.load(model)
        if labels is not None and list(labels) != detector.labels:
            raise OdioError(f"{model} has the labels {detector.labels}; drop --labels")
        labels = detector.labels
        scores = (member_probabilities(model, [t.text for t in tweets]), detector.thresholds)
    project = Project.create(
        path,
        tweets,
        labels=list(labels or _default_labels()),
        source=str(source),
        id_column=id_column,
        text_column=reading.get("text_column", "text"),
    )
    if scores is not None:
        assert model is not None
        project.set_model(str(model), scores[1].tolist(), scores[0])
        rank_queue(project, strategy or DEFAULT_STRATEGY, seed=seed)
    elif strategy is not None:
        rank_queue(project, strategy, seed=seed)
    return project


def rank_queue(project: Project, strategy: str, *, seed: int = 0) -> list[int]:
    """Put the unlabelled tweets in the order ``strategy`` ranks them, over the project's
    model probabilities (``random`` needs none); the ids in their new order."""
    from odio.label.strategies import STRATEGIES, rank

    if strategy not in STRATEGIES:
        raise OdioError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    pool = project.unlabelled()
    kept = project.model()
    if kept is None and strategy != "random":
        raise OdioError(f"strategy {strategy!r} needs a model: give --model RUN or retrain")
    probs = None if kept is None else kept[2][:, pool, :]
    thresholds = None if kept is None else kept[1]
    order = rank(strategy, probs, thresholds, seed=seed, texts=project.texts(pool))
    ranked = [pool[int(i)] for i in order]
    project.reorder(ranked)
    return ranked


def review_project(path: str | Path, run: str | Path, *, top: int = REVIEW_TOP) -> Project:
    """A project of the ``top`` tweets whose out-of-fold probability most contradicts
    their label in ``run`` (most suspect first), each shown with the labels it has."""
    from odio.label.review import suspects
    from odio.runs import dig, read_run

    data = read_run(run)
    oof = data.frame("oof")
    labels = data.labels
    thresholds = dict(zip(labels, data.thresholds.tolist(), strict=True))
    # one row per (tweet, suspect label): enough of them for ``top`` tweets
    found = suspects(oof, labels, thresholds, top * len(labels))
    by_row = oof.set_index("row") if "row" in oof.columns else oof
    id_column = dig(data.metrics, "data", "train", "id_column")
    tweets: list[Tweet] = []
    for row in list(dict.fromkeys(found["row"].tolist()))[:top]:  # most suspect first
        record = by_row.loc[row]
        current = [label for label in labels if _positive(record[f"true_{label}"])]
        key = record[id_column] if id_column and id_column in record.index else None
        suspect = found.loc[found["row"] == row, "label"].tolist()
        context = {"row": int(row), "suspected on": ", ".join(suspect)}
        probs = {label: float(record[f"prob_{label}"]) for label in labels}
        tweets.append(Tweet(len(tweets), str(record["text"]), _key(key), context, probs, current))
    if not tweets:
        raise OdioError(f"{run}: no tweet's out-of-fold probability contradicts its label")
    project = Project.create(
        path,
        tweets,
        labels=labels,
        kind="review",
        source=str(run),
        id_column=id_column,
        text_column="text",
    )
    return project


def _default_labels() -> list[str]:
    from odio.metrics import DATATHON_LABELS

    return list(DATATHON_LABELS)


def _cell(value: Any) -> Any:
    """A cell as JSON can hold it: ``None`` for an empty one, text for anything unusual."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _key(value: Any) -> str | None:
    value = _cell(value)
    return None if value is None else str(value)


def _positive(value: Any) -> bool:
    try:
        return float(value) >= 0.5
    except (TypeError, ValueError):
        return False

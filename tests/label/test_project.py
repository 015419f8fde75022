"""The labelling project: tweets kept with their ids and context, votes per annotator,
undo and skip, the queue with several votes per tweet, and the export that odio's own
training loader reads back with the right 0/1 labels."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from label_data import ROOT_SAMPLE, TWEETS

from odio.cli import main
from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.errors import OdioError
from odio.label.create import init_project, member_probabilities, review_project
from odio.label.export import ANNOTATORS, write_export
from odio.label.project import Project
from odio.label.strategies import rank
from odio.metrics import DATATHON_LABELS


def test_init_keeps_ids_text_and_context_columns(project_file):
    project = Project(project_file)
    assert project.size == len(TWEETS)
    assert project.labels == list(DATATHON_LABELS)
    first = project.tweet(0)
    assert (first.key, first.text, first.context) == (
        TWEETS[0][0],
        TWEETS[0][1],
        {"context": TWEETS[0][2]},
    )
    assert project.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_init_reads_any_format_predict_reads(tmp_path):
    source = tmp_path / "tweets.jsonl"
    pd.DataFrame({"tweet_id": ["007", "8"], "text": ["hola", "chao"]}).to_json(
        source, orient="records", lines=True
    )
    project = init_project(tmp_path / "p.db", source)
    assert [project.tweet(i).key for i in range(2)] == ["007", "8"]


def test_votes_undo_skip_and_several_votes_per_tweet(project_file):
    project = Project(project_file)
    ana, bea = project.annotator("ana"), project.annotator("bea")
    first = project.next_tweet(ana, votes=2)
    project.vote(ana, first.id, ["Odio", "Comunidades Migrantes"])
    assert project.next_tweet(ana, votes=2).id != first.id  # ana answered it
    assert project.next_tweet(bea, votes=2).id == first.id  # it needs a second vote
    project.vote(bea, first.id, [])
    assert project.next_tweet(bea, votes=2).id != first.id
    second = project.next_tweet(ana, votes=2)
    project.vote(ana, second.id, [], skip=True)
    assert project.undo(ana) == second.id  # the skip is taken back
    assert project.next_tweet(ana, votes=2).id == second.id
    progress = project.progress(votes=2)
    assert (progress["labelled"], progress["complete"]) == (1, 1)
    assert progress["annotators"] == {
        "ana": {"votes": 1, "skips": 0},
        "bea": {"votes": 1, "skips": 0},
    }


def test_a_vote_with_an_unknown_label_or_tweet_is_refused(project_file):
    project = Project(project_file)
    ana = project.annotator("ana")
    with pytest.raises(OdioError, match="unknown label"):
        project.vote(ana, 0, ["Hate"])
    with pytest.raises(OdioError, match="no tweet"):
        project.vote(ana, 999, [])
    with pytest.raises(OdioError, match="name"):
        project.annotator("  ")


def test_export_is_read_back_by_the_training_loader_with_the_right_labels(project_file, tmp_path):
    project = Project(project_file)
    names = ["ana", "bea", "cami"]
    answers = {  # tweet -> each annotator's labels
        0: [["Odio", "Comunidades Migrantes"], ["Odio", "Comunidades Migrantes"], []],
        2: [["Odio", "Mujeres"], [], []],
        4: [["Odio", "Pueblos Originarios"], ["Odio"], ["Odio", "Pueblos Originarios"]],
        1: [[], [], []],
    }
    for tweet, votes in answers.items():
        for name, labels in zip(names, votes, strict=True):
            project.vote(project.annotator(name), tweet, labels)
    out = tmp_path / "labelled.csv"
    assert write_export(project, out) == len(answers)
    frame = pd.read_csv(out, dtype={"id": str})
    assert list(frame.columns[:2]) == ["id", "text"] and "context" in frame.columns
    assert frame[ANNOTATORS].tolist() == [3, 3, 3, 3]
    for min_votes in (1, 2):
        data = load_labelled(out, DataConfig(min_votes=min_votes), training=False)
        expected = {
            TWEETS[t][0]: [
                int(sum(label in v for v in votes) >= min_votes) for label in data.labels
            ]
            for t, votes in answers.items()
        }
        got = dict(zip(data.ids, data.Y.tolist(), strict=True))
        assert got == expected
        assert data.texts == [TWEETS[int(t)][1] for t in sorted(answers)]


def test_the_cli_makes_exports_and_reports_on_a_project(tmp_path, tweets_file, capsys):
    db = tmp_path / "cli.db"
    assert main(["label", "init", str(db), str(tweets_file), "--labels", "Odio", "Mujeres"]) == 0
    project = Project(db)
    assert project.labels == ["Odio", "Mujeres"]
    for name in ("ana", "bea"):
        project.vote(project.annotator(name), 2, ["Odio", "Mujeres"] if name == "ana" else [])
    assert main(["label", "status", str(db)]) == 0
    out = capsys.readouterr().out
    assert "1 of 6 tweets labelled" in out and "ana: 1 votes" in out
    assert "most disputed" in out and TWEETS[2][1] in out
    assert main(["label", "export", str(db), "-o", str(tmp_path / "x.csv")]) == 0
    exported = pd.read_csv(tmp_path / "x.csv")
    assert exported[["Odio", "Mujeres", ANNOTATORS]].values.tolist() == [[1, 1, 2]]
    assert main(["label", "init", str(db), str(tweets_file)]) == 2  # exists: one line, no traceback
    assert "exists" in capsys.readouterr().err
    assert main(["label", "status", str(tweets_file)]) == 2
    assert "not a labelling project" in capsys.readouterr().err


def test_a_model_scores_every_tweet_and_ranks_the_queue(tmp_path, tweets_file, tfidf_run):
    project = init_project(tmp_path / "m.db", tweets_file, model=tfidf_run)
    run, thresholds, probs = project.model()
    assert probs.shape == (3, len(TWEETS), len(DATATHON_LABELS))  # 3 folds
    texts = [t[1] for t in TWEETS]
    assert np.allclose(probs, member_probabilities(tfidf_run, texts), atol=1e-6)
    shown = project.tweet(0).probs
    assert shown["Odio"] == pytest.approx(float(probs[:, 0, 0].mean()), abs=1e-6)
    ana = project.annotator("ana")
    served = []
    while (tweet := project.next_tweet(ana)) is not None:
        served.append(tweet.id)
        project.vote(ana, tweet.id, [])
    expected = rank("uncertainty", probs, thresholds, seed=0, texts=texts)
    assert served == [int(i) for i in expected]  # the queue is the strategy's order


def test_a_review_project_shows_each_tweet_with_its_label(tmp_path, tfidf_run):
    project = review_project(tmp_path / "r.db", tfidf_run, top=5)
    assert project.kind == "review" and project.size == 5
    oof = pd.read_csv(tfidf_run / "oof.csv")
    texts = set(oof["text"])
    for i in range(5):
        tweet = project.tweet(i)
        row = oof[oof["text"] == tweet.text].iloc[0]
        assert tweet.text in texts
        assert tweet.current == [lab for lab in project.labels if row[f"true_{lab}"] == 1]


def test_every_vote_is_committed_at_once(project_file):
    """Another connection (another process) sees a vote as soon as it returns."""
    project = Project(project_file)
    project.vote(project.annotator("ana"), 3, ["Odio"])
    other = sqlite3.connect(project_file)
    assert other.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 1


def test_retrain_scores_the_unlabelled_tweets_and_reranks_them(tmp_path, capsys):
    sample = pd.read_csv(ROOT_SAMPLE).sample(n=40, random_state=0).reset_index(drop=True)
    assert 4 <= (sample["Odio"][:24] >= 2).sum() <= 20  # both kinds among the labelled
    sample[["text"]].to_csv(tmp_path / "t.csv", index=False)
    db = tmp_path / "r.db"
    assert main(["label", "init", str(db), str(tmp_path / "t.csv"), "--labels", "Odio"]) == 0
    project = Project(db)
    ana = project.annotator("ana")
    for i in range(24):  # the sample's own Odio votes as ana's answers
        project.vote(ana, i, ["Odio"] if sample["Odio"][i] >= 2 else [])
    assert main(["label", "retrain", str(db), "--folds", "2", "--strategy", "committee"]) == 0
    assert "re-ranked by committee" in capsys.readouterr().out
    _, thresholds, probs = project.model()
    pool = list(range(24, 40))
    assert np.isnan(probs[:, :24]).all() and not np.isnan(probs[:, pool]).any()
    expected = rank("committee", probs[:, pool], thresholds, seed=0, texts=project.texts(pool))
    assert project.unlabelled() == [pool[int(i)] for i in expected]
    assert project.tweet(30).probs is not None

"""Scoring with Ray Data: the rows, columns and probabilities of the local predict."""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.inference import distributed
from odio.inference.distributed import ScoreBatches, predict_on_ray


@pytest.fixture(scope="module")
def parts(tmp_path_factory, sample_frame) -> dict[str, list]:
    """The sample in 3 files per format, with ids that must survive as text (leading
    zeros) and rows whose text is empty or missing; the CSV files have a leading unnamed
    index column, as the Datathon files do."""
    frame = sample_frame[["text", "Odio"]].head(90).copy()
    frame.insert(0, "id", [f"{i:05d}" for i in range(len(frame))])
    frame.loc[[5, 40], "text"] = ""
    frame.loc[[70], "text"] = None
    folders = {}
    for kind in ("csv", "jsonl", "parquet"):
        folder = tmp_path_factory.mktemp(kind)
        files = []
        for i, start in enumerate((0, 30, 60)):
            path = folder / f"part-{i}.{kind}"
            chunk = frame.iloc[start : start + 30]
            if kind == "csv":
                chunk.to_csv(path)
            elif kind == "jsonl":
                chunk.to_json(path, orient="records", lines=True, force_ascii=False)
            else:
                chunk.to_parquet(path, index=False)
            files.append(path)
        (folder / "_SUCCESS").write_text("")  # a marker file, not data
        folders[kind] = files
    return folders


def local_predictions(model, files, tmp_path, suffix) -> list[bytes]:
    outputs = []
    for i, path in enumerate(files):
        out = tmp_path / f"local-{i}{suffix}"
        assert main(["predict", str(model), str(path), "-o", str(out), "-q"]) == 0
        outputs.append(out)
    return outputs


@pytest.mark.cluster
def test_a_folder_of_csv_files_gives_the_local_rows_and_probabilities(
    ray_local, tfidf_run, parts, tmp_path, capsys
):
    files = parts["csv"]
    out = tmp_path / "ray.csv"
    argv = ["predict", str(tfidf_run), str(files[0].parent), "-o", str(out), "--engine", "ray"]
    assert main([*argv, "--actors", "2", "--batch-size", "8", "-q"]) == 0
    assert "90 rows written, 87 scored, 3 with an empty text" in capsys.readouterr().out
    local = local_predictions(tfidf_run, files, tmp_path, ".csv")
    header, *rows = out.read_bytes().splitlines(keepends=True)
    expected = [header]
    for path in local:
        expected += path.read_bytes().splitlines(keepends=True)[1:]
    assert [header, *rows] == expected  # byte for byte: values, order, empty outputs
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.cluster
@pytest.mark.slow  # 2 more Ray Data jobs (~15 s); the CSV test covers the default run
@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_jsonl_and_parquet_folders_give_the_local_predictions(
    ray_local, tfidf_run, parts, tmp_path, kind
):
    files = parts[kind]
    out = tmp_path / f"ray.{kind}"
    report = predict_on_ray(tfidf_run, files[0].parent, out, batch_size=16, progress=False)
    assert (report.rows, report.scored, report.empty) == (90, 87, 3)
    read = pd.read_parquet if kind == "parquet" else lambda p: pd.read_json(p, lines=True)
    local = local_predictions(tfidf_run, files, tmp_path, f".{kind}")
    expected = pd.concat([read(p) for p in local], ignore_index=True)
    pd.testing.assert_frame_equal(read(out), expected)


class ExitsOnce(ScoreBatches):
    """Kills its own process on the first batch any actor receives (the marker file is
    removed by exactly one actor)."""

    marker = ""

    def __call__(self, batch):
        try:
            os.unlink(self.marker)
        except FileNotFoundError:
            return super().__call__(batch)
        os._exit(1)


@pytest.mark.cluster
def test_a_killed_actor_loses_no_rows(ray_local, tfidf_run, parts, tmp_path, monkeypatch):
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import it
    marker = tmp_path / "exit-once"
    marker.write_text("")
    monkeypatch.setattr(ExitsOnce, "marker", str(marker))
    monkeypatch.setattr(distributed, "ScoreBatches", ExitsOnce)
    out = tmp_path / "ray.csv"
    report = predict_on_ray(tfidf_run, parts["csv"][0].parent, out, batch_size=8, progress=False)
    assert not marker.exists()  # an actor did exit
    assert report.rows == 90
    local = local_predictions(tfidf_run, parts["csv"], tmp_path, ".csv")
    expected = pd.concat([pd.read_csv(p, dtype=str) for p in local], ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_csv(out, dtype=str), expected)


@pytest.mark.cluster
def test_mistakes_are_one_line_before_ray_starts(tfidf_run, parts, tmp_path):
    folder = parts["csv"][0].parent
    with pytest.raises(OdioError, match="not standard input"):
        predict_on_ray(tfidf_run, "-", tmp_path / "o.csv")
    with pytest.raises(OdioError, match="column 'tweet' not found; the file has: 'id', 'text'"):
        predict_on_ray(tfidf_run, folder, tmp_path / "o.csv", text_column="tweet")
    with pytest.raises(OdioError, match="unknown label 'odio'"):
        predict_on_ray(tfidf_run, folder, tmp_path / "o.csv", thresholds={"odio": 0.5})
    with pytest.raises(OdioError, match="would overwrite the input"):
        predict_on_ray(tfidf_run, parts["csv"][0], parts["csv"][0])
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for path in (parts["csv"][0], parts["parquet"][0]):
        (mixed / path.name).write_bytes(path.read_bytes())
    with pytest.raises(OdioError, match="files of several formats \\(csv, parquet\\)"):
        predict_on_ray(tfidf_run, mixed, tmp_path / "o.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden.csv").write_text("text\nhola\n")
    with pytest.raises(OdioError, match="no data files"):
        predict_on_ray(tfidf_run, empty, tmp_path / "o.csv")

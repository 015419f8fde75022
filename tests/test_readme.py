"""The README's Python snippet runs as a newcomer would run it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_train_from_python_snippet_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Train from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "examples").mkdir()
    sample = ROOT / "examples" / "tweets_sample.csv"
    (tmp_path / "examples" / "tweets_sample.csv").write_bytes(sample.read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "runs" / "example-py" / "model" / "config.json").is_file()
    assert namespace["detector"].labels == namespace["run"].labels
    assert 0 <= namespace["result"].tuned.per_label["Odio"].f1 <= 1

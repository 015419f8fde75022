"""Take docs/label-page.png, the README's picture of ``odio label serve``: a few tweets of
examples/tweets_sample.csv, one annotator two answers in, two labels marked on the third.

    python docs/label_screenshot.py   # needs /usr/bin/chromium and playwright
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pandas as pd
from playwright.sync_api import sync_playwright

from odio.label.project import Project, Tweet
from odio.label.web import LabelServer, LabelSettings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sample = pd.read_csv(ROOT / "examples" / "tweets_sample.csv")
    rows = sample.sample(n=8, random_state=3)["text"].tolist()
    tweets = [
        Tweet(i, text, str(1000 + i), {"reply_to": "@usuario"}) for i, text in enumerate(rows)
    ]
    db = Path(tempfile.mkdtemp()) / "project.db"
    project = Project.create(db, tweets, labels=list(sample.columns[1:]), id_column="id")
    ana = project.annotator("ana")
    project.vote(ana, 0, ["Odio", "Mujeres"])
    project.vote(ana, 1, [])
    project.vote(project.annotator("bea"), 2, ["Odio", "Mujeres"])
    server = LabelServer(db, LabelSettings(port=0, votes=2))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        tab = browser.new_page(viewport={"width": 900, "height": 720})
        tab.goto(server.url)
        tab.fill("#name", "ana")
        tab.press("#name", "Enter")
        tab.wait_for_selector("#agreement td")
        tab.keyboard.press("1")
        tab.screenshot(path=str(ROOT / "docs" / "label-page.png"), full_page=True)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()

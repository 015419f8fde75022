"""The report as a person sees it: Debian's Chromium (headless, driven by Playwright) opens
``report.html`` in a 1280 x 800 window. Nothing downloads a browser: without
/usr/bin/chromium (``apt-get install chromium``) these tests are skipped."""

from __future__ import annotations

import pytest
from browser import CHROMIUM, FLAGS

from odio.reports.report import write_report

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def page(tfidf_run, tmp_path_factory):
    """The report of a five-label run, open in a 1280 x 800 window."""
    sync_api = pytest.importorskip("playwright.sync_api")
    files = write_report(tfidf_run, tmp_path_factory.mktemp("report_page"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.goto(files.html.as_uri())
            yield tab
        finally:
            browser.close()


def test_the_page_fits_a_1280_window(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_fold_table_fits_without_scrolling(page):
    """Each label's mean ± std was kept on one line: with five labels the fold table was
    wider than the page and had to be scrolled sideways."""
    table = page.locator("h2:has-text('Fold-to-fold spread') ~ table").first
    assert table.locator("th").count() >= 5 + 4  # every label has its column
    overflow = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert overflow[0] <= overflow[1]
    assert table.evaluate("t => t.getBoundingClientRect().right") <= 1280

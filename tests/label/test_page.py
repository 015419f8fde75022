"""The labelling page as annotators use it: Debian's Chromium (headless, driven by
Playwright) labels with the keyboard, undoes, reloads, and a second annotator votes; hostile
tweets render as text. Nothing downloads a browser: without /usr/bin/chromium (``apt-get
install chromium``) these tests are skipped."""

from __future__ import annotations

import pytest
from browser import CHROMIUM, FLAGS
from label_data import TWEETS

from odio.label.export import export_frame
from odio.label.project import Project, Tweet

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def expect():
    """Playwright's ``expect``, waiting up to 30 s (the machine may be busy)."""
    check = pytest.importorskip("playwright.sync_api").expect
    check.set_options(timeout=30_000)
    return check


def sign_in(browser, url: str, name: str, token: str = ""):
    """A new tab of a new browser profile, signed in as ``name``."""
    tab = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.errors = errors
    tab.goto(url)
    tab.fill("#name", name)
    tab.fill("#token", token)
    tab.press("#name", "Enter")
    return tab


def shows(tab, text: str) -> None:
    expect()(tab.locator("#text")).to_have_text(text)


def test_keyboard_labels_survive_undo_and_reload_and_two_annotators_export(
    project_file, serve, browser, tmp_path
):
    served = serve(project_file, votes=2)
    tab = sign_in(browser, served.url, "ana")
    shows(tab, TWEETS[0][1])
    expect()(tab.locator("#login")).to_be_hidden()
    expect()(tab.locator("#context")).to_contain_text(TWEETS[0][2])  # the tweet's context
    tab.keyboard.press("1")
    tab.keyboard.press("4")  # Comunidades Migrantes
    expect()(tab.locator("button[data-label='Odio']")).to_have_attribute("aria-pressed", "true")
    tab.keyboard.press("Enter")
    shows(tab, TWEETS[1][1])
    tab.keyboard.press("0")  # not hate
    shows(tab, TWEETS[2][1])
    tab.keyboard.press("2")  # Mujeres marks Odio too
    tab.keyboard.press("Enter")
    shows(tab, TWEETS[3][1])
    tab.keyboard.press("1")
    tab.keyboard.press("Enter")
    shows(tab, TWEETS[4][1])
    tab.keyboard.press("u")  # the last answer (Odio on tweet 3) is taken back
    shows(tab, TWEETS[3][1])
    tab.keyboard.press("0")
    shows(tab, TWEETS[4][1])
    tab.keyboard.press("s")  # skip
    shows(tab, TWEETS[5][1])
    tab.keyboard.press("1")
    tab.keyboard.press("5")
    tab.keyboard.press("Enter")
    expect()(tab.locator("#done")).to_be_visible()

    tab.reload()
    expect()(tab.locator("#done")).to_be_visible()  # signed in still, nothing left for ana
    expect()(tab.locator("#progress")).to_contain_text("you: 5 votes, 1 skips")
    ana = {
        0: ["Odio", "Comunidades Migrantes"],
        1: [],
        2: ["Odio", "Mujeres"],
        3: [],
        5: ["Odio", "Pueblos Originarios"],
    }
    kept = {t: labels for t, name, labels in Project(project_file).votes() if name == "ana"}
    assert kept == ana

    other = sign_in(browser, served.url, "bea")
    bea = {0: ["Odio", "Comunidades Migrantes"], 1: ["Odio", "Mujeres"], 2: []}
    for tweet, labels in bea.items():
        shows(other, TWEETS[tweet][1])
        for label in labels:
            other.click(f"button[data-label='{label}']")
        other.keyboard.press("Enter" if labels else "0")
    shows(other, TWEETS[3][1])
    expect()(other.locator("#agreement")).to_contain_text("Odio")
    assert tab.errors == [] and other.errors == []

    frame = export_frame(Project(project_file)).set_index("id")
    labels = Project(project_file).labels
    for tweet in ana:
        key = TWEETS[tweet][0]
        both = [ana[tweet], bea.get(tweet)]
        votes = [v for v in both if v is not None]
        assert frame.loc[key, "annotators"] == len(votes)
        for label in labels:
            assert frame.loc[key, label] == sum(label in v for v in votes), (tweet, label)


HOSTILE = [
    '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
    "\u202egnp.exe ándate a tu país \u202c fin",
    ("odio " * 20 + "<b>negrita</b>\n") * 5000 + "x" * (1_000_000 - 120 * 5000 - 500),
]


def test_hostile_tweets_render_as_text(tmp_path, serve, browser):
    db = tmp_path / "hostile.db"
    context = {"reply_to": '<img src=x onerror="window.pwned = 3">'}
    tweets = [Tweet(i, text, f"<i>{i}</i>", context) for i, text in enumerate(HOSTILE)]
    Project.create(db, tweets, labels=["Odio", "<b>Mujeres</b>"]).close()
    served = serve(db)
    tab = sign_in(browser, served.url, '<img src=x onerror="window.pwned = 4">')
    for tweet, text in zip(tweets, HOSTILE, strict=True):
        tab.wait_for_function(
            "t => document.getElementById('text').textContent === t", arg=text, timeout=30_000
        )
        assert tab.evaluate("window.pwned") is None
        assert tab.locator("#card script, #card img, #card b, #card i").count() == 0
        assert tab.locator("#context dd").first.text_content() == tweet.key
        assert tab.evaluate("getComputedStyle(document.getElementById('text')).unicodeBidi") == (
            "isolate"
        )
        assert tab.locator("#card").bounding_box()["height"] < 800  # 1 MB scrolls inside
        expect()(tab.locator("button[data-action='save']")).to_be_in_viewport()
        tab.keyboard.press("0")
    expect()(tab.locator("#done")).to_be_visible()
    assert tab.locator("button[data-label='<b>Mujeres</b>']").text_content() == "2<b>Mujeres</b>"
    assert tab.evaluate("window.pwned") is None and tab.errors == []
    assert len(Project(db).votes()) == len(HOSTILE)


def test_a_wrong_token_shows_the_sign_in_again(project_file, serve, browser):
    served = serve(project_file, token="s3cret")
    tab = sign_in(browser, served.url, "ana", token="guess")
    expect()(tab.locator("#login .error")).to_have_text("wrong token")
    assert tab.locator("#work").is_hidden()
    tab.fill("#token", "s3cret")
    tab.press("#name", "Enter")
    shows(tab, TWEETS[0][1])


def test_the_model_probabilities_stay_hidden_until_asked_for(tmp_path, serve, browser):
    db = tmp_path / "probs.db"
    Project.create(db, [Tweet(0, "hola", probs={"Odio": 0.734})], labels=["Odio"]).close()
    tab = sign_in(browser, serve(db).url, "ana")
    shows(tab, "hola")
    expect()(tab.locator("#probs")).to_be_hidden()  # seeing them anchors annotators
    tab.keyboard.press("p")
    expect()(tab.locator("#probs")).to_have_text("model: Odio 0.73")
    tab.keyboard.press("p")
    expect()(tab.locator("#probs")).to_be_hidden()

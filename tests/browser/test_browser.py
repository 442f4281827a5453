"""A real browser against a real ``sakuin serve``: search, highlights, section links, XSS, layout.

Uses Debian's /usr/bin/chromium through Playwright (no downloaded browser). Skips
cleanly where either is missing. Screenshots go to ``test-output/`` (git-ignored),
and the desktop results page is copied to ``docs/screenshot-results.png`` for the README
when that file is missing or SAKUIN_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from support.browser import CHROMIUM
from support.corpora import SEED_ID
from support.paths import OUTPUT, ROOT, SEEDS
from support.web import running_server

pytestmark = pytest.mark.browser

README_SHOT = ROOT / "docs" / "screenshot-results.png"

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
XSS_RECORD = {
    "id": "xss/試験",
    "title": f"侵入試験 {XSS_IMG}",
    "sections": [{"heading": f"脆弱性 {XSS_SCRIPT}", "text": f"侵入試験の本文 {XSS_IMG} {XSS_SCRIPT} おわり"}],
}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(make_index: Callable[..., Path]) -> Iterator[str]:
    """A live server on a free port over the seed plus a hostile document; yields its base URL."""
    index = make_index({"xss.jsonl": json.dumps(XSS_RECORD, ensure_ascii=False) + "\n"}, extra=[SEEDS])
    with running_server(index) as base:
        yield base


class Watch:
    """What a page did that it must not: dialogs, CSP violations, script errors."""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")


@pytest.fixture
def page(browser) -> Iterator[tuple[object, Watch]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    watch = Watch(pg)
    yield pg, watch
    context.close()


def test_search_click_through_to_the_highlighted_section(server: str, page) -> None:
    pg, watch = page
    expect = sync_api.expect
    pg.goto(server + "/")
    box = pg.locator("#q")
    expect(box).to_be_focused()  # autofocus
    box.press_sequentially("国防大臣")
    box.press("Enter")
    pg.wait_for_url("**/search?q=*")

    marks = pg.locator(".snippet mark")
    expect(marks.first).to_be_visible()
    assert marks.count() >= 5
    expect(marks.first).to_have_text("国防大臣")
    groups = pg.locator(".doc-group")
    expect(groups).to_have_count(1)  # the seed document, its title shown once
    assert groups.locator(".hit").count() == 10
    expect(pg.locator(".summary")).to_contain_text("17")
    expect(pg.locator("nav.pager [aria-current=page]")).to_have_text("1")

    # Japanese text is drawn with a Japanese font (no tofu): the title's glyphs have width.
    width = pg.locator(".doc-title a").evaluate("e => e.getBoundingClientRect().width")
    assert width > 300
    OUTPUT.mkdir(exist_ok=True)
    pg.screenshot(path=str(OUTPUT / "results.png"))
    # The README's copy is only replaced on request: the timing in the page changes every run,
    # and a test run should not leave the working tree dirty.
    if not README_SHOT.exists() or os.environ.get("SAKUIN_UPDATE_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(OUTPUT / "results.png", README_SHOT)

    first = pg.locator(".hit a.hit-heading").first
    href = first.get_attribute("href")
    assert href == f"/doc/{SEED_ID}?q={quote('国防大臣')}#s-1"
    first.click()
    pg.wait_for_url(f"**/doc/{SEED_ID}?q=*#s-1")
    assert pg.url.endswith("#s-1")
    assert pg.evaluate("document.querySelector(':target').id") == "s-1"
    section = pg.locator("#s-1")
    expect(section.locator("h2 mark").first).to_have_text("国防大臣")
    expect(section.locator("p mark").first).to_be_visible()
    # The :target section is styled and scrolled into view.
    background = section.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # (Scrolling may be smooth, so wait for it to settle rather than read it once.)
    pg.wait_for_function(
        "() => { const t = document.getElementById('s-1').getBoundingClientRect().top; return t >= 0 && t < 300; }"
    )
    OUTPUT.mkdir(exist_ok=True)
    pg.screenshot(path=str(OUTPUT / "document.png"))
    assert not watch.dialogs and not watch.problems, watch.problems


def test_slash_key_focuses_the_search_box(server: str, page) -> None:
    pg, watch = page
    pg.goto(f"{server}/doc/{SEED_ID}")
    expect = sync_api.expect
    expect(pg.locator("#q")).not_to_be_focused()  # no autofocus on a document: it would scroll
    pg.locator("h1").click()
    pg.keyboard.press("/")
    expect(pg.locator("#q")).to_be_focused()
    assert pg.locator("#q").input_value() == ""  # the "/" was not typed into the box
    assert not watch.problems, watch.problems


def test_xss_payloads_do_not_execute(server: str, page) -> None:
    pg, watch = page
    expect = sync_api.expect
    pg.goto(f"{server}/search?q={quote('侵入試験')}")
    expect(pg.locator(".doc-title")).to_contain_text(XSS_IMG)  # shown as text
    expect(pg.locator(".snippet")).to_contain_text(XSS_SCRIPT)
    assert pg.locator(".results img").count() == 0
    pg.locator(".hit a.hit-heading").first.click()
    pg.wait_for_url("**/doc/**#s-0")
    expect(pg.locator("h1")).to_have_text(f"侵入試験 {XSS_IMG}")
    expect(pg.locator("#s-0 h2")).to_contain_text(XSS_SCRIPT)
    # A hostile query, too.
    pg.goto(f"{server}/search?q={quote(XSS_IMG)}")
    expect(pg.locator("#q")).to_have_value(XSS_IMG)
    pg.wait_for_timeout(300)  # give an onerror a chance to fire, if it could
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert watch.dialogs == []
    assert pg.locator("main img").count() == 0


def test_works_without_javascript(server: str, browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    try:
        pg = context.new_page()
        pg.goto(server + "/")
        pg.fill("#q", "電話会談")
        pg.locator(".search-form button").click()
        pg.wait_for_url("**/search?q=*")
        sync_api.expect(pg.locator(".snippet mark").first).to_be_visible()
        pg.locator("nav.pager a[rel=next]").click()
        sync_api.expect(pg.locator("nav.pager [aria-current=page]")).to_have_text("2")
    finally:
        context.close()


def test_phone_layout_does_not_overflow(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="ja-JP", is_mobile=True)
    try:
        pg = context.new_page()
        for url in (f"/search?q={quote('ウクライナ')}", f"/doc/{SEED_ID}?q={quote('ウクライナ')}#s-13", "/help"):
            pg.goto(server + url)
            overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{url} is {overflow}px wider than the phone"
        pg.goto(f"{server}/search?q={quote('ウクライナ')}")
        OUTPUT.mkdir(exist_ok=True)
        pg.screenshot(path=str(OUTPUT / "results-phone.png"))
    finally:
        context.close()

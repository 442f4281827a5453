"""The results page's facets, chips, sort, suggestions, dark theme and phone layout, in a real browser.

The server indexes the generated corpus of ``test_metadata`` (``RECORDS`` of
``support/corpora.py``: category, date, price, tags), so every count the page shows can
be checked against the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlparse

import pytest
from support.browser import CHROMIUM
from support.corpora import RECORDS, record_words
from support.paths import OUTPUT
from support.web import running_server

from sakuin.search.embedded.writing.indexer import build_index

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("facets-ui")
    docs = base / "docs"
    docs.mkdir()
    (docs / "records.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    build_index([docs], base / "index", declare=[("category", "keyword"), ("date", "date"), ("tags", "keyword")])
    with running_server(base / "index") as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, errors


def _filters(url: str) -> list[str]:
    return parse_qs(urlparse(url).query).get("filter", [])


def _count(category: str, word: str = "国防") -> int:
    return sum(1 for r in RECORDS[:80] if r["category"] == category and word in record_words(r))


def test_facet_click_chip_removal_and_back_button(server: str, page) -> None:
    pg = page
    pg.goto(f"{server}/search?q={quote('国防')}")
    box = pg.locator('.facet[data-facet="category"] input[value="category:政治"]')
    expect(box).not_to_be_checked()
    box.check()  # applies at once: the form submits on change
    pg.wait_for_url("**filter=category*")
    assert _filters(pg.url) == ["category:政治"]
    expect(pg.locator(".summary strong")).to_have_text(str(_count("政治")))
    expect(pg.locator('.facet input[value="category:政治"]')).to_be_checked()
    expect(pg.locator(".chip")).to_have_count(1)
    # A second value of the same facet widens the results (OR).
    pg.locator('.facet input[value="category:経済"]').check()
    pg.wait_for_url(lambda url: len(_filters(url)) == 2)
    expect(pg.locator(".summary strong")).to_have_text(str(_count("政治") + _count("経済")))
    OUTPUT.mkdir(exist_ok=True)
    pg.screenshot(path=str(OUTPUT / "facets.png"))
    pg.locator(".chip", has_text="カテゴリ: 政治").click()
    pg.wait_for_url(lambda url: _filters(url) == ["category:経済"])
    expect(pg.locator(".summary strong")).to_have_text(str(_count("経済")))
    pg.go_back()
    pg.wait_for_url(lambda url: len(_filters(url)) == 2)
    expect(pg.locator(".chip")).to_have_count(2)


def test_sort_control_orders_by_date(server: str, page) -> None:
    pg = page
    pg.goto(f"{server}/search?q={quote('会談')}")
    pg.select_option("#sort", "-date")
    pg.wait_for_url("**sort=-date*")
    dates = pg.locator('.doc-meta[data-field="date"]').all_inner_texts()
    assert dates and dates == sorted(dates, reverse=True)
    pg.select_option("#sort", "date")
    pg.wait_for_url(lambda url: "sort=date" in url)
    dates = pg.locator('.doc-meta[data-field="date"]').all_inner_texts()
    assert dates == sorted(dates)


def test_suggestions_by_keyboard(server: str, page) -> None:
    pg = page
    pg.goto(server + "/")
    box = pg.locator("#q")
    box.press_sequentially("国")
    listbox = pg.locator("#q-suggest")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.locator("[role=option]")
    assert options.count() >= 1
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "q-suggest-0")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("Backspace")
    box.press_sequentially("選")  # 選挙 is indexed
    expect(listbox).to_be_visible()
    box.press("ArrowDown")
    chosen = options.first.get_attribute("data-text")
    assert chosen and chosen.startswith("選")
    box.press("Enter")
    pg.wait_for_url("**/search?q=*")
    assert parse_qs(urlparse(pg.url).query)["q"] == [chosen]


def test_dark_theme_follows_the_system(browser, server: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.goto(f"{server}/search?q={quote('国防')}&filter=category:政治")
        colours[scheme] = pg.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        pg.screenshot(path=str(OUTPUT / f"facets-{scheme}.png"))
        context.close()
    assert colours["light"] == "rgb(255, 255, 255)"
    r, g, b = (int(c) for c in colours["dark"][4:-1].split(","))
    assert max(r, g, b) < 40, colours


def test_phone_layout_folds_the_facets(browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, locale="ja-JP")
    try:
        pg = context.new_page()
        pg.goto(f"{server}/search?q={quote('国防')}")
        assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        panel = pg.locator(".facet-panel")
        assert panel.evaluate("e => e.open") is False  # results first on a phone
        pg.locator(".facet-panel summary").click()
        pg.locator('.facet input[value="category:政治"]').check()
        pg.wait_for_url("**filter=category*")
        expect(pg.locator(".summary strong")).to_have_text(str(_count("政治")))
        pg.screenshot(path=str(OUTPUT / "facets-phone.png"))
    finally:
        context.close()


def test_facets_and_sort_work_without_javascript(browser, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    try:
        pg = context.new_page()
        pg.goto(f"{server}/search?q={quote('国防')}")
        pg.locator('.facet input[value="category:政治"]').check()
        pg.locator(".facet-form button.apply").click()
        pg.wait_for_url("**filter=category*")
        expect(pg.locator(".summary strong")).to_have_text(str(_count("政治")))
        pg.select_option("#sort", "-date")
        pg.locator(".sort-form button.apply").click()
        pg.wait_for_url("**sort=-date*")
        assert _filters(pg.url) == ["category:政治"]  # the sort keeps the filters
        pg.locator(".chip").first.click()
        pg.wait_for_url(lambda url: not _filters(url))
    finally:
        context.close()

"""A PDF hit in a real browser: the type label, the page link, and the document page with the
page's thumbnail, its matches boxed, on a desktop and on a phone.

The screenshots go to ``test-output/``; ``docs/screenshot-pdf.png`` and
``docs/screenshot-pdf-phone.png`` (shown in docs/usage.md) are written when missing or
with SAKUIN_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from support.browser import CHROMIUM
from support.documents import REPORT_HTML, chromium_pdf, write_docx
from support.paths import OUTPUT, ROOT
from support.web import running_server

from sakuin.search.backend import build

pytestmark = pytest.mark.browser

SHOTS = {"desktop": ROOT / "docs" / "screenshot-pdf.png", "phone": ROOT / "docs" / "screenshot-pdf-phone.png"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("pdf-ui")
    docs = base / "docs"
    docs.mkdir()
    chromium_pdf(REPORT_HTML, docs / "社内規程.pdf")
    write_docx(docs / "就業規則.docx")
    (docs / "朝礼.md").write_text("# 朝礼\n\n始業時刻の五分前に朝礼を行う。\n", encoding="utf-8")
    build(base / "index", [docs])
    with running_server(base / "index") as url:
        yield url


def _save(pg: object, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / f"{name}.png"
    pg.screenshot(path=str(shot))  # type: ignore[attr-defined]
    kind = "phone" if name.endswith("phone") else "desktop"
    if not SHOTS[kind].exists() or os.environ.get("SAKUIN_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SHOTS[kind])


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_pdf_hit_opens_at_its_page_with_a_boxed_thumbnail(server: str, browser, device: str) -> None:
    expect = sync_api.expect
    options = (
        {"viewport": {"width": 1200, "height": 1500}}
        if device == "desktop"
        else {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}
    )
    context = browser.new_context(locale="ja-JP", **options)
    try:
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.goto(f"{server}/search?q={quote('始業時刻')}")
        group = pg.locator(".doc-group", has=pg.locator('.type-label[data-type="pdf"]'))
        expect(group.locator(".type-label")).to_have_text("PDF")
        link = group.locator("a.page-link").first
        assert link.get_attribute("href") == f"/files/{quote('社内規程.pdf')}#page=2"
        expect(link).to_have_text("p. 2")
        group.locator("a.hit-heading").first.click()
        pg.wait_for_url("**/doc/**#s-2")
        figure = pg.locator("#s-2 figure.page-thumb img")
        expect(figure).to_be_visible()
        pg.wait_for_function(
            "() => { const i = document.querySelector('#s-2 figure img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        assert figure.evaluate("i => i.naturalWidth") == 480
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        # The desktop shot shows the document's header and table of contents too; the phone's the section.
        pg.evaluate(
            "window.scrollTo(0, 0)" if device == "desktop" else "document.querySelector('#s-2').scrollIntoView()"
        )
        _save(pg, "pdf-hit" if device == "desktop" else "pdf-hit-phone")
        assert not problems, problems
    finally:
        context.close()

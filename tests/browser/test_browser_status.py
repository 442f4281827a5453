"""The status page in a real browser, beside a running ``sakuin watch``: charts drawn within the
Content-Security-Policy, the watcher in words, the runs, and the skipped files filtered.

The desktop page is saved to ``test-output/status.png`` and copied to
``docs/screenshot-status.png`` (shown in the docs) when that file is missing or
SAKUIN_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import CHROMIUM
from support.corpora import TOPICS, write_corpus
from support.paths import OUTPUT, ROOT, SEEDS
from support.processes import kill_group, sakuin_cmd
from support.web import running_server

from sakuin.search.embedded.status import FileStatusStore
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.search.watching.state import read_watchers

pytestmark = pytest.mark.browser

DOCS_SHOT = ROOT / "docs" / "screenshot-status.png"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


def _paragraphs() -> list[str]:
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if len(line) > 30]


def _corpus(docs: Path, generation: int) -> None:
    """Folders of every kind: Markdown news, HTML blog posts, text notes, a JSONL feed, and files to skip."""
    paras = _paragraphs()
    for i in range(12 + generation * 3):
        topic = TOPICS[i % len(TOPICS)]
        body = "\n\n".join(paras[(i + k) % len(paras)] for k in range(3))
        path = docs / "news" / f"{i:02d}-{topic}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {topic}のニュース {i}\n\n## 概要\n\n{body}\n", encoding="utf-8")
    for i in range(6):
        path = docs / "blog" / f"post-{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<title>{TOPICS[i]}の日記</title><h1>{TOPICS[i]}</h1><p>{paras[i]}</p>", encoding="utf-8")
    for i in range(4):
        path = docs / "notes" / "2024" / f"memo-{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"メモ {i}\n\n{paras[-i - 1]}\n", encoding="utf-8")
    write_corpus(docs / "feeds", generation, range(1), per_file=20)
    (docs / "blog" / "report.zip").write_bytes(b"PK\x03\x04")
    (docs / "notes" / "slides.key").write_bytes(b"PK\x03\x04")
    (docs / "notes" / "draft.txt").write_text("", encoding="utf-8")
    (docs / "news" / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """An index with a history (builds, updates, one failed run), a running watcher, a server."""
    base = tmp_path_factory.mktemp("status")
    docs, ix = base / "docs", base / "ix"
    _corpus(docs, 0)
    build_index([docs], ix)
    _corpus(docs, 1)
    build_index([docs], ix)
    (docs / "news" / "00-猫.md").unlink()
    real = IndexStore.publish

    def full(self: IndexStore, tmp: Path, manifest: dict) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    IndexStore.publish = full  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError):
            build_index([docs], ix)
    finally:
        IndexStore.publish = real  # type: ignore[method-assign]
    build_index([docs], ix)
    log = open(base / "watch.log", "wb")  # noqa: SIM115 — closed below
    watcher = subprocess.Popen(
        sakuin_cmd("watch", str(docs), "--index-dir", str(ix)),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SAKUIN_WATCH_QUIET": "0.3"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "no change" not in (base / "watch.log").read_text(encoding="utf-8"):
            assert watcher.poll() is None and time.monotonic() < deadline, (base / "watch.log").read_text()
            time.sleep(0.1)
        (docs / "news" / "99-温泉.md").write_text("# 温泉の話\n\n温泉に行った。\n", encoding="utf-8")
        while " updated " not in (base / "watch.log").read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, (base / "watch.log").read_text()
            time.sleep(0.1)
        with running_server(ix) as url:
            yield url, docs, ix
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            watcher.wait(20)
        finally:
            kill_group(watcher.pid)
            log.close()


@pytest.fixture
def page(browser) -> Iterator[tuple[object, list[str]]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    yield pg, problems
    context.close()


def test_the_status_page_shows_what_happened(watched: tuple[str, Path, Path], page) -> None:
    base, _, ix = watched
    pg, problems = page
    expect = sync_api.expect
    pg.goto(base + "/")
    pg.locator("p.index-stats a.status-link").click()
    pg.wait_for_url("**/status")
    status = json.loads(pg.evaluate("fetch('/api/status').then(r => r.text())"))

    # Charts: drawn (they have a size), one bar per type and folder, a point per recorded run.
    for chart in ("#chart-types", "#chart-folders", "#chart-sizes"):
        box = pg.locator(chart).bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 50, chart
    expect(pg.locator("#chart-types .chart-row")).to_have_count(len(status["index"]["types"]))
    expect(pg.locator("#chart-folders .chart-row")).to_have_count(len(status["index"]["folders"]))
    sized = [r for r in status["runs"] if r["outcome"] != "failed"]
    expect(pg.locator("#chart-sizes .chart-point")).to_have_count(len(sized))
    bar = pg.locator("#chart-types .chart-bar").first.evaluate("e => getComputedStyle(e).fill")
    assert bar not in ("none", "rgb(0, 0, 0)")  # coloured by the stylesheet, not inline

    # The watcher in words, the runs with the failed one, the skipped files.
    expect(pg.locator("li.watcher .state-badge")).to_have_text("待機中")
    expect(pg.locator("tr.run")).to_have_count(len(status["runs"]))
    expect(pg.locator("tr.run.outcome-failed .run-error")).to_contain_text("No space left on device")
    expect(pg.locator("tr.skip")).to_have_count(status["skipped"]["total"])
    OUTPUT.mkdir(exist_ok=True)
    pg.screenshot(path=str(OUTPUT / "status.png"), full_page=True)
    if not DOCS_SHOT.exists() or os.environ.get("SAKUIN_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(OUTPUT / "status.png", DOCS_SHOT)

    # Filter the skipped files by reason, then by path (the form works without JavaScript).
    pg.locator('.skip-filter input[value="unsupported_type"]').check()
    pg.locator(".skip-filter button").click()
    pg.wait_for_url("**/status?reason=unsupported_type*")
    expect(pg.locator("tr.skip")).to_have_count(status["skipped"]["reasons"]["unsupported_type"])
    assert set(pg.locator("tr.skip").evaluate_all("rows => rows.map(r => r.dataset.code)")) == {"unsupported_type"}
    pg.locator('.skip-filter input[name="path"]').fill("notes/")
    pg.locator(".skip-filter button").click()
    expect(pg.locator("tr.skip")).to_have_count(1)
    expect(pg.locator("tr.skip td.path")).to_contain_text("slides.key")
    assert not problems, problems
    assert read_watchers(FileStatusStore(ix))[0]["running"]


def test_the_status_page_on_a_phone_and_in_the_dark(watched: tuple[str, Path, Path], browser) -> None:
    base, _, _ = watched
    for scheme in ("light", "dark"):
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="ja-JP", color_scheme=scheme, is_mobile=True
        )
        pg = context.new_page()
        pg.goto(base + "/status")
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
        box = pg.locator("#chart-folders").bounding_box()
        assert box is not None and 300 <= box["width"] <= 390
        text = pg.locator("#chart-types .chart-label").first.evaluate("e => getComputedStyle(e).color")
        background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        assert text != background
        size = pg.locator("#chart-sizes .tick").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 11, "the chart's words stay readable on a phone"
        OUTPUT.mkdir(exist_ok=True)
        pg.screenshot(path=str(OUTPUT / f"status-phone-{scheme}.png"), full_page=True)
        context.close()

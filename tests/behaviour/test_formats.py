"""A folder of real documents on both backends: PDF, Office, EPUB and mail next to Markdown, with
hostile files among them. Every readable file is indexed (extracted in the analysis workers),
every hostile one skipped with its reason; hits know their type and page, the originals are
served only from inside the folder, and a PDF page's thumbnail boxes the matches."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from support.backends import BACKENDS
from support.documents import (
    REPORT_HTML,
    chromium_pdf,
    encrypted_pdf,
    huge_pdf,
    iso2022_mail,
    truncated,
    write_docx,
    write_epub,
    write_pptx,
    write_xlsx,
    zip_bomb_docx,
)

from sakuin.search.backend import build, open_engine
from sakuin.search.indexing.report import IndexReport
from sakuin.web import create_app

ALIAS = "sakuin-formats"
HOSTILE = {
    "hostile/bomb.docx": "DOCX would decompress to 310 MB (limit 300 MB, SAKUIN_MAX_UNZIPPED_MB): a zip bomb?",
    "hostile/huge.pdf": "20,000 pages (limit 5,000, SAKUIN_MAX_PAGES)",
    "hostile/cut.docx": "not a readable DOCX (damaged or truncated zip",
    "hostile/locked.pdf": "encrypted PDF: it needs a password to open",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("real-documents")
    docs = base / "docs"
    (docs / "hostile").mkdir(parents=True)
    chromium_pdf(REPORT_HTML, docs / "規程.pdf")
    write_docx(docs / "規則.docx")
    write_pptx(docs / "報告.pptx")
    write_xlsx(docs / "支店.xlsx")
    write_epub(docs / "草枕.epub")
    (docs / "会議.eml").write_bytes(iso2022_mail(("添付規則.docx", (docs / "規則.docx").read_bytes())))
    (docs / "メモ.md").write_text("# メモ\n\n始業前に朝礼を行う。\n", encoding="utf-8")
    zip_bomb_docx(docs / "hostile/bomb.docx", 310)
    (docs / "hostile/huge.pdf").write_bytes(huge_pdf(20_000))
    truncated(docs / "規則.docx", docs / "hostile/cut.docx")
    (docs / "hostile/locked.pdf").write_bytes(encrypted_pdf(b"himitsu"))
    outside = base / "outside"
    outside.mkdir()
    (outside / "秘密.md").write_text("# 秘密\n\n外の秘密の文書。\n", encoding="utf-8")
    os.symlink(outside / "秘密.md", docs / "リンク.md")
    return docs


@pytest.fixture(scope="module", params=BACKENDS)
def built(
    request: pytest.FixtureRequest, folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, IndexReport]]:
    if request.param == "embedded":
        target = str(tmp_path_factory.mktemp("formats-index") / "index")
        yield target, build(target, [folder], procs=2)
        return
    target = ",".join(request.getfixturevalue("cluster_urls"))
    os.environ["SAKUIN_CLUSTER_INDEX"] = ALIAS
    try:
        yield target, build(target, [folder], rebuild=True, shards=3, replicas=1)
    finally:
        os.environ.pop("SAKUIN_CLUSTER_INDEX", None)


@pytest.fixture(scope="module")
def engine(built: tuple[str, IndexReport]) -> Any:
    return open_engine(built[0])


@pytest.fixture(scope="module")
def client(built: tuple[str, IndexReport]) -> FlaskClient:
    return create_app({"TESTING": True, "BACKEND": built[0]}).test_client()


def test_every_readable_file_is_indexed_and_every_hostile_one_skipped_with_its_reason(
    built: tuple[str, IndexReport], folder: Path
) -> None:
    report = built[1]
    skipped = {Path(path).relative_to(folder).as_posix(): reason for path, reason in report.skipped}
    assert set(skipped) == set(HOSTILE)
    for name, reason in HOSTILE.items():
        assert skipped[name].startswith(reason), (name, skipped[name])
    added = sorted(Path(p).relative_to(folder).as_posix() for p in report.added)
    assert added == sorted(
        ["規程.pdf", "規則.docx", "報告.pptx", "支店.xlsx", "草枕.epub", "会議.eml", "メモ.md", "リンク.md"]
    )
    assert report.documents == 9  # the mail's attachment is a document of its own


def test_a_pdf_hit_knows_its_type_and_page(engine: Any) -> None:
    result = engine.search("始業時刻", facets=["type"])
    pdf = next(h for h in result.hits if h.doc_id == "規程.pdf")
    assert (pdf.file_type, pdf.heading, pdf.pages, pdf.page) == ("pdf", "第2章 勤務", (2, 2), 2)
    hit = pdf.to_dict()
    assert (hit["type"], hit["pages"], hit["page"]) == ("pdf", [2, 2], 2)
    assert hit["modified"]
    text = pdf.snippet.text
    marked = [text[s:e] for s, e in pdf.snippet.highlights]
    assert marked[0] == "始業時刻" and set(marked) <= {"始業時刻", "時刻"}  # 終業時刻's 時刻 is a part match


def test_highlights_are_exact_in_every_format(engine: Any) -> None:
    for q, doc_id, marked in (
        ("前年比", "報告.pptx", "前年比"),
        ("大阪", "支店.xlsx", "大阪"),
        ("情に棹させば", "草枕.epub", "情"),
        ("第二会議室", "会議.eml", "第二会議室"),
        ("服務規律", "会議.eml#添付規則.docx", "服務規律"),
    ):
        hit = next(h for h in engine.search(q).hits if h.doc_id == doc_id)
        text = hit.snippet.text
        assert marked in [text[s:e] for s, e in hit.snippet.highlights], (q, doc_id, hit.snippet.html)


def test_the_type_facet_and_the_modified_date(engine: Any) -> None:
    result = engine.search("始業", facets=["type"])
    counts = {v.value: v.count for v in result.facets["type"]}
    assert counts["pdf"] >= 1 and counts["docx"] >= 1 and counts["md"] == 1
    only = engine.search("始業 type:pdf")
    assert {h.file_type for h in only.hits} == {"pdf"}
    assert engine.search("始業", filters=["modified:>=2000-01-01"]).total == result.total
    assert engine.search("始業", filters=["modified:<2000-01-01"]).total == 0
    assert engine.search("始業", sort="-modified").total == result.total


def test_ruby_and_furigana_are_not_glued_onto_the_text(engine: Any) -> None:
    assert engine.search('"智に働けば"').total >= 2  # the EPUB and the DOCX
    sheet = engine.document("支店.xlsx")
    assert sheet.sections[0].text.split("\n")[1] == "東京\t1200"  # the reading トウキョウ is not text


def test_a_pdf_hit_links_to_its_page_and_the_original_is_served(client: FlaskClient) -> None:
    page = client.get("/search?q=始業時刻").get_data(as_text=True)
    assert 'href="/files/%E8%A6%8F%E7%A8%8B.pdf#page=2"' in page
    assert 'data-type="pdf"' in page
    response = client.get("/files/規程.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF")
    download = client.get("/files/規則.docx")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    attachment = client.get("/files/会議.eml%23添付規則.docx")
    assert attachment.status_code == 200 and attachment.data.startswith(b"PK")


@pytest.mark.parametrize(
    "address",
    [
        "/files/../規程.pdf",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/..%2f..%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/hostile/huge.pdf",  # skipped: not in the index
        "/files/リンク.md",  # indexed, but a link out of the folder
        "/files/outside/秘密.md",
        "/thumbs/1/リンク.md",
        "/thumbs/1/../規程.pdf",
        "/thumbs/99/規程.pdf",
    ],
)
def test_nothing_outside_the_indexed_folders_is_served(client: FlaskClient, address: str) -> None:
    missing = client.get("/doc/no-such-document")
    response = client.get(address)
    assert response.status_code == 404
    assert response.get_data(as_text=True) == missing.get_data(as_text=True)


def test_the_document_page_shows_the_page_thumbnail_with_the_matches_boxed(client: FlaskClient) -> None:
    from PIL import Image

    page = client.get("/doc/規程.pdf?q=始業時刻").get_data(as_text=True)
    assert 'src="/thumbs/2/%E8%A6%8F%E7%A8%8B.pdf?q=' in page
    thumb = client.get("/thumbs/2/規程.pdf?q=始業時刻")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(thumb.data)).convert("RGB")
    assert image.width == 480
    red = _red(image)
    assert red > 50  # the box's outline
    assert _red(Image.open(io.BytesIO(client.get("/thumbs/2/規程.pdf").data)).convert("RGB")) < red


def _red(image: Any) -> int:
    """Pixels of the boxes' red outline."""
    r, g, b = (channel.tobytes() for channel in image.split())
    return sum(1 for x, y, z in zip(r, g, b, strict=True) if x > 180 and y < 90 and z < 90)


def test_an_update_rereads_only_the_changed_file(folder: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(folder, docs, ignore=shutil.ignore_patterns("hostile", "リンク.md"))
    index = tmp_path / "index"
    first = build(index, [docs], procs=2)
    assert first.documents == 8
    pptx = docs / "報告.pptx"
    from pptx import Presentation

    deck = Presentation(str(pptx))
    deck.slides[0].placeholders[1].text = "第4四半期は新記録。"
    deck.save(str(pptx))
    second = build(index, [docs], procs=2)
    assert [Path(p).name for p in second.changed] == ["報告.pptx"] and second.unchanged == 6
    engine = open_engine(index)
    assert engine.search("新記録").total == 1
    assert engine.search("前年比").total == 0


def test_builds_with_extraction_in_the_workers_are_reproducible(folder: Path, tmp_path: Path) -> None:
    """The same folder and worker count give the same sections in the same order (document numbers)."""
    orders = []
    for name in ("one", "two"):
        index = tmp_path / name
        build(index, [folder], procs=2)
        engine = open_engine(index)
        with engine.live.pin() as pinned:
            orders.append([(f["key"], f.get("info")) for f in pinned.searcher.all_stored_fields()])
        engine.close()
    assert orders[0] == orders[1]
    assert len(orders[0]) > 15

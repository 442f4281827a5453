"""The extracted formats, each on documents the test makes: sections, headings, pages, reading
order, metadata, and the hostile files skipped with their reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.documents import (
    PAGES_HTML,
    REPORT_HTML,
    chromium_pdf,
    cid_pdf,
    encrypted_pdf,
    html_mail,
    huge_pdf,
    identity_h,
    iso2022_mail,
    mbox,
    mislabelled_mail,
    scanned_pdf,
    truncated,
    write_docx,
    write_epub,
    write_pptx,
    write_xlsx,
    zip_bomb_docx,
)

from sakuin.search.documents.extract import extract_file
from sakuin.search.documents.files import read_file
from sakuin.search.documents.formats.glyphs import ordinary
from sakuin.search.documents.formats.ocr import ocr_available
from sakuin.search.documents.model import Document
from sakuin.search.errors import UnreadableFile


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("formats")


def _one(path: Path) -> Document:
    (document,) = extract_file(path, path.parent).documents
    return document


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableFile) as err:
        extract_file(path, path.parent)
    return str(err.value)


# -- PDF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(folder: Path) -> Document:
    return _one(chromium_pdf(REPORT_HTML, folder / "規程.pdf"))


def test_pdf_sections_follow_the_outline_with_their_pages(report: Document) -> None:
    assert report.title == "社内規程集"
    assert report.file_type == "pdf"
    assert [(s.heading, s.page_range) for s in report.sections] == [
        ("第1章 総則", (1, 1)),
        ("1.1 目的", (1, 1)),
        ("第2章 勤務", (2, 2)),
        ("第3章 縦書きの心得", (3, 3)),
    ]
    # The heading line is the heading, not repeated as the body's first line.
    assert report.sections[0].text.startswith("この規程は")


def test_pdf_lines_join_as_a_reader_reads_them(report: Document) -> None:
    first = report.sections[0].text
    assert "日本語の文字の間に空白が入ってはならない。" in first  # a wrapped line: no space inserted
    assert "\n" not in first
    assert "Flexible working hours apply to every team." in report.sections[2].text


def test_pdf_radicals_become_ordinary_kanji(folder: Path) -> None:
    """A font whose Unicode map sends 用's glyph to the radical ⽤ (U+2F64) and 長's to ⻑ (U+2ED1)."""
    path = folder / "radicals.pdf"
    path.write_bytes(cid_pdf("Identity-H", identity_h([1, 2, 3, 4]), {1: "⽤", 2: "語", 3: "⻑", 4: "ﬁ"}))
    assert _one(path).sections[0].text == "用語長fi"
    assert ordinary("⽤⻑ﬁ﨑") == "用長fi﨑"  # 﨑 is a character of its own, not a compatibility form


def test_pdf_vertical_writing_reads_top_to_bottom_right_to_left(report: Document) -> None:
    assert report.sections[3].text.startswith(
        "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所で"
    )


def test_pdf_without_an_outline_is_a_section_per_page(folder: Path) -> None:
    document = _one(chromium_pdf(PAGES_HTML, folder / "議事録.pdf", outline=False))
    assert [(s.text, s.page_range) for s in document.sections] == [
        ("一ページ目には予算の話がある。", (1, 1)),
        ("二ページ目では採用計画を議論した。", (2, 2)),
        ("三ページ目は懇親会の案内である。", (3, 3)),
    ]


def test_pdf_cid_fonts_without_a_unicode_map_read_through_adobe_japan1(folder: Path) -> None:
    identity = folder / "identity.pdf"
    identity.write_bytes(cid_pdf("Identity-H", identity_h([843, 845, 1125, 1200])))
    assert _one(identity).sections[0].text == "あい亜一"
    sjis = folder / "rksj.pdf"
    sjis.write_bytes(cid_pdf("90ms-RKSJ-H", "日本語の文書です".encode("cp932")))
    assert _one(sjis).sections[0].text == "日本語の文書です"


def test_encrypted_pdf_opens_with_an_empty_password_or_is_skipped(folder: Path) -> None:
    open_one = folder / "open.pdf"
    open_one.write_bytes(encrypted_pdf(b""))
    assert _one(open_one).sections[0].text == "secret"
    locked = folder / "locked.pdf"
    locked.write_bytes(encrypted_pdf(b"himitsu"))
    assert _reason(locked) == "encrypted PDF: it needs a password to open"


def test_a_huge_page_count_is_skipped(folder: Path) -> None:
    path = folder / "huge.pdf"
    path.write_bytes(huge_pdf(20_000))
    assert _reason(path) == "20,000 pages (limit 5,000, SAKUIN_MAX_PAGES)"


def test_a_scanned_pdf_is_reported_not_indexed_empty(folder: Path) -> None:
    if ocr_available():
        pytest.skip("tesseract with Japanese data is installed: scanned pages are read through it")
    reason = _reason(scanned_pdf(folder / "scan.pdf"))
    assert reason.startswith("no text: scanned? (1 page of images")


def test_the_time_limit_skips_a_slow_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = chromium_pdf(PAGES_HTML, folder / "slow.pdf", outline=False)
    monkeypatch.setenv("SAKUIN_MAX_FILE_SECONDS", "0")
    assert _reason(path) == "took longer than 0 s to read (SAKUIN_MAX_FILE_SECONDS)"


# -- Office -------------------------------------------------------------------------------


def test_docx_headings_tables_text_boxes_and_ruby(folder: Path) -> None:
    document = _one(write_docx(folder / "規則.docx"))
    assert document.title == "就業規則"
    assert document.meta["author"] == "総務部"
    assert [s.heading for s in document.sections] == ["第1章 総則", "第1節 目的", "第2章 服務"]
    body = document.sections[1].text
    assert body.count("囲み記事は一度だけ読む。") == 1  # Word's VML copy of the box is not read again
    assert "智に働けば角が立つ。" in body and "ち" not in body.replace("ながら", "")  # ruby not glued on
    assert "始業\t午前九時" in body.split("\n")
    assert document.sections[2].text == "服務規律を守る。"


def test_pptx_slide_by_slide_with_notes_in_reading_order(folder: Path) -> None:
    document = _one(write_pptx(folder / "報告.pptx"))
    assert document.title == "四半期報告"
    assert [(s.heading, s.page_range) for s in document.sections] == [("売上報告", (1, 1)), ("今後の計画", (2, 2))]
    assert document.sections[0].text == "第3四半期の売上は前年比120%。\nここで質疑応答を受ける。"
    assert document.sections[1].text == "上の段落。\n下の段落。"


def test_xlsx_a_section_per_sheet_without_furigana(folder: Path) -> None:
    document = _one(write_xlsx(folder / "支店.xlsx"))
    assert document.title == "支店一覧"
    assert document.meta["author"] == "経理部"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("支店", "支店\t売上\n東京\t1200\n大阪\t850.5"),
        ("メモ", "決算は三月。"),
    ]


def test_truncated_docx_is_skipped(folder: Path) -> None:
    source = write_docx(folder / "whole.docx")
    reason = _reason(truncated(source, folder / "cut.docx"))
    assert reason.startswith("not a readable DOCX (damaged or truncated zip")


def test_zip_bomb_is_skipped_before_it_inflates(folder: Path) -> None:
    reason = _reason(zip_bomb_docx(folder / "bomb.docx", 310))
    assert reason == "DOCX would decompress to 310 MB (limit 300 MB, SAKUIN_MAX_UNZIPPED_MB): a zip bomb?"


def test_old_binary_office_files_say_what_to_do(folder: Path) -> None:
    path = folder / "古い.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert _reason(path) == "old binary Word document (.doc) is not read: save it as .docx to index it"


# -- EPUB and mail ------------------------------------------------------------------------


def test_epub_chapters_in_spine_order_ruby_not_glued(folder: Path) -> None:
    document = _one(write_epub(folder / "草枕.epub"))
    assert document.title == "草枕"
    assert document.meta["author"] == "夏目漱石"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("一", "山路を登りながら、こう考えた。智に働けば角が立つ。"),
        ("二", "情に棹させば流される。"),
    ]


def test_eml_in_iso_2022_jp_with_an_attachment_as_its_own_document(folder: Path) -> None:
    attached = write_docx(folder / "attached.docx").read_bytes()
    path = folder / "会議.eml"
    path.write_bytes(iso2022_mail(("規則.docx", attached)))
    mail, attachment = extract_file(path, folder).documents
    assert (mail.doc_id, mail.title, mail.file_type) == ("会議.eml", "会議室の変更", "eml")
    assert mail.sections[0].text == "来週の会議は第二会議室で行います。資料を確認してください。"
    assert mail.meta["from"] == "Yamada <yamada@example.jp>"
    assert mail.meta["date"] == "2026-12-07T10:30:00+09:00"
    assert mail.meta["attachments"] == ["規則.docx"]
    assert (attachment.doc_id, attachment.title, attachment.file_type) == ("会議.eml#規則.docx", "就業規則", "docx")


def test_shift_jis_mislabelled_as_iso_2022_jp_is_read(folder: Path) -> None:
    path = folder / "見積.eml"
    path.write_bytes(mislabelled_mail())
    document = _one(path)
    assert document.title == "見積"
    assert document.sections[0].text == "見積書を添付します。ご確認ください。"


def test_mbox_is_a_document_per_message_and_html_mail_is_text(folder: Path) -> None:
    path = folder / "受信.mbox"
    path.write_bytes(mbox([iso2022_mail(), html_mail()]))
    first, second = extract_file(path, folder).documents
    assert (first.doc_id, first.title) == ("受信.mbox#1", "会議室の変更")
    assert (second.doc_id, second.title) == ("受信.mbox#2", "お知らせ")
    assert second.sections[0].text == "新製品\n\n新しい電卓を発売します。"


def test_read_file_reads_an_extracted_format_in_process(folder: Path) -> None:
    result = read_file(write_pptx(folder / "読む.pptx"), folder)
    assert [d.doc_id for d in result.documents] == ["読む.pptx"]

"""Readers: every format becomes Documents with the same id, path and section rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.paths import SEEDS

from sakuin.search.documents.files import ReadResult, doc_id_for, iter_input_files, read_file
from sakuin.search.documents.model import Document
from sakuin.search.errors import UnreadableFile

SEED = next(SEEDS.glob("*.txt"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_one(path: Path, root: Path | None = None) -> Document:
    result = read_file(path, root or path.parent)
    assert result.problems == []
    assert len(result.documents) == 1
    return result.documents[0]


def headings(document: Document) -> list[str]:
    return [section.heading for section in document.sections]


# --- plain text: the seed ------------------------------------------------------


@pytest.fixture(scope="module")
def seed_doc() -> Document:
    return read_one(SEED)


def seed_toc() -> list[str]:
    lines = SEED.read_text("utf-8").split("\n")
    return lines[2:19]


def test_seed_has_exactly_the_toc_sections_in_order(seed_doc: Document) -> None:
    assert len(seed_toc()) == 17
    assert headings(seed_doc) == seed_toc()
    assert [section.ordinal for section in seed_doc.sections] == list(range(17))


def test_seed_title_id_and_path(seed_doc: Document) -> None:
    assert seed_doc.title.startswith("ロシア国防大臣がオースティン米国防長官と異例の電話会談")
    assert seed_doc.doc_id == SEED.name
    assert seed_doc.path == SEED.name
    assert seed_doc.meta == {}


def test_seed_toc_is_not_a_section(seed_doc: Document) -> None:
    first = seed_doc.sections[0]
    assert first.heading == "ロシア海軍記念日前に行われた電話会談"
    assert "露国防大臣が米国防長官と電話会談" not in first.text


def test_seed_first_section_keeps_its_promo_line(seed_doc: Document) -> None:
    paragraphs = seed_doc.sections[0].text.split("\n\n")
    assert paragraphs[0].startswith("7月の最終日曜日はロシアで海軍記念日となっており")
    assert paragraphs[-1] == "The Daily Digest をフォローして世界のニュースをいつも手元に"
    assert len(paragraphs) == 2


def test_seed_middle_and_last_sections_are_complete(seed_doc: Document) -> None:
    drones = seed_doc.sections[15]
    assert drones.heading == "石油精製施設などをドローン攻撃"
    assert drones.text.split("\n\n") == [
        drones.text.split("\n\n")[0],
        "画像:Telegram @kstovonew",
    ]
    assert drones.text.startswith("7月28日にはウクライナのドローンが")
    last = seed_doc.sections[16].text.split("\n\n")
    assert last[0].startswith("クストヴォの石油精製施設は今年3月12日にも")
    assert last[-1] == "ほかのおすすめ"
    assert len(last) == 4


def test_seed_bodies_hold_every_body_line(seed_doc: Document) -> None:
    lines = [line for line in SEED.read_text("utf-8").split("\n")[19:] if line.strip()]
    body_lines = [line for section in seed_doc.sections for line in section.text.split("\n") if line]
    assert len(lines) == len(body_lines) + 17


def test_toc_layout_is_detected_generically(tmp_path: Path) -> None:
    text = (
        "記事の題名\n目次一\n本当に?\n「引用」\n\n"
        "目次一\n\n本文一。\n\n本文一の二。\n\n本当に?\n\n本文二。\n\n「引用」\n\n本文三。\n"
    )
    document = read_one(write(tmp_path / "article.txt", text))
    assert document.title == "記事の題名"
    assert headings(document) == ["目次一", "本当に?", "「引用」"]
    assert [section.text for section in document.sections] == ["本文一。\n\n本文一の二。", "本文二。", "本文三。"]


def test_toc_whose_entries_are_missing_falls_back_to_layout(tmp_path: Path) -> None:
    text = "題名\n\n一行目\n二行目\n\n本文です。\n"
    document = read_one(write(tmp_path / "poem.txt", text))
    assert document.title == "題名"
    assert [section.text for section in document.sections] == ["一行目\n二行目\n\n本文です。"]


# --- plain text: layout without TOC --------------------------------------------


def test_plain_text_headings_and_lead_section(tmp_path: Path) -> None:
    text = (
        "日記のタイトル\n\n"
        "これは最初の段落です。\n二行目も同じ段落。\n\n"
        "朝の出来事\n\n"
        "朝は晴れていた。\n\n"
        "夜の出来事\n\n"
        "夜は雨だった。\n\n"
        "本当に雨だった?\n"
    )
    document = read_one(write(tmp_path / "diary.txt", text))
    assert document.title == "日記のタイトル"
    assert headings(document) == ["", "朝の出来事", "夜の出来事"]
    assert document.sections[0].text == "これは最初の段落です。\n二行目も同じ段落。"
    assert document.sections[2].text == "夜は雨だった。\n\n本当に雨だった?"


def test_plain_text_without_title_uses_stem(tmp_path: Path) -> None:
    text = "最初の行は文です。\n続きの行。\n\n見出し\n\n本文。\n"
    document = read_one(write(tmp_path / "notes.text", text))
    assert document.title == "notes"
    assert headings(document) == ["", "見出し"]


def test_file_without_extension_is_plain_text(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "README", "Read me\n\nSome text here.\n"))
    assert document.title == "Read me"
    assert document.sections[0].text == "Some text here."


def test_trailing_whitespace_is_stripped(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "ws.txt", "見出し  \n\n本文です。   \n次の行。\t\n\n\n"))
    assert document.sections[0].text == "本文です。\n次の行。"


# --- Markdown -------------------------------------------------------------------

MARKDOWN = """---
title: Front matter title
tags: [a, b]
---

Lead with *emphasis*, a [link](https://example.com) and ![alt text](img.png).

# 全文検索の話

Intro with `inline code` and **bold**.
日本語の
折り返し

Setext heading
--------------

- item one
- item two

```python
def hello():
    return "world"
```

## Empty section

### Third

> quoted text
"""


def test_markdown_sections_and_title(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "doc.md", MARKDOWN))
    assert document.title == "全文検索の話"
    # "Empty section" has no text of its own: the section after it carries it
    assert headings(document) == ["", "全文検索の話", "Setext heading", "Empty section › Third"]
    assert [section.ordinal for section in document.sections] == [0, 1, 2, 3]


def test_markdown_front_matter_is_skipped(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "doc.md", MARKDOWN))
    assert all("tags:" not in section.text for section in document.sections)


def test_markdown_inline_markup_is_stripped(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "doc.md", MARKDOWN))
    assert document.sections[0].text == "Lead with emphasis, a link and alt text."
    # a soft break between Japanese characters is wrapping, not a space
    assert document.sections[1].text == "Intro with inline code and bold.\n日本語の折り返し"


def test_markdown_code_blocks_and_lists_are_kept(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "doc.md", MARKDOWN))
    setext = document.sections[2].text
    assert setext == 'item one\nitem two\n\ndef hello():\n    return "world"'
    assert document.sections[3].text == "quoted text"


def test_markdown_without_h1_uses_front_matter_then_stem(tmp_path: Path) -> None:
    with_front = read_one(write(tmp_path / "a.md", "---\ntitle: 'From front'\n---\n## Sub\n\ntext\n"))
    assert with_front.title == "From front"
    assert headings(with_front) == ["Sub"]  # empty lead section omitted
    plain = read_one(write(tmp_path / "b.markdown", "Setext two\n---\n\ntext\n"))
    assert plain.title == "b"


def test_markdown_raw_html_block_keeps_visible_text(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "c.md", "# T\n\n<div>raw <b>bold</b><!-- hidden --></div>\n"))
    assert document.sections[0].text == "raw bold"


# --- HTML -----------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title>Tom &amp; Jerry の記事</title>
<style>body { color: red }</style><script>var secret = "script text";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<header><p>サイト名</p></header>
<p>Lead &lt;text&gt; &copy; 2024&nbsp;年</p>
<noscript>Please enable JavaScript</noscript>
<template><p>template text</p></template>
<h2>最初の <em>見出し</em></h2>
<div><div><p>入れ子の
段落です。</p><div>深い<span>インライン</span>テキスト</div></div></div>
<ul><li>項目一</li><li>項目二</li></ul>
<pre>  keep
    indentation</pre>
<!-- a comment -->
<article><h3>記事</h3><p><ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>の本文<br>改行後</p>
<footer>著者: 山田</footer></article>
<p hidden>hidden text</p>
<footer>Copyright site footer</footer>
</body></html>
"""


@pytest.fixture
def html_doc(tmp_path: Path) -> Document:
    return read_one(write(tmp_path / "page.html", HTML))


def test_html_title_and_sections(html_doc: Document) -> None:
    assert html_doc.title == "Tom & Jerry の記事"
    assert headings(html_doc) == ["", "最初の 見出し", "記事"]


def test_html_drops_invisible_and_chrome_elements(html_doc: Document) -> None:
    everything = "\n".join(section.text for section in html_doc.sections)
    for dropped in ("script text", "color: red", "Home", "JavaScript", "template text", "a comment", "hidden text"):
        assert dropped not in everything
    assert "Copyright site footer" not in everything
    assert "かんじ" not in everything


def test_html_text_is_decoded_and_collapsed(html_doc: Document) -> None:
    assert html_doc.sections[0].text == "サイト名\n\nLead <text> © 2024 年"
    assert (
        html_doc.sections[1].text
        == "入れ子の段落です。\n\n深いインラインテキスト\n\n項目一\n項目二\n\n  keep\n    indentation"
    )
    assert html_doc.sections[2].text == "漢字の本文\n改行後\n\n著者: 山田"


def test_html_title_falls_back_to_h1_then_stem(tmp_path: Path) -> None:
    with_h1 = read_one(write(tmp_path / "a.htm", "<body><p>lead</p><h1>Big <b>Title</b></h1><p>x</p></body>"))
    assert with_h1.title == "Big Title"
    assert headings(with_h1) == ["", "Big Title"]
    bare = read_one(write(tmp_path / "b.html", "<p>just text</p>"))
    assert bare.title == "b"


@pytest.mark.slow
def test_html_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    depth = 100_000
    html = "<title>deep</title>" + "<div>" * depth + "<h2>底</h2>bottom" + "</div>" * depth + "<p>after</p>"
    document = read_one(write(tmp_path / "deep.html", html))
    assert document.title == "deep"
    assert document.sections[-1].heading == "底"
    assert document.sections[-1].text == "bottom\n\nafter"


def test_html_unclosed_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "open.html", "<div><span><p>" * 20_000 + "end"))
    assert document.sections[-1].text == "end"


def test_malformed_html_is_read(tmp_path: Path) -> None:
    html = "<p>one<p>two</b></i><div<<>> <a href='x>broken</a> &bogus; &#x41; <!-- unterminated"
    document = read_one(write(tmp_path / "bad.html", html))
    assert "one" in document.sections[0].text
    assert "two" in document.sections[0].text


def test_html_with_only_scripts_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no text"):
        read_file(write(tmp_path / "app.html", "<script>app()</script>"), tmp_path)


# --- JSONL ----------------------------------------------------------------------


def jsonl(tmp_path: Path, *lines: str | dict, name: str = "data.jsonl") -> ReadResult:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    return read_file(write(tmp_path / "sub" / name, text + "\n"), tmp_path)


def test_jsonl_text_shape(tmp_path: Path) -> None:
    result = jsonl(tmp_path, {"id": "doc-1", "title": "題名", "text": "本文です。  ", "lang": "ja"})
    assert result.problems == []
    (document,) = result.documents
    assert document.doc_id == "doc-1"
    assert document.title == "題名"
    assert document.path == "sub/data.jsonl"
    assert [(s.ordinal, s.heading, s.text) for s in document.sections] == [(0, "", "本文です。")]
    assert document.meta == {"lang": "ja"}


def test_jsonl_sections_shape_and_int_id(tmp_path: Path) -> None:
    record = {
        "id": 42,
        "title": "T",
        "sections": [{"heading": "A", "text": "a"}, {"heading": "", "text": ""}, {"heading": "B", "text": "b"}],
        "tags": ["x"],
        "score": 1.5,
    }
    (document,) = jsonl(tmp_path, record).documents
    assert document.doc_id == "42"
    assert [(s.ordinal, s.heading, s.text) for s in document.sections] == [(0, "A", "a"), (1, "B", "b")]
    assert document.meta == {"tags": ["x"], "score": 1.5}


def test_jsonl_bad_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    result = jsonl(
        tmp_path,
        {"id": "ok-1", "text": "good"},
        "{not json",
        "",
        "[1, 2]",
        {"title": "no id", "text": "x"},
        {"id": "", "text": "x"},
        {"id": True, "text": "x"},
        {"id": "no-body", "title": "t"},
        {"id": "bad-sections", "sections": "nope"},
        "   ",
        {"id": "ok-2", "sections": [{"heading": "H", "text": "t"}]},
    )
    assert [document.doc_id for document in result.documents] == ["ok-1", "ok-2"]
    assert result.documents[0].title == "ok-1"  # no title: the id stands in
    assert len(result.problems) == 7
    assert result.problems[0].startswith("sub/data.jsonl:2: invalid JSON (")
    assert result.problems[0].endswith("record skipped")
    expected = {
        4: "expected a JSON object",
        5: 'missing "id"',
        6: 'empty "id"',
        7: '"id" must be a string or an integer',
        8: 'neither "text" nor "sections"',
        9: '"sections" must be a list',
    }
    for problem, (line, reason) in zip(result.problems[1:], expected.items(), strict=True):
        assert problem.startswith(f"sub/data.jsonl:{line}: {reason}")


def test_jsonl_record_without_text_is_skipped(tmp_path: Path) -> None:
    result = jsonl(tmp_path, {"id": "empty", "title": "t", "text": "  "}, {"id": "ok", "text": "x"})
    assert [document.doc_id for document in result.documents] == ["ok"]
    assert result.problems == ["sub/data.jsonl:1: no text content, record skipped"]


_SPACES = " \t\n\r\u3000\u00a0\u2028\x1c\x0b"


@given(st.lists(st.tuples(st.text(_SPACES + "a"), st.text(_SPACES + "あ")), max_size=4))
@example([("\u3000", "\r\n \n")])
@example([("", "\x1c")])
def test_first_pass_content_check_agrees_with_the_documents(sections: list[tuple[str, str]]) -> None:
    """The first pass over a JSONL file decides "no text content" without cleaning the
    text; it must agree with the documents the second pass makes."""
    from sakuin.search.documents.sections import has_content, make_document

    assert has_content(sections) == bool(make_document("id", "title", "f.jsonl", sections).sections)


def test_jsonl_duplicate_id_keeps_the_later_record(tmp_path: Path) -> None:
    result = jsonl(tmp_path, {"id": "a", "text": "old"}, {"id": "b", "text": "b"}, {"id": "a", "text": "new"})
    assert [(d.doc_id, d.sections[0].text) for d in result.documents] == [("b", "b"), ("a", "new")]
    assert len(result.problems) == 1
    assert "duplicate id 'a'" in result.problems[0]


def test_ndjson_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"id": "1", "text": "\xe6\x97\xa5"}\r\n{"id": "2", "text": "b"}\r\n')
    result = read_file(path, tmp_path)
    assert [(d.doc_id, d.sections[0].text) for d in result.documents] == [("1", "日"), ("2", "b")]
    assert result.problems == []


def test_jsonl_blank_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="empty file"):
        read_file(write(tmp_path / "blank.jsonl", "\n  \n\n"), tmp_path)


def test_jsonl_streams_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for index in range(20_000):
            stream.write(json.dumps({"id": index, "title": f"t{index}", "text": "本文" * 20}) + "\n")
    result = read_file(path, tmp_path)
    assert len(result.documents) == 20_000
    assert result.documents[-1].doc_id == "19999"


# --- read_file errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported file type .png"),
        ("archive.jsonl.gz", b"\x1f\x8b\x08\x00", "unsupported file type .gz"),
        ("empty.txt", b"", "empty file"),
        ("spaces.md", b"  \n\n\t\n", "empty file"),
        ("blob", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
        ("nul.txt", "テキスト".encode() + b"\x00", "binary file"),
        ("binary.jsonl", b'{"id": 1}\n\x00\x01\x02', "binary file"),
    ],
)
def test_unreadable_files_name_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=reason.replace(".", r"\.")):
        read_file(path, tmp_path)


def test_os_errors_become_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="No such file"):
        read_file(tmp_path / "missing.txt", tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_file(tmp_path / "pipe.txt", tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_permission_denied_is_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.txt", "text")
    path.chmod(0)
    try:
        with pytest.raises(UnreadableFile, match="Permission denied"):
            read_file(path, tmp_path)
    finally:
        path.chmod(0o644)


def test_extension_match_is_case_insensitive(tmp_path: Path) -> None:
    document = read_one(write(tmp_path / "UPPER.MD", "# Shout\n\ntext\n"))
    assert document.title == "Shout"


# --- input discovery and ids ----------------------------------------------------


def test_doc_id_is_posix_path_relative_to_root(tmp_path: Path) -> None:
    assert doc_id_for(tmp_path / "sub" / "a.md", tmp_path) == "sub/a.md"
    assert doc_id_for(Path("a.md").absolute(), Path(".")) == "a.md"


def test_read_file_ids_are_relative_to_root(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "deeper" / "a.md", "# A\n\ntext\n")
    document = read_one(path, tmp_path)
    assert document.doc_id == "sub/deeper/a.md"
    assert document.path == "sub/deeper/a.md"


def test_iter_input_files_walks_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "sub/c.html", "sub/inner/d.jsonl", ".hidden.txt", ".git/config", "sub/.cache/x.txt"):
        write(tmp_path / name, "x")
    found = [(file.relative_to(tmp_path).as_posix(), root) for file, root in iter_input_files([tmp_path])]
    assert found == [
        ("a.md", tmp_path),
        ("b.txt", tmp_path),
        ("sub/c.html", tmp_path),
        ("sub/inner/d.jsonl", tmp_path),
    ]


def test_iter_input_files_file_argument_uses_its_parent(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "a.txt", "x")
    assert list(iter_input_files([path])) == [(path, path.parent)]


def test_iter_input_files_is_safe_with_symlinks(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    real = write(tree / "real.txt", "x")
    write(tmp_path / "outside.txt", "y")
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "sub").mkdir()
    (tree / "sub" / "up").symlink_to(tree, target_is_directory=True)
    (tree / "link.txt").symlink_to(tmp_path / "outside.txt")
    (tree / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    found = [file.relative_to(tree).as_posix() for file, _ in iter_input_files([tree])]
    assert found == ["link.txt", "real.txt"]
    assert real.exists()


def test_iter_input_files_missing_path_fails_before_yielding(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    files = iter_input_files([tmp_path, tmp_path / "typo"])
    with pytest.raises(FileNotFoundError, match="typo"):
        next(files)

"""A snippet starts where a reader would: at the section's start or right after a sentence end
or a line break (else at a word, when that sentence starts too far back to show the match), and
it never cuts a word or a match."""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.paths import LIVEDOOR, SEEDS

from sakuin.search.analysis.sudachi import morphemes
from sakuin.search.documents.files import read_file
from sakuin.search.highlight.snippets import make_snippet, sentence_start
from sakuin.search.results.model import Snippet

ENDS = "。．！？!?\n"


def place(text: str, snippet: Snippet) -> tuple[int, int]:
    """Where the snippet's passage lies in ``text`` (its line breaks are shown as spaces)."""
    piece = snippet.text.removeprefix("…").removesuffix("…")
    flat = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    start = flat.find(piece)
    assert start >= 0, snippet.text
    return start, start + len(piece)


def check(text: str, snippet: Snippet, spans: list[tuple[int, int]]) -> None:
    start, end = place(text, snippet)
    words = {m.start for m in morphemes(text)} | {len(text)}
    at_sentence = start == sentence_start(text, start)
    assert at_sentence or start in words, f"starts inside a word: …{text[max(0, start - 8) : start + 12]}"
    if not at_sentence:  # only when the sentence start was too far back to show the match
        first = min((s for s, e in spans if s >= start), default=start)
        assert first - sentence_start(text, start) > 0
    if end < len(text.rstrip()):
        assert end in words or text[end - 1] in ENDS, f"ends inside a word: {text[end - 10 : end + 5]}…"
    for s, e in spans:
        assert not (start < s < end < e), "a match is cut at the end"
    marked = [snippet.text[a:b] for a, b in snippet.highlights]
    assert all(m for m in marked)


def seed_body() -> str:
    (document,) = read_file(SEEDS / "000_bd59ac11d3d57df8.txt", SEEDS).documents
    return max((s.text for s in document.sections), key=len)


def test_a_match_deep_in_a_paragraph_starts_at_its_sentence() -> None:
    text = "最初の文です。" * 10 + "国防大臣は昨日、長官と電話で会談した。" + "続きの文です。" * 20
    at = text.index("国防大臣")
    snippet = make_snippet(text, [(at, at + 4)])
    assert snippet.text.startswith("…国防大臣は昨日")
    check(text, snippet, [(at, at + 4)])


def test_a_long_sentence_starts_at_a_word_before_the_match() -> None:
    text = "あの" + "とても長い説明の続く" * 30 + "国防大臣が会談した。"
    at = text.index("国防大臣")
    snippet = make_snippet(text, [(at, at + 4)])
    assert snippet.text.startswith("…") and "国防大臣" in snippet.text
    check(text, snippet, [(at, at + 4)])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_snippets_of_the_seed_article_start_and_end_on_boundaries(data: Any) -> None:
    text = seed_body()
    words = [(m.start, m.end) for m in morphemes(text) if m.end - m.start >= 2]
    spans = sorted(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=4, unique=True)))
    check(text, make_snippet(text, spans), spans)


QUERIES = ["京都", "サッカー日本代表", "スマートフォン", "結婚", "映画"]
QUERIES += ["iPhone", "受験", "本当に", "ダイエット", "女子"]


@pytest.mark.slow
@pytest.mark.skipif(not LIVEDOOR.exists(), reason="../shared/data/scale (livedoor) is not available")
def test_every_snippet_of_a_livedoor_sample_reads_from_a_boundary(tmp_path: Path) -> None:
    """10 queries × 20 hits over 1,500 livedoor articles: every snippet starts at the section's
    start, after a sentence end or line break, or (its sentence too long) at a word; none cuts a word."""
    from sakuin.search.backend import open_engine
    from sakuin.search.embedded.writing.indexer import build_index

    with gzip.open(LIVEDOOR, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in islice(fh, 1500)]
    corpus = tmp_path / "live.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    engine = open_engine(tmp_path / "ix")
    checked = mid_sentence = 0
    for q in QUERIES:
        for hit in engine.search(q, per_page=20).hits:
            document = engine.document(hit.doc_id)
            assert document is not None
            text = document.sections[hit.ordinal].text
            spans = [(s, e) for s, e in _spans(text, hit.snippet)]
            check(text, hit.snippet, spans)
            start, _ = place(text, hit.snippet)
            mid_sentence += start != sentence_start(text, start)
            checked += 1
    assert checked >= 150
    assert mid_sentence <= checked // 10  # the rare sentence too long to show its match


def _spans(text: str, snippet: Snippet) -> list[tuple[int, int]]:
    start, _ = place(text, snippet)
    shift = start - (1 if snippet.text.startswith("…") else 0)
    return [(a + shift, b + shift) for a, b in snippet.highlights]

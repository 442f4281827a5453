"""Analysis features kept for ranking, each on a small hand-made corpus.

Reading search (kana finds kanji), the n-gram field (substring matches of typed
words, spelling-blind matching inside questions) and function-word handling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sakuin.search.analysis.normalize import bigrams, fold
from sakuin.search.config import PAIR_WEIGHT
from sakuin.search.embedded.reading import proximity
from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.engine import EmbeddedEngine

DOCS = {
    "secret.md": "# 記録\n\n## 機密\n\n政府は国家機密の扱いを見直した。\n\n## 天気\n\n明日の東京都は晴れる。\n",
    "server.md": "# 運用\n\n## サーバー\n\nサーバーのメモリを増設した。コンピューターも更新した。\n",
    "school.md": "# 大学\n\n## 國學院\n\n國學院大學の図書館で古い資料を読んだ。\n",
    "names.md": "# 人物\n\n## 会談\n\nベロウソフ国防大臣はオースティン長官と電話会談を行った。\n\n"
    "## 演説\n\n大臣は記念日に演説をした。\n",
}


@pytest.fixture(scope="module")
def engine(make_index: Callable[..., Path]) -> EmbeddedEngine:
    return EmbeddedEngine(make_index(DOCS))


def top(engine: EmbeddedEngine, q: str) -> tuple[str, str] | None:
    hits = engine.search(q).hits
    return (hits[0].doc_id, hits[0].heading) if hits else None


def test_kana_query_finds_kanji_through_the_reading_field(engine: EmbeddedEngine) -> None:
    result = engine.search("こっかきみつ")
    assert [(h.doc_id, h.heading) for h in result.hits] == [("secret.md", "機密")]
    assert "<mark>国家機密</mark>" in result.hits[0].snippet.html  # adjacent matches merge
    assert top(engine, "コッカキミツ") == ("secret.md", "機密")


def test_kana_that_reads_as_nothing_indexed_finds_nothing(engine: EmbeddedEngine) -> None:
    assert engine.search("ぬるぽがっ").total == 0


def test_unknown_word_falls_back_to_ngrams_with_highlight(engine: EmbeddedEngine) -> None:
    # ベロウソ is not a dictionary word and not a whole word of the text.
    result = engine.search("ベロウソ")
    assert [h.heading for h in result.hits] == ["会談"]
    assert "<mark>ベロウソ</mark>フ" in result.hits[0].snippet.html


def test_a_word_inside_a_longer_word_is_a_substring_match_after_word_matches(engine: EmbeddedEngine) -> None:
    # 京都 is a dictionary word; inside 東京都 (東京|都) it is only a substring.
    result = engine.search("京都")
    assert [(h.doc_id, h.heading, h.match) for h in result.hits] == [("secret.md", "天気", "substring")]
    assert "<mark>京都</mark>" in result.hits[0].snippet.html
    both = engine.search("大臣")  # word matches in two sections, no substring-only match
    assert both.total == 2 and {h.match for h in both.hits} == {"word"}


def test_question_ranks_by_content_words_not_particles(engine: EmbeddedEngine) -> None:
    result = engine.search("ベロウソフ国防大臣は誰と電話会談したのか")
    assert (result.hits[0].doc_id, result.hits[0].heading) == ("names.md", "会談")
    compiled = compile_query("ベロウソフ国防大臣は誰と電話会談したのか")
    assert compiled.bag is not None  # ranked term-at-a-time
    words = {t for f, t, _ in compiled.bag if f == "content"}
    assert {"ベロウソフ", "国防", "大臣", "電話", "会談"} <= words
    assert not words & {"は", "誰", "と", "の", "か"}


def test_particles_make_a_sentence_so_partial_matches_still_rank(engine: EmbeddedEngine) -> None:
    # Two content words joined by a particle: not all required, best coverage first.
    result = engine.search("大臣の演説")
    assert result.hits[0].heading == "演説"
    assert result.total >= 2  # the 会談 section (大臣 only) is still a hit
    # Without a particle the same words are a keyword: all required.
    assert engine.search("大臣 演説").total == 1


def test_spelling_variants_inside_a_question_match_through_folded_bigrams(engine: EmbeddedEngine) -> None:
    # Hiragana for katakana and an old kanji form, typed inside a question.
    assert top(engine, "さーばーのメモリを増設したのはいつ") == ("server.md", "サーバー")
    assert top(engine, "國學院大學の圖書館で何を讀んだか") == ("school.md", "國學院")


def test_fold_unifies_width_kana_old_kanji_and_long_vowels() -> None:
    assert fold("ｻｰﾊﾞｰ") == fold("さーばー") == fold("サーバ")
    assert fold("國學") == fold("国学")
    assert fold("ＡＢＣ　１") == "abc1"
    assert bigrams("あ") == ["あ"] and bigrams("国家機密") == ["国家", "家機", "機密"]


def test_gram_field_indexes_exactly_the_analyzer_terms() -> None:
    from collections import Counter

    from sakuin.search.embedded.schema import build_schema

    field = build_schema()["grams"]
    text = "ロシア国防大臣が電話会談 ｶﾀｶﾅ ＡＢＣ　國"
    fast = {w.decode(): n for w, n, _, _ in field.index(text)}
    assert fast == dict(Counter(t.text for t in field.analyzer(text)))


def test_content_offsets_locate_heading_and_body_in_content_text() -> None:
    from sakuin.search.indexing.sections import content_offsets, content_text

    title, heading, body = "ロシア国防大臣", "電話会談", "本文です。"
    text = content_text(title, heading, body)
    head_start, body_start = content_offsets(title, heading)
    assert text[head_start : head_start + len(heading)] == heading
    assert text[body_start:] == body


# -- proximity ----------------------------------------------------------------------------

#: Both sections have 電話 and 会談; only the longer one has them side by side, in the
#: question's order (a particle between them does not count), so without the pairs'
#: bonus the shorter one ranks first.
NEAR = {
    "near.md": "# 記録\n\n## 記録\n\n電話の会談の記録は長かった。\n",
    "apart.md": "# 記録\n\n## 記録\n\n会談と電話。\n",
}


@pytest.fixture(scope="module")
def near(make_index: Callable[..., Path]) -> EmbeddedEngine:
    return EmbeddedEngine(make_index(NEAR))


def test_a_question_ranks_its_words_side_by_side_first(near: EmbeddedEngine) -> None:
    result = near.search("電話と会談")
    assert [h.doc_id for h in result.hits] == ["near.md", "apart.md"]
    scores = [h.score for h in result.hits]
    assert scores[0] - scores[1] < PAIR_WEIGHT  # a bonus of one pair, not a different match


def test_the_pair_bonus_is_what_reorders(near: EmbeddedEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proximity, "PAIR_WINDOW", 0)  # no section is looked at
    assert [h.doc_id for h in near.search("電話と会談").hits] == ["apart.md", "near.md"]


def test_pairs_are_looked_for_only_in_the_best_sections() -> None:
    scores = np.array([1.0, 5.0, 3.0, 5.0, 2.0])
    assert proximity.window(scores, 2).tolist() == [1, 3]
    assert proximity.window(scores, 3).tolist() == [1, 2, 3]
    assert proximity.window(scores, 10).tolist() == [0, 1, 2, 3, 4]
    assert proximity.window(scores, 0).tolist() == []


def test_cached_occurrences_are_whooshs(near: EmbeddedEngine, engine: EmbeddedEngine) -> None:
    """Positions and character offsets decoded once per version (``search.occurrences``)
    equal what Whoosh's matcher reads, posting by posting."""
    for index in (near, engine):
        with index.pin() as pinned:
            searcher = pinned.searcher
            reader = searcher.reader()
            for term in ("記録", "電話", "会談", "大臣", "国防", "なし"):
                found = pinned.snapshot.occurrences.get(searcher, "content", term)
                expected: dict[int, list[tuple[int, int, int]]] = {}
                if ("content", term) in reader:
                    m = reader.postings("content", term)
                    while m.is_active():
                        expected[m.id()] = m.value_as("characters")
                        m.next()
                assert found.docs.tolist() == sorted(expected)
                rows = found.rows(found.docs.tolist())
                got = {
                    d: list(
                        zip(
                            *(a[r[0] : r[1]].tolist() for a in (found.positions, found.starts, found.ends)), strict=True
                        )
                    )
                    for d, r in zip(found.docs.tolist(), rows, strict=True)
                }
                assert got == expected, term


# -- hiragana for katakana ------------------------------------------------------------------

#: Names in katakana that, typed in hiragana, Sudachi reads as other words: あるく as the
#: verb 歩く, つよし as the reading of 剛.
KANA = {
    "walk.md": "# 散歩\n\n## 朝\n\n毎朝公園を歩く。\n",
    "arc.md": "# 会社\n\n## 語学\n\n英語教材のアルクが新しい辞書を出した。\n",
    "go.md": "# 選手\n\n## 剛\n\n西岡剛が打った。\n",
    "tsuyoshi.md": "# 美容師\n\n## 話\n\n美容師のツヨシさんは長い話をしてくれた。\n",
}


@pytest.fixture(scope="module")
def kana(make_index: Callable[..., Path]) -> EmbeddedEngine:
    return EmbeddedEngine(make_index(KANA))


def test_hiragana_finds_the_katakana_name_as_a_word_first(kana: EmbeddedEngine) -> None:
    result = kana.search("あるく")
    assert [(h.doc_id, h.match) for h in result.hits] == [("arc.md", "word"), ("walk.md", "word")]
    assert "<mark>アルク</mark>" in result.hits[0].snippet.html
    reading = kana.search("つよし")  # ツヨシ as written, before 剛 read that way
    assert [h.doc_id for h in reading.hits] == ["tsuyoshi.md", "go.md"]

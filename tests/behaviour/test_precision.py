"""Precision on both backends: the spelling the user typed first, whole words before fragments
(fragments counted apart), compounds typed without spaces require every word, questions count
only sections that answer a fair share of them, and full-width brackets are text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.backends import BACKENDS, Seed, cluster_index

from sakuin.search.backend import build
from sakuin.search.query import plan_query

DOCS = {
    # ジャポン is respelled ジャパン by Sudachi's normalization: the two who write ジャポン come first.
    "j1": ("パリの店", "パリの店ジャポン・ドゥ・モードが開店した。"),
    "j2": ("雑誌の話", "サンデージャポンで紹介された。"),
    "j3": ("日本代表", "ジャパンの強さが際立つ試合だった。ジャパン、ジャパン。"),
    "j4": ("旅行", "ジャパンレールパスで旅をした。ジャパンの旅。"),
    # 京都 as a word, and only inside 東京都
    "k1": ("京都の秋", "京都で紅葉を見た。"),
    "k2": ("東京の話", "東京都の人口が増えた。"),
    "k3": ("都政", "東京都知事の会見。"),
    # a compound typed without spaces
    "s1": ("試合", "サッカー日本代表が勝った。"),
    "s2": ("野球", "野球の日本代表が負けた。サッカーは休み。"),
    "s3": ("別件", "日本の代表的な料理。"),
    # text in full-width brackets
    "m1": ("監督", "中野 森（しん）監督の新作。"),
    "m2": ("森の話", "しんとした森を歩いた。"),
    # a name Sudachi reads only as part of a longer one
    "n1": ("旅行記", "ニジニ・ノヴゴロドを訪ねた。"),
}


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("precision")
    lines = [
        json.dumps({"id": k, "title": t, "text": x, "category": k[0]}, ensure_ascii=False) for k, (t, x) in DOCS.items()
    ]
    (base / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if request.param == "embedded":
        where = Seed("embedded", str(base / "index"))
    else:
        urls = ",".join(request.getfixturevalue("cluster_urls"))
        where = Seed("opensearch", urls, "sakuin-precision")
    with cluster_index(where.alias):
        build(where.target, [base / "docs.jsonl"], rebuild=True, declare=[("category", "keyword")])
    return where.engine()


def ids(result: Any) -> list[str]:
    return [h.doc_id for h in result.hits]


def test_the_spelling_typed_ranks_before_its_normalized_form(engine: Any) -> None:
    result = engine.search("ジャポン", synonyms=False)
    assert set(ids(result)[:2]) == {"j1", "j2"}
    assert set(ids(result)) == {"j1", "j2", "j3", "j4"}  # the normalized form still finds the others
    assert all("ジャポン" in h.snippet.text for h in result.hits[:2])
    # Its synonym 日本 (Sudachi's dictionary: ジャパン, 日本, Japan) widens the answer after them.
    widened = engine.search("ジャポン")
    assert ids(widened)[:4] == ids(result) and {h.match for h in widened.hits[:4]} == {"word"}
    assert set(ids(widened)[4:]) == {"s1", "s2", "s3"} and {h.match for h in widened.hits[4:]} == {"synonym"}


@pytest.mark.parametrize("synonyms", [True, False])
def test_pages_of_a_typed_first_answer_follow_on(engine: Any, synonyms: bool) -> None:
    whole = ids(engine.search("ジャポン", per_page=10, synonyms=synonyms))
    pages = range(1, len(whole) + 2)
    paged = [d for page in pages for d in ids(engine.search("ジャポン", per_page=1, page=page, synonyms=synonyms))]
    assert paged == whole


def test_a_word_inside_a_longer_word_is_counted_apart_and_listed_on_request(engine: Any) -> None:
    result = engine.search("京都", facets=["category"])
    assert ids(result) == ["k1"] and result.total == 1 and result.substring_total == 2
    assert {v.value: v.count for v in result.facets["category"]} == {"k": 1}
    shown = engine.search("京都", facets=["category"], substrings=True)
    assert ids(shown)[0] == "k1" and set(ids(shown)[1:]) == {"k2", "k3"}
    assert [h.match for h in shown.hits] == ["word", "substring", "substring"]
    assert shown.total == 3 and {v.value: v.count for v in shown.facets["category"]} == {"k": 3}
    alone = engine.search("ノヴゴロド")  # no word match: the fragments are the answer
    assert ids(alone) == ["n1"] and alone.hits[0].match == "substring" and alone.total == 1


def test_substring_matches_come_after_word_matches_in_every_order(engine: Any) -> None:
    result = engine.search("京都", substrings=True, sort=None)
    assert [h.match for h in result.hits] == ["word", "substring", "substring"]


def test_a_compound_typed_without_spaces_needs_every_word(engine: Any) -> None:
    plan = plan_query("サッカー日本代表")
    assert plan.keyword and plan.root.kind == "keyword"  # type: ignore[union-attr]
    assert set(ids(engine.search("サッカー日本代表"))) == {"s1", "s2"}
    question = plan_query("日本代表はサッカーで勝ったのか")
    assert question.question is not None


def test_a_question_counts_only_sections_that_answer_a_fair_share_of_it(engine: Any) -> None:
    # Four words (日本, 代表, サッカー, 勝つ): a section with one of them counts, none does not.
    result = engine.search("日本代表のサッカーは勝ったのか", per_page=20)
    assert {"s1", "s2"} <= set(ids(result)) and ids(result)[0] == "s1"
    many = plan_query("日本の代表のサッカーの試合で監督は誰に勝ったのか").question
    assert many is not None and many.min_words() >= 2


def test_full_width_brackets_are_text(engine: Any) -> None:
    assert ids(engine.search("森（しん）"))[0] == "m1"
    assert ids(engine.search("(森 OR 監督) 新作")) == ["m1"]  # ASCII brackets still group


def test_the_cli_marks_fragments_and_says_how_many_are_hidden(tmp_path: Path) -> None:
    from support.processes import sakuin

    lines = [json.dumps({"id": k, "title": t, "text": x}, ensure_ascii=False) for k, (t, x) in DOCS.items()]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sakuin("index", str(tmp_path / "d.jsonl"), "--index-dir", str(tmp_path / "ix"))
    out = sakuin("search", "京都", "--index-dir", str(tmp_path / "ix"))
    assert "2 more sections have it only inside a longer word: --substring lists them" in out.stdout
    shown = sakuin("search", "京都", "--substring", "--index-dir", str(tmp_path / "ix"))
    assert shown.stdout.count("(inside a longer word)") == 2

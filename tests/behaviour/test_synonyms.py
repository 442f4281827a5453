"""Synonyms and user dictionaries on both backends, as users meet them: Sudachi's synonym
dictionary and a Solr-format file widen a search both ways (a one-way rule one way only; an
entry Sudachi flags as not triggering never widens), the sections that write the typed word
come first, snippets mark the synonym, the page says what else was searched, synonyms=false
and --no-synonyms search only what was typed, an edited synonyms file applies to the next
search of a running server, a user-dictionary word is one word in index and query, and a
malformed file is named ``file:line: reason`` with exit status 2 and a code of the error table.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backends import BACKENDS, Seed, cluster_index

from sakuin.search.backend import build
from sakuin.search.errors import UserDictionaryError, message

DOCS = {
    # Sudachi's synonym dictionary: an abbreviation (スマホ, スマートフォン) and a translation.
    "sumaho": ("買い替え", "スマホを買い替えた。スマホは便利だ。"),
    "smart": ("新機種", "スマートフォンの新機種が発表された。"),
    "ukr": ("首都", "ウクライナの首都を訪ねた。"),
    "ukr-en": ("News", "Ukraine news today."),
    "beikoku": ("選挙", "米国の大統領選挙が始まった。"),
    # A katakana name the index lacks, read as the readings of words it has, and its abbreviation.
    "sony": ("半導体", "ソニーはセミコンダクタのマニュファクチャリングに強い。"),
    "sck": ("工場", "SCKが新工場を建てた。"),
    # The company's file: ハコブネ, 物流基盤 (both ways) and ヤマビコ => 業務改革 (one way).
    "hakobune": ("社内", "ハコブネの導入が決まった。"),
    "butsuryu": ("物流", "物流基盤の刷新を進める。"),
    "yamabiko": ("進捗", "ヤマビコの進捗を報告した。"),
    "kaikaku": ("改革", "業務改革を発表した。"),
    "zaiko": ("倉庫", "在庫管理の改善を図る。"),
    # A product name only the user dictionary knows.
    "maru": ("新製品", "索引丸が発売された。索引丸は速い。"),
}
SYNONYMS = "# company words\nハコブネ, 物流基盤\nヤマビコ => 業務改革\n"
# Sudachi's user-dictionary CSV: surface, left/right id, cost, surface, six parts of speech,
# reading, normalized form, dictionary form, split type, A/B splits, word structure, synonyms.
USER_DICT = "索引丸,5146,5146,3000,索引丸,名詞,固有名詞,一般,*,*,*,サクインマル,索引丸,*,A,*,*,*,*\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("synonyms")
    lines = [json.dumps({"id": k, "title": t, "text": x}, ensure_ascii=False) for k, (t, x) in DOCS.items()]
    (base / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (base / "company.txt").write_text(SYNONYMS, encoding="utf-8")
    (base / "lex.csv").write_text(USER_DICT, encoding="utf-8")
    return base


@pytest.fixture(scope="module", params=BACKENDS)
def seed(request: pytest.FixtureRequest, files: Path) -> Seed:
    if request.param == "embedded":
        where = Seed("embedded", str(files / "index"))
    else:
        urls = ",".join(request.getfixturevalue("cluster_urls"))
        where = Seed("opensearch", urls, "sakuin-synonyms", {"SAKUIN_CLUSTER_INDEX": "sakuin-synonyms"})
    with cluster_index(where.alias):
        report = build(
            where.target,
            [files / "docs.jsonl"],
            rebuild=True,
            synonyms=["sudachi", str(files / "company.txt")],
            user_dicts=[str(files / "lex.csv")],
        )
    assert report.user_dicts == ["lex.csv"]
    return where


@pytest.fixture(scope="module")
def engine(seed: Seed) -> Any:
    return seed.engine()


def ids(result: Any) -> list[str]:
    return [h.doc_id for h in result.hits]


def matches(result: Any) -> list[tuple[str, str]]:
    return [(h.doc_id, h.match) for h in result.hits]


def searched(result: Any) -> dict[str, list[str]]:
    """What each typed word was widened to."""
    return {e.word: list(e.synonyms) for e in result.expansions}


# -- expansion, both ways -------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "typed", "synonym", "via"),
    [
        ("スマホ", "sumaho", "smart", "スマートフォン"),  # an abbreviation
        ("スマートフォン", "smart", "sumaho", "スマホ"),  # and back
        ("ハコブネ", "hakobune", "butsuryu", "物流基盤"),  # the company's file
        ("物流基盤", "butsuryu", "hakobune", "ハコブネ"),  # and back
    ],
)
def test_a_word_finds_its_synonym_after_the_sections_that_write_it(
    engine: Any, q: str, typed: str, synonym: str, via: str
) -> None:
    result = engine.search(q)
    assert matches(result) == [(typed, "word"), (synonym, "synonym")]
    assert via in searched(result)[q]
    assert [n.code for n in result.notices] == ["synonyms_searched"]


@pytest.mark.parametrize(("q", "found", "via"), [("ukraine", "ukr", "ウクライナ"), ("ウクライナ", "ukr-en", "Ukraine")])
def test_a_translation_both_ways(engine: Any, q: str, found: str, via: str) -> None:
    result = engine.search(q)
    assert (found, "synonym") in matches(result)
    assert via in searched(result)[q]


def test_a_kana_word_read_by_its_readings_still_widens(engine: Any) -> None:
    result = engine.search("ソニーセミコンダクタマニュファクチャリング")
    assert ("sck", "synonym") in matches(result)
    assert searched(result) == {"ソニーセミコンダクタマニュファクチャリング": ["SCK"]}


def test_an_entry_flagged_as_not_triggering_does_not_widen(engine: Any) -> None:
    # Sudachi's dictionary lists USA beside 米国 with expansion control 1: it is expanded to, never from.
    result = engine.search("USA")
    assert result.total == 0 and not result.expansions and not result.notices


def test_a_one_way_rule_widens_one_way(engine: Any) -> None:
    forth = engine.search("ヤマビコ")
    assert matches(forth) == [("yamabiko", "word"), ("kaikaku", "synonym")]
    back = engine.search("業務改革")
    assert ids(back) == ["kaikaku"] and not back.expansions


# -- ranking, snippets, the switch ----------------------------------------------------


def test_the_snippet_marks_the_synonym(engine: Any) -> None:
    hit = next(h for h in engine.search("スマホ").hits if h.match == "synonym")
    assert "<mark>スマートフォン</mark>" in hit.snippet.html


def test_without_synonyms_only_the_words_typed(engine: Any) -> None:
    result = engine.search("スマホ", synonyms=False)
    assert matches(result) == [("sumaho", "word")] and not result.expansions and not result.notices
    assert ids(engine.search("ヤマビコ", synonyms=False)) == ["yamabiko"]


def test_the_api_and_the_page_say_what_else_was_searched(seed: Seed) -> None:
    client = seed.app().test_client()
    body = client.get("/api/search", query_string={"q": "スマホ"}).get_json()
    assert [h["match"] for h in body["hits"]] == ["word", "synonym"] and body["synonyms"] is True
    assert body["expansions"][0]["word"] == "スマホ" and "スマートフォン" in body["expansions"][0]["synonyms"]
    off = client.get("/api/search", query_string={"q": "スマホ", "synonyms": "false"}).get_json()
    assert [h["doc_id"] for h in off["hits"]] == ["sumaho"] and off["expansions"] == []
    page = client.get("/search", query_string={"q": "スマホ"}).get_data(as_text=True)
    assert "「スマートフォン」も検索しました" in page and "synonyms=false" in page
    page_off = client.get("/search", query_string={"q": "スマホ", "synonyms": "false"}).get_data(as_text=True)
    assert "も検索しました" not in page_off and "入力した語だけで検索しています" in page_off


def sakuin(seed: Seed, *args: str) -> subprocess.CompletedProcess[str]:
    """``sakuin ARGS`` against the seed's backend."""
    return seed.run(*args)


def test_the_cli_switch(seed: Seed) -> None:
    on = sakuin(seed, "search", "スマホ", "--json")
    off = sakuin(seed, "search", "スマホ", "--no-synonyms", "--json")
    assert on.returncode == off.returncode == 0, on.stderr + off.stderr
    assert [h["doc_id"] for h in json.loads(on.stdout)["hits"]] == ["sumaho", "smart"]
    assert [h["doc_id"] for h in json.loads(off.stdout)["hits"]] == ["sumaho"]


# -- user dictionaries ------------------------------------------------------------------


def test_a_user_dictionary_word_is_one_word(engine: Any) -> None:
    tokens = engine.analyze("索引丸が出た")["tokens"]
    assert (tokens[0]["surface"], tokens[0]["indexed"], tokens[0]["user_dictionary"]) == ("索引丸", True, True)
    assert matches(engine.search("索引丸")) == [("maru", "word")]
    # Its first two characters are a word of Sudachi's, but not one of this section's.
    assert engine.search("索引", substrings=True).hits[0].match == "substring"


# -- a running server reads an edited file ------------------------------------------------


@pytest.fixture
def company(files: Path) -> Iterator[Path]:
    path = files / "company.txt"
    yield path
    path.write_text(SYNONYMS, encoding="utf-8")


def test_an_edited_synonyms_file_applies_to_the_next_search(seed: Seed, company: Path) -> None:
    client = seed.app().test_client()

    def hits() -> list[str]:
        return [h["doc_id"] for h in client.get("/api/search", query_string={"q": "ハコブネ"}).get_json()["hits"]]

    assert hits() == ["hakobune", "butsuryu"]
    company.write_text("ハコブネ, 在庫管理\n", encoding="utf-8")
    assert hits() == ["hakobune", "zaiko"]
    company.write_text("ハコブネ\n", encoding="utf-8")  # malformed: the last version read stays
    assert hits() == ["hakobune", "zaiko"]


# -- malformed files --------------------------------------------------------------------

KEYWORDS = {"--synonyms": "synonyms", "--user-dict": "user_dicts"}


@pytest.mark.parametrize(
    ("option", "name", "text", "code", "line"),
    [
        ("--synonyms", "syn.txt", "スマホ, スマートフォン\nスマホ\n", "bad_synonyms", "syn.txt:2: one word alone"),
        ("--synonyms", "syn.txt", "a => b => c\n", "bad_synonyms", "syn.txt:1: more than one =>"),
        ("--user-dict", "lex.csv", "索引丸,5146,5146\n", "bad_user_dict", "lex.csv:1: 3 columns"),
        ("--user-dict", "lex.csv", USER_DICT.replace(",3000,", ",xx,"), "bad_user_dict", "lex.csv:1: "),
        ("--user-dict", "lex.csv", "# nothing\n", "bad_user_dict", "lex.csv:1: 1 columns"),
    ],
)
def test_a_malformed_file_is_named_by_file_and_line(
    seed: Seed, files: Path, tmp_path: Path, option: str, name: str, text: str, code: str, line: str
) -> None:
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    proc = sakuin(seed, "index", str(files / "docs.jsonl"), option, str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"sakuin: {line}") and proc.stderr.count("\n") == 1, proc.stderr
    with pytest.raises(UserDictionaryError) as caught, cluster_index(seed.alias):
        build(seed.target, [files / "docs.jsonl"], **{KEYWORDS[option]: [str(bad)]})
    assert caught.value.code == code and caught.value.exit == message(code).exit == 2
    assert str(caught.value).startswith(line)


def test_the_index_is_unchanged_after_a_malformed_file(engine: Any) -> None:
    assert matches(engine.search("スマホ")) == [("sumaho", "word"), ("smart", "synonym")]
    assert matches(engine.search("索引丸")) == [("maru", "word")]

"""Every odd query gets a good answer: the cases users hit, on the seed corpus.

Each test is one report of the query issue (names, fragments, variant spellings,
operators at odd places, bad encodings, pages past the end), run through the
engine, the API, the HTML page or the CLI as the user met it.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from flask.testing import FlaskClient
from support.backends import Seed
from support.paths import ROOT


@pytest.fixture(scope="module")
def engine(seed: Seed) -> Any:
    return seed.engine()


def sakuin(seed: Seed, *args: str) -> subprocess.CompletedProcess[str]:
    """``sakuin ARGS`` against the seed's backend."""
    return seed.run(*args)


# -- never miss text the user typed ------------------------------------------------------


def test_old_kanji_compound_finds_the_new_form(engine: Any) -> None:
    new, old = engine.search("国防", per_page=100), engine.search("國防", per_page=100)
    assert old.total == new.total >= 9
    assert [(h.doc_id, h.ordinal) for h in old.hits] == [(h.doc_id, h.ordinal) for h in new.hits]
    assert all(h.match == "word" for h in old.hits)
    assert "<mark>国防</mark>" in old.hits[0].snippet.html


@pytest.mark.parametrize("q", ["ノヴゴロド", "ﾉｳﾞｺﾞﾛﾄﾞ", "のゔごろど", "ゴロド"])
def test_a_name_fragment_inside_a_longer_word_is_found(engine: Any, q: str) -> None:
    # The text has ニジニ・ノヴゴロド, which Sudachi reads as one word.
    result = engine.search(q)
    assert result.total == 1
    hit = result.hits[0]
    assert hit.match == "substring"
    marked = hit.snippet.text[slice(*hit.snippet.highlights[0])]
    assert marked in ("ノヴゴロド", "ゴロド")


def test_substring_candidates_are_checked_against_the_text(engine: Any) -> None:
    # ロシア and ウクライナ are words of many sections, never written together: the
    # bigrams of ロシアウクライナ are all there, the string is not, so no substring hit.
    result = engine.search("ロシアウクライナ", per_page=100)
    assert result.total == len(result.hits) > 0 and {h.match for h in result.hits} == {"word"}
    assert engine.search("アウクラ").total == 0  # its bigrams アウ, ウク, クラ occur; アウクラ does not


def test_substring_matches_rank_after_every_word_match(engine: Any) -> None:
    result = engine.search("ロシア", per_page=100)
    kinds = [h.match for h in result.hits]
    assert kinds == sorted(kinds, key=lambda k: k == "substring")  # all words first
    assert result.total == len(result.hits)


# -- odd input -----------------------------------------------------------------------------


def test_leading_minus_works_in_the_cli(seed: Seed) -> None:
    proc = sakuin(seed, "search", "-演説 国防", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"] == "-演説 国防" and data["total"] > 0
    proc = sakuin(seed, "search", "国防", "-演説")
    assert proc.returncode == 0 and "sections match" in proc.stdout, proc.stderr


def test_deep_nesting_is_a_clear_error_everywhere(client: FlaskClient, seed: Seed) -> None:
    q = "(" * 250 + "国防" + ")" * 250  # 502 characters, under the length limit
    r = client.get("/api/search", query_string={"q": q})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "too_deep"
    proc = sakuin(seed, "search", q)
    assert proc.returncode == 2 and "nested too deep" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("raw", ["%FF%FE", "%8D%91%96h"])  # bytes that are not UTF-8; 国防 in Shift_JIS
def test_non_utf8_query_is_a_400_naming_the_problem(client: FlaskClient, raw: str) -> None:
    r = client.get("/api/search?q=" + raw)
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_encoding" and "UTF-8" in error["message"]
    page = client.get("/search?q=" + raw)
    assert page.status_code == 400 and "UTF-8 ではありません" in page.get_data(as_text=True)


def test_one_length_limit_for_every_script_and_post_for_long_queries(client: FlaskClient) -> None:
    for q in ("国" * 1001, "a" * 2000, "𠮷" * 1500):
        r = client.get("/api/search", query_string={"q": q})
        assert r.status_code == 400, q[:3]
        assert r.get_json()["error"] == {"code": "query_too_long", "message": "q is too long: at most 1000 characters"}
    long_question = "ロシアの国防大臣は誰と電話会談したのか、" * 40  # 800 characters, 7 KB as a URL
    r = client.post("/api/search", json={"q": long_question, "per_page": 3})
    assert r.status_code == 200 and r.get_json()["total"] > 0 and len(r.get_json()["hits"]) == 3
    r = client.post("/api/search", json={"q": "国" * 1001})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "query_too_long"
    for body in ([], {"q": 1}, {"q": "国防", "page": "2"}, {"q": "国防", "page": True}, {"q": "国防", "x": 1}):
        r = client.post("/api/search", json=body)
        assert r.status_code == 400 and r.get_json()["error"]["code"] in ("bad_body", "bad_parameter"), body


def test_unknown_field_lists_the_fields(client: FlaskClient) -> None:
    r = client.get("/api/search", query_string={"q": "author:foo"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "unknown_field"
    assert "title:, heading:" in r.get_json()["error"]["message"]


def test_only_particles_says_so_and_suggests_what_to_type(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={"q": "の"}).get_json()
    assert body["total"] == 0 and [n["code"] for n in body["notices"]] == ["only_function_words"]
    page = client.get("/search", query_string={"q": "の"}).get_data(as_text=True)
    assert "助詞・助動詞・記号だけなので検索できません" in page


def test_a_page_past_the_end_says_which_page_is_last(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={"q": "国防", "page": 50}).get_json()
    assert body["hits"] == [] and body["last_page"] == 2
    assert body["notices"] == [
        {
            "code": "page_past_end",
            "message": "page 50 is past the end: the last page is 2",
            "params": {"page": 50, "last_page": 2},
        }
    ]


def test_json_errors_from_the_cli_are_the_apis_error_object(seed: Seed) -> None:
    proc = sakuin(seed, "search", '"国防', "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == {
        "error": {"code": "unclosed_quote", "message": 'unclosed quote: add the closing " or remove the opening one'}
    }


def test_the_readme_query_example_finds_sections(engine: Any) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = '"国防 大臣" -演説 title:ロシア'
    assert f"sakuin search '{example}'" in readme
    result = engine.search(example)
    assert result.total > 0
    assert all("演説" not in (h.heading + h.snippet.text) for h in result.hits)


def test_a_kana_word_with_a_particle_is_still_that_word(engine: Any) -> None:
    # ウクライナ|とは: a real word and a particle, not kana to be read as other words.
    result = engine.search("ウクライナとは")
    assert result.total > 0 and result.hits[0].match == "word"
    assert "<mark>ウクライナ</mark>" in result.hits[0].snippet.html

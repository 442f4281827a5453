"""The plan and emit layers: what a query means (terms and derivations) and what runs.

Each test states a representative query's plan or emitted queries exactly, so a
change in query understanding shows up here before it shows up in rankings.
"""

from __future__ import annotations

import pytest
from whoosh import query as wq

from sakuin.search.config import KANA_WEIGHT, PAIR_WEIGHT, WORD_WEIGHT
from sakuin.search.embedded.reading.emit import compile_query, emit
from sakuin.search.errors import QuerySyntaxError
from sakuin.search.opensearch.emit import query as cluster_query
from sakuin.search.query import parse, plan_query
from sakuin.search.query.plan import Pair, PAll, Planner, PNot, Run, Term


def test_a_short_run_is_a_keyword_of_units_and_parts() -> None:
    plan = plan_query("国防大臣")
    run = plan.root
    assert isinstance(run, Run) and run.kind == "keyword" and plan.keyword and plan.question is None
    assert [w.unit for w in run.words] == [Term("content", "国防", "unit"), Term("content", "大臣", "unit")]
    assert run.folded == "国防大臣"


def test_a_compound_keeps_its_parts_with_their_derivation() -> None:
    (word,) = plan_query("関西国際空港").root.words  # type: ignore[union-attr]
    assert word.unit == Term("content", "関西国際空港", "unit")
    assert [(p.text, p.derivation) for p in word.parts] == [("関西", "part"), ("国際", "part"), ("空港", "part")]


def test_a_question_is_a_sentence_of_weighted_words_and_grams() -> None:
    plan = plan_query("ベロウソフ国防大臣は誰と電話会談したのか")
    run = plan.question
    assert run is not None and not plan.keyword
    words = [t for t in run.sentence_terms() if t.derivation != "gram"]
    assert [t.text for t in words] == ["ベロウソフ", "国防", "大臣", "電話", "会談"]
    assert {t.weight for t in words} == {WORD_WEIGHT}
    grams = [t.text for t in run.grams]
    assert grams[:3] == ["べろ", "ろう", "うそ"] and all(t.field == "grams" for t in run.grams)


def test_a_question_pairs_the_words_that_stand_side_by_side() -> None:
    run = plan_query("ベロウソフ国防大臣は誰と電話会談したのか").question
    assert run is not None
    # A compound's parts are a pair; 誰 is dropped but keeps its position: no 大臣 電話.
    assert [(p.first, p.second) for p in run.pairs] == [("ベロウソフ", "国防"), ("国防", "大臣"), ("電話", "会談")]
    assert {(p.field, p.weight) for p in run.pairs} == {("content", PAIR_WEIGHT)}
    question = plan_query("明治22年は西暦何年か").question
    assert question is not None and [(p.first, p.second) for p in question.pairs][:2] == [("明治", "22"), ("22", "年")]
    assert ("西暦", "年") not in {(p.first, p.second) for p in question.pairs}  # 何 stands between them


def test_only_a_question_has_pairs() -> None:
    assert plan_query("国防大臣").root.pairs == ()  # type: ignore[union-attr]  a keyword has its phrase
    assert compile_query("国防大臣").pairs == ()
    # Inside an OR a sentence ranks as a Whoosh query, without the pairs' bonus.
    assert compile_query("大臣の演説 OR 国防").pairs == ()
    assert compile_query("大臣の演説").pairs == (Pair("content", "大臣", "演説"),)


def test_pairs_skip_words_the_index_lacks() -> None:
    known = {"国防", "大臣"}
    plan = Planner(lambda f, t: int(f == "content" and t in known)).plan(parse("国防大臣は誰と電話会談したのか"))
    assert plan.question is not None and plan.question.pairs == (Pair("content", "国防", "大臣"),)


def test_old_kanji_are_read_as_new_before_sudachi() -> None:
    run = plan_query("國防").root
    assert [w.unit.text for w in run.words] == ["国防"]  # type: ignore[union-attr]  one known word, not 國|防


def test_half_width_kana_is_the_same_query() -> None:
    assert plan_query("ﾉｳﾞｺﾞﾛﾄﾞ").root == plan_query("ノヴゴロド").root  # NFKC before anything else


def test_kana_is_segmented_into_known_readings() -> None:
    known = {("reading", "コッカ"), ("reading", "キミツ")}
    plan = Planner(lambda f, t: int((f, t) in known)).plan(parse("こっかきみつ"))
    assert [(t.text, t.derivation) for t in plan.root.readings] == [  # type: ignore[union-attr]
        ("コッカ", "reading"),
        ("キミツ", "reading"),
    ]


def lexicon_of(*known: str) -> Planner:
    return Planner(lambda f, t: int(f == "content" and t in known))


def test_hiragana_is_also_its_katakana_word() -> None:
    run = lexicon_of("歩く", "アルク").plan(parse("あるく")).root
    assert isinstance(run, Run) and run.kind == "keyword"
    assert [w.unit.text for w in run.words] == ["歩く"] and run.kana is not None
    assert run.kana.unit == Term("content", "アルク", "unit", KANA_WEIGHT)
    # Hiragana Sudachi reads as a word plus an auxiliary is not that word: only the name.
    run = lexicon_of("可成", "カナリス").plan(parse("かなりす")).root
    assert isinstance(run, Run) and run.words == () and run.kana is not None and run.kana.unit.text == "カナリス"


def test_hiragana_has_no_katakana_word_unless_it_is_kana_the_index_has() -> None:
    assert lexicon_of("歩く").plan(parse("あるく")).root.kana is None  # type: ignore[union-attr]
    assert lexicon_of("梅", "うめ").plan(parse("うめ")).root.kana is None  # type: ignore[union-attr]  ウメ → 梅
    assert lexicon_of("アルク").plan(parse("アルク")).root.kana is None  # type: ignore[union-attr]  typed as katakana
    long = "あるくあるくあるく"  # longer than a name
    assert lexicon_of("アルクアルクアルク").plan(parse(long)).root.kana is None  # type: ignore[union-attr]


def test_negation_and_groups_keep_their_shape() -> None:
    plan = plan_query("会談 -電話")
    assert isinstance(plan.root, PAll) and isinstance(plan.root.children[1], PNot)
    assert not plan.keyword  # an operator: no substring matching
    assert [r.text for r in plan.runs()] == ["会談"] and [r.text for r in plan.runs(negated=True)] == ["電話"]


def test_unknown_fields_are_refused_with_the_list_of_fields() -> None:
    with pytest.raises(QuerySyntaxError) as err:
        plan_query("author:foo")
    assert err.value.code == "unknown_field"
    assert err.value.params == {"field": "author", "fields": ["title", "heading", "path", "type", "modified"]}
    assert "title:, heading:" in err.value.message


def test_only_particles_is_said_so() -> None:
    assert plan_query("の").only_function_words
    assert plan_query("とは").only_function_words
    assert not plan_query("国防").only_function_words


def test_the_plan_is_immutable() -> None:
    plan = plan_query("国防大臣")
    with pytest.raises(AttributeError):
        plan.keyword = False  # type: ignore[misc]
    compiled = emit(plan)
    with pytest.raises(TypeError):
        compiled.targets.highlight["content"] = frozenset()  # type: ignore[index]


# -- emit ------------------------------------------------------------------------------


def test_a_keyword_emits_required_words_a_phrase_boost_and_substring_grams() -> None:
    compiled = compile_query("国防大臣")
    q = compiled.query
    assert isinstance(q, wq.AndMaybe) and isinstance(q.a, wq.And) and isinstance(q.b, wq.Phrase)
    assert q.b.words == ["国防", "大臣"]
    assert compiled.bag is None
    assert compiled.targets.substring == (("国防", "防大", "大臣"),)
    assert compiled.targets.needles == ("国防大臣",) and compiled.targets.literals == ("国防大臣",)
    assert compiled.targets.highlight == {"content": frozenset({"国防", "大臣"})}


def test_two_keywords_need_each_word_as_a_substring() -> None:
    compiled = compile_query("京都 ノヴゴロド")
    assert compiled.targets.substring == (("京都",), ("のゔ", "ゔご", "ごろ", "ろど"))


def test_a_question_emits_its_bag_and_no_substring_query() -> None:
    compiled = compile_query("ベロウソフ国防大臣は誰と電話会談したのか")
    assert compiled.bag is not None and compiled.targets.substring is None
    assert compiled.bag[0] == ("content", "ベロウソフ", WORD_WEIGHT)
    assert isinstance(compiled.query, wq.Or) and len(compiled.query.subqueries) == len(compiled.bag)


def test_a_question_emits_its_pairs_for_both_backends() -> None:
    compiled = compile_query("大臣の演説")
    assert compiled.pairs == (Pair("content", "大臣", "演説"),)
    should = cluster_query(compiled.plan)["bool"]["should"]
    assert should[-1] == {
        "constant_score": {"filter": {"match_phrase": {"content_fine": "大臣 演説"}}, "boost": PAIR_WEIGHT}
    }
    nested = cluster_query(compile_query("大臣の演説 OR 国防").plan)
    assert "constant_score" not in str(nested)  # the embedded backend adds no bonus there either


def test_operators_fields_and_phrases_emit_no_substring_query() -> None:
    for q in ('"国防 大臣"', "title:ロシア", "会談 OR 協議", "会談 -電話"):
        assert compile_query(q).targets.substring is None, q
    assert compile_query("国").targets.substring is None  # one character has no bigram


def test_a_negated_word_is_not_highlighted() -> None:
    compiled = compile_query("会談 -電話")
    assert compiled.targets.highlight == {"content": frozenset({"会談"})}
    assert isinstance(compiled.query, wq.And) and isinstance(compiled.query.subqueries[1], wq.Not)


def test_a_field_emits_terms_in_that_field_only() -> None:
    q = compile_query('heading:"電話 会談"').query
    assert isinstance(q, wq.Phrase) and q.fieldname == "heading" and q.words == ["電話", "会談"]


def test_kana_no_reading_explains_matches_only_as_typed() -> None:
    plan = Planner(lambda f, t: 0).plan(parse("東京 だびんち"))  # no reading is known
    chopped = plan.root.children[1]  # type: ignore[union-attr]
    assert chopped.words == () and chopped.typed_words > 0  # not 瓶 | ち
    compiled = emit(plan)
    assert isinstance(compiled.query, wq.And)  # 東京 alone must not be a word match
    assert wq.Term("content", "\x00") in compiled.query.subqueries
    assert compiled.targets.substring == (("東京",), ("だび", "びん", "んち"))


def test_hiragana_emits_its_katakana_word_as_an_alternative_for_both_backends() -> None:
    compiled = emit(lexicon_of("歩く", "アルク").plan(parse("あるく"), "あるく"))
    assert compiled.query == wq.Or([wq.Term("content", "歩く"), wq.Term("content", "アルク", boost=KANA_WEIGHT)])
    assert compiled.targets.highlight == {"content": frozenset({"歩く", "アルク"})}
    assert compiled.targets.substring == (("ある", "るく"),)  # and inside longer words, after the words
    assert cluster_query(compiled.plan) == {
        "bool": {
            "should": [
                {"term": {"content_all": {"value": "歩く"}}},
                {"term": {"content_all": {"value": "アルク", "boost": KANA_WEIGHT}}},
            ],
            "minimum_should_match": 1,
        }
    }
    only = emit(lexicon_of("可成", "カナリス").plan(parse("かなりす"), "かなりす"))
    assert only.query == wq.Term("content", "カナリス", boost=KANA_WEIGHT)


def test_a_compound_matches_by_adjacent_parts_not_scattered_ones() -> None:
    q = compile_query("関西国際空港").query
    assert isinstance(q, wq.Or)
    assert wq.Phrase("content", ["関西", "国際", "空港"]) in q.subqueries

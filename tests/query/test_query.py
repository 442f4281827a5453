"""Query syntax: what parses to what, and one-line errors for what does not."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.errors import QuerySyntaxError
from sakuin.search.query import All, Any_, Not, Text, parse


def test_words_are_all_required() -> None:
    assert parse("会談 電話") == All((Text("会談"), Text("電話")))


def test_full_width_space_and_quotes_from_an_ime() -> None:
    assert parse("会談\u3000＂国防 大臣＂") == All((Text("会談"), Text("国防 大臣", phrase=True)))


def test_or_not_minus_fields_and_groups() -> None:
    assert parse("会談 OR 協議") == Any_((Text("会談"), Text("協議")))
    assert parse("会談 -電話") == All((Text("会談"), Not(Text("電話"))))
    assert parse("会談 NOT 電話") == All((Text("会談"), Not(Text("電話"))))
    assert parse('title:ロシア heading:"電話 会談"') == All(
        (Text("ロシア", field="title"), Text("電話 会談", phrase=True, field="heading"))
    )
    assert parse("(会談 OR 協議) ロシア") == All((Any_((Text("会談"), Text("協議"))), Text("ロシア")))


def test_lowercase_or_and_unknown_prefixes_are_words() -> None:
    assert parse("or") == Text("or")
    assert parse("10:30") == Text("10:30")
    assert parse("e-mail") == Text("e-mail")


@pytest.mark.parametrize(
    ("q", "code", "fragment"),
    [
        ('"国防 大臣', "unclosed_quote", "unclosed quote"),
        ('""', "empty_phrase", "empty phrase"),
        ("OR 会談", "dangling_operator", "OR needs"),
        ("会談 OR", "dangling_operator", "OR needs"),
        ("会談 OR OR 電話", "dangling_operator", "OR needs"),
        ("会談 NOT", "dangling_operator", "NOT/- needs"),
        ("-電話", "only_negative", "nothing to search for"),
        ("NOT 電話", "only_negative", "nothing to search for"),
        ("(会談", "unclosed_paren", "unbalanced '('"),
        ("会談)", "unbalanced_paren", "unbalanced ')'"),
        ("()", "empty_group", "empty group"),
        ("title:", "field_needs_value", "title: needs"),
        ("   ", "empty_query", "empty query"),
        ("あ" * 1001, "query_too_long", "too long"),
        ("(" * 250 + "a" + ")" * 250, "too_deep", "at most 20 levels"),
        ("(" * 21 + "a" + ")" * 21, "too_deep", "nested too deep"),
    ],
)
def test_malformed_queries_say_how_to_fix_them(q: str, code: str, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        parse(q)
    assert err.value.code == code
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message


def test_twenty_levels_of_parentheses_still_parse() -> None:
    assert parse("(" * 20 + "会談" + ")" * 20) == Text("会談")


def test_a_url_is_text_not_a_field() -> None:
    assert parse("http://example.com/a") == Text("http://example.com/a")
    assert parse("Title:ロシア") == Text("ロシア", field="title")  # field names are not case-sensitive
    assert parse("author:foo") == Text("foo", field="author")  # the plan layer knows which fields exist


def test_short_run_requires_all_words_and_prefers_the_phrase() -> None:
    q = compile_query("国防大臣").query
    assert isinstance(q, wq.AndMaybe)
    assert isinstance(q.a, wq.And)


def test_question_run_matches_any_content_word_without_function_words() -> None:
    compiled = compile_query("ベロウソフ国防大臣は誰と電話会談したのか")
    assert isinstance(compiled.query, wq.Or)
    words = compiled.targets.highlight["content"]
    assert {"ベロウソフ", "国防", "大臣", "電話", "会談"} <= words
    assert not words & {"は", "誰", "と", "の", "か", "為る", "た"}


def test_field_restriction_only_searches_that_field() -> None:
    q = compile_query("title:ロシア").query
    assert {f for f, _ in q.all_terms()} == {"title"}


def test_only_function_words_compile_to_nothing() -> None:
    assert compile_query("の").query is None

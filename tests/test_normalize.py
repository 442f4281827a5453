"""``fold`` as one translation table equals its definition step by step."""

from __future__ import annotations

import re
import sys
import unicodedata

import jaconv
from hypothesis import given, settings
from hypothesis import strategies as st

from search import normalize
from search.normalize import fold, to_shinjitai

_SPACES = re.compile(r"\s+")


def _fold_by_steps(text: str) -> str:
    text = to_shinjitai(unicodedata.normalize("NFKC", text).lower())
    return _SPACES.sub("", jaconv.kata2hira(text).replace("ー", ""))


def test_no_whitespace_above_the_table_range() -> None:
    assert not [c for c in range(normalize._LAST_SPACE + 1, sys.maxunicode + 1) if chr(c).isspace()]


def test_examples() -> None:
    for text in [
        "ﾉｳﾞｺﾞﾛﾄﾞ・サーバー",
        "國防大臣\u3000会談",
        "ＰｙＴｈｏｎ\tコード\n改行",
        "ヴァイオリン",
        "ヶ月 ヵ所 ヽヾ",
    ]:
        assert fold(text) == _fold_by_steps(text), text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_text(text: str) -> None:
    assert fold(text) == _fold_by_steps(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("あアｱヴｳﾞーｰ國国　 \t\nＡaゝヽヾ゛゜ﾞﾟカ\u3099"), max_size=30))
def test_japanese_text(text: str) -> None:
    assert fold(text) == _fold_by_steps(text)

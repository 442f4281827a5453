"""``fold`` as one translation table, and as an array lookup for long text, equals its
definition step by step; bigram codes equal the bigrams."""

from __future__ import annotations

import re
import sys
import unicodedata

import jaconv
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sakuin.search.analysis import normalize
from sakuin.search.analysis.normalize import content_bigrams, fold, fold_codes, gram_codes, gram_texts, to_shinjitai

_SPACES = re.compile(r"\s+")


def _fold_by_steps(text: str) -> str:
    text = to_shinjitai(unicodedata.normalize("NFKC", text).lower())
    return _SPACES.sub("", jaconv.kata2hira(text).replace("ー", ""))


def test_no_whitespace_above_the_table_range() -> None:
    assert not [c for c in range(normalize._LAST_SPACE + 1, sys.maxunicode + 1) if chr(c).isspace()]


def test_no_decomposition_above_the_scanned_range() -> None:
    above = range(normalize._DECOMPOSED_BELOW, sys.maxunicode + 1)
    assert not [c for c in above if unicodedata.decomposition(chr(c))]


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
    assert not any(c.isspace() for c in fold(text))  # what the dup column's hash relies on


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("あアｱヴｳﾞーｰ國国　 \t\nＡaゝヽヾ゛゜ﾞﾟカ\u3099"), max_size=30))
def test_japanese_text(text: str) -> None:
    assert fold(text) == _fold_by_steps(text)


def _folded(codes) -> str:
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=400))
# A mathematical capital sigma beyond the table: its lower case (σ or final ς) depends on
# the letter after it too, so the whole text folds exactly (found by this test).
@example("0" * 44 + "A\U0001d768A" + "0" * 18)
def test_table_fold_any_text(text: str) -> None:
    assert _folded(fold_codes(text)) == _fold_by_steps(text)
    assert fold(text) == _fold_by_steps(text)  # long text takes the table


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            "あアｱヴｳﾞーｰ國国　 \t\nＡaゝヽヾ゛゜ﾞﾟカ\u3099\u309aΣσİÅ\u0301e㈱①ﾊﾟ가\u1161\u11a8ᄀ\u3131\u314f𠮷😀"
        ),
        max_size=200,
    )
)
def test_table_fold_characters_that_combine_or_expand(text: str) -> None:
    """Kind-1 and kind-2 characters next to each other and to ordinary ones."""
    assert _folded(fold_codes(text)) == _fold_by_steps(text)


def test_table_fold_every_bmp_character() -> None:
    """Every BMP character, in runs of its neighbours and after a kana that could compose with it."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(chars), 256):
        run = "".join(chars[i : i + 256])
        assert _folded(fold_codes(run)) == _fold_by_steps(run), hex(i)
        spaced = "".join(f"カ{c}a" for c in chars[i : i + 256])
        assert _folded(fold_codes(spaced)) == _fold_by_steps(spaced), hex(i)


def test_table_fold_lone_surrogates() -> None:
    text = "国防\ud800大臣" * 30
    assert _folded(fold_codes(text)) == normalize._fold_exact(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_bigram_codes_are_the_bigrams(text: str) -> None:
    """The n-gram field's terms as codes equal its definition, in UTF-8 byte order."""
    content = text.replace("\r", "")
    codes = gram_codes(*map(fold_codes, content.split("\n", 2)))
    assert gram_texts(codes) == content_bigrams(content)
    distinct = np.unique(codes)
    texts = [g.encode("utf-8", "surrogatepass") for g in gram_texts(distinct)]
    assert texts == sorted(texts)

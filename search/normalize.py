"""Normalization: the one place that decides which spellings are the same.

Index and query both go through these functions, so a query matches whatever
width, case, kana or kanji form the document used::

    >>> normalize_term("ＰｙＴｈｏｎ")            # word terms: NFKC, lower case
    'python'
    >>> to_shinjitai("國防大臣")                  # old kanji → new, before Sudachi
    '国防大臣'
    >>> fold("ﾉｳﾞｺﾞﾛﾄﾞ・サーバー")                # n-grams and substrings: spelling-blind
    'のゔごろど・さば'

Design decisions:

* **Old → new kanji is 1:1, character by character** (國→国, 學→学, …), applied to
  the text Sudachi reads, at index and at query time. Sudachi's dictionary knows
  国防, not 國防, and splits the old form into two unknown words; mapping first
  makes them one word without moving any offset (each character maps to exactly
  one character), so highlights still point into the original text.
* **Word terms** are Sudachi's normalized form, then NFKC and lower case
  (``normalize_term``): Sudachi leaves Latin case and the width of unknown words
  alone.
* **Folded text** (``fold``) is for matching characters rather than words: NFKC,
  lower case, new kanji, hiragana for katakana, no long-vowel marks and no
  whitespace (a line break inside a word must not hide it). The n-gram field, the
  substring check and the n-gram highlights use it.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv
from jaconv.conv_table import K2H_TABLE

#: Old (旧字体) to new kanji that NFKC and Sudachi leave alone; one character each way.
KYUJITAI = (
    "國學會體舊圖廣佛來濱澤邊邉龍櫻藝對寫聲變鐵縣驛廳氣實發權圓壽屬數樂歸區醫拜惠戰擧晝當盡眞"
    "價假賣讀單嚴辯號觀劍勞勵將專應榮歐險驗豐鹽黨澁遲齋齒參隨繪經續總傳轉團斷處虛獨燈爭靜點德"
)
SHINJITAI = (
    "国学会体旧図広仏来浜沢辺辺竜桜芸対写声変鉄県駅庁気実発権円寿属数楽帰区医拝恵戦挙昼当尽真"
    "価仮売読単厳弁号観剣労励将専応栄欧険験豊塩党渋遅斎歯参随絵経続総伝転団断処虚独灯争静点徳"
)
_TO_SHINJITAI = str.maketrans(KYUJITAI, SHINJITAI)
_WHITESPACE = re.compile(r"\s+")
#: No code point above this one is whitespace (``tests/test_normalize.py`` checks).
_LAST_SPACE = 0x3000


def _fold_table() -> dict[int, str | None]:
    """``fold``'s steps after NFKC and lower case (new kanji, hiragana, no ー, no spaces)
    as one translation table: each step maps one character to at most one, so they compose."""
    chars = set(K2H_TABLE) | set(KYUJITAI) | {"ー"} | {chr(c) for c in range(_LAST_SPACE + 1) if chr(c).isspace()}
    table: dict[int, str | None] = {}
    for c in (ch if isinstance(ch, str) else chr(ch) for ch in chars):
        out = _WHITESPACE.sub("", jaconv.kata2hira(c.translate(_TO_SHINJITAI)).replace("ー", ""))
        if out != c:
            table[ord(c)] = out or None
    return table


_FOLD = _fold_table()
_KANA = re.compile(r"^[\u3041-\u309f\u30a0-\u30ffー]+$")


def to_shinjitai(text: str) -> str:
    """New kanji for old, one character for one: offsets into ``text`` stay valid."""
    return text.translate(_TO_SHINJITAI)


def normalize_term(text: str) -> str:
    """The spelling-insensitive key shared by index and query word terms."""
    return unicodedata.normalize("NFKC", text).lower()


def fold(text: str) -> str:
    """The spelling-blind form used for n-grams and substrings: NFKC, lower case,
    hiragana for katakana, new kanji for old, no long-vowel marks or spaces."""
    return unicodedata.normalize("NFKC", text).lower().translate(_FOLD)


def pairs(folded: str) -> list[str]:
    """Overlapping character bigrams of already folded text (none for one character)."""
    return [folded[i : i + 2] for i in range(len(folded) - 1)]


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of ``fold(text)`` (the character itself if only one)."""
    folded = fold(text)
    return [folded] if len(folded) == 1 else pairs(folded)


def content_bigrams(content: str) -> list[str]:
    """The ``grams`` field's terms: bigrams of title, heading and body, none across them.

    ``content`` is ``title\\nheading\\nbody`` (``search.schema.content_text``). Keeping
    the parts apart makes a one-bigram term match exactly the sections whose folded
    title, heading or body contains it, so a short substring needs no check.
    """
    return [gram for part in content.split("\n", 2) for gram in pairs(fold(part))]


def to_katakana(text: str) -> str:
    return jaconv.hira2kata(unicodedata.normalize("NFKC", text))


def is_kana(text: str) -> bool:
    return bool(_KANA.match(unicodedata.normalize("NFKC", text)))


__all__ = [
    "KYUJITAI",
    "SHINJITAI",
    "bigrams",
    "content_bigrams",
    "fold",
    "is_kana",
    "normalize_term",
    "pairs",
    "to_katakana",
    "to_shinjitai",
]

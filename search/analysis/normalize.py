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
* **Folding long text is a table lookup** (``fold_codes``). ``unicodedata``'s NFKC
  costs about 100 ns a character on Japanese text (full-width spaces and digits
  send it down its slow path), which made folding a fifth of an index build.
  Nearly every BMP character folds to at most one character whatever surrounds
  it, so one array maps code points straight to their folded form; the few that
  do not (compatibility characters that expand, like ㈱; combining marks and
  characters that compose with the one before, like ﾞ; final-sigma lower case)
  are folded by the exact definition, together with the character before them.
  Tests check ``fold_codes`` against ``fold`` on generated text.
* **Bigrams are integers** (``gram_codes``): a pair of code points is
  ``first << 21 | second``, so the n-gram field's terms of a section are one
  numpy array, counted and sorted without a Python string per bigram; integer
  order is the terms' UTF-8 byte order, the order Whoosh's term table needs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import jaconv
import numpy as np
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
_OLD_KANJI = re.compile(f"[{KYUJITAI}]")
_WHITESPACE = re.compile(r"\s+")
#: No code point above this one is whitespace (``tests/analysis/test_normalize.py`` checks).
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
    # ``str.translate`` looks every character up in a dict; most text has no old kanji.
    return text.translate(_TO_SHINJITAI) if _OLD_KANJI.search(text) else text


def normalize_term(text: str) -> str:
    """The spelling-insensitive key shared by index and query word terms."""
    return unicodedata.normalize("NFKC", text).lower()


def fold(text: str) -> str:
    """The spelling-blind form used for n-grams and substrings: NFKC, lower case,
    hiragana for katakana, new kanji for old, no long-vowel marks or spaces."""
    if len(text) > _SHORT:
        return fold_codes(text).tobytes().decode("utf-32-le", "surrogatepass")
    return _fold_exact(text)


def _fold_exact(text: str) -> str:
    """``fold`` by its definition (faster than the table for short text)."""
    return unicodedata.normalize("NFKC", text).lower().translate(_FOLD)


#: Text up to this many characters is folded by its definition, longer text by table.
_SHORT = 64
#: Code points folded by the table; the rest (rare) take the exact path.
_TABLE_SIZE = 0x10000
#: No character from here on has a decomposition (a test checks it), so building the
#: table looks no further: the scan of all of Unicode was two thirds of its 0.09 s, which
#: every indexing worker pays before its first batch.
_DECOMPOSED_BELOW = 0x30000
#: ``_fold_arrays``'s table value for a character ``fold`` removes.
_DROP = np.uint32(0xFFFFFFFF)
#: ``_packed_table``'s flags, in the top byte of each entry: a kind-0 character that
#: folding drops, or kind 1 or 2 (see ``_fold_arrays``).
_FLAG_SHIFT, _DROPPED, _KIND1, _KIND2 = 24, 1, 2, 3
#: A bigram code: ``first << _GRAM_SHIFT | second`` (code points need 21 bits).
_GRAM_SHIFT = 21


@cache
def _fold_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(folded code point or ``_DROP``, kind) for every BMP character, built on first use.

    Kind 0: folds alone, the same in any context. Kind 1: fold it together with the
    character before it (it expands, composes with its neighbour, or is a combining
    mark). Kind 2: fold the whole text exactly (Σ, whose lower case depends on the
    letters around it).
    """
    seconds = {
        int(d.split()[1], 16)
        for d in map(unicodedata.decomposition, map(chr, range(_DECOMPOSED_BELOW)))
        if d and not d.startswith("<") and len(d.split()) == 2
    }
    seconds.update(range(0x1161, 0x1176), range(0x11A8, 0x11C3))  # Hangul vowels and trailing consonants
    table = np.arange(_TABLE_SIZE, dtype=np.uint32)
    kind = np.zeros(_TABLE_SIZE, dtype=np.uint8)
    for c in range(_TABLE_SIZE):
        ch = chr(c)
        if 0xD800 <= c <= 0xDFFF:
            kind[c] = 1
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        if "\u03a3" in nfkc:
            kind[c] = 2
            continue
        lower = nfkc.lower()
        first = unicodedata.normalize("NFKD", ch)[0]
        if (
            len(lower) != 1
            or unicodedata.combining(ch)
            or unicodedata.combining(first)
            or unicodedata.combining(lower)
            or ord(first) in seconds
        ):
            kind[c] = 1
            continue
        folded = lower.translate(_FOLD)
        table[c] = ord(folded) if folded else _DROP
    return table, kind


@cache
def _packed_table() -> np.ndarray:
    """``_fold_arrays`` as one uint32 per BMP character: the folded code point, with a flag
    in the top byte (``_KIND1``, ``_KIND2``, ``_DROPPED``; 0: keep the folded character), so
    folding takes one table lookup per character instead of two lookups and three selections
    (folding is two thirds of what a worker spends on a section's fields: a tenth less)."""
    table, kind = _fold_arrays()
    flags = np.where(table == _DROP, _DROPPED, np.choose(kind, [0, _KIND1, _KIND2]))
    return np.where(table == _DROP, 0, table).astype(np.uint32) | (flags.astype(np.uint32) << _FLAG_SHIFT)


def prepare_folding() -> None:
    """Build the folding table now rather than on the first long text."""
    _packed_table()


def fold_codes(text: str) -> np.ndarray:
    """``fold(text)`` as an array of code points (uint32)::

    >>> fold_codes("ｶﾞ・ＳＶ").tobytes().decode("utf-32-le")
    'が・sv'
    """
    if len(text) <= _SHORT:  # titles, headings: the array set-up would cost more than the text
        return _exact_codes(text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    packed = _packed_table()
    if int(codes.max()) < _TABLE_SIZE:
        folded = packed[codes]
    else:  # a character beyond the table folds exactly, with the one before it (kind 1)
        bmp = codes < _TABLE_SIZE
        folded = np.where(bmp, packed[np.where(bmp, codes, 0)], _KIND1 << _FLAG_SHIFT)
        if _any_sigma(codes[~bmp]):
            return _exact_codes(text)
    flags = folded >> _FLAG_SHIFT
    if int(flags.max()) < _KIND1:  # only characters that fold alone: done once the dropped go
        return folded if not flags.any() else folded[flags == 0]
    if (flags == _KIND2).any():
        return _exact_codes(text)
    # Each run of kind-1 characters is folded exactly with the character before it:
    # text splits into pieces that fold independently before any kind-0 character.
    odd = np.flatnonzero(flags == _KIND1)
    breaks = np.flatnonzero(np.diff(odd) > 1) + 1
    starts, ends = odd[np.r_[0, breaks]], odd[np.r_[breaks - 1, len(odd) - 1]] + 1
    out: list[np.ndarray] = []
    done = 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        start = max(start - 1, 0)
        if start > done:
            out.append(folded[done:start])
        out.append(_exact_codes(text[start:end]))
        done = end
    out.append(folded[done:])
    joined = np.concatenate(out)
    return joined[joined < (1 << _FLAG_SHIFT)]  # the exact pieces' code points have no flag


def _any_sigma(codes: np.ndarray) -> bool:
    """Whether a character beyond the table folds to Σ (mathematical capital sigmas): like
    the table's kind 2, its lower case depends on the letters on both sides."""
    return any("\u03a3" in unicodedata.normalize("NFKC", chr(c)) for c in set(codes.tolist()))


def _exact_codes(text: str) -> np.ndarray:
    return np.frombuffer(_fold_exact(text).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def gram_codes(*folded: np.ndarray) -> np.ndarray:
    """The overlapping bigrams of each folded text (none across them) as codes (uint64)."""
    out = [(f[:-1].astype(np.uint64) << _GRAM_SHIFT) | f[1:] for f in folded if len(f) > 1]
    return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


def gram_texts(codes: np.ndarray) -> list[str]:
    """The bigrams ``codes`` stand for::

    >>> gram_texts(gram_codes(fold_codes("国防")))
    ['国防']
    """
    pairs = np.empty((len(codes), 2), dtype=np.uint32)
    pairs[:, 0] = codes >> _GRAM_SHIFT
    pairs[:, 1] = codes & ((1 << _GRAM_SHIFT) - 1)
    text = pairs.tobytes().decode("utf-32-le", "surrogatepass")
    return [text[i : i + 2] for i in range(0, len(text), 2)]


def pairs(folded: str) -> list[str]:
    """Overlapping character bigrams of already folded text (none for one character)."""
    return [folded[i : i + 2] for i in range(len(folded) - 1)]


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of ``fold(text)`` (the character itself if only one)."""
    folded = fold(text)
    return [folded] if len(folded) == 1 else pairs(folded)


def content_bigrams(content: str) -> list[str]:
    """The ``grams`` field's terms: bigrams of title, heading and body, none across them.

    ``content`` is ``title\\nheading\\nbody`` (``sakuin.search.indexing.sections.content_text``). Keeping
    the parts apart makes a one-bigram term match exactly the sections whose folded
    title, heading or body contains it, so a short substring needs no check.
    """
    return [gram for part in content.split("\n", 2) for gram in pairs(fold(part))]


def to_katakana(text: str) -> str:
    return jaconv.hira2kata(unicodedata.normalize("NFKC", text))


def to_hiragana(text: str) -> str:
    return jaconv.kata2hira(unicodedata.normalize("NFKC", text))


def is_kana(text: str) -> bool:
    return bool(_KANA.match(unicodedata.normalize("NFKC", text)))


__all__ = [
    "KYUJITAI",
    "SHINJITAI",
    "bigrams",
    "content_bigrams",
    "fold",
    "fold_codes",
    "gram_codes",
    "gram_texts",
    "is_kana",
    "normalize_term",
    "pairs",
    "prepare_folding",
    "to_hiragana",
    "to_katakana",
    "to_shinjitai",
]

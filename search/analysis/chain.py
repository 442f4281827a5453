"""Japanese analysis as a native Whoosh pipeline: ``SudachiTokenizer() | filters``.

These analyzers are the definition of every analysed field's terms: the Whoosh
schema holds them (``sakuin.search.embedded.schema``), and the indexer's bulk
path (``sakuin.search.analysis.terms``) produces exactly their terms, positions
and offsets without a Whoosh ``Token`` per term; a test compares the two on the
seed and odd cases. Queries are analysed by the planner with the same Sudachi
calls (``sakuin.search.analysis.sudachi``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Composable, Filter, Token, Tokenizer

from sakuin.search.analysis.normalize import content_bigrams, to_katakana
from sakuin.search.analysis.sudachi import Morph, cached_morphemes, is_term


class SudachiTokenizer(Tokenizer):
    """Yields every morpheme with its compound parts overlaid (see module doc).

    Tokens carry ``tag`` (POS major) and ``reading`` so later filters can drop
    function words or switch the term to the reading without re-tokenizing.
    ``posinc`` is 0 for a compound unit (it shares the position of its first part).
    The last analysed texts are cached because one section feeds several fields.

    ``lines``: the value's first ``lines - 1`` line breaks divide texts that are
    analysed apart (offsets stay those of the whole value). The ``content`` field
    (title, heading and body, one per line) uses 3: a word never spans two of them,
    and its title and heading words are exactly those of the ``title`` and
    ``heading`` fields, which is what lets the indexer analyse a title once.
    """

    def __init__(self, parts: bool = True, lines: int = 1) -> None:
        self.parts = parts
        self.lines = lines

    def __getstate__(self) -> dict[str, Any]:
        return {"parts": self.parts, "lines": self.lines}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.parts = state["parts"]
        self.lines = state.get("lines", 1)  # indexes before schema 8

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.parts == self.parts  # type: ignore[attr-defined]
            and other.lines == self.lines  # type: ignore[attr-defined]
        )

    @staticmethod
    def analyse(text: str) -> list[Morph]:
        return cached_morphemes(text)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.text = t.original = value
            t.tag, t.reading, t.posinc, t.boost = "名詞", "", 1, 1.0
            t.pos, t.startchar, t.endchar = start_pos, start_char, start_char + len(value)
            yield t
            return
        base = start_char
        for text in value.split("\n", self.lines - 1) if self.lines > 1 else (value,):
            for m in self.analyse(text):
                t.boost = 1.0
                t.stopped = False
                t.tag = m.tag
                t.reading = m.reading
                t.original = m.surface
                t.text = m.normalized
                t.startchar = base + m.start
                t.endchar = base + m.end
                if self.parts and m.parts:
                    t.posinc = 0
                    yield t
                    for norm, ps, pe in m.parts:
                        t.text = norm
                        t.original = text[ps:pe]
                        t.startchar, t.endchar = base + ps, base + pe
                        t.posinc = 1
                        yield t
                else:
                    t.posinc = 1
                    yield t
            base += len(text) + 1


class FunctionWordFilter(Filter):
    """Drops particles, auxiliaries, punctuation and whitespace."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if is_term(t.tag, t.text):
                yield t


class NormalizeFilter(Filter):
    """NFKC + lower-case, after Sudachi's normalization (which keeps Latin case)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            text = t.text
            if not text.isascii() or not text.islower():
                t.text = unicodedata.normalize("NFKC", text).lower()
            yield t


class PositionFilter(Filter):
    """Numbers the surviving tokens, so dropped function words leave no gaps.

    Runs last: positions must reflect what was kept, which only the end of the
    chain knows. A compound unit (posinc 0) takes the position of its first part.
    """

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        pos = -1
        for t in tokens:
            # A unit takes the position its first part is about to take.
            if t.posinc:
                pos += 1
                t.pos = pos
            else:
                t.pos = pos + 1
            yield t


class ReadingFilter(Filter):
    """Replaces each word by its reading in katakana (compound parts are dropped).

    Lets a query typed in kana (こっかきみつ) find the kanji it reads as (国家機密).
    """

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if t.reading and t.reading != "キゴウ":
                t.text = to_katakana(t.reading)
                yield t


class BigramTokenizer(Tokenizer):
    """Overlapping character bigrams of the folded title, heading and body
    (``sakuin.search.analysis.normalize.content_bigrams``).

    The n-gram field catches what the dictionary splits differently or does not
    know, and, because it is folded, spellings Sudachi does not unify (hiragana
    for katakana, old kanji, dropped long vowels). Offsets are not recorded:
    highlighting comes from the word fields.
    """

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, **kwargs: Any) -> Iterator[Token]:
        t = Token(positions, chars, **{k: v for k, v in kwargs.items() if k in ("removestops", "mode")})
        t.boost = 1.0
        for i, gram in enumerate(content_bigrams(value)):
            t.text = gram
            t.stopped = False
            if positions:
                t.pos = i
            yield t


def japanese_analyzer(lines: int = 1) -> Composable:
    """The word analyzer: terms are normalized content words and compound parts
    (``lines``: see ``SudachiTokenizer``)."""
    return SudachiTokenizer(lines=lines) | FunctionWordFilter() | NormalizeFilter() | PositionFilter()


def reading_analyzer(lines: int = 1) -> Composable:
    """The reading field: one katakana reading per content word."""
    return SudachiTokenizer(parts=False, lines=lines) | FunctionWordFilter() | ReadingFilter()


def gram_analyzer() -> Composable:
    return BigramTokenizer()


__all__ = [
    "BigramTokenizer",
    "FunctionWordFilter",
    "NormalizeFilter",
    "PositionFilter",
    "ReadingFilter",
    "SudachiTokenizer",
    "gram_analyzer",
    "japanese_analyzer",
    "reading_analyzer",
]

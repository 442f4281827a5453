"""What one section puts into each analysed field, computed in bulk.

The analyzers in ``search.analysis`` define the terms; this module produces the
same terms, positions, offsets and frequencies for the indexer without a Whoosh
``Token`` per term, because at index time that chain was most of the cost (a
token object through four filters per term, a Sudachi morpheme wrapper per word,
and a second pass over the text for the reading field). A test checks that every
field's terms equal the analyzer chain's on the seed and a livedoor sample.

Design decisions:

* One Sudachi pass feeds ``content`` and ``reading`` (they analyse the same text).
* What a dictionary word contributes (its term, reading, mode-A parts and their
  offsets relative to the word) depends only on the word and its surface, so it is
  worked out once per process and looked up by ``word_id``; the surface is
  compared on every hit, because Sudachi's input normalization lets one word match
  several surfaces (㍻ and 平成, or … as three dots) whose offsets differ. Unknown
  (OOV) words take the slow path every time.
* The Sudachi tokenize call is timed, so a build can say how much of its time
  went to Sudachi itself.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from search.analysis import _chunks, _is_term, _sudachi, parts_of_speech
from search.normalize import fold_codes, gram_codes, gram_texts, normalize_term, to_katakana, to_shinjitai

#: A term's occurrences in one field of one section: (position, start char, end char).
Occurrences = list[tuple[int, int, int]]
#: One occurrence of a term: (term, position, start char, end char).
Occurrence = tuple[str, int, int, int]


class _Word(NamedTuple):
    """What one morpheme contributes, relative to its own start."""

    surface: str
    term: str | None  # None: not a term (function word, punctuation)
    reading: str | None  # the reading field's term, or None
    parts: tuple[tuple[str | None, int, int], ...]  # mode-A parts: (term or None, start, end)


class Timer:
    """Accumulates the seconds spent inside Sudachi's tokenize call."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0


#: A word that contributes no term, reading or part (particles, punctuation, spaces):
#: a property of the dictionary word, whatever its surface, so the loop skips it at once.
_NOTHING = _Word("", None, None, ())
_words: dict[int, _Word] = {}
#: Unknown words by (part-of-speech id, surface): whitespace, names, katakana words.
_unknown: dict[tuple[int, str], _Word] = {}
#: Cached words beyond this are not added (a bound on each per-process table).
MAX_CACHED_WORDS = 500_000


def _word(m: Any, surface: str, tags: list[str], mode_a: Any) -> _Word:
    """The slow path: read everything from the morpheme (the rules of the analyzer chain)."""
    tag = tags[m.part_of_speech_id()]
    normalized = m.normalized_form()
    is_term = _is_term(tag, normalized)
    reading = m.reading_form() if is_term else ""
    parts: tuple[tuple[str | None, int, int], ...] = ()
    split = m.split(mode_a)
    if len(split) > 1:
        begin = m.begin()
        parts = tuple(
            (normalize_term(norm) if _is_term(tag, norm) else None, p.begin() - begin, p.end() - begin)
            for p in split
            for norm in (p.normalized_form(),)
        )
    word = _Word(surface, normalize_term(normalized) if is_term else None, _reading(reading), parts)
    if word.term is None and word.reading is None and all(term is None for term, _, _ in parts):
        return _NOTHING
    return word


def analyse_words(
    text: str, readings: bool = False, timer: Timer | None = None
) -> tuple[dict[str, Occurrences], Counter[str] | None]:
    """The word field's terms of ``text`` (and, if asked, the reading field's).

    Equals ``japanese_analyzer()`` (positions and character offsets as Whoosh's
    ``Characters`` format records them) and ``reading_analyzer()``::

        >>> words, readings = analyse_words("関西国際空港に着いた", readings=True)
        >>> words["関西国際空港"], words["関西"], words["空港"]  # the C unit overlaid on its first part
        ([(0, 0, 6)], [(0, 0, 2)], [(2, 4, 6)])
        >>> words["着く"], "に" in words  # normalized form; particles are not terms
        ([(3, 7, 9)], False)
        >>> sorted(readings)
        ['カンサイコクサイクウコウ', 'ツイ']
    """
    words, counts = analyse_text(text, readings, timer)
    return words.by_term(), counts


@dataclass(slots=True)
class Words:
    """A word field's occurrences in text order, flat: ``terms[i]`` stands at position
    ``spans[3 * i]`` and covers characters ``spans[3 * i + 1] : spans[3 * i + 2]``
    (what the segment builder stores; no tuple or list per term)."""

    terms: list[str] = field(default_factory=list)
    spans: list[int] = field(default_factory=list)

    def occurrences(self) -> Iterator[Occurrence]:
        """(term, position, start, end) of each occurrence, in text order."""
        spans = self.spans
        return ((term, *spans[3 * i : 3 * i + 3]) for i, term in enumerate(self.terms))  # type: ignore[misc]

    def by_term(self) -> dict[str, Occurrences]:
        """Occurrences grouped by term, each term's in text order."""
        words: defaultdict[str, Occurrences] = defaultdict(list)
        spans = self.spans
        for i, term in enumerate(self.terms):
            words[term].append((spans[3 * i], spans[3 * i + 1], spans[3 * i + 2]))
        return words


def analyse_text(text: str, readings: bool = False, timer: Timer | None = None) -> tuple[Words, Counter[str] | None]:
    """``analyse_words`` as ``Words`` in text order (and the readings counted)."""
    tokenizer, tags, mode_a = _sudachi.get()
    text = to_shinjitai(text)  # what Sudachi reads; one character for one, so offsets hold
    words = Words()
    add_term, add_span = words.terms.append, words.spans.extend
    counts: Counter[str] | None = Counter() if readings else None
    reading_list: list[str] = []
    add_reading = reading_list.append
    cache = _words
    pos = -1
    clock = time.perf_counter
    for base, piece in _chunks(text):
        t0 = clock()
        morphs = tokenizer.tokenize(piece)
        if timer is not None:
            timer.seconds += clock() - t0
        for m in morphs:
            w = cache.get(m.word_id())
            if w is _NOTHING:  # a particle, punctuation, a space: not even its offsets are needed
                continue
            b, e = base + m.begin(), base + m.end()
            if w is None or e - b != len(w[0]) or not text.startswith(w[0], b):
                w = _uncached(m, text[b:e], tags, mode_a)
                if w is _NOTHING:
                    continue
            _, term, reading, parts = w
            if parts:
                if term is not None:
                    add_term(term)
                    add_span((pos + 1, b, e))
                for pterm, ps, pe in parts:
                    if pterm is not None:
                        pos += 1
                        add_term(pterm)
                        add_span((pos, b + ps, b + pe))
            elif term is not None:
                pos += 1
                add_term(term)
                add_span((pos, b, e))
            if reading is not None:
                add_reading(reading)
    if counts is not None:
        counts.update(reading_list)
    return words, counts


def _uncached(m: Any, surface: str, tags: list[str], mode_a: Any) -> _Word:
    """A morpheme the word-id table could not answer: a dictionary word seen for the
    first time (or with another surface), or an unknown (OOV) word, which Sudachi gives
    no stable id and is looked up by its part of speech and surface instead."""
    if m.is_oov():
        key = (m.part_of_speech_id(), surface)
        w = _unknown.get(key)
        if w is None:
            w = _word(m, surface, tags, mode_a)
            if len(_unknown) < MAX_CACHED_WORDS:
                _unknown[key] = w
        elif key[0] in _numeral_pos() and w.reading is not None:
            # A numeral's reading depends on the digits around it: only that is read again.
            w = w._replace(reading=_reading(m.reading_form()))
        return w
    w = _word(m, surface, tags, mode_a)
    if len(_words) < MAX_CACHED_WORDS:
        _words[m.word_id()] = w
    return w


def _reading(reading: str) -> str | None:
    """The reading field's term of a word's reading form (none for symbols)."""
    return to_katakana(reading) if reading and reading != "キゴウ" else None


@cache
def _numeral_pos() -> frozenset[int]:
    """Part-of-speech ids of numerals: Sudachi joins digits into one unknown word whose
    reading depends on how it read the digits, so its surface determines all but that."""
    return frozenset(i for i, pos in enumerate(parts_of_speech()) if pos[:2] == ("名詞", "数詞"))


def analyse_grams(text: str, folded: tuple[str, str, str] | None = None) -> np.ndarray:
    """The ``grams`` field's terms (``gram_analyzer()``), every occurrence, as bigram codes
    (``search.normalize.gram_texts`` turns them into the terms); ``folded``: the folded
    title, heading and body of ``text`` if the caller has them."""
    if folded is not None:
        return gram_codes(*(np.frombuffer(f.encode("utf-32-le", "surrogatepass"), np.uint32) for f in folded))
    return gram_codes(*map(fold_codes, text.split("\n", 2)))


class SectionTerms(NamedTuple):
    """Every analysed field of one section: the word fields' occurrences in text
    order, the readings counted, the bigrams as codes."""

    title: Words
    heading: Words
    content: Words
    reading: Counter[str]
    grams: np.ndarray  # bigram codes, every occurrence


def section_terms(
    title: str,
    heading: str,
    content: str,
    title_terms: Words | None = None,
    timer: Timer | None = None,
    folded: tuple[str, str, str] | None = None,
) -> SectionTerms:
    """All analysed fields of a section; ``title_terms`` reuses the title's analysis
    (every section of a document repeats its title), ``folded`` the folded title,
    heading and body (``search.schema.folded_parts``)."""
    if title_terms is None:
        title_terms = analyse_text(title, timer=timer)[0]
    words, readings = analyse_text(content, readings=True, timer=timer)
    assert readings is not None
    return SectionTerms(
        title_terms,
        analyse_text(heading, timer=timer)[0] if heading else Words(),
        words,
        readings,
        analyse_grams(content, folded),
    )


def field_statistics(terms: SectionTerms, fieldname: str) -> tuple[int, list[str]]:
    """(field length, distinct terms) of one analysed field of a section."""
    if fieldname == "grams":
        return len(terms.grams), gram_texts(np.unique(terms.grams))
    if fieldname == "reading":
        return sum(terms.reading.values()), list(terms.reading)
    words: Words = getattr(terms, fieldname)
    return len(words.terms), list(dict.fromkeys(words.terms))

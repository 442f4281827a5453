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
from typing import Any, NamedTuple

import numpy as np

from search.analysis import _chunks, _is_term, _sudachi
from search.normalize import fold_codes, gram_codes, gram_texts, normalize_term, to_katakana, to_shinjitai

#: A term's occurrences in one field of one section: (position, start char, end char).
Occurrences = list[tuple[int, int, int]]


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


_words: dict[int, _Word] = {}
#: Cached words beyond this are not added (a bound on the per-process table).
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
    return _Word(
        surface,
        normalize_term(normalized) if is_term else None,
        to_katakana(reading) if reading and reading != "キゴウ" else None,
        parts,
    )


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
    tokenizer, tags, mode_a = _sudachi.get()
    text = to_shinjitai(text)  # what Sudachi reads; one character for one, so offsets hold
    words: defaultdict[str, Occurrences] = defaultdict(list)
    counts: Counter[str] | None = Counter() if readings else None
    reading_list: list[str] = []
    cache = _words
    pos = -1
    clock = time.perf_counter
    for base, piece in _chunks(text):
        t0 = clock()
        morphs = tokenizer.tokenize(piece)
        if timer is not None:
            timer.seconds += clock() - t0
        # Morphemes tile the input, so each begins where the previous one ended.
        b = base
        for m in morphs:
            e = base + m.end()
            w = cache.get(m.word_id())
            if w is None or e - b != len(w[0]) or not text.startswith(w[0], b):
                w = _word(m, text[b:e], tags, mode_a)
                if not m.is_oov() and len(cache) < MAX_CACHED_WORDS:
                    cache[m.word_id()] = w
            _, term, reading, parts = w
            if parts:
                if term is not None:
                    words[term].append((pos + 1, b, e))
                for pterm, ps, pe in parts:
                    if pterm is not None:
                        pos += 1
                        words[pterm].append((pos, b + ps, b + pe))
            elif term is not None:
                pos += 1
                words[term].append((pos, b, e))
            if reading is not None:
                reading_list.append(reading)
            b = e
    if counts is not None:
        counts.update(reading_list)
    return words, counts


def analyse_grams(text: str) -> np.ndarray:
    """The ``grams`` field's terms (``gram_analyzer()``), every occurrence, as bigram codes
    (``search.normalize.gram_texts`` turns them into the terms)."""
    return gram_codes(*map(fold_codes, text.split("\n", 2)))


class SectionTerms(NamedTuple):
    """Every analysed field of one section: term → occurrences or frequency."""

    title: dict[str, Occurrences]
    heading: dict[str, Occurrences]
    content: dict[str, Occurrences]
    reading: Counter[str]
    grams: np.ndarray  # bigram codes, every occurrence


def section_terms(
    title: str,
    heading: str,
    content: str,
    title_terms: dict[str, Occurrences] | None = None,
    timer: Timer | None = None,
) -> SectionTerms:
    """All analysed fields of a section; ``title_terms`` reuses the title's analysis
    (every section of a document repeats its title)."""
    if title_terms is None:
        title_terms = analyse_words(title, timer=timer)[0]
    words, readings = analyse_words(content, readings=True, timer=timer)
    assert readings is not None
    return SectionTerms(
        title_terms,
        analyse_words(heading, timer=timer)[0] if heading else {},
        words,
        readings,
        analyse_grams(content),
    )


def field_statistics(terms: SectionTerms, fieldname: str) -> tuple[int, list[str]]:
    """(field length, distinct terms) of one analysed field of a section."""
    field_terms: Any = getattr(terms, fieldname)
    if fieldname == "grams":
        return len(field_terms), gram_texts(np.unique(field_terms))
    if isinstance(field_terms, Counter):
        return sum(field_terms.values()), list(field_terms)
    return sum(map(len, field_terms.values())), list(field_terms)

"""What one section puts into each analysed field, computed in bulk.

The analyzers in ``sakuin.search.analysis.sudachi`` define the terms; this module produces the
same terms, positions, offsets and frequencies for the indexer without a Whoosh
``Token`` per term, because at index time that chain was most of the cost (a
token object through four filters per term, a Sudachi morpheme wrapper per word,
and a second pass over the text for the reading field). A test checks that every
field's terms equal the analyzer chain's on the seed and odd cases
(``tests/equivalence/test_segments.py``).

Design decisions:

* One Sudachi pass per text feeds its word and reading terms. A section's
  ``content`` is its title's, heading's and body's words one after the other (the
  content analyzer reads the three apart, ``SudachiTokenizer(lines=3)``), so a
  title is analysed once per document for both the ``title`` and ``content``
  fields.
* Terms are ints of a per-process ``Vocabulary``: the segment builder gets lists
  of ids, so a term string is looked up once, when a word is first seen, not once
  per occurrence. A vocabulary is replaced (with its word tables) when it is full,
  which bounds its memory; ``Words`` keep the one they were made with.
* What a dictionary word contributes (its term, reading, mode-A parts and their
  offsets relative to the word) is worked out once per vocabulary and looked up by
  ``word_id``. A word without parts is cached as a plain ``(term, reading)``, which
  no surface can change; a compound's parts' offsets can (Sudachi's input
  normalization lets one word match ㍻ and 平成, or … and three dots), so its
  surface is compared on every hit. Unknown (OOV) words are cached by part of
  speech and surface; a numeral's reading is read each time (it depends on the
  digits around it).
* Particles and punctuation are skipped after one lookup, before their offsets are
  read: they are half the morphemes. So are unknown words that are spaces: Sudachi
  gives an unknown word the id of its part of speech, so that id is cached as nothing.
* The Sudachi tokenize call is timed, so a build can say how much of its time
  went to Sudachi itself.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from sakuin.search.analysis import sudachi
from sakuin.search.analysis.normalize import (
    fold,
    gram_codes,
    gram_texts,
    normalize_term,
    prepare_folding,
    to_katakana,
    to_shinjitai,
)
from sakuin.search.analysis.sudachi import FUNCTION_TAGS, chunks, is_term, parts_of_speech

#: A term's occurrences in one field of one section: (position, start char, end char).
Occurrences = list[tuple[int, int, int]]
#: One occurrence of a term: (term, position, start char, end char).
Occurrence = tuple[str, int, int, int]


class Vocabulary:
    """Terms as ints for one process: the analysis hands the segment builder ids, not
    strings, so a term is looked up once when a word is first seen rather than once per
    occurrence; ``terms[i]`` is the term of id ``i``. The word tables that hold its ids
    (``_uncached``) belong to it, so they go with it."""

    __slots__ = ("ids", "lock", "readings", "terms", "unknown", "words")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.lock = threading.Lock()
        #: Dictionary words by word id: ``_NOTHING``, ``(term, reading)`` or a compound's ``_Word``.
        self.words: dict[int, Any] = {}
        #: Unknown words by (part-of-speech id, surface): names, katakana words, numerals
        #: (unknown spaces are skipped by their word id in ``words``).
        self.unknown: dict[tuple[int, str], _Word] = {}
        #: Reading forms already turned into the reading field's term (numerals read theirs anew).
        self.readings: dict[str, int | None] = {}

    def id(self, term: str) -> int:
        i = self.ids.get(term)
        if i is None:
            with self.lock:  # one id per term even if two threads meet a new one at once
                i = self.ids.get(term)
                if i is None:
                    i = self.ids[term] = len(self.terms)
                    self.terms.append(term)
        return i

    def __len__(self) -> int:
        return len(self.terms)


class _Word(NamedTuple):
    """What one morpheme contributes, relative to its own start (terms as vocabulary ids)."""

    surface: str
    term: int | None  # None: not a term (function word, punctuation)
    reading: int | None  # the reading field's term, or None
    parts: tuple[tuple[int | None, int, int], ...]  # mode-A parts: (term or None, start, end)


class Timer:
    """Accumulates the CPU seconds spent inside Sudachi's tokenize call (this thread's)."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0


#: A word that contributes no term, reading or part (particles, punctuation, spaces):
#: a property of the dictionary word, whatever its surface, so the loop skips it at once.
_NOTHING = _Word("", None, None, ())
#: A reading not in the readings table yet (``None`` there means: no reading term).
_UNSEEN: Any = object()
#: Cached words beyond this are not added (a bound on each word table).
MAX_CACHED_WORDS = 500_000
#: A vocabulary that reaches this many terms is replaced by a new one, with its word
#: tables: memory stays bounded whatever the corpus. ``Words`` keep the vocabulary they
#: were made with, so ids handed out before stay readable.
MAX_VOCABULARY = 1_000_000
_vocabulary: Vocabulary | None = None
#: The user dictionaries ``_vocabulary``'s word tables were filled with: a word id of a
#: user dictionary means another word in another set of dictionaries.
_vocabulary_dictionaries: tuple[str, ...] = ()


def _current_vocabulary() -> Vocabulary:
    """The process's vocabulary (a new one once the last is full, or the dictionaries changed)."""
    global _vocabulary, _vocabulary_dictionaries
    dictionaries = sudachi.active_dictionaries()
    if _vocabulary is None or len(_vocabulary) >= MAX_VOCABULARY or dictionaries != _vocabulary_dictionaries:
        _vocabulary = Vocabulary()
        _vocabulary_dictionaries = dictionaries
    return _vocabulary


def _word(m: Any, surface: str, tags: list[str], mode_a: Any, vocabulary: Vocabulary) -> _Word:
    """The slow path: read everything from the morpheme (the rules of the analyzer chain)."""
    tag = tags[m.part_of_speech_id()]
    if tag in FUNCTION_TAGS:  # neither it nor its parts (of its part of speech) are terms
        return _NOTHING
    normalized = m.normalized_form()
    a_term = is_term(tag, normalized)
    reading = m.reading_form() if a_term else ""
    parts: tuple[tuple[int | None, int, int], ...] = ()
    split = m.split(mode_a)
    if len(split) > 1:
        begin = m.begin()
        parts = tuple(
            (vocabulary.id(normalize_term(norm)) if is_term(tag, norm) else None, p.begin() - begin, p.end() - begin)
            for p in split
            for norm in (p.normalized_form(),)
        )
    term = vocabulary.id(normalize_term(normalized)) if a_term else None
    word = _Word(surface, term, _reading(reading, vocabulary), parts)
    if word.term is None and word.reading is None and all(term is None for term, _, _ in parts):
        return _NOTHING
    return word


def prepare() -> None:
    """Load what analysis needs (the Sudachi dictionary, the folding table) now: ~0.15 s
    that an indexing worker spends before its first batch arrives rather than after."""
    sudachi.tokenizer()
    prepare_folding()


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
    words = analyse_text(text, timer)
    return words.by_term(), words.reading_counts() if readings else None


@dataclass(slots=True)
class Words:
    """A word field's occurrences in text order, flat: ``terms[i]`` (an id of
    ``vocabulary``) stands at position ``spans[3 * i]`` and covers characters
    ``spans[3 * i + 1] : spans[3 * i + 2]``; ``readings``: the reading field's terms
    (ids), one per word, in text order (what the segment builder stores; no tuple or
    list per term)."""

    vocabulary: Vocabulary = field(default_factory=_current_vocabulary)
    terms: list[int] = field(default_factory=list)
    spans: list[int] = field(default_factory=list)
    readings: list[int] = field(default_factory=list)
    next_position: int = 0  # the position the next word would take

    def copy(self) -> Words:
        return Words(self.vocabulary, self.terms.copy(), self.spans.copy(), self.readings.copy(), self.next_position)

    def extend(self, other: Words, offset: int) -> None:
        """Append ``other``'s words as if its text followed this one's at character ``offset``."""
        terms, readings = other.terms, other.readings
        if other.vocabulary is not self.vocabulary:
            text_of, own = other.vocabulary.terms, self.vocabulary
            terms, readings = [own.id(text_of[i]) for i in terms], [own.id(text_of[i]) for i in readings]
        shift = self.next_position
        spans = other.spans
        self.terms += terms
        self.spans += [x + (shift if i % 3 == 0 else offset) for i, x in enumerate(spans)]
        self.readings += readings
        self.next_position += other.next_position

    def occurrences(self) -> Iterator[Occurrence]:
        """(term, position, start, end) of each occurrence, in text order."""
        spans, text_of = self.spans, self.vocabulary.terms
        return ((text_of[term], *spans[3 * i : 3 * i + 3]) for i, term in enumerate(self.terms))  # type: ignore[misc]

    def by_term(self) -> dict[str, Occurrences]:
        """Occurrences grouped by term, each term's in text order."""
        words: defaultdict[str, Occurrences] = defaultdict(list)
        spans, text_of = self.spans, self.vocabulary.terms
        for i, term in enumerate(self.terms):
            words[text_of[term]].append((spans[3 * i], spans[3 * i + 1], spans[3 * i + 2]))
        return words

    def reading_counts(self) -> Counter[str]:
        """The reading field's terms and how often each occurs."""
        text_of = self.vocabulary.terms
        return Counter(text_of[r] for r in self.readings)


def analyse_text(text: str, timer: Timer | None = None, into: Words | None = None, offset: int = 0) -> Words:
    """The word and reading terms of ``text`` as ``Words``, in text order; ``into``: append
    to these words instead, as if ``text`` followed theirs at character ``offset``.

    The loop runs once per morpheme, so it is written for the common cases: a particle
    or punctuation (``_NOTHING``) costs one lookup, and a dictionary word that is not a
    compound (cached as a plain ``(term, reading)`` tuple, which no surface can change)
    costs its two offsets and the appends. Compounds, unknown words and words not seen
    before take the general path."""
    tokenizer, tags, mode_a = sudachi.tokenizer()
    words = Words(_current_vocabulary()) if into is None else into
    vocabulary = words.vocabulary
    text = to_shinjitai(text)  # what Sudachi reads; one character for one, so offsets hold
    add_term, add_span, add_reading = words.terms.append, words.spans.extend, words.readings.append
    get = vocabulary.words.get
    nothing = _NOTHING
    plain = tuple
    pos = words.next_position - 1
    clock = time.thread_time  # CPU time, as the workers' own total is: a share never passes 100 %
    for start, piece in chunks(text):
        base = start + offset  # b, e below are offsets into ``text``; spans add ``offset``
        t0 = clock()
        morphs = tokenizer.tokenize(piece)
        if timer is not None:
            timer.seconds += clock() - t0
        for m in morphs:
            w = get(m.word_id())
            if w is nothing:  # a particle, punctuation, a space: not even its offsets are needed
                continue
            if w.__class__ is plain:  # a known word, not a compound: (term, reading)
                pos += 1
                add_term(w[0])
                add_span((pos, base + m.begin(), base + m.end()))
                if w[1] is not None:
                    add_reading(w[1])
                continue
            b, e = start + m.begin(), start + m.end()
            if w is None or e - b != len(w[0]) or not text.startswith(w[0], b):
                w = _uncached(m, text[b:e], tags, mode_a, vocabulary)
                if w is nothing:
                    continue
            _, term, reading, parts = w
            b, e = b + offset, e + offset
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
    words.next_position = pos + 1
    return words


def _uncached(m: Any, surface: str, tags: list[str], mode_a: Any, vocabulary: Vocabulary) -> _Word:
    """A morpheme the word-id table could not answer: a dictionary word seen for the
    first time (or a compound with another surface), or an unknown (OOV) word, which
    Sudachi gives no stable id and is looked up by its part of speech and surface instead.

    A dictionary word is cached by id: ``_NOTHING``, a plain ``(term, reading)`` tuple
    when it has no mode-A parts (then nothing it contributes depends on its surface), or
    the ``_Word`` of a compound, whose parts' offsets do (hence the surface check)."""
    if m.is_oov():
        pos = m.part_of_speech_id()
        if tags[pos] in FUNCTION_TAGS:
            # Nothing, whatever its surface (runs of spaces are half the unknown words):
            # an unknown word's id stands for its part of speech, so every later one of
            # them is skipped at the first lookup.
            vocabulary.words[m.word_id()] = _NOTHING
            return _NOTHING
        key = (pos, surface)
        unknown = vocabulary.unknown
        w = unknown.get(key)
        if w is None:
            w = _word(m, surface, tags, mode_a, vocabulary)
            if len(unknown) < MAX_CACHED_WORDS:
                unknown[key] = w
        elif w.reading is not None and key[0] in _numeral_pos():
            # A numeral's reading depends on the digits around it: only that is read again.
            w = _Word(surface, w.term, _reading(m.reading_form(), vocabulary), w.parts)
        return w
    w = _word(m, surface, tags, mode_a, vocabulary)
    if len(vocabulary.words) < MAX_CACHED_WORDS:
        vocabulary.words[m.word_id()] = w if w is _NOTHING or w.parts else (w.term, w.reading)
    return w


def _reading(reading: str, vocabulary: Vocabulary) -> int | None:
    """The reading field's term of a word's reading form (none for symbols)."""
    readings = vocabulary.readings
    term = readings.get(reading, _UNSEEN)
    if term is not _UNSEEN:
        return term
    term = vocabulary.id(to_katakana(reading)) if reading and reading != "キゴウ" else None
    if len(readings) < MAX_CACHED_WORDS:
        readings[reading] = term
    return term


@cache
def _numeral_pos() -> frozenset[int]:
    """Part-of-speech ids of numerals: Sudachi joins digits into one unknown word whose
    reading depends on how it read the digits, so its surface determines all but that."""
    return frozenset(i for i, pos in enumerate(parts_of_speech()) if pos[:2] == ("名詞", "数詞"))


def analyse_grams(folded: tuple[str, str, str]) -> np.ndarray:
    """The ``grams`` field's terms (``gram_analyzer()``), every occurrence, as bigram codes
    (``sakuin.search.analysis.normalize.gram_texts`` turns them into the terms), of the folded title, heading
    and body (``sakuin.search.analysis.normalize.fold``)."""
    return gram_codes(*(np.frombuffer(f.encode("utf-32-le", "surrogatepass"), np.uint32) for f in folded))


class SectionTerms(NamedTuple):
    """Every analysed field of one section: the word fields' occurrences in text
    order (the reading field's terms are ``content.readings``), the bigrams as codes."""

    title: Words
    heading: Words
    content: Words
    grams: np.ndarray  # bigram codes, every occurrence

    @property
    def reading(self) -> Counter[str]:
        """The reading field's terms and how often each occurs."""
        return self.content.reading_counts()


def section_terms(
    title: str,
    heading: str,
    body: str,
    title_terms: Words | None = None,
    timer: Timer | None = None,
    folded: tuple[str, str, str] | None = None,
) -> SectionTerms:
    """All analysed fields of a section; ``title_terms`` reuses the title's analysis
    (every section of a document repeats its title), ``folded`` the folded title,
    heading and body (``sakuin.search.indexing.sections.folded_parts``).

    ``content`` (``sakuin.search.indexing.sections.content_text``: title, heading and body, one per line)
    is the title's and the heading's words followed by the body's, which is what its
    analyzer gives (``SudachiTokenizer(lines=3)``): the title is analysed once for both
    fields, and once per document."""
    if title_terms is None:
        title_terms = analyse_text(title, timer=timer)
    heading_terms = analyse_text(heading, timer=timer) if heading else Words(title_terms.vocabulary)
    content = title_terms.copy()
    if heading_terms.terms:
        content.extend(heading_terms, len(title) + 1)
    analyse_text(body, timer, into=content, offset=len(title) + len(heading) + 2)
    if folded is None:
        folded = (fold(title), fold(heading), fold(body))
    return SectionTerms(title_terms, heading_terms, content, analyse_grams(folded))


def field_statistics(terms: SectionTerms, fieldname: str) -> tuple[int, list[str]]:
    """(field length, distinct terms) of one analysed field of a section."""
    if fieldname == "grams":
        return len(terms.grams), gram_texts(np.unique(terms.grams))
    if fieldname == "reading":
        content = terms.content
        return len(content.readings), [content.vocabulary.terms[r] for r in dict.fromkeys(content.readings)]
    words: Words = getattr(terms, fieldname)
    return len(words.terms), [words.vocabulary.terms[t] for t in dict.fromkeys(words.terms)]

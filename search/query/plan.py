"""Layer 2 of 3, understand: the AST → an immutable plan of query terms and where each came from.

Each run of text is analysed once, here, and nowhere after: the emit layer
(``sakuin.search.embedded.reading.emit``) and the highlighter only read the plan. A term records
its derivation (``unit``: a Sudachi mode-C word; ``part``: a mode-A part of a
compound; ``reading``: a katakana reading for a word typed in kana; ``gram``: a
folded character bigram), so a backend can index and query each stream in its
own field and tests can assert what a query means without running it::

    国防大臣            keyword run: 国防 (unit), 大臣 (unit); all required,
                        the phrase 国防 大臣 ranks higher
    ベロウソフ国防大臣は誰と電話会談したのか
                        sentence run: ベロウソフ 国防 大臣 電話 会談 (units, weight 2.5)
                        + useful bigrams べろ ろう … (grams); any may match
                        + pairs ベロウソフ 国防, 国防 大臣, 電話 会談 (side by
                        side in a section: a bonus)
    こっかきみつ        keyword run whose kana reads as indexed words:
                        コッカ キミツ (readings)

Japanese users rarely type spaces, so one unspaced run often holds several
content words, or a whole question. A run of content words with no particle or
question word among them is a compound typed without spaces (サッカー日本代表,
国防大臣電話会談): a keyword, every word required. A run with particles or a
question word is a sentence: any content word (or character bigram) may match,
and BM25 ranks by how many match and how rare they are, but a section must match
at least ``MIN_WORD_SHARE`` of its words to count (``Run.min_words``). Function
and question words never become query terms. An all-kana word is also looked up
by its reading.

The plan may use the index's statistics (``Lexicon``): terms the index does not
have are dropped (they cannot match and only cost time), kana is segmented into
known readings, and very common bigrams are left out of sentences.

Synonyms (``sakuin.search.analysis.thesaurus``) widen, never narrow: a run of
typed words that has synonyms becomes "these words, or one of their synonyms"
(``Expansion``), a synonym's terms weigh ``SYNONYM_WEIGHT`` of the typed word's,
and nothing is required because of a synonym. A synonym is scored as rare as the
typed words at most: its weight is cut by the ratio of the typed words' inverse
document frequency to its own (``_as_rare_as``), as Lucene's ``SynonymQuery`` scores
every form with one document frequency. Otherwise a rare synonym (Russia, in a folder
that writes ロシア everywhere) would lift a section that has both above the sections
that have the typed word more often, and the synonym would decide the order it is
only meant to widen. A synonym is analysed like typed
text, so it is the index's own terms for it; one the index does not have, or that
is the typed words again once normalized, is dropped. A quoted phrase, kana read as
words and kana Sudachi could only chop are taken as typed. ``Plan.without_synonyms``
is the same query as typed: the backends rank the sections it matches first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

from sakuin.search.analysis.normalize import bigrams, fold, is_kana, normalize_term, to_katakana
from sakuin.search.analysis.sudachi import Morph, cached_morphemes, is_content
from sakuin.search.analysis.thesaurus import NO_SYNONYMS, Thesaurus
from sakuin.search.config import (
    GRAM_MAX_DF,
    KANA_WEIGHT,
    MIN_WORD_SHARE,
    PAIR_WEIGHT,
    SHORT_KANA,
    SYNONYM_WEIGHT,
    WORD_WEIGHT,
)
from sakuin.search.documents.metadata import Declaration
from sakuin.search.errors import QuerySyntaxError
from sakuin.search.query.filters import FAll, FAny, FilterNode, FNot, filter_node
from sakuin.search.query.syntax import All, Node, Not, Text, is_keyword_query

#: Hiragana (and the long-vowel mark), NFKC'd: what ``Planner._katakana`` reads as katakana too.
_HIRAGANA = re.compile(r"^[\u3041-\u309fー]+$")
#: The longest word the kana-reading segmentation tries.
_MAX_READING = 12

#: In a sentence, words that say what kind of answer is wanted but not what it is
#: about (normalized forms).
QUESTION_WORDS = frozenset(
    {
        *("何", "誰", "何処", "何時", "如何", "何故", "何れ", "幾つ", "幾ら"),
        *("為る", "有る", "居る", "成る", "言う", "事", "物", "様"),
        *("其の", "此の", "其れ", "此れ"),
    }
)
QUESTION_TAGS = frozenset({"代名詞", "接続詞", "感動詞"})
#: Parts of speech that make a run read as a sentence rather than a keyword.
GRAMMAR_TAGS = frozenset({"助詞", "助動詞"})
#: Fields a query may name; ``content`` (title, heading and body) is the default.
QUERY_FIELDS = ("title", "heading")
#: A term no index has (the analyzer never yields control characters): what a run that
#: can only match as a substring emits, so the query's other words cannot match without it.
NO_TERM = "\x00"

#: (field, term) → the term's document frequency in the index.
Lexicon = Callable[[str, str], int]
Derivation = Literal["unit", "part", "reading", "gram", "synonym"]
#: Synonyms kept per run of typed words (the first ones their sources list).
MAX_SYNONYMS = 8


@dataclass(frozen=True, slots=True)
class Term:
    """One query term: the field it is looked up in, its text and its derivation."""

    field: str
    text: str
    derivation: Derivation
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Pair:
    """Two terms of a sentence at consecutive positions, as the index numbers them.

    Positions count content words only (``sakuin.search.analysis.chain.PositionFilter``), so
    日本のネット is the pair 日本 ネット, and a compound's parts (国防 大臣) are pairs
    too. A section that has ``first`` immediately followed by ``second`` scores
    ``weight`` more: proximity, measured where it is cheapest to be exact.
    """

    field: str
    first: str
    second: str
    weight: float = PAIR_WEIGHT


@dataclass(frozen=True, slots=True)
class Word:
    """A content word of a run: its mode-C unit and, for a compound, its mode-A parts.

    A section matches the word through the unit or through all of its parts (a
    document may have been split differently around it).
    """

    surface: str
    unit: Term
    parts: tuple[Term, ...]
    oov: bool
    #: The noun as typed, folded, when normalization turned it into another spelling
    #: (ジャポン → ジャパン, ｶﾀｶﾅ → 片仮名, 附属 → 付属), else None: a section that writes it
    #: as typed ranks first (``Targets.typed``). Verbs and adjectives are normalized to
    #: their dictionary form, which is no respelling.
    respelled: str | None = None

    def sequence(self) -> tuple[Term, ...]:
        """The finest-grained terms, in order (parts of a compound, else the unit)."""
        return self.parts or (self.unit,)


@dataclass(frozen=True, slots=True)
class Synonym:
    """A word (or a few) that the typed words also stand for: as its source writes it, and
    its analysis, whose terms have the derivation ``synonym`` and weigh ``SYNONYM_WEIGHT``."""

    text: str
    words: tuple[Word, ...]

    def sequence(self) -> tuple[Term, ...]:
        return tuple(t for w in self.words for t in w.sequence())


@dataclass(frozen=True, slots=True)
class Expansion:
    """Typed words ``first``..``last`` of a run (indices into its content words, which are a
    keyword run's ``words``), as typed, and the synonyms that may stand for them instead."""

    first: int
    last: int
    typed: str
    synonyms: tuple[Synonym, ...]


@dataclass(frozen=True, slots=True)
class Run:
    """A run of text the user typed, understood.

    ``kind``: ``keyword`` (all words required, their phrase ranks higher),
    ``sentence`` (any word or bigram may match, ranked by coverage) or ``phrase``
    (quoted: the words in order). ``readings`` is set when the run is kana that
    reads as indexed words (all of them required). ``grams`` are a sentence's
    useful bigrams. ``folded`` is the run as the substring check compares it.
    ``pairs``: a sentence's words that stand side by side in it (``Pair``).
    ``kana``: for hiragana, the one word its katakana form is (あるく → アルク), an
    alternative word match (``Planner._katakana``). ``expansions``: runs of its words that
    have synonyms (``Expansion``).
    """

    text: str
    field: str
    kind: Literal["keyword", "sentence", "phrase"]
    words: tuple[Word, ...]
    readings: tuple[Term, ...] = ()
    grams: tuple[Term, ...] = ()
    folded: str = ""
    typed_words: int = 0  # content words as typed, before terms the index lacks were dropped
    chopped: bool = False  # kana Sudachi could only cut into short pieces: its words are not what was typed
    pairs: tuple[Pair, ...] = ()
    kana: Word | None = None
    expansions: tuple[Expansion, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing in it can match (only particles or punctuation, or unknown terms)."""
        return not (self.words or self.readings or self.grams or self.kana)

    def min_words(self) -> int:
        """How many of a sentence's word terms a section must have to count as a match: a
        fair share (``MIN_WORD_SHARE``), so a question's total counts sections that answer
        some of it, not every section that shares one common word with it. 0: no bound."""
        n = len({t.text for w in self.words for t in w.sequence()})
        return max(1, math.ceil(MIN_WORD_SHARE * n)) if self.kind == "sentence" and n else 0

    def sentence_terms(self) -> tuple[Term, ...]:
        """A sentence's terms in order: unique word terms (weighted), the synonyms that are one
        word (weighted lower), then its bigrams."""
        seen: dict[str, Term] = {}
        for word in self.words:
            for t in word.sequence():
                seen.setdefault(t.text, t)
        for s in self.synonyms():
            if len(s.words) == 1:
                seen.setdefault(s.words[0].unit.text, s.words[0].unit)
        return (*seen.values(), *self.grams)

    def synonyms(self) -> tuple[Synonym, ...]:
        return tuple(s for e in self.expansions for s in e.synonyms)


@dataclass(frozen=True, slots=True)
class PNot:
    child: PlanNode


@dataclass(frozen=True, slots=True)
class PAll:
    children: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class PAny:
    children: tuple[PlanNode, ...]


PlanNode = Run | PNot | PAll | PAny


@dataclass(frozen=True, slots=True)
class Plan:
    """What a query means. ``root``: the text to match (None: the query is only
    filters). ``filter``: the metadata filters every hit must pass
    (``sakuin.search.query.filters``), or None. ``keyword``: typed words only (no
    operators, phrases or fields), so sections containing them inside longer
    words match too, after the word matches. ``question``: the whole text is one
    sentence run, ranked term at a time."""

    text: str
    root: PlanNode | None
    keyword: bool
    filter: FilterNode | None = None

    @property
    def question(self) -> Run | None:
        root = self.root
        return root if isinstance(root, Run) and root.kind == "sentence" and not root.empty else None

    def runs(self, negated: bool = False) -> list[Run]:
        """The runs that select (``negated=False``) or exclude sections."""
        out: list[Run] = []

        def walk(node: PlanNode, neg: bool) -> None:
            if isinstance(node, Run):
                if neg == negated:
                    out.append(node)
            elif isinstance(node, PNot):
                walk(node.child, not neg)
            else:
                for c in node.children:
                    walk(c, neg)

        if self.root is not None:
            walk(self.root, False)
        return out

    @property
    def needles(self) -> tuple[str, ...]:
        """For a keyword plan: the folded words a section must contain."""
        return tuple(r.folded for r in self.runs()) if self.keyword else ()

    @property
    def expansions(self) -> tuple[Expansion, ...]:
        """The synonyms the selecting runs also searched for."""
        return tuple(e for r in self.runs() for e in r.expansions)

    def without_synonyms(self) -> Plan:
        """The same query with no synonym: what was typed (the backends rank its matches first)."""
        if not self.expansions or self.root is None:
            return self

        def strip(node: PlanNode) -> PlanNode:
            if isinstance(node, Run):
                return replace(node, expansions=()) if node.expansions else node
            if isinstance(node, PNot):
                return node  # a NOT's words are never expanded
            return type(node)(tuple(strip(c) for c in node.children))

        return replace(self, root=strip(self.root))

    @property
    def respelled(self) -> tuple[str, ...]:
        """The selecting words that normalization respelled, as typed and folded (``Word.respelled``)."""
        out = [w.respelled for r in self.runs() if r.kind != "phrase" for w in r.words]
        return tuple(dict.fromkeys(s for s in out if s))

    @property
    def only_function_words(self) -> bool:
        """Every selecting run is particles, auxiliaries or punctuation (の, とは): nothing to look up."""
        runs = self.runs()
        return bool(runs) and all(r.typed_words == 0 and not r.readings for r in runs)


class Planner:
    """Understands an AST against one index's statistics (``lexicon``; None: assume every term exists)."""

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        sections: int | None = None,
        fields: tuple[str, ...] = QUERY_FIELDS,
        metadata: Declaration | None = None,
        thesaurus: Thesaurus = NO_SYNONYMS,
    ) -> None:
        self.lexicon = lexicon
        self.sections = sections
        self.fields = fields
        self.metadata = metadata or Declaration()
        self.thesaurus = thesaurus

    def plan(self, node: Node, text: str = "") -> Plan:
        texts, filters = self._split(node)
        if not texts and not any(self._selects(f) for f in filters):
            raise QuerySyntaxError("only_negative")
        text_node: Node | None = texts[0] if len(texts) == 1 else All(tuple(texts)) if texts else None
        root = self._node(text_node, False) if text_node is not None else None
        runs = root.children if isinstance(root, PAll) else (root,) if root is not None else ()
        keyword = (
            text_node is not None
            and is_keyword_query(text_node)
            and all(isinstance(r, Run) and r.kind == "keyword" for r in runs)
        )
        planned = [self._filter(f) for f in filters]
        where = planned[0] if len(planned) == 1 else FAll(tuple(planned)) if planned else None
        return Plan(text, root, keyword, where)

    # -- filters ----------------------------------------------------------------

    def _is_meta(self, node: Node) -> bool:
        if isinstance(node, Text):
            return node.field is not None and self.metadata.kind(node.field) is not None
        if isinstance(node, Not):
            return self._is_meta(node.child)
        return all(self._is_meta(c) for c in node.children)

    @staticmethod
    def _selects(node: Node) -> bool:
        return not isinstance(node, Not)

    def _split(self, node: Node) -> tuple[list[Node], list[Node]]:
        """The top-level AND's text and filter children (filters combine with the rest by AND only)."""
        children = list(node.children) if isinstance(node, All) else [node]
        texts = [c for c in children if not self._is_meta(c)]
        return texts, [c for c in children if self._is_meta(c)]

    def _filter(self, node: Node) -> FilterNode:
        if isinstance(node, Text):
            assert node.field is not None
            kind = self.metadata.kind(node.field)
            assert kind is not None
            return filter_node(node.field, kind, node.text)
        if isinstance(node, Not):
            return FNot(self._filter(node.child))
        children = tuple(self._filter(c) for c in node.children)
        return FAll(children) if isinstance(node, All) else FAny(children)

    @property
    def known_fields(self) -> list[str]:
        return [*self.fields, *self.metadata.names]

    # -- nodes ------------------------------------------------------------------

    def _node(self, node: Node, negated: bool) -> PlanNode:
        if isinstance(node, Text):
            if node.field is not None and self.metadata.kind(node.field) is not None:
                raise QuerySyntaxError("filter_in_or", field=node.field, text=node.text)
            if node.field is not None and node.field not in self.fields:
                raise QuerySyntaxError("unknown_field", field=node.field, fields=self.known_fields)
            return self._phrase(node) if node.phrase else self._run(node, negated)
        if isinstance(node, Not):
            return PNot(self._node(node.child, not negated))
        children = tuple(self._node(c, negated) for c in node.children)
        return PAll(children) if isinstance(node, All) else PAny(children)

    def _known(self, fieldname: str, term: str) -> bool:
        return self.lexicon is None or self.lexicon(fieldname, term) > 0

    def _useful_gram(self, gram: str) -> bool:
        if self.lexicon is None or self.sections is None:
            return True
        return 0 < self.lexicon("grams", gram) <= GRAM_MAX_DF * self.sections

    @staticmethod
    def _word(m: Morph, fieldname: str, weight: float = 1.0, synonym: bool = False) -> Word:
        unit = Term(fieldname, normalize_term(m.normalized), "synonym" if synonym else "unit", weight)
        parts = tuple(Term(fieldname, normalize_term(p[0]), "synonym" if synonym else "part", weight) for p in m.parts)
        typed = fold(m.surface)
        respelled = typed if m.tag == "名詞" and typed != fold(unit.text) else None
        return Word(m.surface, unit, parts, m.oov, respelled)

    def _run(self, node: Text, negated: bool) -> Run:
        fieldname = node.field or "content"
        morphs = cached_morphemes(node.text)
        content = [m for m in morphs if is_content(m)]
        # A question has particles between its words or asks (誰, 何処); a run of content
        # words with neither is a compound typed without spaces (サッカー日本代表) and needs
        # every word, however many.
        asks = any(m.tag in QUESTION_TAGS or m.normalized in QUESTION_WORDS for m in content)
        sentence = len(content) > 1 and (asks or any(m.tag in GRAMMAR_TAGS for m in morphs))
        # All kana that reads as indexed words is a word typed by its reading
        # (こっかきみつ), whatever Sudachi makes of it as text.
        readings = self._readings(node.text, morphs, content) if node.field is None else ()
        folded = fold(node.text)
        # Kana Sudachi can only chop into short pieces (こっ|か|きみ|つ, だ|瓶|ち) was not
        # typed as those words; a run with a real word in it (カーヌーン|とは) was. Short
        # chopped kana that no reading explains is a name typed in kana, not a sentence:
        # it matches as typed (a substring), never as the pieces.
        chopped = len(morphs) > 1 and is_kana(node.text) and all(len(m.surface) <= 2 for m in content)
        kana = self._katakana(node.text, fieldname, content)
        if kana is not None:
            # A name typed in hiragana: a keyword, whatever Sudachi made of the hiragana. Its
            # reading as hiragana words stays an alternative only if those words are all that
            # was typed (あるく → 歩く, not かなりす → 可成 + an auxiliary す).
            whole = not chopped and all(is_content(m) for m in morphs)
            words = tuple(self._word(m, fieldname) for m in content) if whole else ()
            return Run(node.text, fieldname, "keyword", words, readings, (), folded, len(content), chopped, kana=kana)
        if chopped and not readings and node.field is None and len(node.text) <= SHORT_KANA:
            return Run(node.text, fieldname, "keyword", (), (), (), folded, len(content))
        if sentence and not negated and not readings:
            asked = [m for m in content if m.tag not in QUESTION_TAGS and m.normalized not in QUESTION_WORDS]
            words = tuple(self._word(m, fieldname, WORD_WEIGHT) for m in (asked or content))
            grams: tuple[Term, ...] = ()
            if fieldname == "content":
                grams = tuple(
                    Term("grams", g, "gram") for g in dict.fromkeys(bigrams(node.text)) if self._useful_gram(g)
                )
            known = self._known_sequences(words, fieldname)
            pairs = _pairs(content, fieldname, {t.text for w in known for t in w.sequence()})
            expansions = () if negated else self._expansions(node.text, morphs, fieldname, WORD_WEIGHT)
            return Run(
                node.text,
                fieldname,
                "sentence",
                known,
                (),
                grams,
                folded,
                len(content),
                pairs=pairs,
                expansions=expansions,
            )
        words = tuple(self._word(m, fieldname) for m in content)
        expansions = () if negated or chopped else self._expansions(node.text, morphs, fieldname)
        return Run(
            node.text, fieldname, "keyword", words, readings, (), folded, len(content), chopped, expansions=expansions
        )

    def _expansions(self, text: str, morphs: list[Morph], fieldname: str, weight: float = 1.0) -> tuple[Expansion, ...]:
        """The runs of ``text`` that have synonyms the index has (module doc), their first and
        last content word numbered among ``morphs``' content words."""
        if not self.thesaurus:
            return ()
        order = {i: n for n, i in enumerate(i for i, m in enumerate(morphs) if is_content(m))}
        out = []
        for found in self.thesaurus.find(text, morphs):
            typed = [normalize_term(m.normalized) for m in morphs[found.first : found.last + 1] if is_content(m)]
            typed_idf = max((self._idf(fieldname, t) for t in typed), default=0.0)
            synonyms: dict[tuple[str, ...], Synonym] = {}
            for written in found.synonyms:
                synonym = self._synonym(written, fieldname, weight * SYNONYM_WEIGHT)
                if synonym is None:
                    continue
                synonym = self._as_rare_as(synonym, typed_idf)
                units = tuple(w.unit.text for w in synonym.words)
                if list(units) != typed and units not in synonyms:
                    synonyms[units] = synonym
                if len(synonyms) == MAX_SYNONYMS:
                    break
            if synonyms:
                out.append(Expansion(order[found.first], order[found.last], found.typed, tuple(synonyms.values())))
        return tuple(out)

    def _idf(self, fieldname: str, term: str) -> float:
        """BM25's inverse document frequency of ``term`` (Lucene's form, always > 0); the
        largest possible without the index's statistics or for a term it does not have."""
        sections = self.sections or 0
        df = self.lexicon(fieldname, term) if self.lexicon is not None and sections else 0
        return math.log(1 + (sections - df + 0.5) / (df + 0.5)) if df else math.inf

    def _as_rare_as(self, synonym: Synonym, typed_idf: float) -> Synonym:
        """``synonym`` with each term's weight cut to score it no rarer than the typed words
        (module doc); a typed word the index lacks leaves the synonym its own rarity."""
        if self.lexicon is None or not self.sections or math.isinf(typed_idf):
            return synonym

        def cut(term: Term) -> Term:
            idf = self._idf(term.field, term.text)
            return term if idf <= typed_idf else replace(term, weight=term.weight * typed_idf / idf)

        words = tuple(replace(w, unit=cut(w.unit), parts=tuple(cut(p) for p in w.parts)) for w in synonym.words)
        return replace(synonym, words=words)

    def _synonym(self, text: str, fieldname: str, weight: float) -> Synonym | None:
        """A synonym as the index's terms, or None when the index cannot match it."""
        words = tuple(self._word(m, fieldname, weight, synonym=True) for m in cached_morphemes(text) if is_content(m))
        if not words:
            return None
        for w in words:
            if not (
                self._known(fieldname, w.unit.text)
                or (w.parts and all(self._known(fieldname, p.text) for p in w.parts))
            ):
                return None
        return Synonym(text, words)

    def _katakana(self, text: str, fieldname: str, content: list[Morph]) -> Word | None:
        """For hiragana, the word its katakana form is, when that is one word the index has
        and not a word Sudachi already read in the hiragana.

        A katakana name typed in hiragana is often also a word (アルク → あるく → 歩く)
        or a reading of kanji (ツヨシ → つよし → 剛), and Sudachi reads the hiragana
        that way. Someone who types kana expects the kana first: the katakana word is
        an alternative match, and a section that has it also has its reading, so it
        outscores a section that only reads that way (``bench/keywords.py``, hiragana).
        The word must still be kana once normalized (Sudachi normalizes ウメ to 梅).
        Long hiragana is a sentence, not a name.
        """
        if not _HIRAGANA.match(text) or len(text) > SHORT_KANA:
            return None
        morphs = [m for m in cached_morphemes(to_katakana(text)) if is_content(m)]
        if len(morphs) != 1:
            return None
        word = self._word(morphs[0], fieldname, KANA_WEIGHT)
        if not is_kana(word.unit.text) or any(word.unit.text == normalize_term(m.normalized) for m in content):
            return None  # ウメ is normalized to 梅: not the kana that was typed
        return word if self._known(fieldname, word.unit.text) else None

    def _known_sequences(self, words: tuple[Word, ...], fieldname: str) -> tuple[Word, ...]:
        """A sentence keeps only the terms the index has (each is optional there)."""
        out = []
        for w in words:
            parts = tuple(p for p in w.parts if self._known(fieldname, p.text))
            if w.parts and not parts:
                continue
            if not w.parts and not self._known(fieldname, w.unit.text):
                continue
            out.append(Word(w.surface, w.unit, parts, w.oov, w.respelled))
        return tuple(out)

    def _phrase(self, node: Text) -> Run:
        fieldname = node.field or "content"
        words = tuple(self._word(m, fieldname) for m in cached_morphemes(node.text) if is_content(m))
        return Run(node.text, fieldname, "phrase", words, (), (), fold(node.text), len(words))

    def _readings(self, text: str, morphs: list[Morph], words: list[Morph]) -> tuple[Term, ...]:
        """For an all-kana word, the readings of the kanji words it reads as (こっかきみつ → 国家機密).

        Kana that is one word the index already knows (スマホ, まとめ) is taken as
        written: reading matches cannot be located from the postings, so each such
        hit would be re-analysed for its highlights. Kana that Sudachi has to chop
        into pieces (こっ|か|きみ|つ) is what a reading typed for kanji looks like.
        """
        if self.lexicon is None or not is_kana(text) or len(text) < 2:
            return ()
        if len(morphs) == 1 and words and self._known("content", normalize_term(words[0].normalized)):
            return ()
        pieces = self._segment(to_katakana(text))
        return tuple(Term("reading", p, "reading") for p in pieces or ())

    def _segment(self, kana: str) -> list[str] | None:
        """Split ``kana`` into the fewest readings the index knows (dynamic programming)."""
        n = len(kana)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            start = best[i]
            if start is None:
                continue
            for j in range(i + 1, min(n, i + _MAX_READING) + 1):
                piece = kana[i:j]
                current = best[j]
                if (current is None or len(start) + 1 < len(current)) and self._known("reading", piece):
                    best[j] = [*start, piece]
        return best[n]


def _pairs(content: list[Morph], fieldname: str, terms: set[str]) -> tuple[Pair, ...]:
    """The adjacent terms of a sentence, both among ``terms`` (its words the index has).

    The sequence is what the index gives positions to: every content word, a
    compound as its parts. A dropped word (a question word such as 何, a word the
    index lacks) still takes its position, so 西暦何年 has no pair 西暦 年: the
    section would need something between them.
    """
    seq = [normalize_term(p[0]) for m in content for p in (m.parts or ((m.normalized, m.start, m.end),))]
    adjacent = (Pair(fieldname, a, b) for a, b in pairwise(seq) if a != b and a in terms and b in terms)
    return tuple(dict.fromkeys(adjacent))


__all__ = [
    "NO_TERM",
    "QUERY_FIELDS",
    "Expansion",
    "Lexicon",
    "PAll",
    "PAny",
    "PNot",
    "Pair",
    "Plan",
    "PlanNode",
    "Planner",
    "Run",
    "Synonym",
    "Term",
    "Word",
]

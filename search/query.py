"""The query language: parse to a small AST, then compile to Whoosh queries.

Syntax: space-separated words are all required; ``"quoted phrases"``; ``OR``;
``NOT word`` and ``-word``; parentheses; ``title:`` and ``heading:`` fields.
Full-width spaces, quotes and letters are accepted (the query is NFKC-normalised
first), because that is what a Japanese IME produces.

We parse ourselves rather than use Whoosh's QueryParser because that parser never
fails: it silently turns a typo into a different query, and users need to be told.

Japanese users rarely type spaces, so one unspaced run often holds several content
words, or a whole question (ベロウソフ国防大臣は誰と電話会談したのか). A run of up to
``SHORT_RUN`` content words with no particle between them is a keyword (all words
required, a phrase match scores higher: 国防大臣). A longer run, or one with
particles, is a sentence: any content word (or character bigram) may match, and
BM25 ranks by how many match and how rare they are, so there is an answer
whenever one content word matches. Function and question words never become
query terms. An all-kana word is also looked up by its reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq

from search.analysis import (
    Morph,
    bigrams,
    cached_morphemes,
    is_content,
    is_kana,
    normalize_term,
    to_katakana,
)

MAX_QUERY_CHARS = 1000
SHORT_RUN = 2


#: In question mode, words that say what kind of answer is wanted but not what
#: it is about (normalized forms).
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
#: In question mode, bigrams in more than this share of sections are skipped:
#: they barely move the ranking (dev set: no loss at 10%) but cost the most time.
GRAM_MAX_DF = 0.10


class QuerySyntaxError(ValueError):
    """A query we cannot read; the message is one line that says how to fix it."""


# -- AST ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A bare word run (``phrase=False``) or a quoted phrase, optionally in one field."""

    text: str
    phrase: bool = False
    field: str | None = None


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    children: tuple[Node, ...]


Node = Text | Not | All | Any_


# -- lexer and parser ---------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<minus>-(?=[^\s-]))
  | (?P<field>(?:title|heading):)
  | (?P<quote>")
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


def _lex(q: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(q):
        m = _TOKEN.match(q, i)
        assert m is not None
        kind = m.lastgroup or ""
        if kind == "quote":
            end = q.find('"', m.end())
            if end < 0:
                raise QuerySyntaxError('unclosed quote: add the closing " or remove the opening one')
            out.append(("phrase", q[m.end() : end]))
            i = end + 1
            continue
        if kind == "word" and m.group() in ("OR", "AND", "NOT"):
            kind = m.group()
        if kind != "space":
            out.append((kind, m.group()))
        i = m.end()
    return out


class _Parser:
    """Recursive descent: or := and ('OR' and)* ; and := unary+ ; unary := (NOT|-)? atom."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() == "rparen":
            raise QuerySyntaxError("unbalanced ')': remove it or add a matching '('")
        return node

    def parse_or(self) -> Node:
        if self.peek() == "OR":
            raise QuerySyntaxError("OR needs a search term on each side, e.g. 会談 OR 協議")
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, "OR", "rparen"):
                raise QuerySyntaxError("OR needs a search term on each side, e.g. 会談 OR 協議")
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Any_(tuple(children))

    def parse_and(self) -> Node:
        children: list[Node] = []
        while self.peek() not in (None, "OR", "rparen"):
            if self.peek() == "AND":
                self.take()
                if not children or self.peek() in (None, "OR", "rparen", "AND"):
                    raise QuerySyntaxError("AND needs a search term on each side")
                continue
            children.append(self.parse_unary())
        if not children:
            raise QuerySyntaxError("empty group: put a search term inside the parentheses")
        return children[0] if len(children) == 1 else All(tuple(children))

    def parse_unary(self) -> Node:
        kind = self.peek()
        if kind in ("NOT", "minus"):
            self.take()
            if self.peek() in (None, "OR", "AND", "rparen", "NOT", "minus"):
                raise QuerySyntaxError("NOT/- needs a term after it, e.g. 会談 -電話")
            return Not(self.parse_atom())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        kind, value = self.take()
        if kind == "lparen":
            node = self.parse_or()
            if self.peek() != "rparen":
                raise QuerySyntaxError("unbalanced '(': add the closing ')'")
            self.take()
            return node
        if kind == "field":
            name = value[:-1]
            if self.peek() not in ("word", "phrase"):
                raise QuerySyntaxError(f'{name}: needs a word or "phrase" right after it, e.g. {name}:会談')
            k, v = self.take()
            return _text(v, k == "phrase", name)
        if kind in ("word", "phrase"):
            return _text(value, kind == "phrase", None)
        raise QuerySyntaxError(f"unexpected {value!r}")


def _text(value: str, phrase: bool, field_name: str | None) -> Text:
    if phrase and not value.strip():
        raise QuerySyntaxError('empty phrase "": put words between the quotes')
    return Text(value, phrase, field_name)


def _positive(node: Node) -> bool:
    """Whether a node can match on its own (a NOT alone would match everything)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, All):
        return any(_positive(c) for c in node.children)
    if isinstance(node, Any_):
        return all(_positive(c) for c in node.children)
    return True


def parse(q: str, literal: bool = False) -> Node:
    """Parse a user query; raises QuerySyntaxError with a one-line fix-it message.

    ``literal=True`` reads the whole string as text with no operators, for
    natural-language input (an evaluation set's questions) that may contain
    stray quotes or dashes.
    """
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:
        raise QuerySyntaxError("the query is not valid text (it contains a lone surrogate)") from None
    q = unicodedata.normalize("NFKC", q).replace("\u201c", '"').replace("\u201d", '"').strip()
    if not q:
        raise QuerySyntaxError("empty query: type a word to search for")
    if len(q) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"query too long: at most {MAX_QUERY_CHARS} characters")
    if literal:
        return Text(q)
    node = _Parser(_lex(q)).parse()
    if not _positive(node):
        raise QuerySyntaxError("nothing to search for: NOT/- only excludes; add a word, e.g. 会談 -電話")
    return node


# -- compiler ----------------------------------------------------------------------

#: How much a word match counts against a bigram match in question mode (tuned
#: on the dev set; README "Relevance").
WORD_WEIGHT = 1.5
#: The longest word the kana-reading segmentation tries.
_MAX_READING = 12

Lexicon = Callable[[str, str], int]


@dataclass
class Compiled:
    """A Whoosh query plus what to highlight.

    ``highlight`` maps a field to the terms whose postings give highlight spans;
    ``readings`` are katakana readings matched through the reading field (spans
    found by re-analysing the hit); ``fallback`` is the n-gram query to run when
    the word query finds nothing and the query has a word Sudachi does not know,
    with ``literals`` the strings to highlight then. ``bag`` is set when the whole
    query is one question: its (field, term, weight) list, for term-at-a-time
    ranking.
    """

    query: wq.Query | None
    highlight: dict[str, set[str]] = field(default_factory=dict)
    readings: set[str] = field(default_factory=set)
    fallback: wq.Query | None = None
    literals: list[str] = field(default_factory=list)
    bag: list[tuple[str, str, float]] | None = None


def _union(queries: list[wq.Query]) -> wq.Or:
    """A small OR walked document by document.

    Whoosh picks a preloading matcher for segments under 5,000 documents, which
    reads every posting of every clause; for a handful of clauses inside an AND
    that costs several times more than it saves (bench/README.md).
    """
    q = wq.Or(queries)
    q.matcher_type = wq.Or.DEFAULT_MATCHER
    return q


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Compiler:
    """Turns the AST into Whoosh queries.

    ``lexicon(field, term)`` returns a term's document frequency; with it the
    compiler drops terms the index does not have (they cannot match and only cost
    time) and segments kana queries into known readings.
    """

    def __init__(self, lexicon: Lexicon | None = None, sections: int | None = None) -> None:
        self.lexicon = lexicon
        self.sections = sections
        self.out = Compiled(None)
        self._question_query: wq.Or | None = None

    def compile(self, node: Node) -> Compiled:
        self.out = Compiled(None)
        self._question_query = None
        self.out.query = self._node(node, negated=False)
        if self.out.query is not None and self.out.query is self._question_query:
            self.out.bag = [(t.fieldname, t.text, t.boost) for t in self._question_query.subqueries]
        self.out.fallback = self._fallback(node)
        return self.out

    def _known(self, fieldname: str, term: str) -> bool:
        return self.lexicon is None or self.lexicon(fieldname, term) > 0

    def _useful_gram(self, gram: str) -> bool:
        if self.lexicon is None or self.sections is None:
            return True
        return 0 < self.lexicon("grams", gram) <= GRAM_MAX_DF * self.sections

    def _mark(self, fieldname: str, terms: list[str], negated: bool) -> None:
        if not negated:
            self.out.highlight.setdefault(fieldname, set()).update(terms)

    def _node(self, node: Node, negated: bool) -> wq.Query | None:
        if isinstance(node, Text):
            return self._phrase(node, negated) if node.phrase else self._run(node, negated)
        if isinstance(node, Not):
            inner = self._node(node.child, not negated)
            return wq.Not(inner) if inner is not None else None
        parts = [q for c in node.children if (q := self._node(c, negated)) is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return wq.And(parts) if isinstance(node, All) else wq.Or(parts)

    def _word(self, m: Morph, fieldname: str, negated: bool) -> wq.Query:
        """One content word: its unit, or all its parts (a doc may have split it elsewhere)."""
        unit = normalize_term(m.normalized)
        parts = [normalize_term(p[0]) for p in m.parts]
        self._mark(fieldname, [unit, *parts], negated)
        q: wq.Query = wq.Term(fieldname, unit)
        if parts:
            q = _union([q, wq.And([wq.Term(fieldname, p) for p in parts])])
        return q

    def _run(self, node: Text, negated: bool) -> wq.Query | None:
        fieldname = node.field or "content"
        morphs = cached_morphemes(node.text)
        words = [m for m in morphs if is_content(m)]
        # A run with particles or auxiliaries between its words is a sentence, not
        # a keyword: rank by coverage instead of requiring every word.
        sentence = len(words) > SHORT_RUN or (len(words) > 1 and any(m.tag in GRAMMAR_TAGS for m in morphs))
        # All kana that reads as indexed words is a word typed by its reading
        # (こっかきみつ), whatever Sudachi makes of it as text.
        reading = self._reading(node.text, morphs, words, negated) if node.field is None else None
        if sentence and not negated and reading is None:
            words = [m for m in words if m.tag not in QUESTION_TAGS and m.normalized not in QUESTION_WORDS] or words
            return self._question(node.text, words, fieldname)
        queries = [self._word(m, fieldname, negated) for m in words]
        query: wq.Query | None = None
        if len(queries) == 1:
            query = queries[0]
        elif queries:
            near = self._phrase_query(words, fieldname)
            query = wq.AndMaybe(wq.And(queries), near) if near is not None else wq.And(queries)
        if query is None or reading is None:
            return query or reading
        return _union([query, reading])

    def _question(self, text: str, words: list[Morph], fieldname: str) -> wq.Query | None:
        """Any content word or bigram may match; rank by how many and how rare (BM25)."""
        terms = _unique([t for t in self._sequence(words) if self._known(fieldname, t)])
        self._mark(fieldname, terms, False)
        subs: list[wq.Query] = [wq.Term(fieldname, t, boost=WORD_WEIGHT) for t in terms]
        if fieldname == "content":
            subs += [wq.Term("grams", g) for g in _unique(bigrams(text)) if self._useful_gram(g)]
        if not subs:
            return None
        query = wq.Or(subs)
        # Term-at-a-time over preloaded postings: far cheaper than a tree of
        # unions for the dozens of terms a question has. A query that is only
        # this question is ranked by ``bagofwords`` instead (same scores, cached).
        query.matcher_type = wq.Or.ARRAY_MATCHER
        self._question_query = query
        return query

    def _reading(self, text: str, morphs: list[Morph], words: list[Morph], negated: bool) -> wq.Query | None:
        """For an all-kana word, the kanji words it reads as (こっかきみつ → 国家機密).

        Kana that is one word the index already knows (スマホ, まとめ) is taken as
        written: reading matches cannot be located from the postings, so each such
        hit would be re-analysed for its highlights. Kana that Sudachi has to chop
        into pieces (こっ|か|きみ|つ) is what a reading typed for kanji looks like.
        """
        if self.lexicon is None or not is_kana(text) or len(text) < 2:
            return None
        if len(morphs) == 1 and words and self._known("content", normalize_term(words[0].normalized)):
            return None
        kana = to_katakana(text)
        pieces = self._segment(kana)
        if not pieces:
            return None
        if not negated:
            self.out.readings.update(pieces)
        terms = [wq.Term("reading", p) for p in pieces]
        return terms[0] if len(terms) == 1 else wq.And(terms)

    def _segment(self, kana: str) -> list[str] | None:
        """Split ``kana`` into the fewest readings the index knows (dynamic programming)."""
        n = len(kana)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            if best[i] is None:
                continue
            for j in range(i + 1, min(n, i + _MAX_READING) + 1):
                piece = kana[i:j]
                cand = [*best[i], piece]  # type: ignore[misc]
                if (best[j] is None or len(cand) < len(best[j])) and self._known("reading", piece):  # type: ignore[arg-type]
                    best[j] = cand
        return best[n]

    @staticmethod
    def _sequence(words: list[Morph]) -> list[str]:
        """The finest-grained terms of ``words`` in order (parts of compounds)."""
        seq: list[str] = []
        for m in words:
            if m.parts:
                seq.extend(normalize_term(p[0]) for p in m.parts)
            else:
                seq.append(normalize_term(m.normalized))
        return seq

    def _phrase_query(self, words: list[Morph], fieldname: str) -> wq.Query | None:
        seq = self._sequence(words)
        return wq.Phrase(fieldname, seq) if len(seq) >= 2 else None

    def _phrase(self, node: Text, negated: bool) -> wq.Query | None:
        fieldname = node.field or "content"
        words = [m for m in cached_morphemes(node.text) if is_content(m)]
        if not words:
            return None
        seq = self._sequence(words)
        self._mark(fieldname, seq, negated)
        return wq.Term(fieldname, seq[0]) if len(seq) == 1 else self._phrase_query(words, fieldname)

    def _fallback(self, node: Node) -> wq.Query | None:
        """Bigram matching for plain word queries with a word the dictionary does not know."""
        runs = [node] if isinstance(node, Text) else list(node.children) if isinstance(node, All) else []
        if not runs or not all(isinstance(r, Text) and not r.phrase and r.field is None for r in runs):
            return None
        texts = [r.text for r in runs if isinstance(r, Text)]
        if not any(m.oov and is_content(m) for t in texts for m in cached_morphemes(t)):
            return None
        self.out.literals = texts
        groups = [[wq.Term("grams", g) for g in _unique(bigrams(t))] for t in texts]
        subs = [wq.And(g) if len(g) > 1 else g[0] for g in groups if g]
        return wq.And(subs) if len(subs) > 1 else (subs[0] if subs else None)


def compile_query(
    q: str, lexicon: Lexicon | None = None, sections: int | None = None, literal: bool = False
) -> Compiled:
    """Parse and compile in one step; raises QuerySyntaxError.

    ``lexicon`` and ``sections`` (the index's section count) let the compiler
    skip terms that cannot match or barely matter.
    """
    return Compiler(lexicon, sections).compile(parse(q, literal))

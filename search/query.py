"""The query language: parse to a small AST, then compile to Whoosh queries.

Syntax: space-separated words are all required; ``"quoted phrases"``; ``OR``;
``NOT word`` and ``-word``; parentheses; ``title:`` and ``heading:`` fields.
Full-width spaces, quotes and letters are accepted (the query is NFKC-normalised
first), because that is what a Japanese IME produces.

We parse ourselves rather than use Whoosh's QueryParser because that parser never
fails: it silently turns a typo into a different query, and users need to be told.

Japanese users rarely type spaces, so one unspaced run often holds several content
words, or a whole question (ベロウソフ国防大臣は誰と電話会談したのか). A run of up to
``SHORT_RUN`` content words is treated as one concept (all required, a phrase match
scores higher); a longer run is a question: any content word may match, and
documents rank by how many match and how rare they are, so there is an answer
whenever one content word matches. Function words never become query terms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from whoosh import query as wq

from search.analysis import Morph, is_content, morphemes, normalize_term

MAX_QUERY_CHARS = 1000
SHORT_RUN = 2

#: Query-time weights of the searchable fields (a title match says more about a
#: section than one word deep in its body).
FIELD_WEIGHTS: dict[str, float] = {"title": 2.0, "heading": 1.5, "body": 1.0}
FIELD_NAMES = {"title", "heading", "body"}

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


@dataclass
class Compiled:
    """A Whoosh query plus the terms to highlight, per field."""

    query: wq.Query | None
    highlight: dict[str, set[str]] = field(default_factory=dict)


class Compiler:
    """Turns the AST into Whoosh queries, analysing text with the index's analysis."""

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = weights or FIELD_WEIGHTS
        self.highlight: dict[str, set[str]] = {}

    def compile(self, node: Node) -> Compiled:
        self.highlight = {}
        return Compiled(self._node(node, negated=False), self.highlight)

    def _fields(self, name: str | None) -> list[str]:
        return [name] if name else list(self.weights)

    def _mark(self, fields: list[str], terms: list[str], negated: bool) -> None:
        if not negated:
            for f in fields:
                self.highlight.setdefault(f, set()).update(terms)

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

    def _word(self, m: Morph, fields: list[str], negated: bool) -> wq.Query:
        """One content word: its unit, or all its parts (a doc may have split it elsewhere)."""
        unit = normalize_term(m.normalized)
        parts = [normalize_term(p[0]) for p in m.parts]
        self._mark(fields, [unit, *parts], negated)
        per_field: list[wq.Query] = []
        for f in fields:
            w = self.weights.get(f, 1.0)
            q: wq.Query = wq.Term(f, unit, boost=w)
            if parts:
                q = wq.Or([q, wq.And([wq.Term(f, p, boost=w) for p in parts])])
            per_field.append(q)
        return per_field[0] if len(per_field) == 1 else wq.Or(per_field)

    def _run(self, node: Text, negated: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        words = [m for m in morphemes(node.text) if is_content(m)]
        if len(words) > SHORT_RUN:
            words = [m for m in words if m.tag not in QUESTION_TAGS and m.normalized not in QUESTION_WORDS] or words
        if not words:
            return None
        queries = [self._word(m, fields, negated) for m in words]
        if len(queries) == 1:
            return queries[0]
        if len(words) <= SHORT_RUN or negated:
            both = wq.And(queries)
            near = self._phrase_query(words, fields)
            return wq.AndMaybe(both, near) if near is not None else both
        # A question: rank by coverage and rarity, any content word may match.
        return wq.Or(queries, scale=0.9)

    @staticmethod
    def _sequence(words: list[Morph]) -> list[str]:
        seq: list[str] = []
        for m in words:
            seq.extend(normalize_term(p[0]) for p in m.parts) if m.parts else seq.append(normalize_term(m.normalized))
        return seq

    def _phrase_query(self, words: list[Morph], fields: list[str]) -> wq.Query | None:
        seq = self._sequence(words)
        if len(seq) < 2:
            return None
        qs = [wq.Phrase(f, seq, boost=self.weights.get(f, 1.0)) for f in fields]
        return qs[0] if len(qs) == 1 else wq.Or(qs)

    def _phrase(self, node: Text, negated: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        words = [m for m in morphemes(node.text) if is_content(m)]
        if not words:
            return None
        seq = self._sequence(words)
        self._mark(fields, seq, negated)
        if len(seq) == 1:
            qs: list[wq.Query] = [wq.Term(f, seq[0], boost=self.weights.get(f, 1.0)) for f in fields]
            return qs[0] if len(qs) == 1 else wq.Or(qs)
        return self._phrase_query(words, fields)


def compile_query(q: str, weights: dict[str, float] | None = None, literal: bool = False) -> Compiled:
    """Parse and compile in one step; raises QuerySyntaxError."""
    return Compiler(weights).compile(parse(q, literal))

"""Layer 1 of 3, parse: the query string → a small AST, with no index knowledge.

Syntax: space-separated words are all required; ``"quoted phrases"``; ``OR``;
``NOT word`` and ``-word``; parentheses; ``field:word``. Full-width spaces,
quotes and letters are accepted (the query is NFKC-normalised first), because
that is what a Japanese IME produces.

We parse ourselves rather than use Whoosh's QueryParser because that parser never
fails: it silently turns a typo into a different query, and users need to be told.
Every error is a ``QuerySyntaxError`` with a ``code`` (the API's ``error.code``,
asserted by tests), a one-line message that says how to fix the query, and the
values the message names (``params``), so a UI can say it in its own language.

Any ``name:`` of ASCII letters is read as a field here; which fields exist is the
index's business, so the plan layer (``sakuin.search.query.plan``) rejects unknown ones.
``http://…`` is text, not a field. Nesting is limited (``MAX_DEPTH``): the
parser and every later layer recurse.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sakuin.search.config import MAX_DEPTH, MAX_QUERY_CHARS
from sakuin.search.errors import QuerySyntaxError

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
  | (?P<field>[A-Za-z][A-Za-z0-9_]*:(?!//))
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
                raise QuerySyntaxError("unclosed_quote")
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
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() == "rparen":
            raise QuerySyntaxError("unbalanced_paren")
        return node

    def parse_or(self) -> Node:
        if self.peek() == "OR":
            raise QuerySyntaxError("dangling_operator", operator="OR")
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, "OR", "rparen"):
                raise QuerySyntaxError("dangling_operator", operator="OR")
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Any_(tuple(children))

    def parse_and(self) -> Node:
        children: list[Node] = []
        while self.peek() not in (None, "OR", "rparen"):
            if self.peek() == "AND":
                self.take()
                if not children or self.peek() in (None, "OR", "rparen", "AND"):
                    raise QuerySyntaxError("dangling_operator/and", operator="AND")
                continue
            children.append(self.parse_unary())
        if not children:
            raise QuerySyntaxError("empty_group")
        return children[0] if len(children) == 1 else All(tuple(children))

    def parse_unary(self) -> Node:
        kind = self.peek()
        if kind in ("NOT", "minus"):
            self.take()
            if self.peek() in (None, "OR", "AND", "rparen", "NOT", "minus"):
                raise QuerySyntaxError("dangling_operator/not", operator="NOT")
            return Not(self.parse_atom())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        kind, value = self.take()
        if kind == "lparen":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError("too_deep", limit=MAX_DEPTH)
            node = self.parse_or()
            if self.peek() != "rparen":
                raise QuerySyntaxError("unclosed_paren")
            self.take()
            self.depth -= 1
            return node
        if kind == "field":
            name = value[:-1].lower()
            if self.peek() not in ("word", "phrase"):
                raise QuerySyntaxError("field_needs_value", field=name)
            k, v = self.take()
            return _text(v, k == "phrase", name)
        if kind in ("word", "phrase"):
            return _text(value, kind == "phrase", None)
        raise QuerySyntaxError("unexpected_token", token=value)


def _text(value: str, phrase: bool, field_name: str | None) -> Text:
    if phrase and not value.strip():
        raise QuerySyntaxError("empty_phrase")
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


#: Full-width brackets are text (森（しん）), not grouping: NFKC would make them ASCII.
_TEXT_BRACKETS = re.compile("([（）])")


def _nfkc(q: str) -> str:
    """The query NFKC-normalised (an IME's full-width letters, spaces and quotes become the
    syntax's), except full-width parentheses, which stay text: only ASCII ( ) group."""
    return "".join(p if p in "（）" else unicodedata.normalize("NFKC", p) for p in _TEXT_BRACKETS.split(q))


def parse(q: str, literal: bool = False) -> Node:
    """Parse a user query; raises QuerySyntaxError with a one-line fix-it message.

    ``literal=True`` reads the whole string as text with no operators, for
    natural-language input (an evaluation set's questions) that may contain
    stray quotes or dashes.
    """
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:
        raise QuerySyntaxError("invalid_text") from None
    q = _nfkc(q).replace("\u201c", '"').replace("\u201d", '"').strip()
    if not q:
        raise QuerySyntaxError("empty_query")
    if len(q) > MAX_QUERY_CHARS:
        raise QuerySyntaxError("query_too_long", limit=MAX_QUERY_CHARS)
    if literal:
        return Text(q)
    node = _Parser(_lex(q)).parse()
    if not _positive(node):
        raise QuerySyntaxError("only_negative")
    return node


def is_keyword_query(node: Node) -> bool:
    """No operators, phrases or fields: words typed as they are (substring matching applies)."""
    runs = list(node.children) if isinstance(node, All) else [node]
    return all(isinstance(r, Text) and not r.phrase and r.field is None for r in runs)


__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "All",
    "Any_",
    "Node",
    "Not",
    "Text",
    "is_keyword_query",
    "parse",
]

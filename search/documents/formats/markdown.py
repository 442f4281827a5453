"""Markdown: sections from ATX/setext headings, body as readable plain text.

The token stream of markdown-it-py is used rather than rendered HTML so that the
text indexed and shown in snippets is what a reader sees, without markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from sakuin.search.documents.formats.html import html_to_text

RawSection = tuple[str, str]

_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n(.*?\n)?(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title[ \t]*[:=][ \t]*(.+?)[ \t]*$", re.M)
_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
_SOFTBREAK = "\x00"
# A soft line break between two CJK characters is only source wrapping: renderers
# show nothing there, and keeping it would split words for the tokenizer.
_CJK_SOFTBREAK = re.compile(f"(?<={_CJK}){_SOFTBREAK}(?={_CJK})")
_LIST_OPEN = frozenset({"bullet_list_open", "ordered_list_open", "table_open"})
_LIST_CLOSE = frozenset({"bullet_list_close", "ordered_list_close", "table_close"})


_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@dataclass
class _Builder:
    """Collects blocks into the current section; lists and tables become one block."""

    sections: list[tuple[str, list[str]]] = field(default_factory=lambda: [("", [])])
    group: list[str] | None = None
    group_depth: int = 0
    row: list[str] | None = None

    def start_section(self, heading: str) -> None:
        self.flush_group()
        self.sections.append((heading, []))

    def add(self, text: str) -> None:
        if not text.strip():
            return
        if self.row is not None:
            self.row.append(text.strip())
        elif self.group is not None:
            self.group.append(text)
        else:
            self.sections[-1][1].append(text)

    def open_group(self) -> None:
        self.group_depth += 1
        if self.group is None:
            self.group = []

    def close_group(self) -> None:
        self.group_depth -= 1
        if self.group_depth <= 0:
            self.flush_group()

    def flush_group(self) -> None:
        lines, self.group, self.group_depth = self.group, None, 0
        if lines:
            self.sections[-1][1].append("\n".join(lines))

    def open_row(self) -> None:
        self.row = []

    def close_row(self) -> None:
        cells, self.row = self.row, None
        if cells:
            self.add(" | ".join(cells))

    def result(self) -> list[RawSection]:
        self.flush_group()
        return [(heading, "\n\n".join(blocks)) for heading, blocks in self.sections]


def parse_markdown(text: str, fallback_title: str) -> tuple[str, list[RawSection]]:
    """Title is the first h1, else a front-matter ``title``, else the file stem."""
    body, front_title = _strip_front_matter(text)
    tokens = _MD.parse(body)
    builder = _Builder()
    title: str | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            close = _find_close(tokens, index, "heading_close")
            inline = [t for t in tokens[index:close] if t.type == "inline"]
            heading = " ".join(_inline_text(t) for t in inline).replace("\n", " ").strip()
            if title is None and token.tag == "h1" and heading:
                title = heading
            builder.start_section(heading)
            index = close + 1
            continue
        _handle_block(token, builder)
        index += 1
    return title or front_title or fallback_title, builder.result()


def _find_close(tokens: list[Token], start: int, kind: str) -> int:
    for index in range(start + 1, len(tokens)):
        if tokens[index].type == kind:
            return index
    return len(tokens) - 1


def _handle_block(token: Token, builder: _Builder) -> None:
    if token.type == "inline":
        builder.add(_inline_text(token))
    elif token.type in ("fence", "code_block"):
        builder.add(token.content.rstrip("\n"))
    elif token.type == "html_block":
        builder.add(html_to_text(token.content))
    elif token.type in _LIST_OPEN:
        builder.open_group()
    elif token.type in _LIST_CLOSE:
        builder.close_group()
    elif token.type == "tr_open":
        builder.open_row()
    elif token.type == "tr_close":
        builder.close_row()


def _strip_front_matter(text: str) -> tuple[str, str | None]:
    """Drop a leading YAML/TOML block; keep its ``title`` as a fallback title."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, None
    title_match = _FRONT_TITLE.search(match.group(1) or "")
    title = title_match.group(1).strip("'\"").strip() if title_match else None
    return text[match.end() :], title or None


def _inline_text(token: Token) -> str:
    """Inline markup stripped: links keep their text, images their alt text."""
    pieces = _inline_pieces(token.children or [])
    text = _CJK_SOFTBREAK.sub("", "".join(pieces))
    return text.replace(_SOFTBREAK, "\n")


def _inline_pieces(children: list[Token]) -> list[str]:
    pieces: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type == "image":
            pieces.extend(_inline_pieces(child.children or []))
        elif child.type == "softbreak":
            pieces.append(_SOFTBREAK)
        elif child.type == "hardbreak" or _is_br(child):
            pieces.append("\n")
    return pieces


def _is_br(token: Token) -> bool:
    return token.type == "html_inline" and token.content.lower().startswith("<br")

"""HTML: sections split at h1-h6, visible text only, whitespace as a browser shows it.

The tree is walked with an explicit stack, never recursively, so pathological
nesting (100,000 ``<div>``s) costs time proportional to its size instead of a
RecursionError. ``html.parser`` is used rather than lxml because libxml2 silently
truncates documents nested deeper than 256 levels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import (
    NavigableString,
    PageElement,
    PreformattedString,
    RubyParenthesisString,
    RubyTextString,
    Tag,
)

from sakuin.search.errors import UnreadableFile

RawSection = tuple[str, str]

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Never shown as page text (head, code, fallbacks) or pure navigation chrome; ruby
#: readings (rt/rp) are dropped so the base text stays contiguous for the tokenizer.
DROPPED = frozenset(
    {
        "head", "title", "script", "style", "noscript", "template", "nav", "svg",
        "iframe", "object", "select", "datalist", "textarea", "rt", "rp",
    }
)  # fmt: skip
#: Elements that separate paragraphs ("\n\n").
PARAGRAPH_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center",
        "details", "dialog", "div", "dl", "fieldset", "figcaption", "figure",
        "footer", "form", "header", "hgroup", "hr", "legend", "main", "menu", "ol",
        "p", "pre", "section", "summary", "table", "ul",
    }
)  # fmt: skip
#: Elements that only start a new line ("\n").
LINE_BLOCKS = frozenset({"li", "dt", "dd", "tr", "option", "br"})
CELLS = frozenset({"td", "th"})
#: A <footer> inside one of these is article metadata; outside, it is site chrome.
SECTIONING = frozenset({"article", "section", "main", "aside"})

_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
# A line break between two CJK characters is source wrapping, not a space.
_CJK_WRAP = re.compile(rf"(?<={_CJK})[ \t\r\f]*\n\s*(?={_CJK})")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def declared_charset(data: bytes) -> str | None:
    """The ``<meta charset>`` (or http-equiv) encoding, used as a decoding hint."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def parse_html(text: str, fallback_title: str) -> tuple[str, list[RawSection]]:
    """Title is <title>, else the first h1, else the file stem."""
    try:
        soup = BeautifulSoup(text, "html.parser")
        extractor = _Extractor()
        extractor.walk(soup)
        return _title(soup) or fallback_title, extractor.result()
    except RecursionError as exc:  # defensive: the walk itself never recurses
        raise UnreadableFile("HTML nested too deeply") from exc


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment, headings kept as ordinary lines.

    For raw HTML embedded in other formats (Markdown), where headings of the
    fragment should not split the host document.
    """
    extractor = _Extractor()
    extractor.walk(BeautifulSoup(fragment, "html.parser"))
    blocks = (part for section in extractor.result() for part in section if part)
    return "\n\n".join(blocks)


def _title(soup: BeautifulSoup) -> str:
    for tag in soup.find_all("title"):
        if tag.find_parent("svg") is None:
            title = _collapse(tag.get_text())
            if title:
                return title
    first_h1 = soup.find("h1")
    return _heading_text(first_h1) if isinstance(first_h1, Tag) else ""


@dataclass
class _Extractor:
    """Turns the element tree into sections of collapsed text.

    ``parts`` holds text lines and break strengths (1 = newline, 2 = paragraph);
    runs of breaks are merged when a section is finished.
    """

    sections: list[tuple[str, list[str | int]]] = field(default_factory=lambda: [("", [])])
    pieces: list[str] = field(default_factory=list)
    pre_depth: int = 0
    sectioning_depth: int = 0

    def walk(self, root: Tag) -> None:
        stack: list[tuple[Tag, Iterator[PageElement]]] = [(root, iter(root.contents))]
        while stack:
            tag, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                self._leave(tag)
            elif isinstance(child, Tag):
                if self._enter(child):
                    stack.append((child, iter(child.contents)))
            elif _is_visible_text(child):
                self.pieces.append(str(child))
        self._break(2)

    def _enter(self, tag: Tag) -> bool:
        """Handle an opening tag; False means its content is skipped."""
        name = tag.name
        if name in DROPPED or tag.has_attr("hidden"):
            return False
        if name == "footer" and self.sectioning_depth == 0:
            return False
        if name in HEADINGS:
            self._break(2)
            self.sections.append((_heading_text(tag), []))
            return False
        if name == "br" and self.pre_depth:
            self.pieces.append("\n")
        else:
            self._boundary(name)
        self.pre_depth += name == "pre"
        self.sectioning_depth += name in SECTIONING
        return True

    def _leave(self, tag: Tag) -> None:
        self._boundary(tag.name)
        self.pre_depth -= tag.name == "pre"
        self.sectioning_depth -= tag.name in SECTIONING

    def _boundary(self, name: str) -> None:
        if name in PARAGRAPH_BLOCKS:
            self._break(2)
        elif name in LINE_BLOCKS:
            self._break(1)
        elif name in CELLS:
            self.pieces.append(" ")

    def _break(self, strength: int) -> None:
        text = "".join(self.pieces)
        self.pieces.clear()
        line = _preformatted(text) if self.pre_depth else _collapse(text)
        parts = self.sections[-1][1]
        if line:
            parts.append(line)
        parts.append(strength)

    def result(self) -> list[RawSection]:
        self._break(2)
        return [(heading, _join(parts)) for heading, parts in self.sections]


def _is_visible_text(node: PageElement) -> bool:
    """Plain strings only: comments, doctypes, CDATA and ruby readings are not text."""
    return isinstance(node, NavigableString) and not isinstance(
        node, PreformattedString | RubyTextString | RubyParenthesisString
    )


def _heading_text(tag: Tag) -> str:
    pieces: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name == "br":
            pieces.append(" ")
        elif _is_visible_text(node) and not (node.parent is not None and node.parent.name in DROPPED):
            pieces.append(str(node))
    return _collapse("".join(pieces))


def _collapse(text: str) -> str:
    """Whitespace as rendered: runs become one space, CJK line wraps vanish."""
    return " ".join(_CJK_WRAP.sub("", text).split())


def _preformatted(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _join(parts: list[str | int]) -> str:
    """Text lines joined by the strongest break seen between them."""
    out: list[str] = []
    pending = 0
    for part in parts:
        if isinstance(part, int):
            pending = max(pending, part)
            continue
        if out:
            out.append("\n" * max(pending, 1))
        out.append(part)
        pending = 0
    return "".join(out)

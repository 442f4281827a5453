"""Small view helpers: paragraphs with highlights, pagination windows.

All HTML built here comes from ``sakuin.search.highlight.snippets.mark_html`` (which escapes), so the
templates may mark exactly these values safe and nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from markupsafe import Markup

from sakuin.search.highlight.snippets import mark_html

_BLANK_LINES = re.compile(r"\n[ \t\u3000]*\n\s*")


def paragraphs(text: str, spans: list[tuple[int, int]] | None = None) -> list[Markup]:
    """``text`` split on blank lines, each paragraph escaped with its matches marked.

    Spans are offsets into the whole body (as the index stores them), so each is
    shifted into its paragraph and clipped at the paragraph's edges.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    spans = spans or []
    out: list[Markup] = []
    start = 0
    for m in [*_BLANK_LINES.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        body = piece.strip()
        if body:
            offset = start + lead
            local = [
                (max(s, offset) - offset, min(e, offset + len(body)) - offset)
                for s, e in spans
                if s < offset + len(body) and e > offset
            ]
            out.append(Markup(mark_html(body, local)))  # mark_html escapes
        if m:
            start = m.end()
    return out


@dataclass(frozen=True, slots=True)
class PageLink:
    """One pagination item; ``number`` None is a gap (…)."""

    number: int | None
    current: bool = False


def page_window(current: int, last: int, radius: int = 2) -> list[PageLink]:
    """First, last and the pages around the current one, with gaps marked."""
    wanted = {1, last, *range(current - radius, current + radius + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    out: list[PageLink] = []
    previous = 0
    for n in numbers:
        if n - previous == 2:
            out.append(PageLink(n - 1))
        elif n - previous > 2:
            out.append(PageLink(None))
        out.append(PageLink(n, n == current))
        previous = n
    return out


@dataclass(frozen=True)
class SearchState:
    """What the results page shows (query, filters, sort), as URL parameters.

    The whole state lives in the URL, so a results page can be shared, bookmarked
    and reached again with the back button; every link on the page is this state
    with one change.
    """

    q: str
    filters: tuple[str, ...] = ()
    sort: str = "relevance"
    collapse: bool = True
    substrings: bool = False
    synonyms: bool = True

    def params(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"q": self.q, "filter": list(self.filters) or None}
        if self.sort and self.sort != "relevance":
            out["sort"] = self.sort
        if not self.collapse:
            out["collapse"] = "false"
        if self.substrings:
            out["substring"] = "true"
        if not self.synonyms:
            out["synonyms"] = "false"
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def toggled(self, flt: str) -> SearchState:
        """With ``flt`` added, or removed if it is there (a facet checkbox, a chip's ×)."""
        filters = tuple(f for f in self.filters if f != flt) if flt in self.filters else (*self.filters, flt)
        return replace(self, filters=filters)

    def without_filters(self) -> SearchState:
        return replace(self, filters=())

    def with_q(self, q: str) -> SearchState:
        return replace(self, q=q)

    def uncollapsed(self) -> SearchState:
        return replace(self, collapse=False)

    def with_substrings(self, shown: bool = True) -> SearchState:
        return replace(self, substrings=shown)

    def with_synonyms(self, used: bool = True) -> SearchState:
        return replace(self, synonyms=used)


#: How the pages name the built-in facet and common metadata fields (others by their name).
FACET_LABELS = {
    "path": "フォルダ",
    "category": "カテゴリ",
    "date": "日付",
    "author": "著者",
    "creator": "作成者",
    "tags": "タグ",
    "url": "URL",
    "title": "タイトル",
    "type": "種類",
    "created": "作成日時",
    "modified": "更新日時",
    "updated": "保存日時",
    "subject": "件名",
    "keywords": "キーワード",
    "last_modified_by": "最終更新者",
    "from": "差出人",
    "to": "宛先",
    "cc": "CC",
    "attachments": "添付",
    "language": "言語",
    "publisher": "出版社",
    "published": "出版日",
}

#: The label shown for each document type (the built-in ``type``) on the results and document pages.
TYPE_LABELS = {
    "pdf": "PDF",
    "docx": "Word",
    "xlsx": "Excel",
    "xls": "Excel",
    "ods": "表計算",
    "pptx": "PowerPoint",
    "epub": "EPUB",
    "eml": "メール",
    "rtf": "RTF",
    "md": "Markdown",
    "html": "HTML",
    "txt": "テキスト",
    "jsonl": "JSONL",
}


def type_label(file_type: str) -> str:
    """The label of a document type (its own name, upper-cased, when it has none)."""
    return TYPE_LABELS.get(file_type, file_type.upper())


def facet_label(name: str) -> str:
    return FACET_LABELS.get(name, name)


def page_label(pages: tuple[int, int] | None, file_type: str) -> str:
    """A section's pages as a reader says them: p. 3, pp. 3–5; a slide's number for a PPTX."""
    if not pages:
        return ""
    first, last = pages
    if file_type == "pptx":
        return f"スライド {first}" if first == last else f"スライド {first}–{last}"
    return f"p. {first}" if first == last else f"pp. {first}–{last}"


def filter_label(text: str) -> str:
    """A filter as a person reads it: ``category:peachy`` → カテゴリ: peachy, ``-category:映画``
    → カテゴリ: 映画 以外 (a filter that is not field:value is shown as written)."""
    negated = text.startswith("-")
    name, colon, value = text.lstrip("-").partition(":")
    if not colon or not name:
        return text
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return f"{facet_label(name.strip().lower())}: {value}{' 以外' if negated else ''}"


def local_time(iso: str) -> str:
    """An ISO 8601 time as the server's local time with its zone: 2012-08-27 19:45 JST."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    zone = moment.strftime("%Z") or moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {zone}".rstrip()


_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?")


def meta_text(value: object) -> str:
    """A metadata value for display: ISO dates as 2012-08-27 10:45, lists joined, others as JSON gives them."""
    if isinstance(value, str):
        m = _ISO.match(value)
        return " ".join(g for g in m.groups() if g) if m else value
    if isinstance(value, list):
        return "、".join(meta_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False)

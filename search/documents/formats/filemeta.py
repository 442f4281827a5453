"""Metadata carried by files themselves: Markdown front matter, HTML ``<meta>`` and ``<time>``.

A JSONL record's scalar fields are its metadata already (``sakuin.search.documents.formats.jsonl``);
for files these functions find the same kind of fields, so a folder of Markdown or
HTML can be filtered and faceted like a JSONL collection (``sakuin.search.documents.metadata``):

* Markdown front matter, YAML (``key: value``, ``key: [a, b]``, ``- item`` lists)
  or TOML (``key = "value"``): the flat scalar keys, the common case of static
  site generators. Nested mappings are skipped: we read the subset we can read
  without guessing, and do not take a YAML parser as a dependency for it.
* HTML ``<meta name="…" content="…">`` (and ``property="article:…"``), and the
  first ``<time datetime>`` as ``date`` when no meta names one.

Names are lower-cased with other characters as ``_`` (``article:published_time``
→ ``article_published_time``) so that a query can name them.
"""

from __future__ import annotations

import html
import re
from typing import Any

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?\n)?(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|\Z)", re.S)
_YAML_KEY = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")
_TOML_KEY = re.compile(r"^([A-Za-z][\w-]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]+-[ \t]+(.*?)[ \t]*$|^-[ \t]+(.*?)[ \t]*$")
_META_TAG = re.compile(r"<meta\b([^>]*)>", re.I)
_TIME_TAG = re.compile(r"<time\b([^>]*)>", re.I)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_NAME = re.compile(r"[^a-z0-9_]")
#: <meta> names that describe the page's rendering, not the document.
_SKIPPED = frozenset({"viewport", "generator", "robots", "theme_color", "color_scheme", "referrer", "format_detection"})


def field_name(raw: str) -> str:
    return _NAME.sub("_", raw.strip().lower()).strip("_")


def _scalar(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        return [v for v in (_scalar(p) for p in text[1:-1].split(",")) if v not in ("", None)]
    return text


def front_matter(text: str) -> dict[str, Any]:
    """The flat keys of a leading YAML (``---``) or TOML (``+++``) block, as strings or lists."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}
    toml = match.group(1) == "+++"
    out: dict[str, Any] = {}
    current: str | None = None
    for line in (match.group(2) or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item and current is not None and not toml:
            value = _scalar(item.group(1) or item.group(2) or "")
            if isinstance(out.get(current), list):
                out[current].append(value)
            continue
        key = (_TOML_KEY if toml else _YAML_KEY).match(line)
        if key is None or line[0].isspace():
            current = None  # a nested mapping's line: skipped
            continue
        name, value = field_name(key.group(1)), key.group(2)
        current = name
        if value == "" and not toml:
            out[name] = []  # a block list may follow
        elif value and not value.startswith(("{", "|", ">")):
            out[name] = _scalar(value)
    return {k: v for k, v in out.items() if v not in ("", []) and k != "title"}  # the title is the document's


def _attrs(tag: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(next(g for g in m.groups()[1:] if g is not None)) for m in _ATTR.finditer(tag)
    }


def html_metadata(text: str) -> dict[str, Any]:
    """``<meta name|property content>`` pairs and the first ``<time datetime>`` (as ``date``)."""
    out: dict[str, Any] = {}
    for m in _META_TAG.finditer(text):
        attrs = _attrs(m.group(1))
        name = field_name(attrs.get("name") or attrs.get("property") or attrs.get("itemprop") or "")
        content = (attrs.get("content") or "").strip()
        if name and content and name not in _SKIPPED and name not in out:
            out[name] = content
    if "date" not in out:
        for m in _TIME_TAG.finditer(text):
            value = _attrs(m.group(1)).get("datetime", "").strip()
            if value:
                out["date"] = value
                break
    return out


__all__ = ["field_name", "front_matter", "html_metadata"]

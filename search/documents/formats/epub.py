"""EPUB: the chapters in spine order, each through the HTML reader; the book's title and author.

An EPUB is a zip (checked by ``ooxml.open_zip``) whose ``META-INF/container.xml``
names the package document (OPF): its metadata (``dc:title``, ``dc:creator``,
``dc:language``, ``dc:date``, ``dc:publisher``) and its spine, the reading order
of the XHTML chapters. Each chapter is read by ``html.parse_html``, so ruby
readings (``<rt>``, ``<rp>``) are dropped as on any page (智に働けば, never
智ちに働けば) and headings split sections; a chapter's text before its first
heading takes the chapter's ``<title>`` as its heading.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import unquote

from sakuin.search.documents.formats.encoding import decode_bytes
from sakuin.search.documents.formats.html import declared_charset, parse_html
from sakuin.search.documents.formats.ooxml import Source, open_zip, parse_xml, read_member
from sakuin.search.documents.limits import Deadline, Limits, TextBudget
from sakuin.search.errors import UnreadableFile

KIND = "EPUB"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})


def read_epub(
    source: Source, limits: Limits, deadline: Deadline, budget: TextBudget
) -> tuple[str, list[tuple[str, str]], dict[str, Any]]:
    """(title, sections of every chapter in reading order, metadata) of an EPUB."""
    with open_zip(source, limits, KIND) as archive:
        container = read_member(archive, "META-INF/container.xml", KIND)
        if container is None:
            raise UnreadableFile("not a readable EPUB (no META-INF/container.xml)")
        rootfile = parse_xml(container, KIND).find(f".//{_CONTAINER}rootfile")
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            raise UnreadableFile("not a readable EPUB (no package document)")
        opf_data = read_member(archive, opf_path, KIND)
        if opf_data is None:
            raise UnreadableFile(f"not a readable EPUB (missing {opf_path})")
        opf = parse_xml(opf_data, KIND)
        title, meta = _metadata(opf)
        base = posixpath.dirname(opf_path)
        items = {item.get("id"): item for item in opf.iter(f"{_OPF}item") if item.get("id") and item.get("href")}
        sections: list[tuple[str, str]] = []
        for ref in opf.iter(f"{_OPF}itemref"):
            deadline.check()
            item = items.get(ref.get("idref"))
            if item is None or item.get("media-type") not in _HTML_TYPES:
                continue
            name = posixpath.normpath(posixpath.join(base, unquote(item.get("href", "").split("#")[0])))
            data = read_member(archive, name, KIND)
            if not data:
                continue
            text = budget.add(decode_bytes(data, declared_charset(data) or "utf-8"))
            chapter, raw = parse_html(text, "")
            for heading, body in raw:
                sections.append((heading or (chapter if body.strip() else ""), body))
    return title, sections, meta


def _metadata(opf: Any) -> tuple[str, dict[str, Any]]:
    block = opf.find(f"{_OPF}metadata")
    if block is None:
        return "", {}

    def values(tag: str) -> list[str]:
        return [" ".join((el.text or "").split()) for el in block.iter(f"{_DC}{tag}") if (el.text or "").strip()]

    meta: dict[str, Any] = {}
    creators = values("creator")
    if creators:
        meta["author"] = creators[0] if len(creators) == 1 else creators
    for tag, name in (("language", "language"), ("publisher", "publisher"), ("date", "published")):
        found = values(tag)
        if found:
            meta[name] = found[0]
    titles = values("title")
    return (titles[0] if titles else ""), meta


__all__ = ["read_epub"]

"""What DOCX, PPTX, XLSX and EPUB share: a zip opened within limits, and document properties.

Every zip is checked before any reader touches it (``sakuin.search.documents.limits.check_zip``):
a damaged or truncated archive is skipped as such, one that would inflate past
``MAX_UNZIPPED_MB`` as a zip bomb. The core properties of an Office file
(``docProps/core.xml``: title, creator, created, modified) are read here once
for the three Office formats; they become the document's title and metadata
(``author``, ``created``, ``updated``: ``modified`` is the built-in file time).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

from sakuin.search.documents.limits import Limits, check_zip
from sakuin.search.errors import UnreadableFile

Source = Path | bytes

_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"

#: A parser that never fetches anything and never expands entities (no billion laughs).
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def open_zip(source: Source, limits: Limits, kind: str) -> zipfile.ZipFile:
    """The archive, checked (module doc); ``UnreadableFile`` when it is damaged or too large."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"not a readable {kind} (damaged or truncated zip: {exc})") from None
    try:
        check_zip(archive, limits.unzipped_bytes, kind)
    except BaseException:
        archive.close()
        raise
    return archive


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes | None:
    """A member's bytes (None when absent); a damaged member is ``UnreadableFile``."""
    try:
        return archive.read(name)
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise UnreadableFile(f"not a readable {kind} (damaged part {name}: {exc})") from None


def parse_xml(data: bytes, kind: str) -> Any:
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(f"not a readable {kind} (bad XML: {exc})") from None


def core_properties(archive: zipfile.ZipFile, kind: str) -> tuple[str, dict[str, Any]]:
    """(title, metadata) from ``docProps/core.xml``; nothing when it is missing or unreadable."""
    data = read_member(archive, "docProps/core.xml", kind)
    if not data:
        return "", {}
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        return "", {}

    def text(tag: str) -> str:
        node = root.find(tag)
        return " ".join((node.text or "").split()) if node is not None else ""

    meta: dict[str, Any] = {}
    for tag, name in (
        (f"{_DC}creator", "author"),
        (f"{_DC}subject", "subject"),
        (f"{_CP}keywords", "keywords"),
        (f"{_CP}lastModifiedBy", "last_modified_by"),
        (f"{_DCTERMS}created", "created"),
        (f"{_DCTERMS}modified", "updated"),
    ):
        value = text(tag)
        if value:
            meta[name] = value
    return text(f"{_DC}title"), meta


__all__ = ["PARSER", "core_properties", "open_zip", "parse_xml", "read_member"]

"""A section as both backends store it: its key, its combined and folded texts, its fields.

The embedded index and a cluster keep the same fields per section (the Whoosh
schema, ``sakuin.search.embedded.schema``; the cluster mapping,
``sakuin.search.opensearch.documents``), derived here from a ``DocTask`` in one
place: ``content`` is title, heading and body one per line (a word never spans
two of them), ``folded`` the same folded (``sakuin.search.analysis.normalize.fold``)
for the substring check, ``dup`` a hash of the folded body to collapse the same
text found in several documents, the declared metadata's terms and numbers
(``sakuin.search.documents.metadata.derive``) with the built-in ``type`` and
``modified``, and ``info``: the section's built-ins as stored for display (the
document's ``type`` and ``modified``, the section's page starts).
"""

from __future__ import annotations

from collections.abc import Iterator
from hashlib import blake2b
from typing import Any

from sakuin.search.analysis.normalize import fold
from sakuin.search.config import DUP_MIN_CHARS
from sakuin.search.documents.metadata import Declaration, derive
from sakuin.search.indexing.tasks import DocTask

#: Bump when the schema, the analysis or the section rules change in a way that needs a
#: rebuild (a live index of another version is rebuilt by the next ``sakuin index``).
#: 9: a heading with no text of its own is carried by the next section.
#: 10: the built-in ``type`` facet and ``modified`` date, a section's pages (``info``),
#: each file's root in the manifest.
SCHEMA_VERSION = 10


def section_key(doc_id: str, ordinal: int) -> str:
    """The unique key of a section; the unit separator cannot occur in an id."""
    return f"{doc_id}\x1f{ordinal}"


def content_text(title: str, heading: str, body: str) -> str:
    """The ``content`` field's text: title, heading and body, one per line."""
    return f"{title}\n{heading}\n{body}"


def body_hash(body: str, folded: str | None = None) -> int:
    """The ``dup`` column: a 63-bit hash of the folded body, 0 when it is too short to call a
    duplicate; ``folded``: ``fold(body)`` if the caller has it."""
    folded = fold(body) if folded is None else folded  # folding removes all whitespace
    if len(folded) < DUP_MIN_CHARS:
        return 0
    return int.from_bytes(blake2b(folded.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1 or 1


def folded_text(title: str, heading: str, body: str) -> bytes:
    """The ``folded`` column: the folded title, heading and body, UTF-8, one per line
    (folding removes line breaks, so the parts stay apart and a word cannot match across them)."""
    return f"{title}\n{heading}\n{body}".encode("utf-8", "surrogatepass")


def folded_parts(value: bytes) -> tuple[str, str, str]:
    """``folded_text`` read back: (title, heading, body), each folded."""
    title, heading, body = value.decode("utf-8", "surrogatepass").split("\n")
    return title, heading, body


def content_offsets(title: str, heading: str) -> tuple[int, int]:
    """Where the heading and the body start in ``content_text``.

    Highlights in the heading or body are content offsets minus these starts.
    """
    heading_start = len(title) + 1
    return heading_start, heading_start + len(heading) + 1


def section_fields(task: DocTask, declaration: Declaration | None = None) -> Iterator[dict[str, Any]]:
    """The Whoosh fields of each section of a document task (``add_document`` keywords)."""
    doc_id, source, path, title, meta, sections, doc_info = task
    doc_info = doc_info or {}
    derived = derive(declaration or Declaration(), meta, path, doc_info)
    facets = "\n".join(derived.terms)
    folded_title = fold(title)
    pages = doc_info.get("pages") or []
    base = {k: doc_info[k] for k in ("type", "modified") if doc_info.get(k)}
    for ordinal, heading, body in sections:
        info = dict(base)
        if ordinal < len(pages) and pages[ordinal]:
            info["pages"] = pages[ordinal]
        content = content_text(title, heading, body)
        folded_body = fold(body)
        yield {
            **derived.numbers,
            "facets": facets,
            "dup": body_hash(body, folded_body),
            "folded": folded_text(folded_title, fold(heading), folded_body),
            "key": section_key(doc_id, ordinal),
            "doc_id": doc_id,
            "source": source,
            "path": path,
            "ordinal": ordinal,
            "title": title,
            "heading": heading,
            "body": body,
            "content": content,
            "grams": content,
            "reading": content,
            "meta": meta,
            "info": info or None,
        }


def task_info(infos: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """A document task's ``info`` rebuilt from its sections' stored ``info``, in ordinal order
    (compaction and re-derivation make tasks from stored sections)."""
    first = next((i for i in infos if i), None)
    if first is None:
        return None
    out = {k: first[k] for k in ("type", "modified") if first.get(k)}
    if any(i and i.get("pages") for i in infos):
        out["pages"] = [(i or {}).get("pages") or [] for i in infos]
    return out or None


__all__ = [
    "DUP_MIN_CHARS",
    "SCHEMA_VERSION",
    "body_hash",
    "content_offsets",
    "content_text",
    "folded_parts",
    "folded_text",
    "section_fields",
    "section_key",
    "task_info",
]

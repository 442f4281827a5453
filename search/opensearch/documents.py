"""Sections as cluster documents: the mapping, and each section's fields and token streams.

One cluster document per section, keyed by the embedded index's section key.
The analysed fields are whitespace-separated token streams built from the same
analysis as the embedded index (``sakuin.search.analysis.terms.section_terms``)::

    関西国際空港に着いた   content_all:  関西国際空港 関西 国際 空港 着く
                           content_fine: 関西 国際 空港 着く

Metadata: ``f_<name>`` (keyword values, exact) and ``ff_<name>`` (folded, for
matching that ignores width and case) per keyword field and ``f_path`` (the
folders and the file), ``num_<name>`` (double) per date or number field, as
``sakuin.search.documents.metadata.derive`` computes them; ``group`` is the body hash that
collapses the same text (or the section's own hash when it is unique).
``offsets`` (stored, not indexed) holds each content and heading term's
character offsets, in Python code points, so hits are highlighted from them
exactly as the embedded index highlights from its postings; no offset ever
crosses into Java (UTF-16 units).
"""

from __future__ import annotations

from collections import defaultdict
from hashlib import blake2b
from typing import Any

from sakuin.search.analysis.normalize import fold, gram_texts
from sakuin.search.analysis.terms import SectionTerms, Words, analyse_text, section_terms
from sakuin.search.config import K1, B
from sakuin.search.documents.metadata import PATH, SEP, TYPE, Declaration
from sakuin.search.indexing.sections import section_fields

TEXT_FIELDS = ("content", "title", "heading")
#: Sections a scroll page or a bulk request carries.
BATCH = 500


def streams(words: Words) -> tuple[str, str]:
    """(all terms, finest sequence) of one field, in position order."""
    by_pos: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for term, pos, start, end in words.occurrences():
        by_pos[pos].append((end - start, term))
    every: list[str] = []
    fine: list[str] = []
    for pos in sorted(by_pos):
        items = sorted(by_pos[pos])  # the part (shortest) first
        fine.append(items[0][1])
        every.extend(term for _, term in reversed(items))  # the unit, then its first part
    return " ".join(every), " ".join(fine)


def offsets(words: Words) -> dict[str, list[int]]:
    """term → [start, end, start, end, …]: what the highlighter needs, kept in ``_source`` (not indexed)."""
    return {term: [x for _, start, end in occs for x in (start, end)] for term, occs in words.by_term().items()}


def mapping(declaration: Declaration, shards: int, replicas: int) -> dict[str, Any]:
    text = {"type": "text", "analyzer": "whitespace", "similarity": "sakuin"}
    presence = {
        **text,
        "index_options": "docs",
    }  # as ``sakuin.search.embedded.schema.Presence``: tf 1, lengths count all
    keyword = {"type": "keyword"}
    properties: dict[str, Any] = {
        "key": keyword,
        "doc_id": keyword,
        "source": keyword,
        "path": {"type": "keyword", "index": False},
        "ordinal": {"type": "integer"},
        "title": {"type": "text", "index": False},
        "heading": {"type": "text", "index": False},
        "body": {"type": "text", "index": False},
        "meta": {"type": "object", "enabled": False},
        "offsets": {"type": "object", "enabled": False},
        "info": {"type": "object", "enabled": False},
        "grams": presence,
        "reading": presence,
        "group": {"type": "long"},
        "dup": {"type": "long"},
        f"f_{PATH}": keyword,
    }
    for field in TEXT_FIELDS:
        properties[f"{field}_all"] = text
        properties[f"{field}_fine"] = text
    for name in [*declaration.of_kind("keyword"), TYPE]:
        properties[f"f_{name}"] = keyword
        properties[f"ff_{name}"] = keyword
    for name in declaration.sortable:
        properties[f"num_{name}"] = {"type": "double"}
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "max_result_window": 100_000,
            "similarity": {"sakuin": {"type": "BM25", "k1": K1, "b": B}},
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    }


#: Fields of ``sakuin.search.indexing.sections.section_fields`` a cluster document keeps as they are.
_KEPT = ("key", "doc_id", "source", "path", "ordinal", "title", "heading", "body", "dup")


def section_documents(
    task: tuple[str, str, str, str, Any, list[tuple[int, str, str]]], declaration: Declaration
) -> list[dict[str, Any]]:
    """The cluster documents of one document task (``sakuin.search.indexing.tasks.DocTask``): the
    embedded index's fields of each section (``section_fields``), with the analysed ones
    as token streams and the metadata terms as keyword fields."""
    title, meta = task.title, task.meta
    title_terms = analyse_text(title)
    out = []
    metadata: dict[str, Any] | None = None
    for fields in section_fields(task, declaration):
        if metadata is None:  # the same for every section of the document
            metadata = _metadata(fields)
        terms: SectionTerms = section_terms(title, fields["heading"], fields["body"], title_terms)
        doc: dict[str, Any] = {name: fields[name] for name in _KEPT}
        doc.update(
            meta=meta or {},
            info=fields["info"] or {},
            grams=" ".join(gram_texts(terms.grams)),
            reading=" ".join(r for r, n in terms.reading.items() for _ in range(n)),
            group=fields["dup"] or _own_group(fields["key"]),
            **metadata,
        )
        for field in TEXT_FIELDS:
            doc[f"{field}_all"], doc[f"{field}_fine"] = streams(getattr(terms, field))
        doc["offsets"] = {"content": offsets(terms.content), "heading": offsets(terms.heading)}
        out.append(doc)
    return out


def _metadata(fields: dict[str, Any]) -> dict[str, Any]:
    """``f_<name>`` / ``ff_<name>`` lists from the ``facets`` terms, and the ``num_*`` columns."""
    metadata: dict[str, Any] = {name: value for name, value in fields.items() if name.startswith("num_")}
    for term in fields["facets"].split("\n"):
        name, _, value = term.partition(SEP)
        metadata.setdefault(f"f_{name}", []).append(value)
        if name != PATH:
            metadata.setdefault(f"ff_{name}", []).append(fold(value))
    return metadata


def _own_group(key: str) -> int:
    return int.from_bytes(blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1 or 1


__all__ = ["BATCH", "TEXT_FIELDS", "mapping", "offsets", "section_documents", "streams"]

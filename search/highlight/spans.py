"""Highlighting: where a query matched in each hit's heading and body, from every source.

Word matches carry character offsets in the index, so their spans come from the
postings with no re-analysis. Two kinds of match do not: a kana query matched
through the reading field, and a substring match (a typed word inside a longer
word). For those few hits we find the spans in the text itself. ``match_spans``
gathers all of them, merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from sakuin.search.analysis.normalize import fold, to_katakana
from sakuin.search.analysis.sudachi import cached_morphemes
from sakuin.search.highlight.snippets import merge_spans
from sakuin.search.indexing.sections import content_offsets
from sakuin.search.query.targets import Targets

Spans = dict[int, dict[str, list[tuple[int, int]]]]
#: (field, terms, section numbers) → each section's spans of those terms in that field.
SpansOf = Callable[[str, Iterable[str], list[int]], dict[int, list[tuple[int, int]]]]

#: Folding one character at a time is slow (NFKC + kana tables); texts reuse few
#: distinct characters, so memoising makes it cheap.
_fold_char = lru_cache(maxsize=65_536)(fold)


def reading_spans(text: str, readings: set[str]) -> list[tuple[int, int]]:
    """Spans of the words whose katakana reading was matched."""
    if not readings or not text:
        return []
    return [(m.start, m.end) for m in cached_morphemes(text) if m.reading and to_katakana(m.reading) in readings]


def literal_spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Spans of ``needles`` in ``text``, compared in folded form (width, kana, case).

    Folding can change lengths (ｶﾞ → が), so we fold one character at a time and
    keep a map from folded positions back to the original ones.
    """
    if not needles or not text:
        return []
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for f in _fold_char(ch):
            folded.append(f)
            origin.append(i)
    hay = "".join(folded)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        key = "".join(_fold_char(ch) for ch in needle)
        if not key:
            continue
        start = hay.find(key)
        while start >= 0:
            end = start + len(key)
            spans.append((origin[start], origin[end - 1] + 1))
            start = hay.find(key, end)
    return spans


def stored_spans(stored: dict[int, dict[str, Any]]) -> SpansOf:
    """Word spans for hits that are not in a Whoosh index (a cluster's): the same
    offsets, which the indexer stored with each section (``offsets``: field → term →
    [start, end, …]). A hit fetched without them (a substring candidate) has no word spans."""

    def spans(fieldname: str, terms: Iterable[str], docnums: list[int]) -> dict[int, list[tuple[int, int]]]:
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        wanted = set(terms)
        for docnum in docnums:
            f = stored[docnum]
            table = (f.get("offsets") or {}).get(fieldname) or {}
            for term in wanted & table.keys():
                flat = table[term]
                out[docnum].extend(zip(flat[::2], flat[1::2], strict=True))
        return out

    return spans


def match_spans(
    targets: Targets,
    stored: dict[int, dict[str, Any]],
    spans_of: SpansOf,
    substring: set[int] | None = None,
) -> Spans:
    """Per document number, the merged spans of the query's matches in title, heading and body.

    The content field holds title, heading and body, so its offsets are shifted
    back into the heading or the body; reading matches are found by re-analysing
    the hit's text, and in ``substring`` hits (None: any hit without a word
    match) the typed words are found in the folded text. Word spans come from
    ``spans_of``: the embedded index's postings, or the offsets a cluster stored
    with each section (``stored_spans``).
    """
    docnums = list(stored)
    out: Spans = {n: {"title": [], "heading": [], "body": []} for n in docnums}
    for fieldname, terms in targets.highlight.items():
        if fieldname not in ("content", "heading"):
            continue
        for docnum, spans in spans_of(fieldname, terms, docnums).items():
            fields = stored[docnum]
            if fieldname == "heading":
                out[docnum]["heading"].extend(spans)
                continue
            heading = fields.get("heading") or ""
            head_start, body_start = content_offsets(fields.get("title") or "", heading)
            for s, e in spans:
                if s >= body_start:
                    out[docnum]["body"].append((s - body_start, e - body_start))
                elif head_start <= s and e <= head_start + len(heading):
                    out[docnum]["heading"].append((s - head_start, e - head_start))
                elif e < head_start:  # in the document's title, which every section carries
                    out[docnum]["title"].append((s, e))
    if targets.readings:
        for docnum, fields in stored.items():
            for part in ("title", "heading", "body"):
                out[docnum][part] += reading_spans(fields.get(part) or "", targets.readings)
    if targets.literals:
        for docnum, fields in stored.items():
            if substring is not None and docnum not in substring:
                continue
            if substring is None and (out[docnum]["heading"] or out[docnum]["body"]):
                continue
            for part in ("title", "heading", "body"):
                out[docnum][part] += literal_spans(fields.get(part) or "", list(targets.literals))
    return {n: {k: merge_spans(v) for k, v in parts.items()} for n, parts in out.items()}

"""Term statistics of the live sections only: what a fresh build would count.

Whoosh marks a deleted section in its segment's TOC entry but keeps counting it
in the segment's term statistics (document frequency, total field length, section
count) until the segment is rewritten. BM25 reads those statistics, and the
question path chooses which bigrams to keep by document frequency, so after an
update every score, and sometimes the ranking, drifted from what a fresh
``--rebuild`` gives.

Design decisions:

* When an update deletes a section it re-analyses the section's stored text
  (``sakuin.search.analysis.terms``, the same terms the builder wrote) and records what the
  section contributed: one to the document frequency of each of its terms and its
  length in each scored field. The contributions are kept per segment in
  ``deleted.json`` beside the TOC, so the cost is in proportion to what was
  deleted, never to the index.
* ``LiveSearcher`` subtracts them: document frequency, field length and section
  count are then exactly the live sections' own, the numbers a fresh build of the
  same inputs has, so scores are equal to the last bit (the per-section length
  bytes Whoosh stores are the section's own in both cases).
* A segment's entry goes when the segment goes (``sakuin.search.embedded.writing.compaction`` rewrites
  segments with many deletions), so the file stays in proportion to the deletions
  still in the index.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from sakuin.search.analysis.terms import analyse_text, field_statistics, section_terms
from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.store import DELETED_STATS

#: The fields BM25 scores (the others are ids, the ordinal and stored values).
SCORED_FIELDS = ("content", "grams", "heading", "reading", "title")


class DeletedStats:
    """Per segment: sections deleted, their field lengths and their terms' document frequencies."""

    def __init__(self, segments: dict[str, dict[str, Any]] | None = None) -> None:
        self.segments: dict[str, dict[str, Any]] = segments or {}
        self._totals: tuple[int, dict[str, int], dict[str, Counter[str]]] | None = None

    # -- persistence --------------------------------------------------------------

    @classmethod
    def load(cls, folder: Path | str) -> DeletedStats:
        path = Path(folder) / DELETED_STATS
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return cls()

    def save(self, folder: Path | str) -> None:
        path = Path(folder) / DELETED_STATS
        path.unlink(missing_ok=True)  # never write through a link shared with the live version
        if not self.segments:
            return
        path.write_text(json.dumps(self.segments, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    # -- recording ------------------------------------------------------------------

    def add_sections(self, segid: str, stored: Iterable[dict[str, Any]]) -> None:
        """Record the deletion of these sections (their stored fields) from segment ``segid``."""
        entry = self.segments.setdefault(segid, {"sections": 0, "lengths": {}, "df": {}})
        lengths: dict[str, int] = entry["lengths"]
        df: dict[str, dict[str, int]] = entry["df"]
        title_cache: dict[str, Any] = {}
        for fields in stored:
            title, heading = fields.get("title") or "", fields.get("heading") or ""
            if title not in title_cache:
                title_cache[title] = analyse_text(title)
            terms = section_terms(title, heading, fields.get("body") or "", title_cache[title])
            entry["sections"] += 1
            for fieldname in SCORED_FIELDS:
                length, field_terms = field_statistics(terms, fieldname)
                lengths[fieldname] = lengths.get(fieldname, 0) + length
                counts = df.setdefault(fieldname, {})
                for term in field_terms:
                    counts[term] = counts.get(term, 0) + 1
        self._totals = None

    def keep_only(self, segids: Iterable[str]) -> None:
        """Forget segments that are no longer in the index (merged or rewritten)."""
        live = set(segids)
        self.segments = {k: v for k, v in self.segments.items() if k in live}
        self._totals = None

    # -- reading --------------------------------------------------------------------

    def totals(self) -> tuple[int, dict[str, int], dict[str, Counter[str]]]:
        """(sections, field lengths, document frequencies) summed over the segments."""
        if self._totals is None:
            sections = 0
            lengths: Counter[str] = Counter()
            df: defaultdict[str, Counter[str]] = defaultdict(Counter)
            for entry in self.segments.values():
                sections += entry["sections"]
                lengths.update(entry["lengths"])
                for fieldname, counts in entry["df"].items():
                    df[fieldname].update(counts)
            self._totals = (sections, dict(lengths), dict(df))
        return self._totals

    def __bool__(self) -> bool:
        return bool(self.segments)


class LiveSearcher(Searcher):
    """A Whoosh searcher whose collection statistics count live sections only.

    Only the top-level searcher corrects; the per-segment searchers Whoosh makes
    for itself (``_subsearcher``) are plain, and its scorers read the global
    statistics from the top (``get_parent()``), as they always do.
    """

    def __init__(
        self,
        reader: Any,
        deleted: DeletedStats | None = None,
        frequencies: ByteLRU[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(reader, **kwargs)
        self._deleted = deleted if deleted else None
        self._deleted_df: dict[str, Counter[str]] = {}
        if self._deleted is not None:
            sections, self._deleted_lengths, self._deleted_df = self._deleted.totals()
            self._doccount = self.ixreader.doc_count_all() - sections
        # ``frequencies``: the snapshot's cache of live document frequencies, shared by its
        # searchers (a query plan asks for dozens; each is a hash lookup per segment).
        self._frequencies = frequencies
        # Whoosh's Searcher copies its reader's method onto the instance; drop the copy so the
        # method below answers (a bound method kept on the instance would be a reference
        # cycle, keeping a closed version's files open until the cyclic garbage collector ran).
        del self.doc_frequency

    def _subsearcher(self, reader: Any) -> Searcher:
        return Searcher(reader, fromindex=self._ix, weighting=self.weighting, parent=self)

    def doc_frequency(self, fieldname: str, text: str | bytes) -> int:  # type: ignore[override]
        """Live sections that have the term (deleted ones subtracted), cached per snapshot."""
        word = text.decode("utf-8") if isinstance(text, bytes) else text
        if self._frequencies is None:
            return self._count_live(fieldname, word)
        return self._frequencies.get_or_make((fieldname, word), lambda: self._count_live(fieldname, word))

    def learn_frequency(self, fieldname: str, word: str, stored: int) -> None:
        """Cache the term's live document frequency from ``stored``, the number of postings it
        has in every segment (deleted sections included, as the term tables count them): a
        reader that has just read all of them need not look the term up again in each."""
        if self._frequencies is not None:
            self._frequencies.get_or_make((fieldname, word), lambda: self._live(fieldname, word, stored))

    def _count_live(self, fieldname: str, word: str) -> int:
        return self._live(fieldname, word, self.ixreader.doc_frequency(fieldname, word))

    def _live(self, fieldname: str, word: str, n: int) -> int:
        counts = self._deleted_df.get(fieldname)
        if counts and n:
            n -= counts.get(word, 0)
        return n

    def field_length(self, fieldname: str) -> int:
        if self.has_parent():
            return self.get_parent().field_length(fieldname)
        total = self.reader().field_length(fieldname)
        if self._deleted is not None:
            total -= self._deleted_lengths.get(fieldname, 0)
        return total


__all__ = ["DELETED_STATS", "SCORED_FIELDS", "DeletedStats", "LiveSearcher"]

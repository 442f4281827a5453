"""A term's scores in a few given sections, read from the blocks that hold them.

A keyword query often needs a common word only where something rarer already is: the
sections that have the rest of a conjunction, a phrase's candidates, the sections that
have a word's rarest bigram (``allterms``). Decoding such a word's whole list (150,000
postings for もの at 1M sections) to look up a few hundred of them was most of those
queries' time. ``TermLists.probe`` reads the list's block headers instead (each block's
posting count and last section number, ``w3blocks.block_table``), then inflates and
decodes only the blocks whose section range holds one of the wanted sections (a block
holds those after the previous block's last, up to its own last), and scores them with
the same function as the whole list (``bagofwords.bm25``): a section's score is the same
bits either way. Nothing a probe reads is cached: a word that comes back whole is
decoded (and cached) by the score cache as before.
"""

from __future__ import annotations

import numpy as np
from whoosh.searching import Searcher

from sakuin.search.embedded.reading.bagofwords import TermScoreCache, bm25, bm25_scorer, term_lists
from sakuin.search.embedded.reading.occurrences import lookup
from sakuin.search.embedded.writing.w3blocks import BlockTable, block_table, decode_ids_and_weights


class NotBM25(Exception):
    """The field's scorer is not Whoosh's BM25F, whose formula a probe applies."""


class TermLists:
    """One term's posting lists in every segment that has it."""

    def __init__(self, searcher: Searcher, cache: TermScoreCache, fieldname: str, term: str) -> None:
        """Raises ``NotBM25`` for a field scored otherwise."""
        self.lists = term_lists(searcher, fieldname, term)
        self._table: tuple[np.ndarray, np.ndarray, np.ndarray, list[BlockTable], np.ndarray] | None = None
        if not self.lists:
            return
        scorer = bm25_scorer(searcher, fieldname, term, self.lists[0][0], self.stored)
        if scorer is None:
            raise NotBM25(fieldname)
        self.scorer = scorer
        self.lengths = cache.lengths(searcher, fieldname)

    @property
    def stored(self) -> int:
        """Postings over every segment, deleted sections included (as the term tables count them)."""
        return sum(info.doc_frequency() for _, _, info in self.lists)

    def _blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[BlockTable], np.ndarray]:
        """Over every segment in order: each block's last section number, its segment's first,
        its posting count, the segments' block tables and where each segment's blocks start."""
        if self._table is None:
            tables = [block_table(sub.reader(), info) for sub, _, info in self.lists]
            offsets = np.repeat([offset for _, offset, _ in self.lists], [len(t.counts) for t in tables])
            lasts = np.array([last for t in tables for last in t.lasts], np.int64) + offsets
            counts = np.array([n for t in tables for n in t.counts], np.int64)
            firsts = np.cumsum([0] + [len(t.counts) for t in tables])
            self._table = (lasts, offsets, counts, tables, firsts)
        return self._table

    def probe(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the ascending section numbers ``wanted``: whether each has the term, and its
        score there (0 where it has not), from the blocks that can hold them."""
        found = np.zeros(len(wanted), np.bool_)
        scores = np.zeros(len(wanted))
        if not len(wanted) or not self.lists:
            return found, scores
        lasts, offsets, counts, tables, firsts = self._blocks()
        at = np.searchsorted(lasts, wanted)
        blocks = np.unique(at[at < len(lasts)])
        if not len(blocks):
            return found, scores
        segment = np.searchsorted(firsts, blocks, side="right") - 1
        datas = [tables[t].pickle(b - int(firsts[t])) for b, t in zip(blocks.tolist(), segment.tolist(), strict=True)]
        docs, tf = decode_ids_and_weights(counts[blocks].tolist(), datas, offsets[blocks].tolist())
        inside, found = lookup(docs, wanted)
        hit = np.flatnonzero(found)
        if len(hit):
            where = inside[hit]
            scores[hit] = bm25(self.scorer, tf[where], self.lengths[docs[where]])
        return found, scores


__all__ = ["NotBM25", "TermLists"]

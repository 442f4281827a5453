"""Writing Whoosh segments in one sorted pass, through Whoosh's own codec.

Whoosh's ``SegmentWriter`` sends every posting through its ``PostingPool`` as a
Python tuple, sorts them all at commit and then hands them one by one to the
codec. ``SegmentBuilder`` appends each section's postings to flat per-field
arrays (term id, document, and for word fields each occurrence's position and
character offsets), sorts them once with numpy when the segment is written, and
encodes every field's posting lists at once in the W3 codec's block format
(``sakuin.search.embedded.writing.w3blocks``), so ``whoosh.index.open_dir`` opens the result and
Whoosh's searcher gives the same documents and scores (a test compares both
writers on the seed and a livedoor sample: terms, postings, term statistics,
field lengths, stored fields, columns and scores).

What stays Whoosh's: the column formats (stored fields, length bytes, the
sortable ``key`` and ``ordinal``, metadata columns), the terminfo and block
layout, the term table's file format, the compound segment file and the TOC.
What is ours:

* accumulating postings in arrays instead of a pool of tuples: word and reading
  terms as the analysis's vocabulary ids (``sakuin.search.analysis.terms.Vocabulary``), taken
  as lists and made numpy arrays a chunk at a time, bigrams as integer codes
  (``sakuin.search.analysis.normalize.gram_codes``), an ``ID`` field's value as its one term;
* the per-document files written a column at a time (Whoosh's per-document
  writer pays a call per document and field); stored fields compressed by ISA-L
  at ``STORED_LEVEL`` (the zlib format Whoosh's reader decompresses): on livedoor
  it halves them (28.1 → 15.0 MB, 8 % of the index) for 0.17 s of the whole
  build, where zlib's level 1 took 0.54 s; reading a section back costs a
  ~27 µs decompression, paid only for the hits shown;
* posting lists encoded a field at a time with array arithmetic
  (``sakuin.search.embedded.writing.w3blocks``), only the compression running once per block;
* blocks are compressed by ISA-L (``sakuin.search.embedded.writing.w3blocks.compress``: the same zlib
  format, several times faster than zlib); a block whose pickled data is under
  ``COMPRESS_MIN_BYTES`` is stored without compression. The block header carries
  the compression level and Whoosh's reader honours it; Whoosh's writer meant to
  do the same (``if len(databytes) < 20: comp = 0``) but overwrites the flag on
  the next line. The limit is 512 bytes: smaller blocks (the rare terms', four in
  five blocks of livedoor) shrink by a third at most. Compressing down to 96 bytes
  made livedoor's index 4 % smaller (151.0 → 144.3 MB; 100k scale sections 351.6
  against 374.3 MB) but queries 5-20 % slower at 100k sections: a common
  bigram's 128-posting blocks are a few hundred bytes, and each then costs a
  decompression whenever the term is read;
* the term table (``OrderedHashWriter``'s records, position index and 256 hash
  tables) filled a field at a time: records laid out with numpy, CRC-32 hashes
  (hash type 1, which the file's header names) in one pass, each hash table's
  linear probing done by a cumulative maximum over the entries sorted by home
  slot (any insertion order gives a table Whoosh's reader searches correctly;
  this one is computed, not probed entry by entry).

A builder holds one segment in memory; ``nbytes`` estimates its size so the
caller can write it out when it passes a budget, which is what bounds the
indexer's memory at any corpus size.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from itertools import count, repeat
from typing import Any
from zlib import crc32

import numpy as np
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, W3Codec, W3FieldWriter, _lenfield
from whoosh.fields import Schema
from whoosh.filedb.filestore import Storage
from whoosh.filedb.filetables import OrderedHashWriter, crc_hash
from whoosh.formats import Characters, Existence, Frequency
from whoosh.system import pack_ushort
from whoosh.util.numeric import _length_byte_cache

from sakuin.search.analysis.normalize import gram_texts
from sakuin.search.analysis.terms import SectionTerms, Vocabulary, Words
from sakuin.search.embedded.schema import Presence
from sakuin.search.embedded.writing.w3blocks import TERMINFO, characters_values, compress, encode_postings, weave

#: The memory estimate (``SegmentBuilder.nbytes``) counts what each buffered unit takes
#: in the builder (below), times ``_PEAK``: writing the segment needs about as much again
#: for its sorted copies and the encoding's arrays (``sakuin.search.embedded.writing.w3blocks``, in slices of
#: ``ENCODE_CHUNK``), and the allocator keeps about a half more. Measured on the scale
#: corpus (``bench/scale.py``): a worker's peak RSS grows by 2.3-2.5× the buffered bytes,
#: so ``SAKUIN_SEGMENT_MB`` is close to what a worker's peak grows by above its base.
_PEAK = 2.5
#: Bytes per buffered posting (term id, document, frequency).
_POSTING_BYTES = int(_PEAK * 16)
#: A bigram (repeats included until the segment is written) is a code, and a document
#: number when written; each section adds a small array.
_GRAM_POSTING_BYTES = int(_PEAK * 12)
_GRAM_SECTION_BYTES = int(_PEAK * 120)
#: A word occurrence: term id, position, start, end (and its section's document when written).
_OCCURRENCE_BYTES = int(_PEAK * 24)
#: A reading occurrence: term id (and its section's document when written).
_READING_BYTES = int(_PEAK * 12)
#: Ints a word or reading field converts to numpy at a time (``_Ints``).
_CHUNK = 1 << 16
#: Bytes per distinct term in a segment (dict entry, key, id).
_TERM_BYTES = int(_PEAK * 150)
#: A stored character (Japanese text is two bytes a character in a Python str) and a section's fields.
_CHAR_BYTES = int(_PEAK * 2)
_SECTION_BYTES = int(_PEAK * 400)
#: ``length_to_byte``'s table and the length from which it gives 255.
_LENGTH_CACHE = np.array(_length_byte_cache, dtype=np.int64)
_BYTE_LIMIT = 106374
#: Postings and occurrences encoded at a time (``_BulkFieldWriter.add_postings``).
ENCODE_CHUNK = 1 << 16
#: Fields of words with positions and character offsets (Whoosh ``Characters``).
WORD_FIELDS = ("content", "heading", "title")
#: ISA-L level of stored fields (``sakuin.search.embedded.writing.w3blocks.compress``; Whoosh's
#: zlib level is 3, and ``zlib.decompress`` reads any level).
STORED_LEVEL = 1
#: How ``SegmentBuilder.add`` indexes a field: not at all, from the section's analysed
#: terms (words, bigrams, readings), through the field's own Whoosh ``index``, or as an
#: ``ID`` (the value is the one term: what ``index`` gives, without a token for it).
_NOT_INDEXED, _WORDS, _GRAMS, _READING, _WHOOSH, _ID = range(6)
_KINDS = {**dict.fromkeys(WORD_FIELDS, _WORDS), "grams": _GRAMS, "reading": _READING}
#: Compression level of posting blocks (ISA-L's levels 1-3, ``sakuin.search.embedded.writing.w3blocks.compress``):
#: 1 gave livedoor's blocks in 0.15 s a worker (zlib's level 1: 0.41 s), as small as zlib's.
COMPRESSION = 1
#: ``filetables``' on-disk structs: a record's key and value lengths (``!ii``) and a
#: hash slot (``!Iq``).
_KV_LENGTHS = np.dtype([("key", ">i4"), ("value", ">i4")])
_SLOT = np.dtype([("hash", ">u4"), ("position", ">i8")])
#: A hash file's header: its magic, the hash type byte and two unused ints; type 1 is CRC-32.
_HASH_MAGIC, _HEADER_BYTES, _CRC32 = b"HSH3", 13, 1
#: The largest value each ``array`` typecode of Whoosh's ``GrowableArray`` holds, plus one.
_ARRAY_LIMITS = {"B": 1 << 8, "H": 1 << 16, "i": 1 << 31, "I": 1 << 32, "q": 1 << 63}


class _FieldPostings:
    """A field's postings (term id, document, frequency), flat and in the order added."""

    __slots__ = ("docs", "freqs", "ids", "lengths", "next_id", "tids")

    def __init__(self, docs_before: int) -> None:
        self.ids: dict[str | bytes, int] = {}
        self.next_id = count()
        self.tids = array("q")
        self.docs = array("I")
        self.freqs = array("I")
        self.lengths = array("I", bytes(4 * docs_before))  # 0 for sections before the field appeared

    def add(self, docnum: int, terms: Any, freqs: Any) -> int:
        """Append one document's postings; returns how many. Term ids are unique, not dense."""
        before = len(self.tids)
        self.tids.extend(map(self.ids.setdefault, terms, self.next_id))
        n = len(self.tids) - before
        self.docs.extend(repeat(docnum, n))
        self.freqs.extend(freqs)
        return n

    def sorted_postings(self) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray]:
        """(terms in byte order, where each one's postings end, their documents, their frequencies)."""
        btexts, rank = _ranked(self.ids)
        ranks = rank[np.frombuffer(self.tids, dtype=np.int64)]
        order = stable_order(ranks)  # stable: documents stay in order within a term
        ends = np.cumsum(np.bincount(ranks, minlength=len(btexts)))
        return (
            btexts,
            ends,
            np.frombuffer(self.docs, dtype=np.uint32)[order],
            np.frombuffer(self.freqs, np.uint32)[order],
        )


class _Ints:
    """A growing column of ints: each section's list goes into an ``array`` with
    ``array.fromlist`` (12-16 ns an int here, against 17-22 for appending to a Python
    list and converting it with ``np.fromiter``, and 26-30 for ``array.extend``); the
    ints since the last chunk are handed out as a numpy copy every ``_CHUNK`` ints."""

    __slots__ = ("counted", "dtype", "values")

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.values = array(self.dtype.char)
        self.counted = 0  # ints already handed out in chunks

    def extend(self, values: list[int]) -> np.ndarray | None:
        """Append ``values``; returns the chunk made, if one was."""
        ints = self.values
        ints.fromlist(values)
        if len(ints) - self.counted < _CHUNK:
            return None
        # A copy: a view would hold the array's buffer, and the array could not grow.
        chunk = np.frombuffer(ints, dtype=self.dtype)[self.counted :].copy()
        self.counted = len(ints)
        return chunk

    def array(self) -> np.ndarray:
        """Everything appended, as one array; empties the column."""
        out = np.frombuffer(self.values, dtype=self.dtype) if self.values else np.zeros(0, self.dtype)
        self.values, self.counted = array(self.dtype.char), 0
        return out


class _TermIds:
    """A word or reading field's term ids (``sakuin.search.analysis.terms.Vocabulary``), each section's in
    text order with its document number; counts the distinct terms as chunks are made."""

    __slots__ = ("counts", "distinct", "docs", "ids", "lengths", "seen", "vocabulary")

    def __init__(self, docs_before: int) -> None:
        self.vocabulary: Vocabulary | None = None
        self.ids = _Ints(np.int64)
        self.docs = array("I")
        self.counts = array("q")
        self.lengths = array("I", bytes(4 * docs_before))  # 0 for sections before the field appeared
        self.seen = np.zeros(0, dtype=bool)
        self.distinct = 0

    def add_ids(self, docnum: int, ids: list[int], vocabulary: Vocabulary) -> int:
        """Append one section's term ids; returns how many distinct terms the field gained
        (counted a chunk at a time, so mostly 0)."""
        if self.vocabulary is None:
            self.vocabulary = vocabulary
        elif vocabulary is not self.vocabulary:  # the analysis started a new vocabulary since
            text_of, own = vocabulary.terms, self.vocabulary
            ids = [own.id(text_of[i]) for i in ids]
        self.docs.append(docnum)
        self.counts.append(len(ids))
        chunk = self.ids.extend(ids)
        return 0 if chunk is None else self._count(chunk)

    def _count(self, chunk: np.ndarray) -> int:
        if not len(chunk):
            return 0
        top = int(chunk.max())
        if top >= len(self.seen):
            self.seen = np.r_[self.seen, np.zeros(top + 1 - len(self.seen) + len(self.seen) // 2, dtype=bool)]
        before = self.distinct
        self.seen[chunk] = True
        self.distinct = int(np.count_nonzero(self.seen))  # cheaper than finding the new ones
        return self.distinct - before

    def ranked(self) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """(the terms' UTF-8 bytes in order, each occurrence's term rank in that order, each
        occurrence's document); empties the field."""
        ids = self.ids.array()
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.uint32), np.frombuffer(self.counts, dtype=np.int64))
        self._count(ids)
        present = np.flatnonzero(self.seen)
        if not len(present):
            return [], np.zeros(0, dtype=np.int64), docs
        assert self.vocabulary is not None
        text_of = self.vocabulary.terms
        btexts, rank = _ranked({text_of[i]: i for i in present.tolist()})
        return btexts, rank[ids], docs


class _WordPostings(_TermIds):
    """A word field's occurrences (``sakuin.search.analysis.terms.Words``), flat and in the order added."""

    __slots__ = ("spans",)

    def __init__(self, docs_before: int) -> None:
        super().__init__(docs_before)
        self.spans = _Ints(np.int32)  # position, start, end of each occurrence

    def add(self, docnum: int, words: Words) -> int:
        """Append one section's occurrences; returns how many distinct terms the field gained."""
        self.spans.extend(words.spans)
        return self.add_ids(docnum, words.terms, words.vocabulary)

    def sorted_postings(self) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """(terms in byte order, where each one's postings end, their documents, frequencies,
        and (each posting's first occurrence, the occurrences' (position, start, end) rows)).
        A posting is a (term, section) run of occurrences, in text order (the stable sort
        keeps the order added)."""
        btexts, ranks, docs = self.ranked()
        order = stable_order(ranks)
        ranks = ranks[order]
        docs = docs[order]
        n = len(ranks)
        first = np.ones(n, dtype=bool)
        first[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
        p_start = np.flatnonzero(first)
        del first
        spans = np.take(self.spans.array().reshape(-1, 3), order, axis=0)  # 3x faster than [order]
        p_rank = ranks[p_start]
        ends = np.r_[np.flatnonzero(p_rank[1:] != p_rank[:-1]) + 1, len(p_start)]
        return btexts, ends, docs[p_start], np.diff(np.r_[p_start, n]), (p_start, spans)


class _ReadingPostings(_TermIds):
    """The reading field's terms (``Words.readings``), every occurrence as added; the repeats
    within a section go when the segment is written (a presence field)."""

    def sorted_postings(self) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """(terms in byte order, where each one's postings end, their documents)."""
        btexts, ranks, docs = self.ranked()
        codes, docs = _distinct_pairs(ranks, docs)
        ends = _run_ends(codes)
        return btexts, ends, docs


class _GramPostings:
    """The bigram field's postings: each section's bigram codes (``sakuin.search.analysis.normalize.gram_codes``,
    repeats included) as added; the repeats go when the segment is written, in one sort
    for all sections rather than one per section."""

    __slots__ = ("codes", "counts", "docs", "lengths")

    def __init__(self, docs_before: int) -> None:
        self.codes: list[np.ndarray] = []
        self.docs = array("I")
        self.counts = array("q")
        self.lengths = array("I", bytes(4 * docs_before))

    def add(self, docnum: int, codes: np.ndarray) -> int:
        """Append one section's bigrams; returns how many."""
        self.codes.append(codes)
        self.docs.append(docnum)
        self.counts.append(len(codes))
        return len(codes)

    def sorted_postings(self) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """(terms in byte order, where each one's postings end, their documents); empties the builder."""
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.uint32), np.frombuffer(self.counts, dtype=np.int64))
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, np.uint64)
        self.codes = []  # consumed: the segment is being written
        codes, docs = _distinct_pairs(codes, docs)
        ends = _run_ends(codes)
        # Code order is the terms' UTF-8 byte order (``sakuin.search.analysis.normalize``).
        btexts = [gram.encode("utf-8") for gram in gram_texts(codes[ends - 1])]
        return btexts, ends, docs


def _run_ends(codes: np.ndarray) -> np.ndarray:
    """Where each run of equal codes ends (codes sorted): each term's postings' end."""
    return np.r_[np.flatnonzero(codes[1:] != codes[:-1]) + 1, len(codes)] if len(codes) else codes[:0]


def _distinct_pairs(codes: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (code, document) pairs, ordered by code, then document."""
    shift = int(docs.max()).bit_length() if len(docs) else 0  # the bits of a document number
    if len(codes) and int(codes.max()) >> (63 - shift):  # beyond any real text's code points
        order = np.lexsort((docs, codes))
        codes, docs = codes[order], docs[order]
        distinct = np.r_[True, (codes[1:] != codes[:-1]) | (docs[1:] != docs[:-1])]
        return codes[distinct], docs[distinct]
    # One in-place sort of code << shift | document orders the pairs by code, then
    # document; a key equal to the one before is a repeat within a section.
    key = codes.astype(np.int64)
    del codes
    key <<= shift
    key |= docs
    del docs
    key.sort()
    if len(key):
        distinct = np.empty(len(key), dtype=bool)
        distinct[0] = True
        np.not_equal(key[1:], key[:-1], out=distinct[1:])
        key = key[distinct]
    return key >> shift, (key & ((1 << shift) - 1)).astype(np.uint32)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` of non-negative integers, several times faster:
    the keys made distinct (key << bits of n | index) sort with numpy's unstable sort."""
    n = len(keys)
    shift = (n - 1).bit_length() if n else 0
    if not n or int(keys.max()) >> (63 - shift):
        return np.argsort(keys, kind="stable")
    combined = keys.astype(np.int64)
    combined <<= shift
    combined |= np.arange(n, dtype=np.int64)
    combined.sort()
    combined &= (1 << shift) - 1
    return combined


def _ranked(ids: dict[Any, int]) -> tuple[list[bytes], np.ndarray]:
    """(the terms' UTF-8 bytes in order, each term id's rank in that order)."""
    keyed = sorted((term.encode("utf-8") if isinstance(term, str) else term, tid) for term, tid in ids.items())
    rank = np.empty(max(tid for _, tid in keyed) + 1, dtype=np.int64)
    rank[[tid for _, tid in keyed]] = np.arange(len(keyed))
    return [btext for btext, _ in keyed], rank


def _length_bytes(lengths: array) -> np.ndarray:
    """``length_to_byte`` of every document's field length."""
    n = np.frombuffer(lengths, dtype=np.uint32) if len(lengths) else np.zeros(0, np.uint32)
    return np.where(n >= _BYTE_LIMIT, 255, np.searchsorted(_LENGTH_CACHE, n, side="left")).astype(np.uint8)


def _column_writer(writer: Any, name: str, column: Any) -> Any:
    """The per-document writer's column writer for ``name``, made as its ``add_column_value`` would."""
    if not writer._has_column(name):
        writer._create_column(name, column)
    return writer._get_column(name)


class _BulkHashWriter(OrderedHashWriter):
    """Whoosh's term table writer, given a field's terms at once (``add_sorted``).

    The file is the same format: records (key length, value length, key, value) in
    key order, the position index, 256 hash tables of (hash, position) slots with
    linear probing, and the directory. The keys are hashed with CRC-32, not MD5:
    the header names the hash function (``filetables``' hash type 1, ``crc_hash``) and
    Whoosh's reader uses the one named. CRC-32 goes on from a prefix without the key
    being put together (``zlib.crc32(rest, crc32(prefix))``); MD5 and the keys it
    needed cost a worker about 0.2 s of livedoor's build.
    """

    def adopt(self) -> _BulkHashWriter:
        """Take over a new writer (only its header written yet): its hash type becomes CRC-32."""
        if self.dbfile.tell() != self.startoffset + _HEADER_BYTES:
            raise ValueError("a term table can only be adopted before anything is added")
        self.dbfile.seek(self.startoffset + len(_HASH_MAGIC))
        self.dbfile.write_byte(_CRC32)
        self.dbfile.seek(self.startoffset + _HEADER_BYTES)
        self.hashtype, self.hashfn = _CRC32, crc_hash
        self._hashes: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []
        return self

    def add_sorted(
        self, keys: list[bytes], values: list[bytes] | bytes, value_size: int | None = None, prefix: bytes = b""
    ) -> None:
        """``add`` for keys ``prefix + keys[i]`` already in increasing order, all greater
        than the last one; ``value_size``: every value has this size and ``values`` is
        them all in one ``bytes``."""
        if not keys:
            return
        if prefix + keys[0] <= self.lastkey:
            raise ValueError(f"keys must increase: {self.lastkey!r}..{prefix + keys[0]!r}")
        n, plen = len(keys), len(prefix)
        klen = np.fromiter(map(len, keys), dtype=np.int64, count=n) + plen
        if value_size is None:
            vlen = np.fromiter(map(len, values), dtype=np.int64, count=n)
            values = b"".join(values)
        else:
            vlen = np.full(n, value_size, dtype=np.int64)
        lengths = np.empty(n, dtype=_KV_LENGTHS)
        lengths["key"], lengths["value"] = klen, vlen
        # Each record: its key and value lengths, the prefix, the rest of the key, the value.
        sizes = np.c_[np.full(n, 8), np.full(n, plen), klen - plen, vlen]
        out = weave(
            sizes,
            [
                lengths.view(np.uint8),
                np.tile(np.frombuffer(prefix, dtype=np.uint8), n),
                np.frombuffer(b"".join(keys), dtype=np.uint8),
                np.frombuffer(values, dtype=np.uint8),
            ],
        )
        size = sizes.sum(axis=1)
        positions = self.dbfile.tell() + np.cumsum(size) - size
        self.dbfile.write(out.tobytes())
        # The position index (a GrowableArray): widened as its append would, then filled at once.
        index = self.index
        if int(positions[-1]) >= _ARRAY_LIMITS[index.typecode]:
            index._retype(int(positions[-1]))
        index.array.frombytes(positions.astype(np.dtype(index.array.typecode)).tobytes())
        self._hashes.append(np.fromiter(map(crc32, keys, repeat(crc32(prefix), n)), dtype=np.int64, count=n))
        self._positions.append(positions)
        self.lastkey = prefix + keys[-1]

    def _write_hashes(self) -> None:
        pairs = [(h, p) for bucket in self.buckets for h, p in bucket]  # anything added one by one
        hashes = np.concatenate([*self._hashes, np.array([h for h, _ in pairs], dtype=np.int64)])
        positions = np.concatenate([*self._positions, np.array([p for _, p in pairs], dtype=np.int64)])
        bucket = hashes & 255
        numslots = 2 * np.bincount(bucket, minlength=256)
        table_at = np.cumsum(numslots) - numslots
        home = (hashes >> 8) % np.maximum(numslots[bucket], 1)
        order = np.lexsort((home, bucket))
        bucket, home, hashes, positions = bucket[order], home[order], hashes[order], positions[order]
        # Entries sorted by home slot take the first free slot at or after it:
        # slot_i = max(home_i, slot_{i-1} + 1), a cumulative maximum of home_j - j.
        rank = np.arange(len(bucket)) - (table_at[bucket] // 2)
        separate = bucket * (4 * len(bucket) + 4)  # keeps each bucket's maximum to itself
        slot = rank + np.maximum.accumulate(home - rank + separate) - separate
        slots = np.zeros(int(numslots.sum()), dtype=_SLOT)
        inside = slot < numslots[bucket]
        slots["hash"][table_at[bucket[inside]] + slot[inside]] = hashes[inside]
        slots["position"][table_at[bucket[inside]] + slot[inside]] = positions[inside]
        for b, h, p in zip(
            bucket[~inside].tolist(), hashes[~inside].tolist(), positions[~inside].tolist(), strict=True
        ):
            s = int(table_at[b])  # ran past the table's end: wrap to its first free slot
            while slots["position"][s]:
                s += 1
            slots[s] = (h, p)
        start = self.dbfile.tell()
        self.directory.extend(zip((start + 12 * table_at).tolist(), numslots.tolist(), strict=True))
        self.dbfile.write(slots.tobytes())


class _BulkFieldWriter(W3FieldWriter):
    """The W3 field writer, given all of a field's posting lists at once (``add_postings``)."""

    def __init__(self, codec: W3Codec, storage: Storage, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._tindex.__class__ = _BulkHashWriter  # the same object and file, filled a field at a time
        self._tindex.adopt()

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        fmt = self._format
        if fmt.field_boost != 1.0 or fmt.fixed_value_size() not in (None, 0, 4):
            raise ValueError(f"no bulk encoding for {fmt!r}")  # none in sakuin's schema
        self._offset = self._postfile.tell()  # only add_postings writes here: track it instead of asking
        self._keys: list[bytes] = []
        self._values: list[bytes] = []  # the term infos, each ``TERMINFO.itemsize`` bytes

    def add_postings(
        self,
        btexts: list[bytes],
        ends: np.ndarray,
        docs: np.ndarray,
        length_bytes: np.ndarray,
        freqs: np.ndarray | None = None,
        occurrences: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """All terms of the current field (``sakuin.search.embedded.writing.w3blocks.encode_postings``): term i has
        the postings ``ends[i-1]:ends[i]`` of ``docs`` (and of ``freqs``); ``length_bytes``
        maps a document to its length byte; ``freqs`` None: every weight is 1 and the
        format stores no value; ``occurrences``: for a ``Characters`` field, where each
        posting's occurrences start and every occurrence's (position, start, end) row.

        Terms are encoded in slices of about ``ENCODE_CHUNK`` postings and occurrences:
        the arrays of an encoding take several times the bytes of what they encode, so
        a whole field at once would be the build's peak memory."""
        fmt, codec = self._format, self._codec
        if freqs is not None and fmt.fixed_value_size() == 4 and not isinstance(fmt, Frequency):
            raise ValueError(f"no bulk encoding for {fmt!r}")
        if occurrences is None and isinstance(fmt, Characters):
            raise ValueError(f"{self._fieldname}: a Characters field needs its occurrences")
        cost = ends.astype(np.int64)
        if occurrences is not None:
            p_start, spans = occurrences
            cost = cost + np.r_[p_start, len(spans)][ends]  # postings and occurrences so far
        first = 0
        while first < len(ends):
            last = max(first + 1, int(np.searchsorted(cost, cost[first] + ENCODE_CHUNK, side="right")))
            p0 = int(ends[first - 1]) if first else 0
            p1 = int(ends[last - 1])
            weights = fixed = values = None
            if freqs is not None:
                weights = freqs[p0:p1].astype(np.float64)
                if fmt.fixed_value_size() == 4:  # Frequency.encode: pack_uint(freq)
                    fixed = freqs[p0:p1].astype(">u4").view(np.uint8).reshape(-1, 4)
            if occurrences is not None:
                o0, o1 = int(p_start[p0]), int(p_start[p1]) if p1 < len(p_start) else len(spans)
                rows = spans[o0:o1]
                values = characters_values(p_start[p0:p1] - o0, rows[:, 0], rows[:, 1], rows[:, 2])
            data, infos = encode_postings(
                docs[p0:p1],
                ends[first:last] - p0,
                length_bytes,
                self._offset,
                codec._blocklimit,
                codec._compression,
                weights,
                values,
                fixed,
            )
            self._postfile.write(data)
            self._offset += len(data)
            self._keys += btexts[first:last]
            self._values.append(infos.tobytes())
            first = last

    def finish_field(self) -> None:
        self._tindex.add_sorted(self._keys, b"".join(self._values), TERMINFO.itemsize, pack_ushort(self._fieldid))
        self._keys, self._values = [], []
        super().finish_field()


class SegmentBuilder:
    """Accumulates sections for one new segment of ``schema``; ``write`` saves it.

    Documents are numbered from 0 in the order they are added, as Whoosh's
    writer numbers them.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.docs = 0
        self.nbytes = 0
        self._fields: dict[str, Any] = {}
        self._stored: list[dict[str, Any]] = []
        self._columns: list[dict[str, Any]] = []  # column-only fields (metadata numbers, dup)
        self._last_indexed: dict[str, tuple[Any, list[Any]]] = {}
        self._numbers: dict[tuple[str, int], list[Any]] = {}
        self._plans: dict[tuple[str, ...], list[tuple[str, int, bool, bool, bool]]] = {}

    def _field(self, fieldname: str) -> Any:
        fp = self._fields.get(fieldname)
        if fp is None:
            kind: Any = _FieldPostings
            if fieldname in WORD_FIELDS:
                kind = _WordPostings
            elif fieldname == "reading":
                kind = _ReadingPostings
            elif fieldname == "grams":
                kind = _GramPostings
            fp = self._fields[fieldname] = kind(self.docs)
        return fp

    def _add_words(self, fieldname: str, docnum: int, words: Words) -> int:
        gained = self._field(fieldname).add(docnum, words)
        self.nbytes += len(words.terms) * _OCCURRENCE_BYTES + gained * _TERM_BYTES
        return len(words.terms)

    def _add_reading(self, docnum: int, words: Words) -> int:
        readings = words.readings
        gained = self._field("reading").add_ids(docnum, readings, words.vocabulary)
        self.nbytes += len(readings) * _READING_BYTES + gained * _TERM_BYTES
        return len(readings)

    def _add_grams(self, docnum: int, codes: np.ndarray) -> int:
        n = self._field("grams").add(docnum, codes)
        self.nbytes += n * _GRAM_POSTING_BYTES + _GRAM_SECTION_BYTES
        return n

    def _add_whoosh(self, fieldname: str, docnum: int, value: Any) -> int:
        """Small fields (ids, the ordinal, metadata terms) go through the field's own ``index``,
        remembered for numbers (ordinals repeat) and for the last value of each field (the
        sections of a document share their source and metadata)."""
        field = self.schema[fieldname]
        if isinstance(value, int):  # the ordinal: a few small numbers, each with several terms
            items = self._numbers.get((fieldname, value))
            if items is None:
                items = self._numbers[(fieldname, value)] = list(field.index(value))
        else:
            last = self._last_indexed.get(fieldname)
            if last is not None and last[0] == value:
                items = last[1]
            else:
                items = list(field.index(value))
                self._last_indexed[fieldname] = (value, items)
        fp = self._field(fieldname)
        fp.add(docnum, [i[0] for i in items], [i[1] for i in items])
        self.nbytes += len(items) * (_POSTING_BYTES + _TERM_BYTES)
        return sum(i[1] for i in items) if field.scorable else 0

    def _plan(self, names: tuple[str, ...]) -> list[tuple[str, int, bool, bool, bool]]:
        """For sections with these fields, each field in the order Whoosh's ``add_document``
        uses (sorted): (name, how it is indexed, scorable, stored, column-only); worked
        out once per set of names instead of once per section."""
        plan = self._plans.get(names)
        if plan is None:
            plan = []
            for name in sorted(names):
                field = self.schema[name]
                kind = _NOT_INDEXED
                if field.indexed:
                    kind = _KINDS.get(name, _WHOOSH)
                    fmt = field.format
                    if kind == _WHOOSH and type(field.analyzer) is IDTokenizer and type(fmt) is Existence:
                        kind = _ID if fmt.field_boost == 1.0 else kind
                plan.append((name, kind, bool(field.scorable), bool(field.stored), bool(field.column_type)))
            self._plans[names] = plan
        return plan

    def add(self, fields: dict[str, Any], terms: SectionTerms) -> None:
        """Add one section: ``fields`` as for ``IndexWriter.add_document``, with the
        analysed fields' terms already computed in ``terms``."""
        docnum = self.docs
        stored: dict[str, Any] = {}
        columns: dict[str, Any] = {}
        nbytes = _SECTION_BYTES
        for fieldname, kind, scorable, is_stored, is_column in self._plan(tuple(fields)):
            value = fields[fieldname]
            if value is None:
                continue
            if kind:
                if kind == _WORDS:
                    length = self._add_words(fieldname, docnum, getattr(terms, fieldname))
                elif kind == _GRAMS:
                    length = self._add_grams(docnum, terms.grams)
                elif kind == _READING:
                    length = self._add_reading(docnum, terms.content)
                elif kind == _ID and value.__class__ is str:
                    self._field(fieldname).add(docnum, (value.encode("utf-8"),), (1,))
                    nbytes += _POSTING_BYTES + _TERM_BYTES
                    length = 1
                else:
                    length = self._add_whoosh(fieldname, docnum, value)
                if scorable:
                    self._fields[fieldname].lengths.append(length)
            if is_stored:
                stored[fieldname] = value
                nbytes += len(value) * _CHAR_BYTES if isinstance(value, str) else 16
            elif is_column:
                columns[fieldname] = value
                nbytes += len(value) * _PEAK if isinstance(value, bytes) else 0
        for fp in self._fields.values():  # fields this section lacks have length 0
            if len(fp.lengths) == docnum:
                fp.lengths.append(0)
        self._stored.append(stored)
        self._columns.append(columns)
        self.nbytes += int(nbytes)
        self.docs += 1

    def write(self, storage: Storage, indexname: str, codec: W3Codec | None = None) -> Any:
        """Write the segment's files into ``storage``; returns the segment for the TOC."""
        codec = codec or W3Codec(compression=COMPRESSION)
        segment = codec.new_segment(storage, indexname)
        self._write_per_doc(codec, storage, segment)
        self._write_terms(codec, storage, segment)
        segment.set_doc_count(self.docs)
        segment.create_compound_file(storage)
        return segment

    def _write_per_doc(self, codec: W3Codec, storage: Storage, segment: Any) -> None:
        """Stored fields, length bytes and columns: the files Whoosh's per-document writer
        makes, written a column at a time (its ``add_field``/``add_column_value`` per
        document and field cost more than the values they write)."""
        writer = codec.per_document_writer(storage, segment)
        schema = self.schema
        n = self.docs
        totals: defaultdict[str, int] = defaultdict(int)
        for fieldname in sorted(self._fields):
            if not schema[fieldname].scorable:
                continue
            fp = self._fields[fieldname]
            lengths = np.frombuffer(fp.lengths, dtype=np.uint32) if len(fp.lengths) else np.zeros(0, np.uint32)
            posted = np.flatnonzero(lengths)
            if not len(posted):  # Whoosh makes a length column at a field's first non-zero length
                continue
            totals[fieldname] = int(lengths.sum(dtype=np.int64))
            column = _column_writer(writer, _lenfield(fieldname), LENGTHS_COLUMN)
            column._dbfile.write(_length_bytes(fp.lengths)[: posted[-1] + 1].tobytes())  # trailing 0s are implied
            column._count = int(posted[-1]) + 1
        stored_column = _column_writer(writer, "_stored", STORED_COLUMN)
        stored_column._child._level = STORED_LEVEL
        stored_column._child._compress = compress
        values: defaultdict[str, list[tuple[int, Any]]] = defaultdict(list)
        for docnum, (stored, columns) in enumerate(zip(self._stored, self._columns, strict=True)):
            if stored:
                stored_column.add(docnum, stored)
            for fieldname, value in stored.items():
                if schema[fieldname].column_type:
                    values[fieldname].append((docnum, value))
            for fieldname, value in columns.items():
                values[fieldname].append((docnum, value))
        for fieldname in sorted(values):
            field = schema[fieldname]
            column = _column_writer(writer, fieldname, field.column_type)
            to_column = field.to_column_value
            for docnum, value in values[fieldname]:
                column.add(docnum, to_column(value))
        writer._doccount = n
        writer._fieldlengths = totals
        writer.close()

    def _write_terms(self, codec: W3Codec, storage: Storage, segment: Any) -> None:
        """Every field's terms in byte order, each with its postings in document order."""
        writer = _BulkFieldWriter(codec, storage, segment)
        for fieldname in sorted(self._fields):
            fp = self._fields[fieldname]
            freqs: np.ndarray | None = None
            occurrences = None
            if isinstance(fp, (_GramPostings, _ReadingPostings)):
                btexts, ends, docs = fp.sorted_postings()
            elif isinstance(fp, _WordPostings):
                btexts, ends, docs, freqs, occurrences = fp.sorted_postings()
            elif not fp.ids:
                continue
            else:
                btexts, ends, docs, freqs = fp.sorted_postings()
                if isinstance(self.schema[fieldname].format, Presence):
                    freqs = None
            if not btexts:
                continue
            writer.start_field(fieldname, self.schema[fieldname])
            writer.add_postings(btexts, ends, docs, _length_bytes(fp.lengths), freqs, occurrences)
            writer.finish_field()
        writer.close()

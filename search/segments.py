"""Writing Whoosh segments in one sorted pass, through Whoosh's own codec.

Whoosh's ``SegmentWriter`` sends every posting through its ``PostingPool`` as a
Python tuple, sorts them all at commit and then hands them one by one to the
codec. ``SegmentBuilder`` appends each section's postings to flat per-field
arrays (term id, document, frequency, encoded value), sorts them once with
numpy when the segment is written, and writes each term's posting list in the
W3 codec's block format, so ``whoosh.index.open_dir`` opens the result and
Whoosh's searcher gives the same documents and scores (a test compares both
writers on the seed and a livedoor sample: terms, postings, term statistics,
field lengths, stored fields and scores).

What stays Whoosh's: the per-document writer (stored fields, length columns,
the sortable ``ordinal`` column), the term table, the terminfo and block
layout, the compound segment file and the TOC. What is ours:

* accumulating postings in arrays instead of a pool of tuples;
* each posting list is written block by block directly (two pickles per block
  and a struct per term, as ``W3PostingsWriter`` makes them), not posting by
  posting through a writer object;
* blocks are zlib-compressed with a window sized to the block (same format);
  a block whose pickled data is under ``COMPRESS_MIN_BYTES`` is stored without
  zlib. The block header carries the compression level and Whoosh's reader
  honours it; Whoosh's writer meant to do the same (``if len(databytes) < 20:
  comp = 0``) but overwrites the flag on the next line. zlib cannot shrink such
  tiny blocks, and compressing one cost as much as the rest of its term.

A builder holds one segment in memory; ``nbytes`` estimates its size so the
caller can write it out when it passes a budget, which is what bounds the
indexer's memory at any corpus size.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right
from itertools import count, repeat
from operator import sub
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter, W3TermInfo
from whoosh.fields import Schema
from whoosh.filedb.filestore import Storage
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from search.normalize import gram_texts
from search.postings import Occurrences, SectionTerms
from search.w3blocks import COMPRESS_MIN_BYTES, compress, encode_presence

#: Postings converted to Python objects at once while a field is written.
WRITE_CHUNK_POSTINGS = 1 << 16
#: Rough bytes per buffered posting, for the memory estimate: three array slots,
#: plus, for positional fields, a list slot and a small bytes object.
_POSITIONAL_POSTING_BYTES = 90
_COUNT_POSTING_BYTES = 16
#: A bigram posting is a code and a document number; each section adds two small arrays.
_GRAM_POSTING_BYTES = 12
_GRAM_SECTION_BYTES = 240
#: Rough bytes per distinct term in a segment (dict entry, key, id).
_TERM_BYTES = 150
_ONE = pack_uint(1)
#: ``length_to_byte``'s table and the length from which it gives 255.
_LENGTH_CACHE = np.array(_length_byte_cache, dtype=np.int64)
_BYTE_LIMIT = 106374
#: Fields whose postings carry no value and weight 1 (``search.schema.Presence``).
PRESENCE_FIELDS = ("grams", "reading")
#: A term-table record's header: key length, value length (``filetables._lengths``).
_KV_LENGTHS = struct.Struct("!ii")


def _encode_occurrences(encode: Any, occ: Occurrences) -> bytes:
    """``Characters.encode``, with the common one-occurrence case inlined (same bytes)."""
    if len(occ) == 1:
        pos, start, end = occ[0]
        return _ONE + dumps([(pos, start, end - start)], 2)
    return encode(occ)


class _FieldPostings:
    """One field's postings in the segment being built, flat and in the order added."""

    __slots__ = ("docs", "freqs", "ids", "lengths", "next_id", "tids", "values")

    def __init__(self, docs_before: int) -> None:
        self.ids: dict[str | bytes, int] = {}
        self.next_id = count()
        self.tids = array("q")
        self.docs = array("I")
        self.freqs = array("I")
        self.values: list[bytes] = []
        self.lengths = array("I", bytes(4 * docs_before))  # 0 for sections before the field appeared

    def add(self, docnum: int, terms: Any, freqs: Any, values: list[bytes] | None = None) -> int:
        """Append one document's postings; returns how many. Term ids are unique, not dense."""
        before = len(self.tids)
        self.tids.extend(map(self.ids.setdefault, terms, self.next_id))
        n = len(self.tids) - before
        self.docs.extend(repeat(docnum, n))
        self.freqs.extend(freqs)
        if values is not None:
            self.values.extend(values)
        return n


class _GramPostings:
    """The bigram field's postings: each section's distinct bigram codes
    (``search.normalize.gram_codes``), one array per section, in the order added."""

    __slots__ = ("codes", "docs", "lengths")

    def __init__(self, docs_before: int) -> None:
        self.codes: list[np.ndarray] = []
        self.docs: list[np.ndarray] = []
        self.lengths = array("I", bytes(4 * docs_before))

    def add(self, docnum: int, codes: np.ndarray) -> int:
        """Append one section's postings; returns how many."""
        distinct = np.unique(codes)
        self.codes.append(distinct)
        self.docs.append(np.full(len(distinct), docnum, dtype=np.uint32))
        return len(distinct)

    def sorted_postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(distinct codes ascending, where each one's postings end, the postings' documents)."""
        codes = np.concatenate(self.codes)
        order = np.argsort(codes, kind="stable")  # stable: documents stay in order within a term
        codes = codes[order]
        docs = np.concatenate(self.docs)[order]
        last = np.flatnonzero(np.diff(codes)) if len(codes) else codes[:0]
        ends = np.r_[last + 1, len(codes)] if len(codes) else np.zeros(0, np.int64)
        return codes[ends - 1], ends, docs


def _length_bytes(lengths: array) -> np.ndarray:
    """``length_to_byte`` of every document's field length."""
    n = np.frombuffer(lengths, dtype=np.uint32) if len(lengths) else np.zeros(0, np.uint32)
    return np.where(n >= _BYTE_LIMIT, 255, np.searchsorted(_LENGTH_CACHE, n, side="left")).astype(np.uint8)


class _BulkFieldWriter(W3FieldWriter):
    """The W3 field writer, given all of a field's posting lists at once.

    ``W3PostingsWriter`` unrolled: the same block tuples, block infos and
    terminfo records, written straight to the files, and the term table filled
    in one batch per field.
    """

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        fmt = self._format
        if fmt.field_boost != 1.0 or fmt.fixed_value_size() not in (None, 0, 4):
            raise ValueError(f"no bulk encoding for {fmt!r}")  # none in sakuin's schema
        self._offset = self._postfile.tell()  # only add_terms writes here: track it instead of asking
        self._terms: list[tuple[bytes, bytes]] = []

    def add_terms(
        self,
        btexts: list[bytes],
        ends: list[int],
        docs: list[int],
        freqs: list[int],
        values: list[bytes] | None,
        lengths: list[int],
    ) -> None:
        """All terms of the current field, in order: term i has the postings
        ``ends[i-1]:ends[i]`` of the parallel ``docs``/``freqs``/``values`` lists;
        ``lengths`` maps a document to the length its length byte decodes to.

        A term found in one document (most of them: rare bigrams and words) is
        encoded inline, since this loop runs once per term of the segment.
        """
        fixed = self._format.fixed_value_size()
        limit = self._codec._blocklimit
        prefix = pack_ushort(self._fieldid)
        pack_terminfo = W3TermInfo._struct.pack
        terms = self._terms
        write = self._postfile.write
        offset = self._offset
        start = 0
        for btext, end in zip(btexts, ends, strict=True):
            n = end - start
            if n == 1:
                doc, freq = docs[start], freqs[start]
                if fixed is None:
                    vs: Any = (values[start],) if values is not None else ()
                else:
                    vs = pack_uint(freq) if fixed else None
                data = dumps(((doc,), None if freq == 1 else float(freq), vs), 2)
                comp = 0
                if len(data) >= COMPRESS_MIN_BYTES:
                    comp = self._codec._compression
                    data = compress(data, comp)
                lbyte = length_to_byte(lengths[doc] or None)
                weight = float(freq)
                block = dumps((1, doc, weight, comp, lbyte, lbyte), 2) + data
                record = WHOOSH3_HEADER_MAGIC + pack_int(-len(block)) + block  # negative: the last block
                info = pack_terminfo(0, weight, 1, lbyte, lbyte, weight, doc, doc)
            else:
                parts = [WHOOSH3_HEADER_MAGIC]
                minlength, maxlength = None, 0
                for lo in range(start, end, limit):
                    hi = min(end, lo + limit)
                    block, block_min, block_max = self._block(
                        docs[lo:hi], freqs[lo:hi], values[lo:hi] if values is not None else None, lengths, fixed
                    )
                    parts += (pack_int(-len(block) if hi == end else len(block)), block)
                    if block_min is not None:
                        minlength = block_min if minlength is None else min(minlength, block_min)
                    maxlength = max(maxlength, block_max)
                record = b"".join(parts)
                term_freqs = freqs[start:end]
                info = pack_terminfo(
                    0,
                    float(sum(term_freqs)),
                    n,
                    length_to_byte(minlength),
                    length_to_byte(maxlength),
                    float(max(term_freqs)),
                    docs[start],
                    docs[end - 1],
                )
            write(record)
            terms.append((prefix + btext, info + pack_long(offset) + pack_int(len(record))))
            offset += len(record)
            start = end
        self._offset = offset

    def add_presence(self, btexts: list[bytes], ends: np.ndarray, docs: np.ndarray, length_bytes: np.ndarray) -> None:
        """All terms of the current field, a ``Presence`` field: term i has the documents
        ``docs[ends[i-1]:ends[i]]``; ``length_bytes`` maps a document to its length byte."""
        codec = self._codec
        data, infos = encode_presence(docs, ends, length_bytes, self._offset, codec._blocklimit, codec._compression)
        self._postfile.write(data)
        self._offset += len(data)
        prefix = pack_ushort(self._fieldid)
        raw = infos.tobytes()
        size = infos.dtype.itemsize
        self._terms.extend(
            (prefix + btext, raw[at : at + size]) for btext, at in zip(btexts, range(0, len(raw), size), strict=True)
        )

    def _block(
        self, ids: list[int], freqs: list[int], values: list[bytes] | None, lengths: list[int], fixed: int | None
    ) -> tuple[bytes, int | None, int]:
        """One block's info + data bytes (``W3PostingsWriter._write_block``), and its
        shortest and longest non-zero document length."""
        n = len(ids)
        deltas = (ids[0], *map(sub, ids[1:], ids[:-1]))
        first = freqs[0]
        weights: Any = (None if first == 1 else float(first)) if freqs.count(first) == n else tuple(map(float, freqs))
        if fixed is None:
            vs: Any = tuple(values) if values is not None else ()
        else:
            vs = b"".join(map(pack_uint, freqs)) if fixed else None
        data = dumps((deltas, weights, vs), 2)
        comp = 0
        if len(data) >= COMPRESS_MIN_BYTES:
            comp = self._codec._compression
            data = compress(data, comp)
        lens = [length for length in map(lengths.__getitem__, ids) if length]
        minlength = min(lens) if lens else None
        maxlength = max(lens, default=0)
        info = dumps((n, ids[-1], float(max(freqs)), comp, length_to_byte(minlength), length_to_byte(maxlength)), 2)
        return info + data, minlength, maxlength

    def finish_field(self) -> None:
        """Add the field's terms to the term table at once (``OrderedHashWriter.add``
        per term, batched: the same records, positions and hash entries)."""
        table = self._tindex
        dbfile = table.dbfile
        pos = dbfile.tell()
        hashfn, buckets = table.hashfn, table.buckets
        positions = []
        records = []
        lastkey = table.lastkey
        for key, value in self._terms:
            if key <= lastkey:
                raise ValueError(f"keys must increase: {lastkey!r}..{key!r}")
            lastkey = key
            positions.append(pos)
            h = hashfn(key)
            buckets[h & 255].append((h, pos))
            records += (_KV_LENGTHS.pack(len(key), len(value)), key, value)
            pos += 8 + len(key) + len(value)
        dbfile.write(b"".join(records))
        table.index.extend(positions)
        table.lastkey = lastkey
        self._terms = []
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
        self._fields: dict[str, _FieldPostings] = {}
        self._stored: list[dict[str, Any]] = []
        self._columns: list[dict[str, Any]] = []  # column-only fields (metadata numbers, dup)

    def _field(self, fieldname: str) -> Any:
        fp = self._fields.get(fieldname)
        if fp is None:
            fp = self._fields[fieldname] = (_GramPostings if fieldname == "grams" else _FieldPostings)(self.docs)
        return fp

    def _add_positional(self, fieldname: str, docnum: int, occurrences: dict[str, Occurrences]) -> int:
        fp = self._field(fieldname)
        terms = len(fp.ids)
        encode = self.schema[fieldname].format.encode
        values = [_encode_occurrences(encode, occ) for occ in occurrences.values()]
        freqs = list(map(len, occurrences.values()))
        fp.add(docnum, occurrences.keys(), freqs, values)
        self.nbytes += len(values) * _POSITIONAL_POSTING_BYTES + (len(fp.ids) - terms) * _TERM_BYTES
        return sum(freqs)

    def _add_presence(self, fieldname: str, docnum: int, counts: dict[str, int]) -> int:
        fp = self._field(fieldname)
        terms = len(fp.ids)
        n = fp.add(docnum, counts.keys(), repeat(1, len(counts)))
        self.nbytes += n * _COUNT_POSTING_BYTES + (len(fp.ids) - terms) * _TERM_BYTES
        return sum(counts.values())

    def _add_grams(self, docnum: int, codes: np.ndarray) -> int:
        n = self._field("grams").add(docnum, codes)
        self.nbytes += n * _GRAM_POSTING_BYTES + _GRAM_SECTION_BYTES
        return len(codes)

    def _add_whoosh(self, fieldname: str, docnum: int, value: Any) -> int:
        """Small fields (ids, the ordinal) go through the field's own ``index``."""
        field = self.schema[fieldname]
        items = list(field.index(value))
        fp = self._field(fieldname)
        fp.add(docnum, [i[0] for i in items], [i[1] for i in items], [i[3] for i in items])
        self.nbytes += len(items) * (_POSITIONAL_POSTING_BYTES + _TERM_BYTES)
        return sum(i[1] for i in items) if field.scorable else 0

    def add(self, fields: dict[str, Any], terms: SectionTerms) -> None:
        """Add one section: ``fields`` as for ``IndexWriter.add_document``, with the
        analysed fields' terms already computed in ``terms``."""
        docnum = self.docs
        stored: dict[str, Any] = {}
        columns: dict[str, Any] = {}
        for fieldname in sorted(fields):  # the order Whoosh's add_document uses
            value = fields[fieldname]
            if value is None:
                continue
            field = self.schema[fieldname]
            if field.indexed:
                if fieldname in ("title", "heading", "content"):
                    length = self._add_positional(fieldname, docnum, getattr(terms, fieldname))
                elif fieldname == "grams":
                    length = self._add_grams(docnum, terms.grams)
                elif fieldname == "reading":
                    length = self._add_presence(fieldname, docnum, terms.reading)
                else:
                    length = self._add_whoosh(fieldname, docnum, value)
                if field.scorable:
                    self._fields[fieldname].lengths.append(length)
            if field.stored:
                stored[fieldname] = value
            elif field.column_type:
                columns[fieldname] = value
        for fp in self._fields.values():  # fields this section lacks have length 0
            if len(fp.lengths) == docnum:
                fp.lengths.append(0)
        self._stored.append(stored)
        self._columns.append(columns)
        self.nbytes += sum(len(v) if isinstance(v, str) else 16 for v in stored.values()) + 64
        self.docs += 1

    def write(self, storage: Storage, indexname: str, codec: W3Codec | None = None) -> Any:
        """Write the segment's files into ``storage``; returns the segment for the TOC."""
        codec = codec or W3Codec()
        segment = codec.new_segment(storage, indexname)
        self._write_per_doc(codec, storage, segment)
        self._write_terms(codec, storage, segment)
        segment.set_doc_count(self.docs)
        segment.create_compound_file(storage)
        return segment

    def _write_per_doc(self, codec: W3Codec, storage: Storage, segment: Any) -> None:
        """Stored fields, length bytes and columns, document by document, as Whoosh does."""
        writer = codec.per_document_writer(storage, segment)
        schema = self.schema
        scorable = {name: fp.lengths for name, fp in self._fields.items() if schema[name].scorable}
        for docnum, stored in enumerate(self._stored):
            writer.start_doc(docnum)
            for fieldname in sorted(stored.keys() | scorable.keys()):
                field = schema[fieldname]
                length = scorable[fieldname][docnum] if fieldname in scorable else 0
                value = stored.get(fieldname)
                writer.add_field(fieldname, field, value, length)
                column = field.column_type
                if column and value is not None:
                    writer.add_column_value(fieldname, column, field.to_column_value(value))
            for fieldname, value in sorted(self._columns[docnum].items()):
                field = schema[fieldname]
                writer.add_column_value(fieldname, field.column_type, field.to_column_value(value))
            writer.finish_doc()
        writer.close()

    def _write_terms(self, codec: W3Codec, storage: Storage, segment: Any) -> None:
        """Every field's terms in byte order, each with its postings in document order."""
        writer = _BulkFieldWriter(codec, storage, segment)
        schema = self.schema
        for fieldname in sorted(self._fields):
            field = schema[fieldname]
            fp = self._fields[fieldname]
            if isinstance(fp, _GramPostings):
                codes, ends, docs = fp.sorted_postings()
                if not len(codes):
                    continue
                # Code order is the terms' UTF-8 byte order (``search.normalize``).
                btexts = [gram.encode("utf-8") for gram in gram_texts(codes)]
                writer.start_field(fieldname, field)
                writer.add_presence(btexts, ends, docs, _length_bytes(fp.lengths))
                writer.finish_field()
                continue
            if not fp.ids:
                continue
            keyed = sorted(
                (term.encode("utf-8") if isinstance(term, str) else term, tid) for term, tid in fp.ids.items()
            )
            rank = np.empty(max(tid for _, tid in keyed) + 1, dtype=np.int64)
            rank[[tid for _, tid in keyed]] = np.arange(len(keyed))
            ranks = rank[np.frombuffer(fp.tids, dtype=np.int64)]
            order = np.argsort(ranks, kind="stable")  # stable: documents stay in order within a term
            docs = np.frombuffer(fp.docs, dtype=np.uint32)[order]
            ends = np.cumsum(np.bincount(ranks, minlength=len(keyed)))
            btexts = [btext for btext, _ in keyed]
            writer.start_field(fieldname, field)
            if fieldname in PRESENCE_FIELDS:
                writer.add_presence(btexts, ends, docs, _length_bytes(fp.lengths))
                writer.finish_field()
                continue
            # The length a posting carries is the one its document's length byte decodes to.
            lengths = [byte_to_length(length_to_byte(n)) for n in fp.lengths] if field.scorable else [0] * self.docs
            freqs = np.frombuffer(fp.freqs, dtype=np.uint32)[order]
            values = [fp.values[i] for i in order.tolist()] if fp.values else None
            ends_list = ends.tolist()
            del ranks, order
            # Python lists of a whole field's postings would be the largest allocation of
            # the build (~80 bytes a posting): convert a slice of terms at a time.
            first = start = 0
            while first < len(btexts):
                last = bisect_right(ends_list, start + WRITE_CHUNK_POSTINGS, first + 1)
                stop = ends_list[last - 1]
                writer.add_terms(
                    btexts[first:last],
                    [e - start for e in ends_list[first:last]],
                    docs[start:stop].tolist(),
                    freqs[start:stop].tolist(),
                    values[start:stop] if values is not None else None,
                    lengths,
                )
                first, start = last, stop
            writer.finish_field()
        writer.close()

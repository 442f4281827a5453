"""Whoosh W3 posting lists of a whole presence field, encoded with numpy.

The ``grams`` and ``reading`` fields hold about four in five of an index's
postings, and their posting lists carry nothing but document numbers
(``search.schema.Presence``: every weight is 1, no per-posting value). Whoosh
writes each block of a list as two pickles, ``(ids, weights, values)`` and the
block info ``(count, last id, max weight, compression, min length byte, max length
byte)``; one Python call per block and per term made writing them the largest
cost of an index build after Sudachi itself. Here the same bytes are laid out for
every block of a field at once:

* a pickle of small tuples of non-negative ints is a fixed pattern (protocol 2:
  ``K``/``M``/``J`` and one, two or four little-endian bytes per int, ``TUPLE1``..
  ``TUPLE3`` or ``MARK``..``TUPLE``, then ``BINPUT``), so each block's pickle is
  computed from the lengths of its ints with array arithmetic; a test compares
  the bytes with ``pickle.dumps`` for every size class;
* only zlib runs once per block, for blocks whose pickle reaches
  ``COMPRESS_MIN_BYTES`` (as ``search.segments`` decides for the other fields);
* the term infos (``W3TermInfo``: flags, total weight, document frequency, length
  bytes, max weight, first and last id, then offset and length of the posting
  list) are one structured array.

``whoosh.index.open_dir`` reads the result as any W3 segment; ``tests/test_segments.py``
checks it against Whoosh's own writer (terms, postings, statistics, scores).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

#: Pickled block data below this many bytes is stored without zlib (see ``search.segments``).
COMPRESS_MIN_BYTES = 96

_PROTO = (0x80, 0x02)
_MARK, _TUPLE, _BINPUT, _NONE, _TUPLE3, _STOP, _BINFLOAT = 0x28, 0x74, 0x71, 0x4E, 0x87, 0x2E, 0x47
_TUPLE_N = np.array([0, 0x85, 0x86, 0x87], dtype=np.uint8)  # TUPLE1..TUPLE3
_ONE = struct.pack(">d", 1.0)  # every weight and every max weight of a presence field
#: After a block's id tuple: BINPUT 0, the weights and values (None, None), TUPLE3, BINPUT 1, STOP.
_DATA_TAIL = np.frombuffer(bytes([_BINPUT, 0, _NONE, _NONE, _TUPLE3, _BINPUT, 1, _STOP]), dtype=np.uint8)
#: Block info after (count, last id): the max weight 1.0 as BINFLOAT.
_INFO_WEIGHT = np.frombuffer(bytes([_BINFLOAT]) + _ONE, dtype=np.uint8)
_INFO_TAIL = np.frombuffer(bytes([_TUPLE, _BINPUT, 0, _STOP]), dtype=np.uint8)
_MAGIC = np.frombuffer(WHOOSH3_HEADER_MAGIC, dtype=np.uint8)

#: ``W3TermInfo``'s record (``!BfIBBfII``) followed by the posting list's offset and length (``!qi``).
TERMINFO = np.dtype(
    [
        ("flags", "u1"),
        ("weight", ">f4"),
        ("df", ">u4"),
        ("minlength", "u1"),
        ("maxlength", "u1"),
        ("maxweight", ">f4"),
        ("minid", ">u4"),
        ("maxid", ">u4"),
        ("offset", ">i8"),
        ("length", ">i4"),
    ]
)


def _int_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes each non-negative int (< 2**31) takes in a protocol-2 pickle."""
    return np.where(values < 256, 2, np.where(values < 65536, 3, 5)).astype(np.int64)


def _put_ints(out: np.ndarray, at: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> None:
    """Write each int's opcode (BININT1, BININT2 or BININT) and little-endian bytes at ``at``."""
    values = values.astype(np.int64)
    out[at] = np.where(sizes == 2, 0x4B, np.where(sizes == 3, 0x4D, 0x4A))
    out[at + 1] = values & 0xFF
    wide = sizes >= 3
    out[at[wide] + 2] = (values[wide] >> 8) & 0xFF
    wide = sizes == 5
    for k in (3, 4):
        out[at[wide] + k] = (values[wide] >> (8 * (k - 1))) & 0xFF


def _put(out: np.ndarray, at: np.ndarray, pattern: np.ndarray) -> None:
    """Write the same bytes at every position of ``at``."""
    for k, byte in enumerate(pattern.tolist()):
        out[at + k] = byte


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``starts[i] : starts[i] + lengths[i]`` as one index array."""
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + local


def encode_presence(
    docs: np.ndarray,
    ends: np.ndarray,
    length_bytes: np.ndarray,
    offset: int,
    block_limit: int,
    level: int,
) -> tuple[bytes, np.ndarray]:
    """The posting file bytes and the term infos of one presence field.

    ``docs``: every posting's document number, term by term, ascending within a term;
    ``ends``: where each term's postings end in ``docs``; ``length_bytes``: each
    document's length byte in this field (every posted document has length ≥ 1);
    ``offset``: where the bytes will start in the posting file; ``level``: the codec's
    zlib level (0: none). Returns (bytes, TERMINFO array).
    """
    if not len(ends):
        return b"", np.zeros(0, dtype=TERMINFO)
    docs = docs.astype(np.int64)
    ends = ends.astype(np.int64)
    starts = np.r_[0, ends[:-1]].astype(np.int64)
    df = ends - starts
    terms = len(ends)

    # Blocks: each term's postings in runs of block_limit.
    nblocks = -(-df // block_limit)
    first_block = np.cumsum(nblocks) - nblocks
    term_of_block = np.repeat(np.arange(terms), nblocks)
    b_start = starts[term_of_block] + block_limit * (np.arange(len(term_of_block)) - first_block[term_of_block])
    b_end = np.minimum(b_start + block_limit, ends[term_of_block])
    b_count = b_end - b_start
    blocks = len(b_start)

    # The data pickle: ((first id, deltas…), None, None).
    deltas = docs.copy()
    deltas[1:] -= docs[:-1]
    deltas[b_start] = docs[b_start]
    sizes = _int_sizes(deltas)
    items = np.add.reduceat(sizes, b_start) if blocks else np.zeros(0, np.int64)
    marked = b_count > 3
    d_len = 2 + marked + items + 1 + len(_DATA_TAIL)
    d_at = np.cumsum(d_len) - d_len
    data = np.zeros(int(d_len.sum()), dtype=np.uint8)
    _put(data, d_at, np.array(_PROTO, dtype=np.uint8))
    data[d_at[marked] + 2] = _MARK
    item_start = d_at + 2 + marked
    within = np.cumsum(sizes) - sizes
    block_of_posting = np.repeat(np.arange(blocks), b_count)
    _put_ints(data, item_start[block_of_posting] + within - within[b_start][block_of_posting], deltas, sizes)
    close = item_start + items
    data[close] = np.where(marked, _TUPLE, _TUPLE_N[np.minimum(b_count, 3)])
    _put(data, close + 1, _DATA_TAIL)

    # zlib, block by block, where it is worth it.
    comp = np.zeros(blocks, dtype=np.int64)
    packed: dict[int, bytes] = {}
    if level:
        raw = data.tobytes()
        for b in np.flatnonzero(d_len >= COMPRESS_MIN_BYTES).tolist():
            at = int(d_at[b])
            packed[b] = compress(raw[at : at + int(d_len[b])], level)
        comp[list(packed)] = level
    f_len = d_len.copy()
    for b, blob in packed.items():
        f_len[b] = len(blob)

    # The block info pickle: (count, last id, 1.0, compression, min length byte, max length byte).
    last = docs[b_end - 1]
    last_sizes = _int_sizes(last)
    lb = length_bytes[docs]
    minlb = np.minimum.reduceat(lb, b_start) if blocks else lb[:0]
    maxlb = np.maximum.reduceat(lb, b_start) if blocks else lb[:0]
    i_len = 3 + 2 + last_sizes + len(_INFO_WEIGHT) + 2 + 2 + 2 + len(_INFO_TAIL)

    # Layout: per term the magic, then per block a signed length, the info and the data.
    r_len = 4 + i_len + f_len
    t_len = 4 + np.add.reduceat(r_len, first_block) if blocks else np.zeros(0, np.int64)
    t_at = np.cumsum(t_len) - t_len
    r_before = np.cumsum(r_len) - r_len  # blocks before this one, in bytes
    r_at = t_at[term_of_block] + 4 + r_before - r_before[first_block][term_of_block]
    out = np.zeros(int(t_len.sum()), dtype=np.uint8)
    _put(out, t_at, _MAGIC)
    is_last = b_end == ends[term_of_block]
    signed = np.where(is_last, -(i_len + f_len), i_len + f_len).astype(">i4")
    out[_ranges(r_at, np.full(blocks, 4))] = signed.view(np.uint8)
    i_at = r_at + 4
    _put(out, i_at, np.array([*_PROTO, _MARK], dtype=np.uint8))
    _put_ints(out, i_at + 3, b_count, np.full(blocks, 2))
    _put_ints(out, i_at + 5, last, last_sizes)
    at = i_at + 5 + last_sizes
    _put(out, at, _INFO_WEIGHT)
    at = at + len(_INFO_WEIGHT)
    _put_ints(out, at, comp, np.full(blocks, 2))
    _put_ints(out, at + 2, minlb.astype(np.int64), np.full(blocks, 2))
    _put_ints(out, at + 4, maxlb.astype(np.int64), np.full(blocks, 2))
    _put(out, at + 6, _INFO_TAIL)
    data_at = i_at + i_len
    plain = comp == 0
    out[_ranges(data_at[plain], d_len[plain])] = data[_ranges(d_at[plain], d_len[plain])]
    for b, blob in packed.items():
        at_b = int(data_at[b])
        out[at_b : at_b + len(blob)] = np.frombuffer(blob, dtype=np.uint8)

    info = np.zeros(terms, dtype=TERMINFO)
    info["weight"] = df
    info["df"] = df
    info["minlength"] = np.minimum.reduceat(lb, starts) if terms else 0
    info["maxlength"] = np.maximum.reduceat(lb, starts) if terms else 0
    info["maxweight"] = 1.0
    info["minid"] = docs[starts]
    info["maxid"] = docs[ends - 1]
    info["offset"] = offset + t_at
    info["length"] = t_len
    return out.tobytes(), info


def compress(data: bytes, level: int) -> bytes:
    """zlib at ``level`` with a window no larger than the data: the same stream format
    (``zlib.decompress`` reads it), several times faster for small blocks, whose cost
    was setting up zlib's default 32 KB window and 256 KB hash."""
    wbits = min(15, max(9, (len(data) - 1).bit_length()))
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, min(8, max(1, wbits - 7)))
    return c.compress(data) + c.flush()


__all__ = ["COMPRESS_MIN_BYTES", "TERMINFO", "compress", "encode_presence"]

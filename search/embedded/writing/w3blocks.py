"""Whoosh W3 posting lists, encoded a field at a time with numpy, and read back a list at a time.

Whoosh writes each block of a posting list as two pickles, ``(ids, weights,
values)`` and the block info ``(count, last id, max weight, compression, min
length byte, max length byte)``, and a ``W3TermInfo`` per term; one Python call
per block and per term made writing them the largest cost of an index build
after Sudachi itself. ``encode_postings`` lays out the same structures for every
block of a field at once:

* a pickle of small tuples of ints is a fixed pattern (protocol 2: ``K``/``M``/``J``
  and one, two or four little-endian bytes per int, ``TUPLE1``..``TUPLE3`` or
  ``MARK``..``TUPLE``, then ``BINPUT``), so each block's pickle is computed from the
  lengths of its ints with array arithmetic. For a presence field (``grams``,
  ``reading``: weights all 1, no values) the bytes are exactly what
  ``pickle.dumps`` gives (a test compares them for every size class);
* weights are Whoosh's minified forms (None, one float, or a tuple of floats; a tuple
  of ints when every weight is a whole number, as term frequencies are: two bytes a
  posting instead of nine, and Whoosh's reader and ``sakuin.search.embedded.reading.bagofwords`` use them as
  the numbers they are), and
  values either one ``bytes`` of fixed-size values (``Frequency``) or a tuple of
  ``bytes`` (``Characters``: ``characters_values`` builds each posting's count and
  pickled (position, start, length) deltas from flat occurrence arrays), written
  with protocol-3 ``bytes`` opcodes and no memo: any unpickler reads them as the
  same tuples, which is all Whoosh's reader does with them;
* only the compression runs once per block, for blocks whose pickle reaches
  ``COMPRESS_MIN_BYTES``: a zlib stream, as Whoosh's reader expects, made by ISA-L
  (``compress``), which is several times faster than zlib;
* the term infos (flags, total weight, document frequency, length bytes, max
  weight, first and last id, then offset and length of the posting list) are one
  structured array.

``block_table`` is the reverse for one term of one segment at query time: the list
read at once from the (mapped) postings file, its block headers read with numpy,
instead of Whoosh's matcher; ``raw_blocks`` inflates its blocks, ``read_blocks``
unpickles them, and ``decode_ids_and_weights`` reads only their ids and weights
(what scoring needs) out of the pickles' bytes with numpy, from the same fixed pattern.

``whoosh.index.open_dir`` reads the result as any W3 segment; ``tests/equivalence/test_segments.py``
checks it against Whoosh's own writer (terms, postings, statistics, scores).
"""

from __future__ import annotations

import bisect
import contextlib
import io
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any

import numpy as np
from isal import isal_zlib
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.reading import TermNotFound

#: Pickled block data below this many bytes is stored without zlib (see ``sakuin.search.embedded.writing.segments``).
COMPRESS_MIN_BYTES = 512

_MARK, _TUPLE, _BINPUT, _NONE, _TUPLE3, _STOP, _BINFLOAT = 0x28, 0x74, 0x71, 0x4E, 0x87, 0x2E, 0x47
_EMPTY_LIST, _APPENDS, _SHORT_BINBYTES, _BINBYTES = 0x5D, 0x65, 0x43, 0x42
_TUPLE_N = np.array([0, 0x85, 0x86, 0x87], dtype=np.uint8)  # TUPLE1..TUPLE3
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


@dataclass(frozen=True)
class Values:
    """Each posting's encoded value: ``sizes[i]`` bytes for posting i, which
    ``write(out, at)`` writes at ``out[at[i] : at[i] + sizes[i]]`` for every posting."""

    sizes: np.ndarray
    write: Callable[[np.ndarray, np.ndarray], None]


def _int_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes each int (-2**31 ≤ v < 2**31) takes in a pickle: BININT1 (0 ≤ v < 256), BININT2
    (v < 65536) or BININT (the rest: as unsigned, a negative int is above 65535)."""
    unsigned = values.astype(np.int64, copy=False).view(np.uint64)
    sizes = (unsigned > 255).astype(np.int64)
    wide = unsigned > 65535
    sizes += wide
    sizes += wide
    sizes += 2
    return sizes


#: Each int's opcode by its size (``_int_sizes``): BININT1, BININT2, BININT.
_INT_OPCODES = np.array([0, 0, 0x4B, 0x4D, 0, 0x4A], dtype=np.uint8)


def _put_ints(out: np.ndarray, at: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> None:
    """Write each int's opcode and little-endian bytes at ``at`` (sizes from ``_int_sizes``)."""
    data = values.astype("<u4").view(np.uint8).reshape(-1, 4)  # BININT is two's complement
    out[at] = _INT_OPCODES[sizes]
    out[at + 1] = data[:, 0]
    wide = sizes >= 3
    out[at[wide] + 2] = data[wide, 1]
    wide = sizes == 5
    wide_at = at[wide]
    out[wide_at + 3] = data[wide, 2]
    out[wide_at + 4] = data[wide, 3]


def _put(out: np.ndarray, at: np.ndarray, *pattern: int) -> None:
    """Write the same bytes at every position of ``at``."""
    for k, byte in enumerate(pattern):
        out[at + k] = byte


def _put_bytes(out: np.ndarray, at: np.ndarray, rows: np.ndarray) -> None:
    """Write row i of the byte matrix ``rows`` at ``at[i]`` (a column at a time: the
    temporary index is one int per row, not one per byte)."""
    for k in range(rows.shape[1]):
        out[at + k] = rows[:, k]


def _put_binbytes_headers(out: np.ndarray, at: np.ndarray, sizes: np.ndarray) -> None:
    """The opcode and length of a ``bytes`` of each size: SHORT_BINBYTES or BINBYTES."""
    short = sizes < 256
    out[at[short]] = _SHORT_BINBYTES
    out[at[short] + 1] = sizes[short]
    long = ~short
    out[at[long]] = _BINBYTES
    _put_bytes(out, at[long] + 1, sizes[long].astype("<u4").view(np.uint8).reshape(-1, 4))


def runs(flags: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A byte mask made of runs: ``lengths[i]`` times ``flags[i]``, one after the other.
    Copies select their bytes with such masks: one byte per byte, where an index array
    takes eight (on livedoor this took writing the ``grams`` field from 0.27 to 0.19 s)."""
    return np.repeat(flags.astype(bool, copy=False), lengths)


def weave(sizes: np.ndarray, streams: list[np.ndarray]) -> np.ndarray:
    """Records made of parts taken in turn from ``streams``: record i is the next
    ``sizes[i, 0]`` bytes of ``streams[0]``, then the next ``sizes[i, 1]`` of
    ``streams[1]``, and so on (each stream holds exactly what its column asks for)."""
    parts = sizes.shape[1]
    which = np.repeat(np.tile(np.arange(parts, dtype=np.uint8), len(sizes)), sizes.ravel())
    out = np.empty(len(which), dtype=np.uint8)
    for k, stream in enumerate(streams):
        out[which == k] = stream
    return out


def _within(sizes: np.ndarray, group_start: np.ndarray, group_of: np.ndarray) -> np.ndarray:
    """Each item's offset inside its group, given item sizes and the groups' first items."""
    before = np.cumsum(sizes) - sizes
    return before - before[group_start][group_of]


def _tuple_of(
    out: np.ndarray, at: np.ndarray, count: np.ndarray, item_at_block: Callable[[np.ndarray], None], items: np.ndarray
) -> np.ndarray:
    """Frame tuples of ``count`` items starting at ``at``: MARK … TUPLE for more than
    three, TUPLE1..TUPLE3 otherwise; ``items`` is the items' total size per tuple.
    ``item_at_block(first)`` writes the items from ``first``. Returns where each tuple ends."""
    marked = count > 3
    out[at[marked]] = _MARK
    first = at + marked
    item_at_block(first)
    close = first + items
    out[close] = np.where(marked, _TUPLE, _TUPLE_N[np.minimum(count, 3)])
    return close + 1


def _f8(values: np.ndarray) -> np.ndarray:
    """BINFLOAT's eight big-endian bytes of each value, one row each."""
    return np.ascontiguousarray(values, dtype=">f8").view(np.uint8).reshape(-1, 8)


def encode_postings(
    docs: np.ndarray,
    ends: np.ndarray,
    length_bytes: np.ndarray,
    offset: int,
    block_limit: int,
    level: int,
    weights: np.ndarray | None = None,
    values: Values | None = None,
    fixed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The posting file bytes and the term infos of one field.

    ``docs``: every posting's document number, term by term, ascending within a term;
    ``ends``: where each term's postings end in ``docs``; ``length_bytes``: each
    document's length byte in this field (every posted document has length ≥ 1);
    ``offset``: where the bytes will start in the posting file; ``level``: the codec's
    zlib level (0: none); ``weights``: each posting's weight (None: all 1, a presence
    field); ``values``: each posting's encoded value (None: the format has none), or
    ``fixed``: a matrix with each posting's value of a fixed size as a row (Whoosh
    then stores a block's values as one ``bytes``). Returns (the bytes as a uint8 array,
    TERMINFO array).

    A block's data pickle is ``(ids, weights, values)`` with Whoosh's minified forms
    (weights None when all are 1, one float when all are equal, else a tuple; values
    None or a tuple of bytes). For a presence field it is byte for byte what
    ``pickle.dumps(…, 2)`` gives; values are written as protocol-3 ``bytes`` (no memo,
    no latin-1 detour), which any unpickler reads as the same tuple.
    """
    if not len(ends):
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=TERMINFO)
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
    block_of = np.repeat(np.arange(blocks), b_count)
    marked = b_count > 3

    # Sizes of the data pickle's parts.
    deltas = docs.copy()
    deltas[1:] -= docs[:-1]
    deltas[b_start] = docs[b_start]
    id_sizes = _int_sizes(deltas)
    id_items = np.add.reduceat(id_sizes, b_start)
    ids_len = marked + id_items + 1
    w_sizes = None  # each weight's size in a tuple of ints (None: a tuple of floats)
    if weights is None:
        w_kind = np.zeros(blocks, dtype=np.int64)  # 0: None, 1: one float, 2: a tuple
        b_maxweight = np.ones(blocks)
        w_items = np.zeros(blocks, np.int64)
    else:
        weights = weights.astype(np.float64)
        b_minweight = np.minimum.reduceat(weights, b_start)
        b_maxweight = np.maximum.reduceat(weights, b_start)
        w_kind = np.where(b_minweight != b_maxweight, 2, np.where(b_maxweight == 1.0, 0, 1))
        if len(weights) and np.array_equal(weights, np.floor(weights)) and weights.min() >= 0 and weights.max() < 2**31:
            w_sizes = _int_sizes(weights.astype(np.int64))
            w_items = np.add.reduceat(w_sizes, b_start)
        else:
            w_items = 9 * b_count
    w_len = np.choose(w_kind, [np.ones(blocks, np.int64), np.full(blocks, 9), marked + w_items + 1])
    if fixed is not None:
        v_bytes = b_count * fixed.shape[1]
        v_len = np.where(v_bytes < 256, 2, 5) + v_bytes
    elif values is None:
        v_len = np.ones(blocks, np.int64)
    else:
        item_sizes = values.sizes + np.where(values.sizes < 256, 2, 5)
        v_items = np.add.reduceat(item_sizes, b_start)
        v_len = marked + v_items + 1
    d_len = 2 + ids_len + 2 + w_len + v_len + 4
    d_at = np.cumsum(d_len) - d_len
    data = np.zeros(int(d_len.sum()), dtype=np.uint8)

    # The data pickle: PROTO, ids, BINPUT 0, weights, values, TUPLE3, BINPUT 1, STOP.
    _put(data, d_at, 0x80, 2 if values is None and fixed is None else 3)

    def put_ids(first: np.ndarray) -> None:
        _put_ints(data, first[block_of] + _within(id_sizes, b_start, block_of), deltas, id_sizes)

    at = _tuple_of(data, d_at + 2, b_count, put_ids, id_items)
    _put(data, at, _BINPUT, 0)
    w_at = at + 2
    data[w_at[w_kind == 0]] = _NONE
    if weights is not None:
        one = np.flatnonzero(w_kind == 1)
        data[w_at[one]] = _BINFLOAT
        _put_bytes(data, w_at[one] + 1, _f8(b_maxweight[one]))
        many = np.flatnonzero(w_kind == 2)
        if len(many):
            in_many = np.isin(block_of, many)
            rank = np.cumsum(np.r_[0, (w_kind == 2)[:-1]])  # tuple index of each block among ``many``
            positions = np.flatnonzero(in_many)

            def put_weights(first: np.ndarray) -> None:
                start = first[rank[block_of[positions]]]
                if w_sizes is None:
                    where = start + 9 * (positions - b_start[block_of[positions]])
                    data[where] = _BINFLOAT
                    _put_bytes(data, where + 1, _f8(weights[positions]))
                else:  # whole numbers (term frequencies) as ints: 2 bytes each instead of 9
                    where = start + _within(w_sizes, b_start, block_of)[positions]
                    _put_ints(data, where, weights[positions].astype(np.int64), w_sizes[positions])

            _tuple_of(data, w_at[many], b_count[many], put_weights, w_items[many])
    v_at = w_at + w_len
    if fixed is not None:
        _put_binbytes_headers(data, v_at, v_bytes)
        _put_bytes(
            data,
            v_at[block_of]
            + np.where(v_bytes < 256, 2, 5)[block_of]
            + fixed.shape[1] * (np.arange(len(docs)) - b_start[block_of]),
            fixed,
        )
    elif values is None:
        data[v_at] = _NONE
    else:

        def put_values(first: np.ndarray) -> None:
            item_at = first[block_of] + _within(item_sizes, b_start, block_of)
            _put_binbytes_headers(data, item_at, values.sizes)
            values.write(data, item_at + np.where(values.sizes < 256, 2, 5))

        _tuple_of(data, v_at, b_count, put_values, v_items)
    _put(data, v_at + v_len, _TUPLE3, _BINPUT, 1, _STOP)

    # zlib, block by block, where it is worth it.
    comp = np.zeros(blocks, dtype=np.int64)
    packed: dict[int, bytes] = {}
    if level:
        raw = memoryview(data)
        for b in np.flatnonzero(d_len >= COMPRESS_MIN_BYTES).tolist():
            at_b = int(d_at[b])
            packed[b] = compress(raw[at_b : at_b + int(d_len[b])], level)
        comp[list(packed)] = level
    f_len = d_len.copy()
    for b, blob in packed.items():
        f_len[b] = len(blob)

    # The block info pickle: (count, last id, max weight, compression, min length byte, max length byte).
    last = docs[b_end - 1]
    count_sizes, last_sizes, comp_sizes = _int_sizes(b_count), _int_sizes(last), _int_sizes(comp)
    lb = length_bytes[docs]
    minlb = np.minimum.reduceat(lb, b_start).astype(np.int64)
    maxlb = np.maximum.reduceat(lb, b_start).astype(np.int64)
    i_len = 3 + count_sizes + last_sizes + 9 + comp_sizes + 2 + 2 + 4

    # Layout: per term the magic, then per block a signed length, the info and the data.
    r_len = 4 + i_len + f_len
    t_len = 4 + np.add.reduceat(r_len, first_block)
    t_at = np.cumsum(t_len) - t_len
    r_at = t_at[term_of_block] + 4 + _within(r_len, first_block, term_of_block)
    out = np.zeros(int(t_len.sum()), dtype=np.uint8)
    _put(out, t_at, *_MAGIC.tolist())
    is_last = b_end == ends[term_of_block]
    signed = np.where(is_last, -(i_len + f_len), i_len + f_len).astype(">i4")
    _put_bytes(out, r_at, signed.view(np.uint8).reshape(-1, 4))
    i_at = r_at + 4
    _put(out, i_at, 0x80, 2, _MARK)
    at = i_at + 3
    for ints, sizes in ((b_count, count_sizes), (last, last_sizes)):
        _put_ints(out, at, ints, sizes)
        at = at + sizes
    out[at] = _BINFLOAT
    _put_bytes(out, at + 1, _f8(b_maxweight))
    at = at + 9
    for ints, sizes in ((comp, comp_sizes), (minlb, 2), (maxlb, 2)):
        _put_ints(out, at, ints, np.broadcast_to(sizes, (blocks,)))
        at = at + sizes
    _put(out, at, _TUPLE, _BINPUT, 0, _STOP)
    data_at = i_at + i_len
    # The plain blocks' data, in order: whatever precedes a block's data (the magic, its
    # length and info) is not copied into, nor is a compressed block's place.
    plain = comp == 0
    before = data_at - np.r_[0, (data_at + f_len)[:-1]]
    into = runs(np.c_[np.zeros(blocks, dtype=bool), plain].ravel(), np.c_[before, f_len].ravel())
    out[into] = data[runs(plain, d_len)]
    for b, blob in packed.items():
        at_b = int(data_at[b])
        out[at_b : at_b + len(blob)] = np.frombuffer(blob, dtype=np.uint8)

    info = np.zeros(terms, dtype=TERMINFO)
    term_weights = np.ones(len(docs)) if weights is None else weights
    info["weight"] = np.add.reduceat(term_weights, starts)
    info["df"] = df
    info["minlength"] = np.minimum.reduceat(lb, starts)
    info["maxlength"] = np.maximum.reduceat(lb, starts)
    info["maxweight"] = np.maximum.reduceat(term_weights, starts)
    info["minid"] = docs[starts]
    info["maxid"] = docs[ends - 1]
    info["offset"] = offset + t_at
    info["length"] = t_len
    return out, info


def characters_values(p_start: np.ndarray, pos: np.ndarray, start: np.ndarray, end: np.ndarray) -> Values:
    """Whoosh ``Characters`` values (``formats.Characters.encode``): per posting, its
    frequency as a big-endian uint, then a pickle of the list of (position delta, start
    delta from the previous end, length) of its occurrences, here written without memo.

    ``pos``/``start``/``end``: every occurrence, posting by posting, in text order;
    ``p_start``: each posting's first occurrence.
    """
    n = len(pos)
    p_of = np.repeat(np.arange(len(p_start)), np.diff(np.r_[p_start, n]))
    first = np.zeros(n, dtype=bool)
    first[p_start] = True
    dpos = pos.astype(np.int64)
    dpos[1:] -= pos[:-1]
    dstart = start.astype(np.int64)
    dstart[1:] -= end[:-1]
    dpos[first], dstart[first] = pos[first], start[first]
    length = (end - start).astype(np.int64)
    parts = [(dpos, _int_sizes(dpos)), (dstart, _int_sizes(dstart)), (length, _int_sizes(length))]
    occ_size = parts[0][1] + parts[1][1] + parts[2][1] + 1
    freq = np.diff(np.r_[p_start, n])
    sizes = 4 + 4 + np.add.reduceat(occ_size, p_start) + 2

    def write(out: np.ndarray, at: np.ndarray) -> None:
        _put_bytes(out, at, freq.astype(">u4").view(np.uint8).reshape(-1, 4))
        _put(out, at + 4, 0x80, 2, _EMPTY_LIST, _MARK)
        occ_at = at[p_of] + 8 + _within(occ_size, p_start, p_of)
        for ints, isizes in parts:
            _put_ints(out, occ_at, ints, isizes)
            occ_at = occ_at + isizes
        out[occ_at] = _TUPLE3
        _put(out, at + sizes - 2, _APPENDS, _STOP)

    return Values(sizes, write)


#: Postings with more occurrences than this are decoded by ``pickle`` in
#: ``characters_deltas`` (numpy steps once per occurrence of the longest posting).
STEPPED_OCCURRENCES_MAX = 32
_CHARACTERS_HEAD = np.array([0x80, 2, _EMPTY_LIST, _MARK], np.uint8)


def characters_deltas(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The ``Characters`` values of some postings decoded: each posting's occurrence count and
    every occurrence's (position delta, start delta, length), posting after posting, as
    ``pickle.loads(value[4:])`` gives them.

    A value ``characters_values`` wrote is a fixed pattern (a big-endian count, PROTO 2,
    EMPTY_LIST, MARK, three ints and TUPLE3 per occurrence, APPENDS, STOP), so the
    occurrences of every posting are read with numpy, one step per occurrence for all
    postings at once. A value of another shape (Whoosh's writer memoizes), or with more
    than ``STEPPED_OCCURRENCES_MAX`` occurrences, is unpickled.
    """
    if not values:
        return np.empty(0, np.int64), np.empty((0, 3), np.int64)
    lens = np.fromiter(map(len, values), np.int64, len(values))
    buf = np.frombuffer(b"".join(values), np.uint8)
    starts = np.cumsum(lens) - lens
    counts = _be_uint32(buf, starts) if (lens >= 10).all() else np.zeros(len(values), np.int64)
    stepped = (lens >= 10) & (counts <= STEPPED_OCCURRENCES_MAX) & (counts > 0)
    stepped &= (buf[starts[:, None] + np.arange(4, 8)] == _CHARACTERS_HEAD).all(axis=1) if stepped.any() else stepped
    bounds = np.r_[0, np.cumsum(counts)]
    deltas = np.zeros((int(bounds[-1]), 3), np.int64)
    chosen = np.flatnonzero(stepped)
    at = starts[chosen] + 8
    row = bounds[chosen]
    left = counts[chosen].copy()
    ok = np.ones(len(chosen), np.bool_)
    active = np.arange(len(chosen))
    try:
        while len(active):
            a = at[active]
            for k in range(3):
                size = _ITEM_SIZE[buf[a]]
                ok[active[(size == 0) | (buf[a] == _G)]] = False
                deltas[row[active], k] = np.where(size > 0, _ints_at(buf, a), 0)
                a = a + np.maximum(size, 1)
            ok[active[buf[a] != _TUPLE3]] = False
            at[active] = a + 1
            row[active] += 1
            left[active] -= 1
            active = active[(left[active] > 0) & ok[active]]
        ok &= (at == starts[chosen] + lens[chosen] - 2) & (buf[np.minimum(at, len(buf) - 2)] == _APPENDS)
    except IndexError:  # stepped off the end: not the pattern
        ok[:] = False
    unpickled = np.ones(len(values), np.bool_)
    unpickled[chosen[ok]] = False
    for i in np.flatnonzero(unpickled).tolist():
        codes = pickle.loads(values[i][4:])
        if len(codes) != counts[i]:  # the count does not say how many there are: start again by pickle
            return _characters_by_pickle(values)
        deltas[bounds[i] : bounds[i + 1]] = codes
    return counts, deltas


def _characters_by_pickle(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    decoded = [pickle.loads(v[4:]) for v in values]
    counts = np.fromiter(map(len, decoded), np.int64, len(decoded))
    return counts, np.array([c for codes in decoded for c in codes], np.int64).reshape(-1, 3)


def _be_uint32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The big-endian uint32 at each of ``at``."""
    b = buf[at[:, None] + np.arange(4)].astype(np.int64)
    return (b[:, 0] << 24) | (b[:, 1] << 16) | (b[:, 2] << 8) | b[:, 3]


def read_blocks(reader: Any, fieldname: str, word: str) -> list[tuple[Any, Any, Any]] | None:
    """Every block of one segment's posting list of ``word``: (id deltas, weights, values)
    as the block pickles hold them (Whoosh's minified forms). None: the word is not in the
    segment (``raw_blocks``, each block's data unpickled)."""
    found = raw_blocks(reader, fieldname, word)
    return None if found is None else [pickle.loads(data) for data in found[1]]


def term_info(reader: Any, fieldname: str, word: str) -> Any | None:
    """One segment's ``W3TermInfo`` of ``word`` (document frequency, largest weight, shortest
    length, where its postings are); None: the word is not in the segment."""
    try:
        return reader._terms.term_info(fieldname, reader._text_to_bytes(fieldname, word))
    except (KeyError, TermNotFound):
        return None


def blocks_of(reader: Any, info: Any, name: str = "") -> tuple[list[tuple[Any, ...]], list[bytes]]:
    """Each block of the posting list ``info`` points to in the segment: its info (count, last
    id, max weight, compression, min length byte, max length byte) and its data pickle,
    compressed when the info's compression is not 0. Postings inlined in the term table
    (Whoosh's writer inlines none at its default limit; ours never does) come back as one
    uncompressed block of the same form, with the lowest length byte (the info has none).

    Each block header is taken with one ``pickle.load`` (``block_table`` reads the headers
    faster, but only the fields a reader needs).
    """
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        deltas = tuple(b - a for a, b in zip((0, *ids), ids, strict=False))
        top = max(weights) if isinstance(weights, tuple) and weights else weights or 1.0
        return [(len(ids), ids[-1], top, 0, 0, 255)], [pickle.dumps((deltas, weights, values), 2)]
    raw = _stored_list(reader, info, name)
    heads, ends = _chain(raw)
    infos, starts = _unpickled_headers(raw, heads)
    return infos, [bytes(raw[a:b]) for a, b in zip(starts, ends, strict=True)]


def _stored_list(reader: Any, info: Any, name: str) -> bytes | memoryview:
    """The posting list ``info`` points to, as stored: a view of the mapped compound file
    (no copy) where the segment is one, else its bytes."""
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the struct's 1-tuple
        length = length[0]
    postfile = reader._terms._postfile
    mapped = getattr(postfile, "_buf", None)
    raw = mapped[offset : offset + length] if mapped is not None else postfile.get(offset, length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"not a W3 posting list: {name}")
    return raw


_BE_INT = struct.Struct(">i")


def _chain(raw: bytes | memoryview) -> tuple[list[int], list[int]]:
    """Where each block's header starts and where the block ends: the blocks' signed lengths
    followed one after the other (the last one's is negative)."""
    heads: list[int] = []
    ends: list[int] = []
    at, length = 4, len(raw)
    unpack = _BE_INT.unpack_from
    while at < length:
        size = unpack(raw, at)[0]
        heads.append(at + 4)
        at += 4 + abs(size)
        ends.append(at)
        if size < 0:
            break
    return heads, ends


@dataclass(frozen=True, slots=True)
class BlockTable:
    """The blocks of one posting list as stored, by their headers: each block's posting
    count, last id and whether its data is compressed, and where its data is in ``raw``."""

    raw: bytes | memoryview  # the list as stored (a view of the mapped file: not kept past a request)
    counts: list[int]
    lasts: list[int]
    compressed: list[bool]
    starts: list[int]  # each block's data is raw[starts[i]:ends[i]]
    ends: list[int]

    def pickle(self, block: int, inflate: Callable[[bytes], bytes] | None = None) -> bytes:
        """Block ``block``'s data pickle, inflated (by ``inflate``, ISA-L's by default) if it
        is stored compressed, else copied."""
        stored = self.raw[self.starts[block] : self.ends[block]]
        return (inflate or _inflate)(stored) if self.compressed[block] else bytes(stored)


#: Lists of at least this many blocks have their headers read with numpy, fewer with
#: ``pickle`` (a rare word's one block in each of fifty segments: numpy's fixed cost per call
#: would be most of it).
NUMPY_MIN_BLOCKS = 24


def block_table(reader: Any, info: Any, name: str = "") -> BlockTable:
    """The block headers of the posting list ``info`` points to in the segment: the only
    Python step per block is following the chain of block lengths, the headers are read
    with numpy (``NUMPY_MIN_BLOCKS``).

    The header pickle of every block, Whoosh's or ours, is PROTO 2, MARK, the count and
    the last id (BININT1/BININT2/BININT), the max weight (BINFLOAT), the compression
    level, the min and max length bytes (BININT1 each), TUPLE, BINPUT 0, STOP; a list
    whose headers are not (another writer's) is read with ``pickle``.
    """
    if info.is_inlined():
        return _table_of(*blocks_of(reader, info, name))
    raw = _stored_list(reader, info, name)
    heads, ends = _chain(raw)
    if len(heads) >= NUMPY_MIN_BLOCKS:
        table = _numpy_table(raw, heads, ends)
        if table is not None:
            return table
    infos, starts = _unpickled_headers(raw, heads)
    return BlockTable(raw, [i[0] for i in infos], [i[1] for i in infos], [bool(i[3]) for i in infos], starts, ends)


def _unpickled_headers(raw: bytes | memoryview, heads: list[int]) -> tuple[list[tuple[Any, ...]], list[int]]:
    """Each block's header (count, last id, max weight, compression, min length byte, max
    length byte) with one ``pickle.load``, and where its data starts."""
    stream = io.BytesIO(raw)
    infos: list[tuple[Any, ...]] = []
    starts: list[int] = []
    for h in heads:
        stream.seek(h)
        infos.append(pickle.load(stream))
        starts.append(stream.tell())
    return infos, starts


def _numpy_table(raw: bytes | memoryview, heads: list[int], ends: list[int]) -> BlockTable | None:
    """``block_table``'s headers read with numpy; None: they are not the expected pattern."""
    buf = np.frombuffer(raw, np.uint8)
    h = np.array(heads, np.int64)
    try:
        count_at = h + 3
        last_at = count_at + _ITEM_SIZE[buf[count_at]]
        weight_at = last_at + _ITEM_SIZE[buf[last_at]]
        comp_at = weight_at + 9
        close = comp_at + 6
        ok = (
            (buf[h] == 0x80)
            & (buf[h + 1] == 2)
            & (buf[h + 2] == _MARK)
            & (_ITEM_SIZE[buf[count_at]] > 0)
            & (_ITEM_SIZE[buf[last_at]] > 0)
            & (buf[weight_at] == _G)
            & (buf[comp_at] == _K)
            & (buf[comp_at + 2] == _K)
            & (buf[comp_at + 4] == _K)
            & (buf[close] == _TUPLE)
            & (buf[close + 1] == _BINPUT)
            & (buf[close + 3] == _STOP)
        )
    except IndexError:
        return None
    if not ok.all():
        return None
    return BlockTable(
        raw,
        _ints_at(buf, count_at).tolist(),
        _ints_at(buf, last_at).tolist(),
        (buf[comp_at + 1] != 0).tolist(),
        (close + 4).tolist(),
        ends,
    )


def _table_of(heads: list[tuple[Any, ...]], datas: list[bytes]) -> BlockTable:
    """A ``BlockTable`` of blocks read by ``blocks_of`` (their data laid end to end)."""
    ends = list(accumulate(len(d) for d in datas))
    return BlockTable(
        b"".join(datas),
        [h[0] for h in heads],
        [h[1] for h in heads],
        [bool(h[3]) for h in heads],
        [e - len(d) for e, d in zip(ends, datas, strict=True)],
        ends,
    )


def raw_blocks(
    reader: Any, fieldname: str, word: str, inflate: Callable[[bytes], bytes] | None = None
) -> tuple[list[int], list[bytes]] | None:
    """Each block of one segment's posting list of ``word`` (``inflated_blocks``); None: the
    word is not in the segment."""
    info = term_info(reader, fieldname, word)
    return None if info is None else inflated_blocks(reader, info, inflate, f"{fieldname}:{word!r}")


def inflated_blocks(
    reader: Any, info: Any, inflate: Callable[[bytes], bytes] | None = None, name: str = ""
) -> tuple[list[int], list[bytes]]:
    """Each block of the posting list ``info`` points to (``block_table``): (its posting count,
    its data pickle, inflated by ``inflate``, ISA-L's by default)."""
    table = block_table(reader, info, name)
    return table.counts, [table.pickle(i, inflate) for i in range(len(table.counts))]


def decode_ids_and_weights(
    counts: list[int], datas: list[bytes], offsets: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``ids_and_weights`` of ``raw_blocks`` output, read from the data pickles' bytes with
    numpy instead of unpickled: the same ids and weights.

    Scoring needs a block's ids and weights, but its pickle also holds the postings'
    values (a ``Characters`` field's positions, most of its bytes), and unpickling makes
    a ``bytes`` object of each: two thirds of decoding a common word's blocks. The ids
    and weights come first in the pickle and are a fixed pattern (``encode_postings``):
    PROTO, the id deltas as a tuple of BININT1/BININT2/BININT items, BINPUT, then the
    weights as None, one BINFLOAT, or a tuple of ints or BINFLOATs. Each item's size
    follows from its opcode, so every block's items are found by stepping all blocks at
    once, one step per item (at most a block's 128). A block that does not have that
    shape (another writer's) sends the whole list to ``pickle`` instead, as does a list
    of fewer than ``NUMPY_MIN_POSTINGS`` postings, which ``pickle`` reads faster than the
    array calls' fixed cost.
    """
    if not datas:
        return np.empty(0, np.int64), np.empty(0)
    n = np.asarray(counts, np.int64)
    parsed = None
    if n.sum() >= NUMPY_MIN_POSTINGS:
        with contextlib.suppress(IndexError):  # not the pattern, and stepping through it ran off the end
            parsed = _parse_ids_and_weights(n, datas)
    if parsed is None:
        return ids_and_weights([pickle.loads(d) for d in datas], offsets)
    deltas, weights = parsed
    ids = running_sums(deltas, n)
    if offsets is not None:
        ids += np.repeat(np.asarray(offsets, np.int64), n)
    return ids, weights


#: Postings below which ``decode_ids_and_weights`` unpickles rather than parses the blocks.
NUMPY_MIN_POSTINGS = 16384
_K, _M, _J, _G = 0x4B, 0x4D, 0x4A, 0x47
#: Bytes an item of a pickled tuple of numbers takes, by its opcode (0: not such an item).
_ITEM_SIZE = np.zeros(256, np.int64)
_ITEM_SIZE[[_K, _M, _J, _G]] = [2, 3, 5, 9]
_IS_INT = np.zeros(256, np.bool_)
_IS_INT[[_K, _M, _J]] = True


def _parse_ids_and_weights(counts: np.ndarray, datas: list[bytes]) -> tuple[np.ndarray, np.ndarray] | None:
    """(id deltas, weights) of every block in order, or None if a block is not of the shape."""
    lens = np.fromiter(map(len, datas), np.int64, len(datas))
    buf = np.frombuffer(b"".join(datas) + bytes(16), np.uint8)  # padding: a peek past a short block stays inside
    base = np.cumsum(lens) - lens
    marked = counts > 3
    ok = (buf[base] == 0x80) & (~marked | (buf[base + 2] == _MARK))
    at, close = _items(buf, base + 2 + marked, counts)
    ok &= buf[close] == np.where(marked, _TUPLE, _TUPLE_N[np.minimum(counts, 3)])
    ok &= buf[close + 1] == _BINPUT
    if not ok.all() or not _IS_INT[buf[at]].all():
        return None
    deltas = _ints_at(buf, at)
    w = close + 3
    op = buf[w]
    after_one = buf[w + 9]
    # One float, or the first of a tuple of up to three (then another item, or TUPLE1 for one).
    single = (op == _G) & (_ITEM_SIZE[after_one] == 0) & ~((counts == 1) & (after_one == _TUPLE_N[1]))
    listed = (op == _MARK) & marked | (_IS_INT[op] | (op == _G) & ~single) & ~marked
    if not ((op == _NONE) | single | listed).all():
        return None
    weights = np.ones(len(deltas))
    block_of = np.repeat(np.arange(len(counts)), counts)
    if single.any():
        one = np.flatnonzero(single)
        values = _floats_at(buf, w[one]).astype(np.float32).astype(np.float64)  # Whoosh keeps it as float32
        weights[single[block_of]] = np.repeat(values, counts[one])
    if listed.any():
        many = np.flatnonzero(listed)
        w_at, w_close = _items(buf, w[many] + marked[many], counts[many])
        w_op = buf[w_at]
        w_marked = marked[many]
        if not (
            (_ITEM_SIZE[w_op] > 0).all()
            and (buf[w_close] == np.where(w_marked, _TUPLE, _TUPLE_N[np.minimum(counts[many], 3)])).all()
        ):
            return None
        floats = w_op == _G
        values = np.empty(len(w_at))
        values[floats] = _floats_at(buf, w_at[floats])
        values[~floats] = _ints_at(buf, w_at[~floats])
        weights[listed[block_of]] = values
    return deltas, weights


def _items(buf: np.ndarray, first: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the items of each tuple are (all blocks' items, block after block) and where each
    tuple's items end, the ``counts[i]`` items starting at ``first[i]``: one step per item,
    every block at once."""
    steps = int(counts.max())
    at = np.empty((steps, len(first)), np.int64)
    pos = first.copy()
    for k in range(steps):  # past its tuple's end a block stays put: the closing opcode is not an item
        at[k] = pos
        pos += _ITEM_SIZE[buf[pos]]
    rows = np.arange(len(first))
    last = at[counts - 1, rows]
    return at.T[np.arange(steps) < counts[:, None]], last + _ITEM_SIZE[buf[last]]


def _ints_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The BININT1/BININT2/BININT items at ``at`` (little-endian; BININT signed)."""
    op = buf[at]
    values = buf[at + 1].astype(np.int64)
    wide = op != _K
    values[wide] |= buf[at[wide] + 2].astype(np.int64) << 8
    widest = op == _J
    w = at[widest]
    four = values[widest] | (buf[w + 3].astype(np.int64) << 16) | (buf[w + 4].astype(np.int64) << 24)
    values[widest] = four.astype(np.uint32).view(np.int32)
    return values


def _floats_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The BINFLOAT items at ``at`` (eight big-endian bytes after the opcode)."""
    if not len(at):
        return np.empty(0)
    return np.ascontiguousarray(buf[at[:, None] + np.arange(1, 9)]).view(">f8").ravel().astype(np.float64)


#: Inflates a compressed block: ISA-L reads the zlib stream (ours or Whoosh's) in about
#: two thirds of zlib's time (26 against 41 ms for the 3,474 blocks of seven common words
#: at 1M sections).
_inflate = isal_zlib.decompress

#: The term table's position index, as Whoosh's GrowableArray writes it (big-endian).
_INDEX_DTYPES = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "q": ">i8"}
#: The multiplier of the terms' polynomial hash (odd, 64 bits: arithmetic modulo 2^64).
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
_LENGTH_FACTOR = np.uint64(0xC2B2AE3D27D4EB4F)


def field_terms(reader: Any, fieldname: str) -> tuple[bytes | memoryview, np.ndarray, np.ndarray]:
    """Where the terms of ``fieldname`` are in one segment's term table: (the bytes of the
    field's records, each term's start and end in them), in term order.

    A table's keys are the field's number (two bytes) and the term, sorted, so a field's
    terms are one run of records (key and value lengths, key, value) between two places of
    the table's position index, read in one slice and split with numpy.
    """
    terms = reader._terms
    table = terms._tindex
    number = terms._fieldmap.get(fieldname)
    none = (b"", np.empty(0, np.int64), np.empty(0, np.int64))
    if number is None or not table.indexlen:
        return none
    dtype = np.dtype(_INDEX_DTYPES[table.extras["indextype"]])
    index = np.frombuffer(table.dbfile.get(table.indexbase, table.indexlen * table.indexsize), dtype)

    def field_at(i: int) -> int:
        return int.from_bytes(table.key_at(int(index[i]))[:2], "big")

    lo = bisect.bisect_left(range(len(index)), number, key=field_at)
    hi = bisect.bisect_right(range(len(index)), number, lo=lo, key=field_at)
    if lo == hi:
        return none
    start = int(index[lo])
    end = int(index[hi]) if hi < len(index) else table.endofdata
    mapped = getattr(table.dbfile, "_buf", None)  # a compound file's mapped view: no copy
    raw = mapped[start:end] if mapped is not None else table.dbfile.get(start, end - start)
    at = index[lo:hi].astype(np.int64) - start
    head = np.frombuffer(raw, np.uint8)
    keylen = head[at[:, None] + np.arange(4)].astype(np.int64) @ np.array([1 << 24, 1 << 16, 1 << 8, 1])
    return raw, at + 10, at + 8 + keylen


def field_vocabulary(readers: list[Any], fieldname: str) -> list[bytes]:
    """The distinct terms of ``fieldname`` over several segments (UTF-8 bytes, sorted): what
    Whoosh's merged ``lexicon`` lists, without making a Python object of every segment's
    copy of a word.

    At a million sections fifty segments hold 2.2 million records of 68,000 distinct
    words, and ``lexicon`` (a generator per record and a heap over the segments) took
    seconds, for one request's did-you-mean. Here every term gets a 64-bit polynomial hash
    computed with numpy, the first record of each hash is kept, and only those become
    bytes. Two different words with one hash would lose one of them from this list (for
    a few hundred thousand words, a chance of about one in 10^9).
    """
    runs = [run for run in (field_terms(r, fieldname) for r in readers) if len(run[1])]
    if not runs:
        return []
    hashes = np.concatenate([_term_hashes(raw, starts, ends) for raw, starts, ends in runs])
    _, first = np.unique(hashes, return_index=True)
    sizes = np.array([len(starts) for _, starts, _ in runs], np.int64)
    run_of = np.searchsorted(np.cumsum(sizes), first, side="right")
    starts = np.concatenate([starts for _, starts, _ in runs])[first].tolist()
    ends = np.concatenate([ends for _, _, ends in runs])[first].tolist()
    raws = [raw for raw, _, _ in runs]
    out = [bytes(raws[r][a:z]) for r, a, z in zip(run_of.tolist(), starts, ends, strict=True)]
    out.sort()
    return out


def _term_hashes(raw: bytes | memoryview, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """sum(byte_j * B^j) + length * F modulo 2^64 for each term raw[starts[i]:ends[i]]."""
    sizes = ends - starts
    total = int(sizes.sum())
    firsts = np.cumsum(sizes) - sizes
    place = np.arange(total) - np.repeat(firsts, sizes)
    values = np.frombuffer(raw, np.uint8)[np.repeat(starts, sizes) + place].astype(np.uint64)
    # B^0 .. B^longest (array arithmetic wraps modulo 2^64 without a warning).
    powers = np.r_[np.uint64(1), np.multiply.accumulate(np.full(int(sizes.max()), _HASH_BASE, np.uint64))]
    hashes = np.zeros(len(starts), np.uint64)
    some = sizes > 0
    hashes[some] = np.add.reduceat(values * powers[place], firsts[some])
    return hashes + sizes.astype(np.uint64) * _LENGTH_FACTOR


def ids_and_weights(
    blocks: list[tuple[Any, Any, Any]], offsets: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Posting ids (int64) and weights (float64) from ``read_blocks`` lists, decoded with a
    few numpy calls for all the blocks rather than a few per block: a common term at 1M
    sections has thousands of blocks, a rare one a block in each of dozens of segments,
    and per-block (or per-segment) array calls were a third of scoring them.
    ``offsets``: a number added to each block's ids (its segment's first section), so the
    blocks of several segments decode at once. Weights are what Whoosh's reader gives: 1.0
    for None, a block's one float as the float32 Whoosh keeps it, else the block's tuple."""
    counts = np.fromiter((len(b[0]) for b in blocks), np.int64, len(blocks))
    deltas = np.fromiter(chain.from_iterable(b[0] for b in blocks), np.int64, int(counts.sum()))
    ids = running_sums(deltas, counts)
    if offsets is not None:
        ids += np.repeat(np.array(offsets, np.int64), counts)
    if all(w is None for _, w, _ in blocks):
        return ids, np.ones(len(ids))
    weights: list[float] = []
    for (_, w, _), n in zip(blocks, counts.tolist(), strict=True):
        if w is None or isinstance(w, float):  # all 1.0, or all the same (float32 in Whoosh)
            weights.extend([1.0 if w is None else float(np.float32(w))] * n)
        else:
            weights.extend(w)
    return ids, np.array(weights, np.float64)


def running_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``values`` restarting at each run of ``counts[i]`` values (every
    count at least 1: a posting list's blocks, a posting's occurrences)."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.r_[0, total[ends[:-1] - 1]] if len(counts) else np.zeros(0, np.int64)
    return total - np.repeat(before, counts)


def compress(data: bytes | memoryview, level: int) -> bytes:
    """A zlib stream of ``data`` made by ISA-L's deflate (``isal``) at ``level`` (its
    levels are 0-3; a higher one gets 3): ``zlib.decompress`` reads it as any other.
    On livedoor's blocks ISA-L's level 1 was 2.7 times as fast as zlib's level 1 (with
    a window sized to each block, which had made small blocks several times faster
    than zlib's default) and 1 % smaller: zlib had been a fifth of writing a segment."""
    return isal_zlib.compress(data, min(level, 3))


__all__ = [
    "COMPRESS_MIN_BYTES",
    "NUMPY_MIN_BLOCKS",
    "NUMPY_MIN_POSTINGS",
    "TERMINFO",
    "BlockTable",
    "Values",
    "block_table",
    "blocks_of",
    "characters_deltas",
    "characters_values",
    "compress",
    "decode_ids_and_weights",
    "encode_postings",
    "field_terms",
    "field_vocabulary",
    "ids_and_weights",
    "inflated_blocks",
    "raw_blocks",
    "read_blocks",
    "running_sums",
    "runs",
    "term_info",
    "weave",
]

"""Keeping the index compact: which segments an update rewrites, and how.

Every update adds segments and marks deletions in old ones; left alone, the index
would grow with each run and its searches would open ever more segments. On
every publish the indexer asks ``plan`` which segments to rewrite, and rewrites
them by re-analysing their live sections from the stored text through the same
workers as new input (``live_tasks`` turns a segment back into document tasks).

The policy (tiered, as Lucene's, by segment bytes on disk; it sees the segments
this run added too):

* A segment of which more than ``DELETED_SHARE`` of the sections are deleted is
  rewritten: dead postings then never take more than that share of a segment,
  so they cost at most ~1/(1 − share) of a fresh build's size (1.25×).
* Segments under ``FLOOR_BYTES`` are cheap to re-analyse (about a second): as
  soon as there are two, they are merged into one. Small updates therefore
  leave one small segment, not one per update, and a small index stays in one
  segment as a fresh build would (each segment repeats the vocabulary of its
  sections, which for small segments is most of their size).
* Larger segments are grouped in tiers (``FLOOR_BYTES`` × ``TIER_FACTOR`` ^ tier);
  a tier holding ``TIER_FACTOR`` segments is merged into one. A section is thus
  rewritten about once per tier it climbs (log₈ of the index size), and the
  segment count stays under ``TIER_FACTOR`` per tier.
* Except full segments: a segment at least half the size of the largest one is
  as large as a worker's memory budget lets a segment grow
  (``SEGMENT_MB``), so merging full segments would only
  re-analyse them into as many full segments again. A large first build is all
  full segments and is never rewritten; their number grows with the corpus.
* A size bound over the whole index: when its segments take more than
  ``SIZE_LIMIT`` × what a fresh build of the live sections would (estimated
  from their token count at the density, bytes per token, of the largest
  segment), everything is rewritten. The rules above leave two kinds of waste
  that no per-segment rule catches: deletions spread thinly over large
  segments, and the many small segments' repeated vocabulary (a segment of 70
  livedoor articles takes ~2× the bytes per token of a full one). The waste
  grows with the bytes updates wrote, so a full rewrite comes after updates
  have written about (``SIZE_LIMIT`` − 1) × the index: its cost is amortised in
  proportion to what changed (measured: every ~5th update when each changes
  1 % of the records, far less often for small changes).
* ``sakuin optimize`` rewrites everything (``plan(…, everything=True)``).

Rewriting re-analyses rather than copies postings: Whoosh's own merge walks every
posting in Python through its writer's sort, slower than our analysis workers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.fields import Schema
from whoosh.filedb.filestore import Storage
from whoosh.reading import SegmentReader

from sakuin.search.config import DELETED_SHARE, FLOOR_BYTES, SIZE_LIMIT, TIER_FACTOR
from sakuin.search.indexing.sections import task_info
from sakuin.search.indexing.tasks import DocTask


def tier(nbytes: int) -> int:
    """The size tier of a segment: -1 under ``FLOOR_BYTES``, then 0, 1, … by factors of ``TIER_FACTOR``."""
    if nbytes < FLOOR_BYTES:
        return -1
    return int(math.log(nbytes / FLOOR_BYTES, TIER_FACTOR))


def plan(
    segments: list[Any], size_of: Callable[[Any], int], everything: bool = False, update: bool = True
) -> list[Any]:
    """The segments to rewrite (in index order) under the policy above; ``size_of`` gives a segment's bytes.

    ``update=False`` (a first build: every segment is new, nothing is deleted)
    skips the size bound, which would only re-analyse the whole corpus a second time.
    """
    oversized = update and sum(map(size_of, segments)) > SIZE_LIMIT * fresh_estimate(segments, size_of)
    if everything or oversized:
        return [s for s in segments if s.doc_count_all()]
    chosen = {id(s) for s in segments if s.deleted_count() > DELETED_SHARE * s.doc_count_all()}
    tiers: defaultdict[int, list[Any]] = defaultdict(list)
    full = max(map(size_of, segments), default=0) / 2
    for s in segments:
        size = size_of(s)
        if id(s) not in chosen and (size < FLOOR_BYTES or size < full):
            tiers[tier(size)].append(s)
    for level, members in tiers.items():
        if len(members) >= (2 if level < 0 else TIER_FACTOR):
            chosen.update(id(s) for s in members)
    return [s for s in segments if id(s) in chosen]


def _tokens(segment: Any) -> int:
    """Tokens in the content field of all a segment's sections, deleted ones too (sections if unknown)."""
    return getattr(segment, "_fieldlengths", {}).get("content", 0) or segment.doc_count_all()


def fresh_estimate(segments: list[Any], size_of: Callable[[Any], int]) -> float:
    """Bytes a fresh build of the live sections would take: their tokens at the largest segment's density."""
    sized = [(size_of(s), s) for s in segments if s.doc_count_all()]
    if not sized:
        return 0.0
    nbytes, largest = max(sized, key=lambda pair: pair[0])
    live_tokens = sum(_tokens(s) * s.doc_count() / s.doc_count_all() for _, s in sized)
    return nbytes / _tokens(largest) * live_tokens


def segment_bytes(storage: Storage, segment: Any) -> int:
    """The bytes a segment takes on disk (its compound file, or its separate files)."""
    try:
        if segment.is_compound():
            return storage.file_length(segment.make_filename(segment.COMPOUND_EXT))
        return sum(storage.file_length(name) for name in segment.list_files(storage))
    except OSError:
        return 0


def live_tasks(storage: Storage, schema: Schema, segment: Any) -> Iterator[tuple[DocTask, int]]:
    """The live sections of ``segment`` as document tasks, rebuilt from their stored fields.

    A document's sections are consecutive in a segment (a worker adds them
    together). The second item is the task's section count, for progress.
    """
    reader = SegmentReader(storage, schema, segment)
    try:
        task: DocTask | None = None
        infos: list[dict[str, Any] | None] = []
        for _docnum, fields in reader.iter_docs():  # live sections only
            doc_id, source = fields["doc_id"], fields["source"]
            heading, body = fields.get("heading") or "", fields.get("body") or ""
            if task is None or task.doc_id != doc_id or task.source != source:
                if task is not None:
                    yield task._replace(info=task_info(infos)), len(task.sections)
                task = DocTask(
                    doc_id, source, fields.get("path") or "", fields.get("title") or "", fields.get("meta"), []
                )
                infos = []
            task.sections.append((fields["ordinal"], heading, body))
            infos.append(fields.get("info"))
        if task is not None:
            yield task._replace(info=task_info(infos)), len(task.sections)
    finally:
        reader.close()


__all__ = [
    "DELETED_SHARE",
    "FLOOR_BYTES",
    "SIZE_LIMIT",
    "TIER_FACTOR",
    "fresh_estimate",
    "live_tasks",
    "plan",
    "segment_bytes",
    "tier",
]

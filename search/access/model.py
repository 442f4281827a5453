"""``Access``: the sections one reader may read, as a filter the backends apply before ranking.

Design decisions:

* **A filter node, not a query string.** The allowed set is made of the same
  ``Match`` nodes as ``path:`` and ``category:`` filters (``sakuin.search.query.filters``),
  so both backends already know how to evaluate it; but it never passes through the
  query parser, and reaches a backend only as ``SearchBackend``'s typed ``access``
  argument, so nothing a user types can widen or drop it.
* **Applied before anything is counted.** A backend takes it as a mask over the
  matches (the embedded index) or a ``filter`` clause of every query it sends (a
  cluster): totals, pages, facet counts, substring matches, "did you mean",
  completions, documents, originals, examples and stats all come from what passes.
  Scores and the query plan still use collection-wide statistics (document
  frequencies), as Elasticsearch's document-level security does: ``docs/access.md``.
* **A key per filter** (a hash of the node), so a backend can cache what it computed
  for it (the embedded index keeps the mask per index version) and a changed rule
  never meets a stale entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sakuin.search.query.filters import FAll, FilterNode


@dataclass(frozen=True, slots=True)
class Access:
    """What one reader may read: the sections that pass ``node``, or none at all (``nothing``).

    ``None`` in place of an ``Access`` (the backends' default) means no access control:
    every section is readable, as ``sakuin serve`` without ``--auth``."""

    node: FilterNode | None
    key: str

    @classmethod
    def of(cls, node: FilterNode | None) -> Access:
        """The sections that pass ``node``; ``None``: nothing is readable."""
        text = repr(node) if node is not None else "nothing"
        return cls(node, hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest())

    @classmethod
    def nothing(cls) -> Access:
        return cls.of(None)

    @property
    def denies_all(self) -> bool:
        return self.node is None

    @property
    def allows_all(self) -> bool:
        """Every section passes (an empty AND): the backends then filter nothing."""
        return isinstance(self.node, FAll) and not self.node.children


__all__ = ["Access"]

"""What an index remembers about how it analyses text: its synonym sources and user dictionaries.

Declared when indexing (``sakuin index PATH --synonyms sudachi --synonyms FILE
--user-dict lex.csv``) and kept in the manifest beside the metadata declaration, so
later runs and every search use them without being told again.

Design decisions:

* **Given replaces, not given keeps.** ``--synonyms`` and ``--user-dict`` name the
  whole list (repeat the option for several; ``none`` for none); a run without
  them keeps what the index remembers. Metadata declarations only grow, because a
  field's values are in the sections; synonyms and dictionaries are the index's
  choice of analysis and can be changed freely.
* **Synonyms need no re-index** (they apply at query time); a different set of
  user dictionaries, or a changed one, re-derives every section from its stored
  text, since the index's words themselves change.
* **An index that declared nothing uses ``DEFAULT_SYNONYMS``** (``config``), the
  choice measured on the dev set and the keyword benchmark (``docs/relevance.md``);
  an index built before synonyms existed reads the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sakuin.search.analysis.userdict import UserDictionary
from sakuin.search.config import DEFAULT_SYNONYMS


@dataclass(frozen=True)
class AnalysisSettings:
    """``synonyms``: the sources (``sudachi`` or absolute file paths), in order; ``user_dicts``:
    the user dictionaries, in order (Sudachi gives the later ones precedence)."""

    synonyms: tuple[str, ...] = tuple(DEFAULT_SYNONYMS)
    user_dicts: tuple[UserDictionary, ...] = ()

    @classmethod
    def from_manifest(cls, data: Any) -> AnalysisSettings:
        if not isinstance(data, dict):
            return cls()
        synonyms = data.get("synonyms")
        entries = [UserDictionary.from_manifest(d) for d in data.get("user_dicts") or ()]
        return cls(
            tuple(str(s) for s in synonyms) if isinstance(synonyms, list) else tuple(DEFAULT_SYNONYMS),
            tuple(e for e in entries if e is not None),
        )

    def to_manifest(self) -> dict[str, Any]:
        return {"synonyms": list(self.synonyms), "user_dicts": [d.to_manifest() for d in self.user_dicts]}

    @property
    def dictionary_names(self) -> list[str]:
        return [d.name for d in self.user_dicts]

    def fingerprints(self) -> tuple[str, ...]:
        """What the sections' words depend on: each user dictionary's fingerprint, in order."""
        return tuple(d.fingerprint for d in self.user_dicts)


def describe(sources: Sequence[str]) -> list[str]:
    """Synonym sources as messages name them (``sudachi``, a file's name)."""
    return [s.rsplit("/", 1)[-1] for s in sources]


__all__ = ["AnalysisSettings", "describe"]

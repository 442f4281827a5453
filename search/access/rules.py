"""The access rules: ``[[allow]]`` entries and a default, and what a set of groups may read.

A rule names documents by their folder (``path = "hr/"``, the same folder prefix as
the ``path:`` filter: ``hr/`` holds ``hr/a.md`` and ``hr/2024/b.pdf``, not ``hr2/``;
a file's own path names that file) and by metadata (``category = "人事"``, a declared
keyword field, matched as the ``category:`` filter matches); several conditions in
one rule must all hold, a list of values is any of them. ``groups`` says who reads
what the rule names (``"*"``: every signed-in user).

What a reader sees (``Rules.access_for``):

* a document one or more rules name: readable by the groups of those rules;
* a document no rule names: readable by everyone signed in if ``default = "allow"``,
  by no one if ``default = "deny"`` (the default default: a forgotten folder stays closed).

Rules only ever allow, so their order never matters and a rule on a field the index
does not have names nothing (fails closed) instead of failing the search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sakuin.search.access.model import Access
from sakuin.search.documents.metadata import PATH
from sakuin.search.query.filters import FAll, FAny, FilterNode, FNot, Match

Default = Literal["allow", "deny"]
#: In a rule's ``groups``: every signed-in user.
EVERYONE = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``[[allow]]``: the documents every condition names, readable by ``groups``.

    ``conditions``: (field, values) pairs, ``path`` or a metadata field."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...]
    groups: frozenset[str]

    @property
    def node(self) -> FilterNode:
        matches: list[FilterNode] = [Match(field, _values(field, values)) for field, values in self.conditions]
        return matches[0] if len(matches) == 1 else FAll(tuple(matches))

    @property
    def names_everything(self) -> bool:
        """Its only condition is the folder ``""`` (or ``/``): every document. A reader it admits
        reads everything, and the backends then filter nothing (``Access.allows_all``)."""
        return (
            len(self.conditions) == 1 and self.conditions[0][0] == PATH and "" in _values(PATH, self.conditions[0][1])
        )

    def admits(self, groups: frozenset[str]) -> bool:
        return EVERYONE in self.groups or bool(self.groups & groups)


@dataclass(frozen=True, slots=True)
class Rules:
    """The rules of an access file and its default."""

    allow: tuple[Rule, ...] = ()
    default: Default = "deny"

    def access_for(self, groups: Iterable[str]) -> Access:
        """What a user in ``groups`` may read (``Access.nothing()`` when no rule admits them
        and the default denies)."""
        mine = frozenset(groups)
        if any(rule.names_everything and rule.admits(mine) for rule in self.allow):
            return Access.of(FAll(()))
        parts = [rule.node for rule in self.allow if rule.admits(mine)]
        if self.default == "allow":
            if not self.allow:
                return Access.of(FAll(()))  # no rule: everything
            parts.append(FNot(FAny(tuple(rule.node for rule in self.allow))))
        if not parts:
            return Access.nothing()
        return Access.of(parts[0] if len(parts) == 1 else FAny(tuple(parts)))


def _values(field: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """Values as the filters take them: a folder without its leading ``./`` or ``/``."""
    if field != PATH:
        return values
    out = []
    for value in values:
        value = value.replace("\\", "/")
        while value.startswith("./"):
            value = value[2:]
        out.append(value.lstrip("/"))
    return tuple(out)


__all__ = ["EVERYONE", "Default", "Rule", "Rules"]

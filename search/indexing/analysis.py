"""An index run's analysis settings: the synonyms and user dictionaries it declares or remembers.

Both backends settle them the same way before anything is written
(``sakuin.search.analysis.settings`` says what is remembered and why): options given
replace what the index remembers, a remembered user dictionary is read again from
where it was given, and a user dictionary that is new, gone or different (or compiled
against another SudachiPy or system dictionary) means every section is derived again
from its stored text, with the reason in the report. Bad input is an error before the
run writes anything: a missing or malformed synonyms file or user dictionary names
its ``file:line`` (``UserDictionaryError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sakuin.search.analysis.settings import AnalysisSettings, describe
from sakuin.search.analysis.synonyms import NONE, SUDACHI
from sakuin.search.analysis.thesaurus import load
from sakuin.search.analysis.userdict import UserDictionary, read_csv
from sakuin.search.errors import UserDictionaryError
from sakuin.search.indexing.report import IndexReport

#: Sudachi loads at most this many user dictionaries.
MAX_USER_DICTS = 14


@dataclass
class Settled:
    """This run's settings, and the CSV text of the user dictionaries it read (sha256 → bytes)."""

    settings: AnalysisSettings
    csv: dict[str, bytes] = field(default_factory=dict)


def settle(
    live: dict[str, Any],
    synonyms: Sequence[str] | None,
    user_dicts: Sequence[str] | None,
    report: IndexReport,
) -> Settled:
    """This run's settings from the live manifest and the options (None: not given); fills the
    report's ``synonyms``, ``user_dicts``, ``reanalysed`` and ``synonyms_changed``. Call it after
    ``previous`` (it reads ``report.rebuilt``)."""
    known = AnalysisSettings.from_manifest(live.get("analysis"))
    sources = _synonyms(synonyms, report) if synonyms is not None else _remembered_synonyms(known, report)
    csv: dict[str, bytes] = {}
    if user_dicts is not None:
        entries = _user_dicts(user_dicts, csv)
    else:
        entries = tuple(_reread(entry, csv, report) for entry in known.user_dicts)
    settings = AnalysisSettings(sources, entries)
    if not report.rebuilt:
        report.reanalysed = _why(known.user_dicts, entries)
        report.synonyms_changed = settings.synonyms != known.synonyms
    report.synonyms = describe(settings.synonyms)
    report.user_dicts = settings.dictionary_names
    return Settled(settings, csv)


def _synonyms(given: Sequence[str], report: IndexReport) -> tuple[str, ...]:
    out: list[str] = []
    for raw in given:
        value = raw.strip()
        if value == NONE:
            out.clear()
            continue
        source = SUDACHI if value == SUDACHI else str(Path(value).absolute())
        load(source)  # raises: a file that is missing or malformed is an error now
        if source not in out:
            out.append(source)
    return tuple(out)


def _remembered_synonyms(known: AnalysisSettings, report: IndexReport) -> tuple[str, ...]:
    """The index's sources; a file of them that cannot be used now is said, not fatal (searches
    keep the last version they read)."""
    for source in known.synonyms:
        try:
            load(source)
        except UserDictionaryError as exc:
            report.notes.append(f"synonyms: {exc} (searches use what they read before; --synonyms changes the list)")
    return known.synonyms


def _user_dicts(given: Sequence[str], csv: dict[str, bytes]) -> tuple[UserDictionary, ...]:
    entries: list[UserDictionary] = []
    for raw in given:
        if raw.strip() == NONE:
            entries.clear()
            continue
        entry, data = read_csv(Path(raw))
        csv[entry.sha256] = data
        entries = [e for e in entries if e.sha256 != entry.sha256] + [entry]
    if len(entries) > MAX_USER_DICTS:
        raise UserDictionaryError("too_many_user_dicts", limit=MAX_USER_DICTS)
    return tuple(entries)


def _reread(entry: UserDictionary, csv: dict[str, bytes], report: IndexReport) -> UserDictionary:
    """A remembered dictionary as its file is now; one whose file is gone stays as the index has it."""
    path = Path(entry.path)
    if not path.exists():
        report.notes.append(
            f"user dictionary {entry.path} is gone; the index keeps using its copy (--user-dict none drops it)"
        )
        return entry.current()
    current, data = read_csv(path)
    csv[current.sha256] = data
    return current


def _why(before: Sequence[UserDictionary], after: Sequence[UserDictionary]) -> list[str]:
    """Why the sections' words change (empty: they do not)."""
    if [e.fingerprint for e in before] == [e.fingerprint for e in after]:
        return []
    old = {e.path: e for e in before}
    new = {e.path: e for e in after}
    reasons = [f"user dictionary {e.name} added" for e in after if e.path not in old]
    reasons += [f"user dictionary {e.name} removed" for e in before if e.path not in new]
    for path, e in new.items():
        if path in old and old[path].sha256 != e.sha256:
            reasons.append(f"user dictionary {e.name} changed")
        elif path in old and old[path].fingerprint != e.fingerprint:
            reasons.append(f"SudachiPy or its system dictionary changed since {e.name} was compiled")
    return reasons or ["the order of the user dictionaries changed"]


__all__ = ["MAX_USER_DICTS", "Settled", "settle"]

"""What an index run reports as it goes (``Progress``) and when it is done (``IndexReport``).

Both backends fill the same report, so ``sakuin index`` prints (and ``--json``
dumps) the same summary whichever backend it wrote to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Progress(Protocol):
    """What the indexer reports as it goes; the CLI renders it as a progress bar.

    ``start`` gives the input bytes to read; ``update`` the bytes, sections and
    documents (files, or records of a JSONL file) whose analysis has finished (not
    merely been read), so the bar reaches its end only when the work is done. A
    run that compacts starts a second phase, ``label`` "compacting", counted in
    sections instead of bytes.
    """

    def start(self, total_bytes: int, label: str = "indexing") -> None: ...

    def update(self, nbytes: int, sections: int, documents: int) -> None: ...


@dataclass
class IndexReport:
    """The outcome of one ``sakuin index`` run, for the summary and for tests."""

    documents: int = 0
    sections: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: JSONL files updated record by record: path → {"added", "changed", "removed", "unchanged"}.
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: What went as it should but is worth saying (pages read through OCR).
    notes: list[str] = field(default_factory=list)
    sections_written: int = 0
    sections_deleted: int = 0
    #: Segments rewritten by compaction, and the live sections they held.
    segments_rewritten: int = 0
    sections_rewritten: int = 0
    segments: int = 0
    seconds: float = 0.0
    sudachi_seconds: float = 0.0
    worker_seconds: float = 0.0
    #: CPU seconds the workers spent extracting PDF, Office, EPUB and mail files.
    extract_seconds: float = 0.0
    workers: int = 0
    size_bytes: int = 0
    version: str | None = None
    rebuilt: bool = False
    optimized: bool = False
    #: The index's metadata declaration after this run (name → kind), and whether it grew.
    metadata: dict[str, str] = field(default_factory=dict)
    redeclared: bool = False
    #: Options that would declare metadata fields seen but not declared (``--facet category``).
    suggestions: list[str] = field(default_factory=list)
    #: The index's synonym sources after this run (``sudachi``, file names), and whether they changed.
    synonyms: list[str] = field(default_factory=list)
    synonyms_changed: bool = False
    #: The index's user dictionaries after this run (file names).
    user_dicts: list[str] = field(default_factory=list)
    #: Why every section was derived again from its stored text (a user dictionary changed…).
    reanalysed: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (
            self.added
            or self.changed
            or self.removed
            or self.rebuilt
            or self.optimized
            or self.redeclared
            or self.reanalysed
            or self.synonyms_changed
        )

    @property
    def everything(self) -> bool:
        """Whether every live section is derived again from its stored text (a new metadata
        declaration, another user dictionary)."""
        return self.redeclared or bool(self.reanalysed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "sections": self.sections,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "records": self.records,
            "unchanged": self.unchanged,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "problems": self.problems,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "sections_written": self.sections_written,
            "sections_deleted": self.sections_deleted,
            "segments_rewritten": self.segments_rewritten,
            "sections_rewritten": self.sections_rewritten,
            "segments": self.segments,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "sudachi_share": round(self.sudachi_share, 3),
            "extraction_share": round(self.extraction_share, 3),
            "metadata": self.metadata,
            "suggestions": self.suggestions,
            "synonyms": self.synonyms,
            "user_dicts": self.user_dicts,
            "reanalysed": self.reanalysed,
        }

    @property
    def extraction_share(self) -> float:
        """The share of the workers' CPU time spent extracting files (PDF, Office, EPUB, mail)."""
        return min(1.0, self.extract_seconds / self.worker_seconds) if self.worker_seconds else 0.0

    @property
    def sudachi_share(self) -> float:
        """The share of the analysis workers' CPU time spent inside Sudachi."""
        return self.sudachi_seconds / self.worker_seconds if self.worker_seconds else 0.0


__all__ = ["IndexReport", "Progress"]

"""The index run's progress bar: tqdm behind the indexer's ``Progress`` protocol."""

from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """Input bytes analysed, with MB/s and an ETA; sections while compacting.

    Beside the bytes it counts documents (a file, or one record of a JSONL file)
    and sections, so a long JSONL file shows its records going by.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.sections = 0
        self.documents = 0
        self.in_bytes = True

    def start(self, total_bytes: int, label: str = "indexing") -> None:
        """A bar per phase: input bytes while indexing, sections while compacting."""
        from tqdm import tqdm

        self.close()
        self.sections = self.documents = 0
        in_bytes = label == "indexing"
        self.bar = tqdm(
            total=total_bytes,
            unit="B" if in_bytes else " sections",
            unit_scale=in_bytes,
            unit_divisor=1024,
            dynamic_ncols=True,
            file=sys.stderr,
            disable=None,
            desc=label,
        )
        self.in_bytes = in_bytes

    def update(self, nbytes: int, sections: int, documents: int) -> None:
        if self.bar is None:
            return
        self.sections += sections
        self.documents += documents
        self.bar.update(nbytes)
        if self.in_bytes:
            self.bar.set_postfix(documents=self.documents, sections=self.sections, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


__all__ = ["ProgressBar"]

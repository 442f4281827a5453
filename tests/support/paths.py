"""Where things are: the repository, its seed corpus, the shared data beside it, test output."""

from __future__ import annotations

from pathlib import Path

#: The repository (this file is ``tests/support/paths.py``).
ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
#: Screenshots of the browser tests (git-ignored).
OUTPUT = ROOT / "test-output"
#: A livedoor news sample beside the repository (``../shared``); tests skip when it is absent.
LIVEDOOR = ROOT.parent / "shared" / "data" / "scale" / "livedoor_news.jsonl.gz"

"""Docstrings and docs name code that exists: every dotted ``sakuin.search…`` / ``sakuin.web…``
name resolves, and every repository path they give (``search/…``, ``web/…``) is a file or folder."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from support.paths import ROOT

DOTTED = re.compile(r"\bsakuin\.(?:search|web)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
REPO_PATH = re.compile(r"(?<![\w/.-])((?:search|web)/[A-Za-z0-9_./-]*[A-Za-z0-9_])")


def _sources() -> list[Path]:
    found = [*ROOT.glob("search/**/*.py"), *ROOT.glob("web/**/*.py"), *ROOT.glob("sakuin/*.py")]
    return [*found, *ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("bench/*.py")]


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def test_dotted_names_resolve() -> None:
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources()
        for name in DOTTED.findall(path.read_text(encoding="utf-8"))
        if not _resolves(name.rstrip("."))
    }
    assert sorted(missing) == []


def test_repository_paths_exist() -> None:
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources()
        for name in REPO_PATH.findall(path.read_text(encoding="utf-8"))
        if not (ROOT / name).exists()
    }
    assert sorted(missing) == []

"""``import sakuin``: the package's own example runs as written, and importing it stays cheap."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import ROOT

import sakuin


def _example() -> str:
    """The indented code block of ``sakuin.__doc__`` (after the ``::`` line)."""
    doc = sakuin.__doc__ or ""
    block = doc.split("::\n", 1)[1].split("\n\n``", 1)[0]
    return textwrap.dedent(block)


def test_the_package_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "規程.md").write_text(
        "# 就業規則\n\n## 休暇\n\n有給休暇の申請は、取得日の三日前までに上長へ届け出る。\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_example(), "sakuin.__doc__", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines and lines[0].startswith("規程.md 休暇 "), lines
    assert "有給休暇" in lines[0]


def test_importing_the_package_loads_neither_sudachi_nor_whoosh() -> None:
    code = "import sys, sakuin; print(sorted(m for m in ('sudachipy', 'whoosh') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=os.environ
    )
    assert result.stdout.strip() == "[]"


def test_every_package_says_what_it_is() -> None:
    placeholders = []
    for init in sorted(
        [*ROOT.glob("search/**/__init__.py"), ROOT / "web" / "__init__.py", ROOT / "sakuin" / "__init__.py"]
    ):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if len(doc) < 40 or "TODO" in doc:
            placeholders.append(str(init.relative_to(ROOT)))
    assert placeholders == []


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    assert sakuin.__version__ == version("sakuin")

"""The layout's rules, checked on the source: what may import what, and what is installed.

* the backends are siblings: neither imports the other's internals, and the parts both
  use (documents, analysis, indexing, query, highlight, results, access) import neither;
* the CLI and the web app reach a backend only through ``sakuin.search.backend``, and the
  CLI uses the web app only through its package (``sakuin.web.serve()``);
* no module imports another module's private (``_``) names;
* every package folder is installed, and ``search/`` keeps at most ten modules on top.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import ROOT

SOURCES = {"sakuin.search": ROOT / "search", "sakuin.web": ROOT / "web", "sakuin": ROOT / "sakuin"}
NEUTRAL = ("documents", "analysis", "indexing", "query", "highlight", "results", "watching", "access")


def _modules() -> Iterator[tuple[str, Path]]:
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            if package == "sakuin" and path.parent != folder:
                continue
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts[:-1])) if parts[-1] == "__init__" else ".".join((package, *parts))
            yield name, path


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for every import in ``path``, relative ones resolved not allowed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (use sakuin.… absolute imports)"
            yield node.module or "", [a.name for a in node.names]


MODULES = dict(_modules())


def _targets(module: str) -> set[str]:
    """Every sakuin module ``module`` imports (``from pkg import mod`` counts as pkg.mod)."""
    out = set()
    for imported, names in _imports(MODULES[module]):
        if not imported.startswith("sakuin"):
            continue
        out.add(imported)
        out.update(f"{imported}.{n}" for n in names if f"{imported}.{n}" in MODULES)
    return out


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_backends_and_shared_parts_keep_to_themselves(module: str) -> None:
    targets = _targets(module)
    embedded, cluster = "sakuin.search.embedded", "sakuin.search.opensearch"
    if _within(module, embedded):
        assert not [t for t in targets if _within(t, cluster)], f"{module} imports the OpenSearch backend"
    if _within(module, cluster):
        assert not [t for t in targets if _within(t, embedded)], f"{module} imports the embedded backend"
    if any(_within(module, f"sakuin.search.{n}") for n in NEUTRAL):
        bad = [t for t in targets if _within(t, embedded) or _within(t, cluster)]
        assert not bad, f"{module} is shared by both backends but imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, "sakuin.web") or "cli" in m))
def test_cli_and_web_reach_backends_only_through_the_interface(module: str) -> None:
    targets = _targets(module)
    internals = [t for t in targets if _within(t, "sakuin.search.embedded") or _within(t, "sakuin.search.opensearch")]
    assert not internals, f"{module} imports backend internals {internals}; use sakuin.search.backend"
    if _within(module, "sakuin.search.cli"):
        web = [t for t in targets if _within(t, "sakuin.web") and t != "sakuin.web"]
        assert not web, f"{module} imports web internals {web}; use the sakuin.web package"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_private_names(module: str) -> None:
    for imported, names in _imports(MODULES[module]):
        if imported.startswith("sakuin"):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{module} imports private names {private} from {imported}"


def test_every_package_folder_is_installed_and_the_top_stays_small() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages == listed, f"pyproject's packages differ: missing {packages - listed}, extra {listed - packages}"
    top = [p for p in (ROOT / "search").glob("*.py")]
    assert len(top) <= 10, f"search/ has {len(top)} modules on top: {sorted(p.name for p in top)}"


@pytest.mark.slow
def test_a_wheel_installs_only_sakuin(tmp_path: Path) -> None:
    """``pip install`` claims ``sakuin`` only: neither ``search`` nor ``web`` (web.py owns that name),
    and the wheel carries the web app's templates and static files."""
    import subprocess
    import sys
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("sakuin-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"sakuin"}, tops
    assert "sakuin/search/query/plan.py" in names and "sakuin/web/templates/search.html" in names
    assert "sakuin/web/static/app.js" in names and "sakuin/__main__.py" in names

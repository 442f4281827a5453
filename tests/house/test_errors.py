"""The one error table: every code raised is in it, every row renders, the docs list them all,
and no setting is read outside the configuration module."""

from __future__ import annotations

import ast
import re
import string
import subprocess
import sys

import pytest
from support.paths import ROOT

from sakuin.search import errors
from sakuin.search.config import SETTINGS
from sakuin.search.errors import MESSAGES, QuerySyntaxError, SakuinError

SOURCES = [*(ROOT / "search").rglob("*.py"), *(ROOT / "web").rglob("*.py")]
ERROR_CLASSES = {
    name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, SakuinError)
}


def _raised_keys() -> list[tuple[str, str]]:
    """(place, key) of every ``SomeError("key", …)`` and ``error_response(status, "key")`` in the sources;
    an f-string key (``f"bad_filter_value/{kind}"``) as its literal prefix followed by ``*``."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ERROR_CLASSES or name == "message":
                position = 0
            elif name == "error_response":
                position = 1
            else:
                continue
            if len(node.args) <= position:
                continue
            arg = node.args[position]
            place = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((place, arg.value))
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                found.append((place, f"{arg.values[0].value}*"))
    return found


RAISED = _raised_keys()


def test_the_scan_finds_the_raise_sites() -> None:
    keys = {k for _, k in RAISED}
    assert {
        "unclosed_quote",
        "index_missing",
        "bad_parameter/key",
        "bad_filter_value/*",
        "document_not_found/page",
    } <= keys
    assert len(RAISED) > 40


@pytest.mark.parametrize(("place", "key"), RAISED)
def test_every_raised_code_is_in_the_table(place: str, key: str) -> None:
    if key.endswith("*"):
        assert any(m.key.startswith(key[:-1]) for m in MESSAGES), f"{place}: no row starts with {key[:-1]!r}"
    else:
        assert key in errors.CODES, f"{place}: {key!r} is not in sakuin.search.errors.MESSAGES"


def test_an_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError, match=r"not in sakuin\.search\.errors"):
        QuerySyntaxError("no_such_code")


@pytest.mark.parametrize("row", MESSAGES, ids=lambda m: m.key)
def test_every_row_renders_in_both_languages(row: errors.Message) -> None:
    """Each template's fields, given values of the kind raise sites pass, format without error."""
    params: dict[str, object] = {}
    for template in (row.en, row.ja):
        for _, field, spec, _ in string.Formatter().parse(template):
            if field:
                params[field] = ["a", "b"] if spec in ("list", "colons", "ja_list", "ja_colons", "ja_quoted") else 7
    assert row.english(params) and row.japanese(params)
    assert "{" not in row.english(params).replace("{{", "") or row.key == "bad_body"
    assert re.fullmatch(r"[a-z_0-9]+(/[a-z_0-9]+)?", row.key)


def test_codes_keep_one_status_and_exit() -> None:
    """Variants of a code answer alike (programs see the code, not the variant)."""
    by_code: dict[str, set[tuple[int, str]]] = {}
    for m in MESSAGES:
        if m.key.endswith(("/cli", "/api")):
            continue  # the same condition said where it is seen
        by_code.setdefault(m.code, set()).add((m.status, m.kind))
    assert {c: s for c, s in by_code.items() if len(s) > 1} == {}


def test_docs_list_every_code() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = [m.code for m in MESSAGES if f"`{m.code}`" not in text]
    assert not missing, f"docs/errors.md lacks {missing}: run python scripts/docs.py"


def test_generated_docs_are_current() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "docs.py"), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_settings_are_read_only_in_the_configuration_module() -> None:
    """The environment is read in ``config.py`` only, and every ``SAKUIN_*`` name the code
    mentions is a documented setting (the CLI options name their variables for click)."""
    documented = {s.env for s in SETTINGS.values() if s.env}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        assert set(re.findall(r"SAKUIN_[A-Z_]+", text)) <= documented, path
        if path.name != "config.py":
            assert "os.environ" not in text and "getenv" not in text, f"{path} reads the environment"

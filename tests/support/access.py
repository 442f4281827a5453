"""Access files for tests: users with known tokens, rules, and the headers that sign in."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from sakuin.search.access.users import token_hash


def token_of(name: str) -> str:
    """A test user's token (made up, long enough): ``tok-<name>-…``."""
    return f"tok-{name}-0123456789abcdefghijklmnopqrstuvwxyz"


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(name)}"}


def access_text(
    users: Mapping[str, Iterable[str]],
    rules: Iterable[Mapping[str, Any]] = (),
    default: str = "deny",
    proxy: Mapping[str, Any] | None = None,
) -> str:
    """The TOML of an access file: ``users`` name → groups (tokens from ``token_of``), ``rules`` as
    ``[[allow]]`` tables (values: strings or lists)."""
    lines = [f"default = {json.dumps(default)}", ""]
    for name, groups in users.items():
        lines += [f"[users.{name}]", f'token_sha256 = "{token_hash(token_of(name))}"']
        lines += [f"groups = {json.dumps(list(groups), ensure_ascii=False)}", ""]
    for rule in rules:
        lines.append("[[allow]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in rule.items()]
        lines.append("")
    if proxy is not None:
        lines.append("[proxy]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in proxy.items()]
    return "\n".join(lines) + "\n"


def write_access(path: Path, *args: Any, **kwargs: Any) -> Path:
    """Write an access file (``access_text``) atomically, as an editor that renames would."""
    temp = path.with_name(path.name + ".new")
    temp.write_text(access_text(*args, **kwargs), encoding="utf-8")
    os.replace(temp, path)
    return path


def sign_in(client: FlaskClient, name: str, next_url: str = "/") -> Any:
    """Sign in through the form (with its CSRF token); returns the POST's response."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "the sign-in form has a CSRF token"
    return client.post(
        "/login", data={"user": name, "token": token_of(name), "csrf_token": token.group(1), "next": next_url}
    )


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of a signed-in client's session (from any page's logout form)."""
    page = client.get("/help").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "a signed-in page carries a CSRF token"
    return found.group(1)


# -- a corpus with folders, categories and a word of its own per document ------------------

#: (doc id, category, the document's own word): every document also says 報告 (the common word).
#: legal/d4.md is in legal/ but filed under 人事, so folder and metadata rules differ.
ACCESS_DOCS = [
    ("hr/d1.md", "人事", "ゾルバニア"),
    ("hr/d2.md", "人事", "ゾルバトス"),
    ("legal/d3.md", "法務", "ゾルバリン"),
    ("legal/d4.md", "人事", "ゾルバカン"),
    ("sales/d5.md", "営業", "ゾルバミロ"),
    ("sales/d6.md", "広報", "ゾルバヌフ"),
    ("pub/d7.md", "広報", "ゾルバペラ"),
    ("pub/d8.md", "営業", "ゾルバジュ"),
]
FOLDERS = ("hr/", "legal/", "sales/", "pub/")
CATEGORIES = ("人事", "法務", "営業", "広報")
COMMON = "報告"


def title_of(word: str) -> str:
    return f"{word}の報告書"


def write_access_corpus(folder: Path) -> Path:
    """The documents of ``ACCESS_DOCS`` as Markdown files with front matter, under ``folder``."""
    for doc_id, category, word in ACCESS_DOCS:
        path = folder / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\ncategory: {category}\n---\n# {title_of(word)}\n\n## 概要\n\n{word}についての定例報告。\n\n"
            f"## 詳細\n\n{word}の詳細な報告。\n",
            encoding="utf-8",
        )
    return folder


def readable(rules: Iterable[Mapping[str, Any]], default: str, groups: Iterable[str]) -> set[str]:
    """The model the engine must agree with: the doc ids a user in ``groups`` may read."""
    mine = set(groups)
    out = set()
    for doc_id, category, _ in ACCESS_DOCS:
        named = admitted = False
        for rule in rules:
            conditions = {k: v for k, v in rule.items() if k != "groups"}
            values = {k: [v] if isinstance(v, str) else list(v) for k, v in conditions.items()}
            ok = all(
                any(doc_id.startswith(p) for p in vs) if key == "path" else category in vs for key, vs in values.items()
            )
            if ok:
                named = True
                admitted |= "*" in rule["groups"] or bool(mine & set(rule["groups"]))
        if admitted or (not named and default == "allow"):
            out.add(doc_id)
    return out


__all__ = [
    "ACCESS_DOCS",
    "CATEGORIES",
    "COMMON",
    "FOLDERS",
    "access_text",
    "bearer",
    "csrf_of",
    "readable",
    "sign_in",
    "title_of",
    "token_of",
    "write_access",
    "write_access_corpus",
]

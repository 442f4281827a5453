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


__all__ = ["access_text", "bearer", "csrf_of", "sign_in", "token_of", "write_access"]

"""Tokens and users: ``sakuin auth add-user NAME --group G`` writes a user and prints its token once.

A token is 32 random bytes from ``secrets`` (URL-safe base64, 43 characters): it
cannot be guessed, so the file keeps only its SHA-256 (``token_hash``) and the
token itself exists only in what ``add_user`` returns. The file is edited with
tomlkit, which keeps the comments and layout an administrator wrote; the result is
checked by the same reader as the server's (``authfile.parse``) before it replaces
the old file atomically, so ``add-user`` never leaves a file the server refuses.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

import tomlkit

from sakuin.search.access.authfile import GROUP_NAME, USER_NAME, parse
from sakuin.search.errors import SakuinError

_NEW_FILE = """\
# sakuin access file: who may sign in (users) and what they may read (allow rules).
# Documents no rule names are readable by no one ("deny") or every signed-in user ("allow").
default = "deny"

# [[allow]]
# path = "hr/"          # a folder (or a metadata field: category = "人事")
# groups = ["hr"]       # "*": every signed-in user
"""


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the access file keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def add_user(path: Path | str, name: str, groups: Iterable[str], replace: bool = False) -> str:
    """Add user ``name`` (in ``groups``) to the access file, creating the file if needed, and
    return the new token (the only time it exists in clear). ``replace``: give an existing
    user a new token and these groups. Raises SakuinError (``bad_user_name``, ``user_exists``,
    ``bad_auth_file``)."""
    path = Path(path)
    wanted = list(dict.fromkeys(groups))
    if not USER_NAME.fullmatch(name):
        raise SakuinError("bad_user_name", name=name)
    bad = [g for g in wanted if not GROUP_NAME.fullmatch(g)]
    if bad:
        raise SakuinError("bad_group_name", group=bad[0])
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE
    except OSError as exc:
        raise SakuinError("bad_auth_file", path=str(path), reason=exc.strerror or str(exc)) from None
    parse(text, str(path))  # refuse to edit a file the server would refuse
    document = tomlkit.parse(text)
    users = document.get("users")
    if users is None:
        users = tomlkit.table(is_super_table=True)
        document.add("users", users)
    if name in users and not replace:
        raise SakuinError("user_exists", name=name, path=str(path))
    token = new_token()
    entry = tomlkit.table()
    entry.add("token_sha256", token_hash(token))
    entry.add("groups", wanted)
    users[name] = entry
    updated = tomlkit.dumps(document)
    parse(updated, str(path))
    _write(path, updated)
    return token


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically; a new file is readable by its owner only (it names users)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise SakuinError("bad_auth_file", path=str(path), reason=exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = ["add_user", "new_token", "token_hash"]

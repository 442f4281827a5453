"""The access file (``sakuin serve --auth FILE``): users, rules, trusted proxies; reloaded on change.

::

    default = "deny"                 # documents no rule names: "deny" (the default) or "allow"

    [users.alice]
    token_sha256 = "9f86d0…"         # SHA-256 of the bearer token, hex (sakuin auth add-user)
    groups = ["hr"]

    [[allow]]
    path = "hr/"                     # a folder, as the path: filter; or metadata: category = "人事"
    groups = ["hr"]                  # "*": every signed-in user

    [proxy]                          # optional: an SSO proxy (oauth2-proxy…) signs users in
    addresses = ["127.0.0.1", "10.0.0.0/8"]
    sso = true                       # false: trust only its X-Forwarded-Proto (a TLS proxy)
    user_header = "X-Forwarded-User"     # the defaults
    groups_header = "X-Forwarded-Groups"

Design decisions:

* **Checked whole, refused with one line.** Read with the standard library's strict
  ``tomllib``; every mistake (an unknown key, a hash that is not 64 hex digits, a
  rule with no condition) is a ``SakuinError`` naming the file and what to write,
  so ``sakuin serve --auth`` stops at start instead of guessing.
* **Only hashes are kept.** Tokens are 256-bit random strings (``users.py``), so a
  plain SHA-256 is enough to make a stolen file useless (a slow password hash is
  for guessable passwords); the server compares hashes in constant time.
* **Reloaded, never half-applied** (``AuthFile``): a request checks the file's
  (inode, mtime, size) at most once per ``AUTH_RELOAD_SECONDS``; a changed file is read
  and checked whole and swapped in at once. A file that no longer reads keeps the last
  good rules (and logs why): a typo while editing must neither open every folder nor
  lock everyone out.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sakuin.search.access.rules import Rule, Rules
from sakuin.search.documents.metadata import NAME, PATH
from sakuin.search.errors import SakuinError

log = logging.getLogger("sakuin.access")

#: A user name: what sign-in forms and logs show (no spaces, no markup).
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
#: A group name in ``groups`` (``*`` is every signed-in user).
GROUP_NAME = re.compile(r"\*|[^\s,]{1,64}")
_HASH = re.compile(r"[0-9a-f]{64}")
_TOP_KEYS = ("default", "users", "allow", "proxy")
_USER_KEYS = ("token_sha256", "groups")
_PROXY_KEYS = ("addresses", "sso", "user_header", "groups_header")
_HEADER = re.compile(r"[A-Za-z0-9-]{1,64}")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class User:
    name: str
    token_sha256: str
    groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class Proxy:
    """A proxy in front of the server, trusted only from ``networks``: its ``X-Forwarded-Proto``
    says whether the client used HTTPS and, with ``sso`` (the default), its user and groups
    headers sign the user in."""

    networks: tuple[Network, ...]
    user_header: str = "X-Forwarded-User"
    groups_header: str = "X-Forwarded-Groups"
    sso: bool = True

    def trusts(self, address: str | None) -> bool:
        """Whether a request from ``address`` (the TCP peer) comes from the proxy."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)


@dataclass(frozen=True)
class AuthConfig:
    """One reading of the access file."""

    users: Mapping[str, User] = field(default_factory=dict)
    rules: Rules = field(default_factory=Rules)
    proxy: Proxy | None = None


def load(path: Path | str) -> AuthConfig:
    """Read and check the access file; raises SakuinError (``bad_auth_file``)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SakuinError("bad_auth_file", path=str(path), reason=exc.strerror or str(exc)) from None
    return parse(raw.decode("utf-8", "replace"), str(path))


def parse(text: str, where: str = "the access file") -> AuthConfig:
    """The access file's text → its users, rules and proxy; raises SakuinError (``bad_auth_file``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SakuinError("bad_auth_file", path=where, reason=f"not valid TOML: {exc}") from None
    _known(data, _TOP_KEYS, "the file", where)
    default = data.get("default", "deny")
    if default not in ("allow", "deny"):
        raise SakuinError("bad_auth_file/default", path=where, value=default)
    users_table = data.get("users", {})
    if not isinstance(users_table, dict):
        raise SakuinError("bad_auth_file/user", path=where, name="users")
    users = {name: _user(name, entry, where) for name, entry in users_table.items()}
    rules_list = data.get("allow", [])
    if not isinstance(rules_list, list):
        raise SakuinError("bad_auth_file/rule", path=where, number=1)
    rules = tuple(_rule(i, entry, where) for i, entry in enumerate(rules_list, 1))
    proxy = _proxy(data["proxy"], where) if "proxy" in data else None
    return AuthConfig(users, Rules(rules, default), proxy)


def _known(table: dict[str, Any], keys: tuple[str, ...], what: str, where: str) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SakuinError("bad_auth_file/key", path=where, key=unknown[0], what=what, keys=keys)


def _groups(value: Any, what: str, where: str, empty: bool = False) -> frozenset[str]:
    ok = isinstance(value, list) and (empty or value)
    if not ok or not all(isinstance(g, str) and GROUP_NAME.fullmatch(g) for g in value):
        raise SakuinError("bad_auth_file/groups", path=where, what=what)
    return frozenset(value)


def _user(name: str, entry: Any, where: str) -> User:
    if not USER_NAME.fullmatch(name) or not isinstance(entry, dict):
        raise SakuinError("bad_auth_file/name", path=where, name=name)
    _known(entry, _USER_KEYS, f"users.{name}", where)
    digest = entry.get("token_sha256")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest.lower()):
        raise SakuinError("bad_auth_file/user", path=where, name=name)
    groups = _groups(entry["groups"], f"users.{name}", where, empty=True) if "groups" in entry else frozenset()
    return User(name, digest.lower(), groups)


def _rule(number: int, entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise SakuinError("bad_auth_file/rule", path=where, number=number)
    what = f"allow rule {number}"
    groups = _groups(entry.get("groups"), what, where)
    conditions = []
    for key, value in entry.items():
        if key == "groups":
            continue
        if key != PATH and not NAME.fullmatch(key):
            raise SakuinError("bad_auth_file/key", path=where, key=key, what=what, keys=("path", "groups", "<field>"))
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise SakuinError(
                "bad_auth_file/value", path=where, what=what, key=key, expected="a string or a list of strings"
            )
        conditions.append((key, tuple(values)))
    if not conditions:
        raise SakuinError("bad_auth_file/rule", path=where, number=number)
    return Rule(tuple(conditions), groups)


def _proxy(entry: Any, where: str) -> Proxy:
    if not isinstance(entry, dict):
        raise SakuinError("bad_auth_file/proxy", path=where, value=entry)
    _known(entry, _PROXY_KEYS, "proxy", where)
    addresses = entry.get("addresses")
    if not isinstance(addresses, list) or not addresses:
        raise SakuinError("bad_auth_file/proxy", path=where, value=addresses)
    networks = []
    for address in addresses:
        try:
            networks.append(ipaddress.ip_network(str(address), strict=False))
        except ValueError:
            raise SakuinError("bad_auth_file/proxy", path=where, value=address) from None
    headers: dict[str, Any] = {}
    if "sso" in entry:
        if not isinstance(entry["sso"], bool):
            raise SakuinError("bad_auth_file/value", path=where, what="proxy", key="sso", expected="true or false")
        headers["sso"] = entry["sso"]
    for key in ("user_header", "groups_header"):
        if key in entry:
            if not isinstance(entry[key], str) or not _HEADER.fullmatch(entry[key]):
                raise SakuinError("bad_auth_file/value", path=where, what="proxy", key=key, expected="a header name")
            headers[key] = entry[key]
    return Proxy(tuple(networks), **headers)


class AuthFile:
    """The access file, read at start (raises SakuinError) and again whenever it changes."""

    def __init__(self, path: Path | str, check_seconds: float = 1.0) -> None:
        self.path = Path(path)
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._config = load(self.path)
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            seen = os.stat(self.path)
        except OSError:
            return None
        return (seen.st_ino, seen.st_mtime_ns, seen.st_size)

    def current(self) -> AuthConfig:
        """The rules in force: the file as last read, read again if it changed since."""
        now = time.monotonic()
        if now - self._checked < self.check_seconds:
            return self._config
        with self._lock:
            if now - self._checked < self.check_seconds:
                return self._config
            self._checked = now
            stamp = self._stat()
            if stamp == self._stamp:
                return self._config
            try:
                config = load(self.path)
            except SakuinError as exc:
                log.error("access file not reloaded, the last good rules stay in force: %s", exc)
                self._stamp = stamp  # said once per change, not per request
                return self._config
            self._config, self._stamp = config, stamp
            log.warning("access file reloaded: %s", self.path)
            return config


__all__ = ["GROUP_NAME", "USER_NAME", "AuthConfig", "AuthFile", "Proxy", "User", "load", "parse"]

"""Who is asking: a bearer token, the session cookie, or a trusted SSO proxy's headers.

Design decisions:

* **Constant-time comparisons** (``hmac.compare_digest``) of SHA-256 hashes, against
  every user's hash without stopping at the first match, so neither the time nor
  the order of users tells an attacker anything about a token.
* **The proxy's word only from the proxy.** ``X-Forwarded-User`` and
  ``X-Forwarded-Groups`` (names configurable) are read only when the TCP peer is one
  of the access file's ``[proxy] addresses``; from anyone else they are ignored, as
  if absent (a client can always send them). A proxy user's groups are the header's
  (comma-separated, as oauth2-proxy sends them) plus any the file gives that name.
* **A session remembers a user, not their rights.** The cookie holds the user's name
  and a fingerprint of their token hash; the groups are read from the file on every
  request, so editing a user's groups applies at once, and a new token (or removing
  the user) ends their sessions.
* **A malformed credential is a wrong one** (``bad_token``): never a 500, never
  silently anonymous.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from flask import request, session

from sakuin.search.access.authfile import GROUP_NAME, USER_NAME, AuthConfig, User
from sakuin.search.access.users import token_hash
from sakuin.search.errors import AuthFailed

compare_digest = hmac.compare_digest  # one name, so a test can watch that it is used

#: Compared against when a name is unknown, so an unknown name costs what a known one does.
_NOBODY = "0" * 64
#: Longest token read from a request (ours are 43 characters).
MAX_TOKEN = 512


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in reader: their name, their groups and how they signed in."""

    name: str
    groups: frozenset[str]
    via: Literal["token", "session", "proxy"]


def user_with_token(config: AuthConfig, token: str) -> User | None:
    """The user whose token this is; every user's hash is compared, in constant time."""
    if not token or len(token) > MAX_TOKEN:
        return None
    digest = token_hash(token)
    found = None
    for user in config.users.values():
        if compare_digest(digest, user.token_sha256):
            found = user
    return found


def check_login(config: AuthConfig, name: str, token: str) -> User | None:
    """The sign-in form: ``name``'s user if ``token`` is theirs."""
    user = config.users.get(name)
    digest = token_hash(token[:MAX_TOKEN])
    ok = compare_digest(digest, user.token_sha256 if user is not None else _NOBODY)
    return user if ok and user is not None else None


def fingerprint(user: User) -> str:
    """What a session keeps of its user's token hash: enough to notice a new token, nothing to sign in with."""
    return hashlib.sha256(b"sakuin-session:" + user.token_sha256.encode()).hexdigest()[:32]


def identify(config: AuthConfig) -> Principal | None:
    """The request's principal, or None; raises AuthFailed (``bad_token``) for wrong credentials."""
    proxy = config.proxy
    if proxy is not None and proxy.sso and proxy.trusts(request.remote_addr):
        name = request.headers.get(proxy.user_header, "").strip()
        if name:
            if not USER_NAME.fullmatch(name):
                raise AuthFailed("bad_token")
            listed = request.headers.get(proxy.groups_header, "")
            groups = {g.strip() for g in listed.split(",") if g.strip() and GROUP_NAME.fullmatch(g.strip())}
            known = config.users.get(name)
            return Principal(name, frozenset(groups | (known.groups if known else set())), "proxy")
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        user = user_with_token(config, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise AuthFailed("bad_token")
        return Principal(user.name, user.groups, "token")
    name, kept = session.get("user"), session.get("fp")
    if isinstance(name, str) and isinstance(kept, str):
        user = config.users.get(name)
        if user is not None and compare_digest(fingerprint(user), kept):
            return Principal(user.name, user.groups, "session")
    return None


def is_https(config: AuthConfig) -> bool:
    """Whether the client reached us over HTTPS: directly, or through a trusted proxy that says so."""
    if request.scheme == "https":
        return True
    proxy = config.proxy
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proxy is not None and forwarded == "https" and proxy.trusts(request.remote_addr)


__all__ = [
    "Principal",
    "check_login",
    "compare_digest",
    "fingerprint",
    "identify",
    "is_https",
    "user_with_token",
]

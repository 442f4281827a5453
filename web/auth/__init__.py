"""Authentication for ``sakuin serve --auth FILE``: who is asking, and the filter of what they may read.

* ``identity.py``: a request's ``Principal`` from a bearer token, the session
  cookie, or a trusted SSO proxy's headers; tokens compared in constant time;
* ``sessions.py``: the session cookie (signed, HttpOnly, SameSite=Strict, Secure
  when the request came over HTTPS) and its lifetime;
* ``guard.py``: before every request, the principal and its ``Access`` (from the
  access file's rules, ``sakuin.search.access``) on ``flask.g``; a 401 for the API
  or the sign-in page for everything else when nobody is signed in; CSRF checks;
* ``login.py``: ``/login`` and ``/logout``.

Without ``--auth`` none of this is installed and ``current_access()`` is None: every
document is readable, as before. With it, anything that reads the index reads it
through the request's access (``sakuin.web.common.engine``), so a page or an
endpoint cannot forget it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from sakuin.search.access.authfile import AuthFile
from sakuin.web.auth import guard, login, sessions
from sakuin.web.auth.guard import AUTH_KEY, current_access, current_principal
from sakuin.web.auth.identity import Principal


def init_app(app: Flask, path: Path | str) -> None:
    """Install authentication from the access file at ``path`` (read now: raises SakuinError)."""
    app.extensions[AUTH_KEY] = AuthFile(path, check_seconds=float(app.config["AUTH_RELOAD_SECONDS"]))
    sessions.init_app(app)
    guard.init_app(app)
    app.register_blueprint(login.bp)


__all__ = ["AUTH_KEY", "Principal", "current_access", "current_principal", "init_app"]

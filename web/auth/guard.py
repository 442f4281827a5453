"""Before every request: who is asking, what they may read, and whether they may ask at all.

The principal (``identity.identify``) and its ``Access`` (the access file's rules,
``Rules.access_for``) go on ``flask.g``; ``current_access()`` is what every read of the
index passes to the backend (``sakuin.web.common.engine``). Without a principal the
access is ``Access.nothing()`` (fail closed: an error page that shows examples shows
none), and any address but the public ones (``PUBLIC``: the health check, the sign-in
page, static files, the OpenAPI document) answers 401 ``auth_required`` under
``/api`` (with ``WWW-Authenticate: Bearer``) or redirects to the sign-in page.

CSRF (Flask-WTF): a POST is checked when the browser's session cookie is what
authenticates it (a form or ``fetch`` from the pages: the token comes in the form or
the ``X-CSRFToken`` header), and always on the sign-in form; a request with a bearer
token carries no ambient credential a forged request could borrow, so it is not.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, redirect, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from sakuin.search.access.authfile import AuthConfig, AuthFile
from sakuin.search.access.model import Access
from sakuin.search.errors import AuthFailed
from sakuin.web.auth.identity import Principal, identify
from sakuin.web.errors import error_response, wants_json

AUTH_KEY = "sakuin.auth"
CSRF_KEY = "sakuin.csrf"
#: Endpoints anyone may reach.
PUBLIC = frozenset({"static", "health.healthz", "auth.login", "auth.login_post", "api.openapi"})


def init_app(app: Flask) -> None:
    app.extensions[CSRF_KEY] = CSRFProtect(app)
    app.before_request(authenticate)
    app.context_processor(lambda: {"principal": current_principal()})
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(AuthFailed, _auth_failed)


def enabled() -> bool:
    return AUTH_KEY in current_app.extensions


def auth_config() -> AuthConfig:
    """The access file in force for this request (read once per request)."""
    if "sakuin_auth" not in g:
        authfile: AuthFile = current_app.extensions[AUTH_KEY]
        g.sakuin_auth = authfile.current()
    return g.sakuin_auth  # type: ignore[no-any-return]


def current_principal() -> Principal | None:
    return g.get("sakuin_principal")


def current_access() -> Access | None:
    """What this request may read: None without ``--auth`` (everything), else its principal's
    access, or nothing at all before (or without) a principal."""
    if not enabled():
        return None
    access = g.get("sakuin_access")
    return access if access is not None else Access.nothing()


def authenticate() -> Response | None:
    config = auth_config()
    principal = identify(config)  # raises AuthFailed (bad_token)
    g.sakuin_principal = principal
    g.sakuin_access = config.rules.access_for(principal.groups) if principal else Access.nothing()
    if principal is None and request.endpoint not in PUBLIC:
        raise AuthFailed("auth_required")
    if request.method == "POST" and (request.endpoint == "auth.login_post" or _by_cookie(principal)):
        current_app.extensions[CSRF_KEY].protect()
    return None


def _by_cookie(principal: Principal | None) -> bool:
    return principal is not None and principal.via == "session"


def _auth_failed(exc: AuthFailed) -> Response:
    if wants_json():
        challenge = 'Bearer realm="sakuin"' + (', error="invalid_token"' if exc.code == "bad_token" else "")
        return error_response(401, exc.row.key, headers={"WWW-Authenticate": challenge})
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))  # type: ignore[return-value]


def _csrf_failed(exc: Any) -> Response:
    return error_response(403, "csrf_failed")


__all__ = ["AUTH_KEY", "PUBLIC", "auth_config", "current_access", "current_principal", "enabled", "init_app"]

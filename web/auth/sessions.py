"""The session cookie of the pages: signed, HttpOnly, SameSite=Strict, Secure over HTTPS.

Flask's signed cookie sessions (itsdangerous) hold the signed-in user's name, a
fingerprint of their token hash (``identity.fingerprint``) and Flask-WTF's CSRF
token; nothing is kept on the server, so any worker process answers any request.
The signing key is made when the app is created: ``sakuin serve`` creates it once,
before forking its workers, so they share it; a restart signs everyone out (the
price of not keeping a secret on disk). ``SameSite=Strict`` keeps the cookie off
requests started by other sites, and ``Secure`` is set whenever the request came
over HTTPS (directly, or through a trusted proxy's ``X-Forwarded-Proto``), which a
fixed setting could not know.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from sakuin.search.config import SESSION_HOURS
from sakuin.web.auth.identity import is_https

#: The cookie's name (Flask's default, ``session``, says nothing about whose it is).
COOKIE = "sakuin_session"


class Sessions(SecureCookieSessionInterface):  # type: ignore[misc]
    """Flask's cookie sessions, with ``Secure`` decided per request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from sakuin.web.auth.guard import auth_config  # the file in force for this request

        return bool(app.config.get("SESSION_COOKIE_SECURE")) or is_https(auth_config())


def init_app(app: Flask) -> None:
    app.secret_key = app.config.get("SECRET_KEY") or secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(app.config.get("SESSION_HOURS", SESSION_HOURS))),
        # Flask-WTF: every POST is checked by the guard (not by default), with no time limit of
        # its own (the sign-in cookie's lifetime is the limit), and no referrer check the proxy could break.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
    )
    app.session_interface = Sessions()


__all__ = ["COOKIE", "Sessions", "init_app"]

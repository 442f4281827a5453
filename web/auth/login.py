"""``/login`` and ``/logout``: the pages' sign-in with a user name and token, and the way out.

The form posts the user's name and token (what ``sakuin auth add-user`` printed) with
its CSRF token; a right pair starts a fresh session (the old cookie's contents,
CSRF token included, are dropped, so a session fixed before sign-in is worth
nothing) and goes on to ``next``, which must be a path on this site (never
``//host`` or a scheme: no open redirect). A wrong pair shows the form again with
401 and the same message whichever half was wrong.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from sakuin.search.errors import message
from sakuin.web.auth.guard import auth_config, current_principal
from sakuin.web.auth.identity import check_login, fingerprint

bp = Blueprint("auth", __name__)

#: Longest user name and token the form reads (the file's limits are shorter).
MAX_FIELD = 512


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > 4000:
        return url_for("pages.search")
    if any(c in target for c in "\r\n\t\\"):
        return url_for("pages.search")
    return target


@bp.get("/login")
def login() -> str | Response:
    principal = current_principal()
    target = safe_next(request.args.get("next"))
    if principal is not None and principal.via != "session":  # a proxy or token user has nothing to sign in to
        return redirect(target)  # type: ignore[return-value]
    return render_template("login.html", next=target, error=None, name="", q="")


@bp.post("/login")
def login_post() -> tuple[str, int] | Response:
    name = (request.form.get("user") or "")[:MAX_FIELD].strip()
    token = (request.form.get("token") or "")[:MAX_FIELD].strip()
    target = safe_next(request.form.get("next"))
    user = check_login(auth_config(), name, token)
    if user is None:
        error = message("bad_login").japanese({})
        return render_template("login.html", next=target, error=error, name=name, q=""), 401
    session.clear()
    session["user"] = user.name
    session["fp"] = fingerprint(user)
    session.permanent = True
    return redirect(target)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


__all__ = ["MAX_FIELD", "bp", "safe_next"]

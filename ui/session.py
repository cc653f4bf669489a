"""Signed, expiring sign-in sessions that survive a refresh and a new tab.

A Streamlit session ends with its websocket (a refresh, a new tab, a link). After a successful
sign-in the app therefore gives the browser a **signed cookie** (HMAC-SHA256 over user, role,
session id, issue time and last activity) and, on a session's first run, takes the sign-in back
from it (``st.context.cookies`` carries the cookies of the websocket's request).

* The cookie is **HttpOnly** and ``SameSite=Strict``: page scripts cannot read it and other sites
  cannot send it. Streamlit cannot set a cookie from a script run, so the run hands a single-use
  ticket (random, valid for a minute, kept in this process) to a tiny script in the page, which
  posts it to :data:`ROUTE`, served by ``serve.py`` (``st.App`` custom route) with ``Set-Cookie``.
  The token itself never appears in the page.
* It **expires** after :data:`IDLE_S` without activity (the browser drops it, and the server
  refuses a token whose last activity is older) and at most :data:`MAX_AGE_S` after sign-in;
  activity re-issues it every :data:`REFRESH_S`.
* Sign-out and expiry revoke the session id on the server (``<stem>.sessions.json``), so a copied
  cookie stops working at once; a user disabled, removed or given another role loses every session
  at the next run (the users are checked on every run).
* The signing key is ``$MADANG_SESSION_SECRET`` or a random key created once, owner-only, beside
  the data file (``<stem>.session.key``); replacing it ends every session.

Without ``serve.py`` (plain ``streamlit run app.py``) the ticket post finds no route: sign-in then
lasts as long as the browser tab's session, as before.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from data.db import default_db_path, users_path
from data.users import active_role

COOKIE = "madang_session"
ROUTE = "/api/session"
AUTH_KEY = "auth"              # session state: {"user", "role", "sid", "iat", "seen", "issued"}
_PENDING = "_session_ticket"  # session state: a ticket the page has still to post
_EXPIRED = "_session_expired"  # session state: set when an idle session was ended (shown on sign-in)
IDLE_S = float(os.environ.get("MADANG_SESSION_IDLE_MINUTES", "30")) * 60
MAX_AGE_S = float(os.environ.get("MADANG_SESSION_MAX_HOURS", "12")) * 3600
REFRESH_S = min(60.0, IDLE_S / 4)
TICKET_S = 60.0


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    user: str
    role: str
    sid: str
    iat: float   # signed in at (epoch seconds)
    seen: float  # last activity when the token was issued


# ------------------------------------------------------------------ tokens (no Streamlit needed)
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: Claims, key: bytes) -> str:
    body = _b64(json.dumps({"u": claims.user, "r": claims.role, "s": claims.sid, "i": claims.iat,
                            "t": claims.seen}, separators=(",", ":")).encode("utf-8"))
    return body + "." + _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def unsign(token: str, key: bytes, *, now: float | None = None) -> Claims | None:
    """The token's claims if its signature is right and it has not expired; else None."""
    try:
        body, mac = token.split(".")
        if not hmac.compare_digest(_unb64(mac), hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()):
            return None
        raw = json.loads(_unb64(body))
        claims = Claims(str(raw["u"]), str(raw["r"]), str(raw["s"]), float(raw["i"]), float(raw["t"]))
    except (ValueError, KeyError, TypeError, UnicodeError):
        return None
    now = time.time() if now is None else now
    if now - claims.seen > IDLE_S or now - claims.iat > MAX_AGE_S or claims.seen > now + 60:
        return None
    return claims


_key_lock = threading.Lock()


def secret_key(db_path: Path | str) -> bytes:
    """The signing key: ``$MADANG_SESSION_SECRET``, else a random key kept owner-only beside the data."""
    configured = os.environ.get("MADANG_SESSION_SECRET")
    if configured:
        return configured.encode("utf-8")
    p = Path(db_path)
    path = p.with_name(p.stem + ".session.key")
    with _key_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # never replaces a key another process created meanwhile
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        return path.read_bytes()


# ------------------------------------------------------------------ revoked session ids
_revoked_lock = threading.Lock()


def _revoked_path(db_path: Path | str) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".sessions.json")


def _revoked(db_path: Path | str) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(_revoked_path(db_path).read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def revoke(db_path: Path | str, sid: str) -> None:
    """Refuse session ``sid`` from now on (kept until no token of it could still be valid)."""
    path = _revoked_path(db_path)
    now = time.time()
    with _revoked_lock:
        kept = {k: v for k, v in _revoked(db_path).items() if v > now}
        kept[sid] = now + MAX_AGE_S
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(kept, fh)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def is_revoked(db_path: Path | str, sid: str) -> bool:
    return sid in _revoked(db_path)


def valid(token: str, db_path: Path | str, *, now: float | None = None) -> Claims | None:
    """Claims of a cookie that is signed, unexpired, not revoked, for a user still active in that role."""
    claims = unsign(token, secret_key(db_path), now=now)
    if claims is None or is_revoked(db_path, claims.sid):
        return None
    return claims if active_role(users_path(db_path), claims.user) == claims.role else None


# ------------------------------------------------------------------ tickets and the cookie route
_tickets: dict[str, tuple[float, str | None]] = {}  # ticket -> (expires, token to set | None = clear)
_tickets_lock = threading.Lock()


def _ticket(token: str | None) -> str:
    now = time.monotonic()
    ticket = secrets.token_urlsafe(24)
    with _tickets_lock:
        for old in [k for k, (exp, _) in _tickets.items() if exp < now]:
            del _tickets[old]
        _tickets[ticket] = (now + TICKET_S, token)
    return ticket


def redeem(ticket: str) -> tuple[bool, str | None]:
    """(known, token) for a ticket, which is then gone; token None means: clear the cookie."""
    with _tickets_lock:
        entry = _tickets.pop(ticket, None)
    if entry is None or entry[0] < time.monotonic():
        return False, None
    return True, entry[1]


async def _cookie_endpoint(request: Any) -> Any:
    """POST {"ticket": ...}: set (or clear) the session cookie the ticket stands for."""
    from starlette.responses import Response

    try:
        ticket = str((await request.json())["ticket"])
    except (ValueError, KeyError, TypeError):
        return Response(status_code=400)
    known, token = redeem(ticket)
    if not known:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    if token is None:
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    else:
        response.set_cookie(COOKIE, token, max_age=int(IDLE_S), path="/", secure=secure, httponly=True,
                            samesite="strict")
    return response


def routes() -> list[Any]:
    """The HTTP route serve.py adds to Streamlit's server."""
    from starlette.routing import Route

    return [Route(ROUTE, _cookie_endpoint, methods=["POST"])]


# ------------------------------------------------------------------ the Streamlit side
def _request_cookie() -> str | None:
    """The session cookie of the request that opened this websocket (tests replace this)."""
    try:
        token = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):
        return None
    return token if isinstance(token, str) else None


def _issue(auth: dict, now: float) -> None:
    claims = Claims(auth["user"], auth["role"], auth["sid"], auth["iat"], now)
    st.session_state[_PENDING] = _ticket(sign(claims, secret_key(default_db_path())))
    auth["issued"] = now


def begin(user: str, role: str, *, via: str = "password") -> None:
    """After a correct password (or the identity provider's sign-in, ``via="provider"``): the
    session's sign-in, and a cookie for the next runs and tabs."""
    now = time.time()
    auth = {"user": user, "role": role, "sid": secrets.token_urlsafe(16), "iat": now, "seen": now, "via": via}
    st.session_state[AUTH_KEY] = auth
    st.session_state.pop(_EXPIRED, None)
    _issue(auth, now)


def end(*, expired: bool = False) -> None:
    """Sign out (or expire): revoke the session id, forget the sign-in, clear the cookie.

    Signed in through the identity provider, the provider's identity cookie goes too (``st.logout``),
    or the sign-in page would sign the same person straight back in.
    """
    auth = st.session_state.pop(AUTH_KEY, None)
    if auth and auth.get("sid"):
        revoke(default_db_path(), auth["sid"])
    st.session_state[_PENDING] = _ticket(None)
    if expired:
        st.session_state[_EXPIRED] = True
    if auth and auth.get("via") == "provider" and provider_configured() and st.user.is_logged_in:
        st.logout()


def provider_configured() -> bool:
    """Whether this deployment signs in through its identity provider: an ``[auth]`` section in
    ``.streamlit/secrets.toml`` (Streamlit's native OpenID Connect, ``st.login``). The ministry's
    single sign-on then proves who someone is; our users store still decides their role and may
    disable them, so an identity the store does not know is denied."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def current() -> tuple[str, str] | None:
    """(user, role) of this session, taken from the cookie on a fresh session; idle sessions end here.

    Called once per run by app.py before anything else: it also notes the activity and re-issues
    the cookie when it is due.
    """
    now = time.time()
    db_path = default_db_path()
    auth = st.session_state.get(AUTH_KEY)
    if auth is None:
        token = _request_cookie()
        claims = valid(token, db_path, now=now) if token else None
        if claims is None or st.session_state.get(_EXPIRED):
            return None
        auth = {"user": claims.user, "role": claims.role, "sid": claims.sid, "iat": claims.iat,
                "seen": claims.seen, "issued": claims.seen}
        st.session_state[AUTH_KEY] = auth
    seen = auth.get("seen", now)
    if now - seen > IDLE_S or now - auth.get("iat", now) > MAX_AGE_S:
        end(expired=True)
        return None
    if auth.get("sid") and (active_role(users_path(db_path), auth["user"]) != auth["role"]
                            or is_revoked(db_path, auth["sid"])):
        end()
        return None
    auth["seen"] = now
    if auth.get("sid") and now - auth.get("issued", 0) > REFRESH_S:
        _issue(auth, now)
    return auth["user"], auth["role"]


def expired_notice() -> bool:
    """Whether this session was just ended for being idle (the sign-in page says so)."""
    return bool(st.session_state.get(_EXPIRED))


def _outstanding(ticket: str) -> bool:
    with _tickets_lock:
        entry = _tickets.get(ticket)
    return entry is not None and entry[0] >= time.monotonic()


def flush() -> None:
    """Post a pending ticket from the page (an invisible element).

    Drawn on every run until the route has redeemed the ticket (or it expired): a run cut short by a
    rerun may never reach the browser, and an unchanged element is not executed twice.
    """
    ticket = st.session_state.get(_PENDING)
    if ticket is None:
        return
    if not _outstanding(ticket):
        del st.session_state[_PENDING]
        return
    body = json.dumps({"ticket": ticket})
    st.html(f"<script>fetch({json.dumps(ROUTE)}, {{method: 'POST', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
            f"</script>", unsafe_allow_javascript=True)

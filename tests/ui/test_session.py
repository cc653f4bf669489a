"""Sessions that survive a refresh: signed cookies, expiry, revocation, deep links and access denied."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from bench.harness import APP
from data.db import users_path
from data.users import add_user, remove_user, set_disabled
from tests.ui.helpers import texts
from ui import session, signin


@pytest.fixture
def db(private_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the mini database and its users (sessions write a key and a revocation list)."""
    monkeypatch.setattr(signin, "_sleep", lambda _s: None)
    return private_env


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="_signin_user").input(name)
    at.text_input(key="_signin_password").input(password)
    return at.button[0].click().run()


def _cookie_of(at: AppTest) -> str | None:
    """What the page's script would post: redeem the pending ticket as the cookie route does."""
    ticket = at.session_state["_session_ticket"]
    known, token = session.redeem(ticket)
    assert known
    return token


def _fresh(monkeypatch: pytest.MonkeyPatch, cookie: str | None, query: dict[str, str] | None = None,
           page: str | None = None) -> AppTest:
    """A new browser session (a refresh or a new tab) that sends ``cookie``."""
    monkeypatch.setattr(session, "_request_cookie", lambda: cookie)
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:  # what the browser asks for at /<page>: the page registered under that URL path
        at._page_hash = calc_hash(page)
        at.run()
    return at


KEY = b"k" * 32


def _claims(**kw: float | str) -> session.Claims:
    now = time.time()
    base = {"user": "policy", "role": "policy", "sid": "s1", "iat": now - 10, "seen": now - 5}
    return session.Claims(**{**base, **kw})  # type: ignore[arg-type]


def test_tokens_are_signed_and_expire() -> None:
    token = session.sign(_claims(), KEY)
    assert session.unsign(token, KEY) == _claims(iat=session.unsign(token, KEY).iat, seen=session.unsign(token, KEY).seen)
    body, mac = token.split(".")
    forged = session.sign(_claims(role="admin"), KEY).split(".")[0]
    assert session.unsign(f"{forged}.{mac}", KEY) is None            # another body under the same MAC
    assert session.unsign(token, b"x" * 32) is None                     # another key
    assert session.unsign(token + "A", KEY) is None and session.unsign("garbage", KEY) is None
    now = time.time()
    assert session.unsign(session.sign(_claims(seen=now - session.IDLE_S - 1), KEY), KEY) is None   # idle
    assert session.unsign(session.sign(_claims(iat=now - session.MAX_AGE_S - 1, seen=now), KEY), KEY) is None


def test_a_refresh_keeps_the_sign_in_and_the_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fresh(monkeypatch, None)
    _sign_in(at, "policy", "policy-demo")
    cookie = _cookie_of(at)
    assert cookie and "policy-demo" not in cookie
    again = _fresh(monkeypatch, cookie, {"region": "11", "lang": "en"}, page="uptake")
    assert not again.exception
    assert again.session_state["auth"]["user"] == "policy"
    assert again.title[0].value == "Program uptake" and again.multiselect(key="region").value == ["11"]


def test_a_deep_link_opens_after_signing_in(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fresh(monkeypatch, None, {"region": "11"}, page="uptake")
    assert not at.exception and "Page not found" not in texts(at)
    assert at.text_input(key="_signin_user") is not None                 # the sign-in form, at /uptake
    _sign_in(at, "policy", "policy-demo")
    assert not at.exception
    assert at.title[0].value == "지원사업 활용 현황" and at.multiselect(key="region").value == ["11"]


@pytest.mark.parametrize("lang, title", [("ko", "이 화면을 볼 권한이 없습니다"), ("en", "You may not open this view")])
def test_a_forbidden_link_says_access_denied(db: Path, monkeypatch: pytest.MonkeyPatch, lang: str, title: str) -> None:
    at = _fresh(monkeypatch, None, {"lang": lang}, page="brokers")
    _sign_in(at, "policy", "policy-demo")
    assert not at.exception
    assert at.title[0].value == title and "감사담당" in texts(at) + "감사담당" and not at.dataframe
    assert at.session_state["auth"]["role"] == "policy"


def test_sign_out_revokes_the_cookie(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fresh(monkeypatch, None)
    _sign_in(at, "auditor", "auditor-demo")
    cookie = _cookie_of(at)
    at.button(key="_signout").click().run()
    assert "auth" not in at.session_state
    assert _cookie_of(at) is None                                         # the route is told to clear it
    copied = _fresh(monkeypatch, cookie)                                  # a copy kept elsewhere
    assert "auth" not in copied.session_state and copied.text_input(key="_signin_user") is not None


def test_disabled_removed_or_changed_users_lose_their_sessions(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fresh(monkeypatch, None)
    _sign_in(at, "evaluator", "evaluator-demo")
    other = _fresh(monkeypatch, None)                                      # the same user in another browser
    _sign_in(other, "evaluator", "evaluator-demo")
    cookie = _cookie_of(other)
    set_disabled(users_path(db), "evaluator", True)
    at.run()
    assert "auth" not in at.session_state                                 # the open session ends
    assert "auth" not in _fresh(monkeypatch, cookie).session_state         # and the cookie is refused
    set_disabled(users_path(db), "evaluator", False)
    assert _fresh(monkeypatch, cookie).session_state["auth"]["user"] == "evaluator"
    add_user(users_path(db), "evaluator", "evaluator-demo", "auditor", rounds=4)   # another role now
    assert "auth" not in _fresh(monkeypatch, cookie).session_state
    remove_user(users_path(db), "evaluator")
    assert "auth" not in _fresh(monkeypatch, cookie).session_state


def test_an_idle_session_expires(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fresh(monkeypatch, None)
    _sign_in(at, "policy", "policy-demo")
    cookie = _cookie_of(at)
    at.session_state["auth"]["seen"] = time.time() - session.IDLE_S - 1
    at.run()
    assert "auth" not in at.session_state and "오랫동안 사용하지 않아" in texts(at)
    assert "auth" not in _fresh(monkeypatch, cookie).session_state


def test_the_cookie_route_sets_an_httponly_strict_cookie_once() -> None:
    from starlette.applications import Starlette

    app = Starlette(routes=session.routes())
    ticket = session._ticket("TOKEN")

    def post(body: bytes) -> list[dict]:
        sent: list[dict] = []
        scope = {"type": "http", "method": "POST", "path": session.ROUTE, "headers": [(b"content-type", b"application/json")],
                 "scheme": "http", "server": ("127.0.0.1", 80), "query_string": b"", "root_path": ""}

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        asyncio.run(app(scope, receive, send))
        return sent

    first = post(json.dumps({"ticket": ticket}).encode())
    assert first[0]["status"] == 204
    cookie = dict(first[0]["headers"])[b"set-cookie"].decode().lower()
    assert cookie.startswith(f"{session.COOKIE}=token") and "httponly" in cookie and "samesite=strict" in cookie
    assert f"max-age={int(session.IDLE_S)}" in cookie
    assert post(json.dumps({"ticket": ticket}).encode())[0]["status"] == 403   # single use
    assert post(b"not json")[0]["status"] == 400

"""The sign-in form: bcrypt check, the same answer for every failure, a growing delay, a per-client limit.

Two brakes, both counted across the whole process (a fresh browser session resets neither) over
the last :data:`WINDOW_S` seconds:

* **per client** (its address): after :data:`CLIENT_LIMIT` failures, whatever the names tried,
  that client's attempts are refused without checking until the window has passed, so spraying
  many names from one place costs as much as guessing one;
* **per user name**: the delay before a check doubles with each failure *from this client* for that
  name (0, 0.5, 1, 2, 4, 8 s). Failures from other clients add at most :data:`OTHERS_DELAY_S`, so
  someone guessing the admin's password elsewhere cannot keep the real admin out.

Delays and answers are the same for names that exist and names that do not.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict

import streamlit as st

from data import privacy
from data.db import default_db_path, users_path
from data.users import active_role, verify
from ui import cache, session
from ui.i18n import t
from ui.shell import current_lang, language_switch

MAX_DELAY_S = 8.0
OTHERS_DELAY_S = 0.5   # the most that failures from other clients add to this client's delay
CLIENT_LIMIT = 20      # failures per client per window before its attempts are refused
_sleep = time.sleep  # tests replace this to record the delays instead of waiting


class FailureLog:
    """Failed sign-ins per user name across all sessions of this process (for the growing delay)."""

    WINDOW_S = 900.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, list[float]] = defaultdict(list)

    def count(self, name: str) -> int:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._times[name] if now - t < self.WINDOW_S]
            self._times[name] = recent
            return len(recent)

    def add(self, name: str) -> None:
        with self._lock:
            self._times[name].append(time.monotonic())

    def clear(self, name: str) -> None:
        with self._lock:
            self._times.pop(name, None)



WINDOW_S = FailureLog.WINDOW_S


def failure_log() -> FailureLog:
    """The process-wide failure log (one for all sessions: a fresh browser session resets nothing)."""
    return cache.shared("signin.failures", FailureLog)


def delay_for(failures: int) -> float:
    """Seconds to wait before checking, after ``failures`` recent failures: 0, 0.5, 1, 2, 4, 8, 8, ..."""
    return 0.0 if failures <= 0 else min(0.5 * 2 ** (failures - 1), MAX_DELAY_S)


def client_address() -> str:
    """The client's address as the server saw it (``unknown`` when Streamlit does not know it)."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"


def sign_in_page() -> None:
    """The sign-in form, shown at every registered URL while signed out (the URL is kept)."""
    language_switch()
    lang = current_lang()
    st.title(t("app.name", lang))
    st.caption(t("app.tagline", lang))
    if session.expired_notice():
        st.info(t("signin.expired", lang), icon=":material/timer_off:")
    if session.provider_configured():
        _provider_sign_in(lang)
    with st.form("signin", border=True):
        st.subheader(t("signin.title", lang))
        name = st.text_input(t("signin.user", lang), key="_signin_user")
        password = st.text_input(t("signin.password", lang), type="password", key="_signin_password")
        submitted = st.form_submit_button(t("signin.submit", lang), type="primary")
    st.caption(t("signin.demo", lang))
    if not submitted:
        return
    name = name.strip()
    client = client_address()
    log = failure_log()
    if log.count(f"client:{client}") >= CLIENT_LIMIT:
        st.error(t("signin.too_many", lang, minutes=int(WINDOW_S // 60)), icon=":material/block:")
        return
    own = log.count(f"pair:{client}:{name}")
    wait = max(delay_for(own), min(delay_for(log.count(f"user:{name}") - own), OTHERS_DELAY_S))
    _sleep(wait)
    db_path = default_db_path()
    role = verify(users_path(db_path), name, password)
    if role is None:
        for key in (f"client:{client}", f"pair:{client}:{name}", f"user:{name}"):
            log.add(key)
        st.error(t("signin.failed", lang), icon=":material/error:")
        if wait:
            st.caption(t("signin.wait", lang, seconds=wait))
        return
    log.clear(f"pair:{client}:{name}")
    privacy.log_access(db_path, name, role, "sign_in", None)   # first: no session without its log entry
    session.begin(name, role)
    st.session_state.pop("_signin_password", None)
    st.rerun()


def _provider_sign_in(lang: str) -> None:
    """Single sign-on through the ministry's identity provider (``st.login``); the person's e-mail
    is their user name in our store, which gives the role. Unknown or disabled: denied, and (as a
    wrong password) nothing is written to the access log, whose rows all carry a role."""
    if not st.user.is_logged_in:
        st.button(t("signin.provider", lang), key="_signin_provider", type="primary",
                  icon=":material/badge:", on_click=st.login)
        return
    name = str(st.user.get("email") or "")
    db_path = default_db_path()
    role = active_role(users_path(db_path), name) if name else None
    if role is None:
        st.error(t("signin.provider_unknown", lang, user=name or "?"), icon=":material/block:")
        st.button(t("signin.provider_other", lang), key="_signin_provider_out", on_click=st.logout)
        return
    privacy.log_access(db_path, name, role, "sign_in", None)   # first: no session without its log entry
    session.begin(name, role, via="provider")
    st.rerun()

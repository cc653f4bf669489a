"""The sign-in form: bcrypt check, the same answer for every failure, and a growing delay.

The delay before a check doubles with each recent failure for that user name, counted both in this
session and across the whole process (a fresh browser session does not reset it); it is the same
for names that exist and names that do not, so it reveals nothing about which names are real.
"""
from __future__ import annotations

import time

import streamlit as st

from data import privacy
from data.db import default_db_path, users_path
from data.users import verify
from ui import cache
from ui.i18n import t
from ui.shell import AUTH_KEY, current_lang, language_switch

_SESSION_FAILURES = "_signin_failures"
MAX_DELAY_S = 8.0
_sleep = time.sleep  # tests replace this to record the delays instead of waiting


def delay_for(failures: int) -> float:
    """Seconds to wait before checking, after ``failures`` recent failures: 0, 0.5, 1, 2, 4, 8, 8, ..."""
    return 0.0 if failures <= 0 else min(0.5 * 2 ** (failures - 1), MAX_DELAY_S)


def sign_in_page() -> None:
    """The only page a signed-out session can reach."""
    language_switch()
    lang = current_lang()
    st.title(t("app.name", lang))
    st.caption(t("app.tagline", lang))
    with st.form("signin", border=True):
        st.subheader(t("signin.title", lang))
        name = st.text_input(t("signin.user", lang), key="_signin_user")
        password = st.text_input(t("signin.password", lang), type="password", key="_signin_password")
        submitted = st.form_submit_button(t("signin.submit", lang), type="primary")
    st.caption(t("signin.demo", lang))
    if not submitted:
        return
    name = name.strip()
    per_session: dict[str, int] = st.session_state.setdefault(_SESSION_FAILURES, {})
    log = cache.failure_log()
    wait = delay_for(max(per_session.get(name, 0), log.count(name)))
    _sleep(wait)
    db_path = default_db_path()
    role = verify(users_path(db_path), name, password)
    if role is None:
        per_session[name] = per_session.get(name, 0) + 1
        log.add(name)
        st.error(t("signin.failed", lang), icon=":material/error:")
        if wait:
            st.caption(t("signin.wait", lang, seconds=wait))
        return
    per_session.pop(name, None)
    log.clear(name)
    privacy.log_access(db_path, name, role, "sign_in", None)   # first: no session without its log entry
    st.session_state[AUTH_KEY] = {"user": name, "role": role}
    st.session_state.pop("_signin_password", None)
    st.rerun()

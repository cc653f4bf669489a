"""The served app (`make app` runs `streamlit run serve.py`): app.py plus what Streamlit's script cannot do.

``st.App`` puts two things in front of the Streamlit script app.py:

* the session-cookie route of ui/session.py (an HttpOnly cookie can only come from an HTTP
  response, not from a script run), so a sign-in survives a refresh and opens links in new tabs;
* security headers on every response Streamlit serves;
* the pages' imports (LightGBM, scikit-learn, the analytics) in the background from the start
  (ui/preload.py), so the first visitor of a page does not wait for them;
* st.navigation from the very first request: Streamlit treats a ``pages/`` folder beside the main
  script as its older multipage layout until some session has called ``st.navigation``, so the
  first visitor after a start who opened a link such as ``/uptake`` would run that page file alone
  (no sign-in, no shell). The flag is cleared before any session starts.

``streamlit run app.py`` still works, without those two (sign-in then lasts one browser tab).
"""
from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.runtime.pages_manager import PagesManager

from ui import preload
from ui.session import routes

PagesManager.uses_pages_directory = False  # app.py declares every page with st.navigation

# Streamlit's own page needs inline scripts and styles, so the policy restricts what it can:
# no framing by other sites, no plugins, no foreign base URL or form targets.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Content-Security-Policy": "frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response (not to websockets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.lower().encode() not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


app = st.App("app.py", routes=routes(), middleware=[Middleware(SecurityHeaders)])
preload.start()

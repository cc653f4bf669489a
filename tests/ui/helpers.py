"""AppTest helpers for page tests: a signed-in app on a given page, and element lookups."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def signed_in_app(role: str, page: str | None = None, *, user: str | None = None,
                  query: dict[str, str | list[str]] | None = None, timeout: float = 30) -> AppTest:
    """app.py run once as a signed-in ``role`` (MADANG_DB must be set), optionally on ``page``.

    Signing in through the form is tested in tests/ui/test_signin.py; other tests set the session's
    sign-in directly, which is what the form does on success.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["auth"] = {"user": user or role, "role": role}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def texts(at: AppTest) -> str:
    """Everything visible as text (markdown, captions, titles, alerts, metrics), for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)

"""AppTest helpers for page tests: a signed-in app on a given page, and element lookups."""
from __future__ import annotations

import statistics
import time
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


def opened_link(role: str, page: str, query: dict[str, str | list[str]], *, timeout: float = 30) -> AppTest:
    """A signed-in ``role`` opening a link to ``page`` with ``query`` (the session's first address,
    as a bookmark or a shared link opens it), so the page reads its own parameters from it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["auth"] = {"user": role, "role": role}
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    return at


def served_pages_init():  # type: ignore[no-untyped-def]
    """A ``PagesManager.__init__`` that makes AppTest run app.py on every run, as the server does
    once st.navigation has been called (tests/ui/conftest.py installs it per test, benchmarks for good).

    AppTest resets Streamlit's "legacy pages/ folder" flag before each run, so with a pages/ folder
    its second and later runs would execute the page file alone (no app.py, no shell, no role check).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    return init


def median_rerun(at: AppTest, reruns: int) -> float:
    """Median seconds of ``reruns`` plain reruns of what ``at`` shows (no widget changed)."""
    times = []
    for _ in range(reruns):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    assert not at.exception, at.exception
    return statistics.median(times)


def texts(at: AppTest) -> str:
    """Everything visible as text (markdown, captions, titles, alerts, metrics), for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)

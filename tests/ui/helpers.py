"""Element lookups for page tests (the signed-in AppTest harness is bench.harness, shared with benchmarks)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.harness import APP
from ui.shell import ShellState

ROOT = Path(__file__).resolve().parents[2]
NOT_IN_MENU = "Could not find a navigation page"  # AppTest's refusal of a page the role's navigation lacks


def page_alone(page: str, role: str, *, timeout: float = 30) -> AppTest:
    """The page file run on its own as a signed-in ``role``, with the shell in place (as app.py
    leaves it), so that the page's own role check is the only thing that can stop it."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=timeout)
    at.session_state["auth"] = {"user": role, "role": role}
    at.session_state["_shell"] = ShellState((), {})
    return at.run()


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


def denied(at: AppTest) -> bool:
    """Whether the page showed the access-denied message (in either language)."""
    from ui.i18n import t

    return any(e.value in (t("denied.title", "ko"), t("denied.title", "en")) for e in at.error)


def texts(at: AppTest) -> str:
    """Everything visible as text (markdown, captions, titles, alerts, metrics), for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def with_demo_users(db: Path) -> Path:
    """The demo users in the records store of a data file, with a cheap bcrypt cost (for speed)."""
    from data.users import DEMO_USERS, add_user

    for name, (password, role) in DEMO_USERS.items():
        add_user(db, name, password, role, rounds=4)
    return db

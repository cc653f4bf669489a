"""Fixtures for the shell tests: a hand-made database with known counts, and users with cheap hashes."""
from __future__ import annotations

from pathlib import Path

import pytest

from data.db import users_path
from data.users import DEMO_USERS, add_user
from tests.ui.mini_db import build_mini_db


@pytest.fixture(scope="session")
def mini_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: a database with known counts and the demo users (cheap bcrypt cost, for speed)."""
    path = tmp_path_factory.mktemp("mini") / "madang.duckdb"
    build_mini_db(path)
    for name, (password, role) in DEMO_USERS.items():
        add_user(users_path(path), name, password, role, rounds=4)
    return path


@pytest.fixture
def app_env(mini_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MADANG_DB pointing at the mini database for AppTest runs."""
    monkeypatch.setenv("MADANG_DB", str(mini_db))
    return mini_db


@pytest.fixture(autouse=True)
def _navigation_as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make AppTest run app.py on every run, as the server does once st.navigation has been called.

    AppTest resets Streamlit's "legacy pages/ folder" flag before each run, so with a pages/ folder
    its second and later runs execute the page file alone (no app.py, no sidebar, no role menu).
    The server clears the flag for good the first time app.py calls st.navigation; do the same here.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)

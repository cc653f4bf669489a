"""Fixtures for the shell tests: a hand-made database with known counts, and users with cheap hashes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.harness import served_pages_init
from tests.ui.helpers import with_demo_users
from tests.ui.mini_db import build_mini_db


@pytest.fixture(scope="session")
def mini_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: a database with known counts and the demo users (cheap bcrypt cost, for speed)."""
    path = tmp_path_factory.mktemp("mini") / "madang.duckdb"
    build_mini_db(path)
    return with_demo_users(path)


@pytest.fixture
def app_env(mini_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MADANG_DB pointing at the mini database for AppTest runs."""
    monkeypatch.setenv("MADANG_DB", str(mini_db))
    return mini_db


@pytest.fixture
def private_env(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MADANG_DB pointing at a private copy of the mini database and its users, for tests that write
    (sessions, user changes, jobs)."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, path)
    with_demo_users(path)
    monkeypatch.setenv("MADANG_DB", str(path))
    return path


@pytest.fixture(autouse=True)
def _navigation_as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest runs app.py on every run, as the server does (see :func:`served_pages_init`)."""
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setattr(PagesManager, "__init__", served_pages_init())

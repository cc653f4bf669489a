"""Start-up: only the default data file is built by itself (with demo users, said on screen); a missing
file elsewhere, a missing or unreadable users file, and an unreadable records or data file each give a
clear page instead of a traceback, a national build or silently recreated demo passwords."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench.harness import APP
from data import build as build_module
from data import records
from data.db import users_path
from data.users import list_users
from tests.ui.helpers import texts, with_demo_users


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("no build may start here")

    monkeypatch.setattr(build_module, "build", no_build)
    monkeypatch.setenv("MADANG_DB", str(db))
    monkeypatch.delenv(records.URL_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def _copy(mini_db: Path, tmp_path: Path, *, with_users: bool = True) -> Path:
    db = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, db)
    if with_users:
        with_demo_users(db)
    return db


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def test_a_missing_file_away_from_the_default_is_reported_not_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "elsewhere" / "madang.duckdb"
    at = _app(db, monkeypatch)
    assert "데이터베이스가 없습니다" in _errors(at) and str(db) in _errors(at)
    assert not db.exists() and not at.text_input


def test_no_demo_users_come_back_by_themselves(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _copy(mini_db, tmp_path, with_users=False)   # synthetic data, users file gone
    at = _app(db, monkeypatch)
    assert "사용자가 없습니다" in _errors(at)
    assert not users_path(db).exists() and list_users(users_path(db)) == []
    assert not at.text_input                             # no sign-in form to guess demo passwords on


def test_an_unreadable_users_file_says_so(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _copy(mini_db, tmp_path, with_users=False)   # an earlier version's users file, not imported yet
    users_path(db).write_text('{"users": {"admin": ', encoding="utf-8")   # cut short
    at = _app(db, monkeypatch)
    assert "사용자 파일을 읽을 수 없습니다" in _errors(at) and "backup" not in _errors(at)
    assert "백업" in _errors(at)


def test_an_unreadable_records_file_says_so(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _copy(mini_db, tmp_path)
    records.records_path(db).write_bytes(b"\x00garbage" * 512)
    at = _app(db, monkeypatch)
    assert "감사 기록 저장소를 열 수 없습니다" in _errors(at)
    assert not at.text_input                             # nobody signs in without a log entry


def test_an_unreadable_data_file_says_so(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _copy(mini_db, tmp_path)
    db.write_bytes(b"not a duckdb file" * 1000)
    at = _app(db, monkeypatch)
    assert "데이터베이스 파일을 읽을 수 없습니다" in _errors(at)


def test_a_healthy_start_shows_the_sign_in_form(mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(_copy(mini_db, tmp_path), monkeypatch)
    assert not at.error and at.text_input(key="_signin_user") is not None and "데모 계정" in texts(at)

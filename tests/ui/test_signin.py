"""Sign-in through the form: the same answer for every failure, a growing delay, then the app."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench.harness import APP
from data.db import users_path
from data.records import records
from data.users import list_users
from tests.ui.helpers import texts, with_demo_users
from ui import signin
from ui.i18n import t


@pytest.fixture(autouse=True)
def _fresh_failure_log() -> None:
    """Each test starts with no recorded failures (the log is process-wide, as in the server)."""
    signin.failure_log()._times.clear()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the sign-in form waited (recorded instead of slept)."""
    seen: list[float] = []
    monkeypatch.setattr(signin, "_sleep", seen.append)
    return seen


def _attempt(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="_signin_user").input(name)
    at.text_input(key="_signin_password").input(password)
    return at.button[0].click().run()


def test_delay_doubles_with_failures_up_to_a_cap() -> None:
    assert [signin.delay_for(n) for n in range(8)] == [0, 0.5, 1, 2, 4, 8, 8, 8]


def test_wrong_password_and_unknown_user_get_the_same_answer_and_the_same_delays(app_env: Path, waits) -> None:
    answers = {}
    for name in ("policy", "nobody-at-all"):
        at = AppTest.from_file(APP, default_timeout=30).run()
        for _ in range(3):
            _attempt(at, name, "not-the-password")
            assert not at.exception and "auth" not in at.session_state
        answers[name] = [e.value for e in at.error]
    assert answers["policy"] == answers["nobody-at-all"] == ["사용자 이름 또는 비밀번호가 올바르지 않습니다."]
    # each name: no wait, then 0.5 s, then 1 s; the same for a real and an unknown name
    assert waits == [0, 0.5, 1] * 2


def test_a_fresh_session_does_not_reset_the_delay(app_env: Path, waits) -> None:
    first = AppTest.from_file(APP, default_timeout=30).run()
    _attempt(first, "evaluator-x", "wrong-1")
    _attempt(first, "evaluator-x", "wrong-2")
    second = AppTest.from_file(APP, default_timeout=30).run()
    _attempt(second, "evaluator-x", "wrong-3")
    assert waits == [0, 0.5, 1]


def test_one_client_spraying_names_is_refused_and_others_are_not(app_env: Path, waits,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signin, "client_address", lambda: "203.0.113.7")
    at = AppTest.from_file(APP, default_timeout=30).run()
    for i in range(signin.CLIENT_LIMIT):
        _attempt(at, f"name-{i}", "wrong-password")   # a new name each time: no per-name delay at all
    assert waits == [0] * signin.CLIENT_LIMIT
    _attempt(at, "policy", "policy-demo")              # even the right password is not checked now
    assert "auth" not in at.session_state and "로그인 실패가 너무 많습니다" in at.error[0].value
    assert len(waits) == signin.CLIENT_LIMIT           # refused before any delay or bcrypt work
    monkeypatch.setattr(signin, "client_address", lambda: "198.51.100.2")
    other = AppTest.from_file(APP, default_timeout=30).run()
    _attempt(other, "policy", "policy-demo")
    assert other.session_state["auth"]["user"] == "policy"


def test_failures_elsewhere_do_not_keep_the_real_user_out(app_env: Path, waits,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signin, "client_address", lambda: "203.0.113.8")
    attacker = AppTest.from_file(APP, default_timeout=30).run()
    for _ in range(7):
        _attempt(attacker, "admin", "guess")
    assert waits == [0, 0.5, 1, 2, 4, 8, 8]              # the guesser's own delay grows
    monkeypatch.setattr(signin, "client_address", lambda: "198.51.100.9")
    owner = AppTest.from_file(APP, default_timeout=30).run()
    _attempt(owner, "admin", "admin-demo")
    assert waits[-1] == signin.OTHERS_DELAY_S and owner.session_state["auth"]["role"] == "admin"


def test_the_right_password_signs_in_and_is_logged(mini_db: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, waits) -> None:
    db = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, db)
    with_demo_users(db)
    monkeypatch.setenv("MADANG_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "데모 계정" in texts(at)
    _attempt(at, "auditor", "auditor-demo")
    assert not at.exception
    auth = at.session_state["auth"]
    assert (auth["user"], auth["role"]) == ("auditor", "auditor")
    assert at.title[0].value == "개요"
    with records(db, write=False) as tx:
        assert [tuple(r) for r in tx.execute("SELECT user_name, role, action FROM access_log").fetchall()] == [
            ("auditor", "auditor", "sign_in")]


def test_sign_in_page_in_english(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["lang"] = "en"
    at.run()
    assert at.title[0].value == "Madang Insight" and at.text_input(key="_signin_user").label == "User name"


def test_first_start_builds_the_database_with_progress_and_demo_users(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data import build as build_module
    from data import db as db_module
    from tests.ui.mini_db import build_mini_db

    calls = []

    def fake_build(path, *, scale, seed, progress):  # the real generator is tested in tests/data
        calls.append((scale, seed))
        progress(0.5, "firms")
        build_mini_db(Path(path))

    monkeypatch.setattr(build_module, "build", fake_build)
    db = tmp_path / "var" / "madang.duckdb"
    monkeypatch.setattr(db_module, "DEFAULT_DB", db)   # only the default location is built on first start
    monkeypatch.setenv("MADANG_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert calls == [(1.0, 42)]
    assert db.exists() and "데이터베이스를 만들었습니다" in texts(at)
    assert [name for name, _ in list_users(users_path(db))] == ["admin", "auditor", "evaluator", "policy"]
    assert at.text_input(key="_signin_user").label == t("signin.user") and not at.text_input(key="_signin_user").value


# The ministry's single sign-on (Streamlit's native OIDC): AppTest stands in for the provider with
# ``at.user``; an [auth] section in the secrets is what turns the option on.
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "madang",
        "client_secret": "s", "server_metadata_url": "https://sso.example.go.kr/.well-known/openid-configuration"}


def _provider_app(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run()


def _log(db: Path) -> list[tuple]:
    with records(db, write=False) as tx:
        return [tuple(r) for r in tx.execute("SELECT user_name, role, action FROM access_log ORDER BY log_id").fetchall()]


def test_without_an_identity_provider_only_the_password_form_is_shown(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not [b for b in at.button if b.key == "_signin_provider"]


def test_the_provider_button_is_offered_beside_the_form(app_env: Path) -> None:
    at = _provider_app({"is_logged_in": False})
    assert not at.exception
    assert at.button(key="_signin_provider").label == t("signin.provider", "ko")
    assert at.text_input(key="_signin_user")            # the password form stays (local accounts)
    assert "auth" not in at.session_state


def test_a_known_identity_signs_in_with_the_role_our_store_gives(private_env: Path) -> None:
    from data.users import add_user
    add_user(private_env, "kim@mss.go.kr", "unused-password", "evaluator", rounds=4)
    at = _provider_app({"is_logged_in": True, "email": "kim@mss.go.kr", "name": "김평가"})
    assert not at.exception
    auth = at.session_state["auth"]
    assert (auth["user"], auth["role"], auth["via"]) == ("kim@mss.go.kr", "evaluator", "provider")
    assert at.title[0].value == "개요"
    assert _log(private_env) == [("kim@mss.go.kr", "evaluator", "sign_in")]
    at.button(key="_signout").click().run()              # signing out ends the provider's sign-in too
    assert "auth" not in at.session_state
    assert at.button(key="_signin_provider")              # and the page does not sign them straight back in


@pytest.mark.parametrize("disabled", [False, True])
def test_an_unknown_or_disabled_identity_is_denied(private_env: Path, disabled: bool) -> None:
    from data.users import add_user, set_disabled
    if disabled:
        add_user(private_env, "lee@mss.go.kr", "unused-password", "auditor", rounds=4)
        set_disabled(private_env, "lee@mss.go.kr", True)
    at = _provider_app({"is_logged_in": True, "email": "lee@mss.go.kr"})
    assert not at.exception
    assert "auth" not in at.session_state
    assert [e.value for e in at.error] == [t("signin.provider_unknown", "ko", user="lee@mss.go.kr")]
    assert at.button(key="_signin_provider_out")
    assert _log(private_env) == []                       # no session, so no sign_in row

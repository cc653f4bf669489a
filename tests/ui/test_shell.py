"""The shell in AppTest: roles and pages, forbidden pages, suppression (also in downloads), masking,
filters in the URL, bad parameters, language and number options."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import app
from analytics.filters import Filters
from bench.harness import APP, signed_in_app
from data.access import ROLES
from data.records import records, records_path
from tests.ui.helpers import texts
from ui.i18n import t
from ui.shell import ShellState

PAGE_DIR = Path(app.__file__).resolve().parent


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Files handed to st.download_button during AppTest runs, by URL."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[self.get_url(file_id)] = path_or_data if isinstance(path_or_data, bytes) else str(path_or_data).encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def _download_text(at: AppTest, files: dict[str, bytes]) -> str:
    button = at.get("download_button")[0]
    return files[button.proto.url].decode("utf-8-sig")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_pages_and_no_other(app_env: Path, role: str) -> None:
    at = signed_in_app(role)
    assert not at.exception
    assert at.title[0].value == "개요"
    for spec in app.PAGES:
        if spec.path not in {"pages/overview.py", "pages/admin.py"}:
            continue  # view pages are tested by their own tests
        if role in spec.roles:
            at.switch_page(spec.path).run()
            assert not at.exception, spec.path
        else:
            with pytest.raises(ValueError):
                at.switch_page(spec.path)  # not registered for this role: cannot be opened


def test_registry_lists_each_page_once_with_known_roles() -> None:
    paths = [spec.path for spec in app.PAGES]
    assert len(paths) == len(set(paths)) and paths[0] == "pages/overview.py"
    assert all((PAGE_DIR / p).exists() for p in paths)
    assert [s.key for s in app.pages_for("admin")] == [s.key for s in app.PAGES]  # admin sees every page
    for role in ("policy", "evaluator", "auditor"):
        keys = [s.key for s in app.pages_for(role)]
        assert keys[0] == "overview" and "admin" not in keys


@pytest.mark.parametrize(("role", "shell_ready"), [("policy", True), ("evaluator", True), (None, False)])
def test_a_forbidden_page_run_directly_renders_no_data(app_env: Path, role: str | None, shell_ready: bool) -> None:
    at = AppTest.from_file(str(PAGE_DIR / "pages/admin.py"), default_timeout=30)
    if role:
        at.session_state["auth"] = {"user": role, "role": role}
    if shell_ready:
        at.session_state["_shell"] = ShellState((), {"source": "synthetic"})
    at.run()
    assert not at.exception
    assert not at.dataframe and not at.text_input and not at.get("form")
    shown = texts(at)
    assert ("권한이 없습니다" in shown) if role else ("로그인이 필요합니다" in shown)


def test_a_role_change_in_the_session_takes_the_admin_page_away(app_env: Path) -> None:
    at = signed_in_app("admin", page="pages/admin.py")
    assert "사용자" in texts(at) and at.dataframe
    at.session_state["auth"] = {"user": "policy", "role": "policy"}
    at.run()
    assert not at.exception
    assert "사용자 추가" not in texts(at) and not at.text_input


def test_policy_sees_small_cells_suppressed_on_screen_and_in_the_csv(app_env: Path, downloads) -> None:
    at = signed_in_app("policy")
    table = at.dataframe[0].value
    busan = table[table.iloc[:, 0] == "부산"].iloc[0]
    assert busan.iloc[2:].tolist() == ["<5"] * 5
    assert "5개 미만" in texts(at)
    csv = _download_text(at, downloads)
    assert csv.startswith("# 마당 인사이트 · 개요")
    # names as shown, a header row in Korean and one of codes, values rounded as shown (issue 21)
    lines = csv.splitlines()
    assert "시도,규모,신청 기업,신청,선정,선정률 (%),지원 금액 (억원)" in lines
    assert "region_code,size_class,firms,applications,selected,selection_rate,awarded_krw" in lines
    assert "부산,소기업,<5,<5,<5,<5,<5" in lines
    assert "서울,소상공인,10,20,3,15.0,1.5" in lines


def test_evaluator_sees_the_small_cell(app_env: Path, downloads) -> None:
    at = signed_in_app("evaluator")
    table = at.dataframe[0].value
    assert table[table.iloc[:, 0] == "부산"].iloc[0, 2] == 3
    assert "<5" not in _download_text(at, downloads)


def test_filters_round_trip_through_the_url(app_env: Path) -> None:
    at = signed_in_app("evaluator", query={"region": ["26", "41"], "category": "창업", "from": "2024-03-01"})
    assert at.multiselect(key="region").value == ["26", "41"]
    assert at.multiselect(key="category").value == ["창업"]
    assert str(at.date_input(key="from").value) == "2024-03-01"
    assert at.session_state["_filters"] == Filters(date_from=date(2024, 3, 1), regions=("26", "41"), categories=("창업",))
    # only March P2 applications of odd firms in 부산/경기 remain: firms 11, 13 (부산) and 15, 17, 19 (경기)
    table = at.dataframe[0].value
    assert table.iloc[:, 3].tolist() == [2, 3]
    at.multiselect(key="region").unselect("41").run()
    at.multiselect(key="size").select("small").run()
    assert at.query_params == {"region": "26", "size": "small", "category": "창업", "from": "2024-03-01"}
    at.button(key="_reset_filters").click().run()
    assert not at.query_params
    assert at.session_state["_filters"] == Filters()


def test_bad_parameters_are_dropped_with_notices(app_env: Path) -> None:
    at = signed_in_app("policy", query={"region": ["11", "99"], "from": "2024-13-45", "to": "1999-01-01",
                                        "colour": "red", "size": "giant", "lang": "fr"})
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert any("region=99" in n for n in notices) and any("from=2024-13-45" in n for n in notices)
    assert any("to=1999-01-01" in n for n in notices) and any("'colour'" in n for n in notices)
    assert any("size=giant" in n for n in notices) and any("lang=fr" in n for n in notices)
    assert at.multiselect(key="region").value == ["11"] and at.title[0].value == "개요"
    assert set(at.query_params) == {"region"}
    at.run()  # the notices were about the link; they do not stay
    assert not at.warning


def test_english_and_plain_numbers(app_env: Path) -> None:
    at = signed_in_app("evaluator", query={"lang": "en"})
    assert at.title[0].value == "Overview"
    # a money column in one unit named in its header, the values numbers (sortable)
    table = at.dataframe[0].value
    assert table.iloc[0, -1] == 150.0
    assert at.dataframe[0].proto.columns and "(KRW m)" in at.dataframe[0].proto.columns
    at.toggle(key="plain").set_value(True).run()
    assert at.dataframe[0].value.iloc[0, -1] == 150_000_000
    assert "(KRW)" in at.dataframe[0].proto.columns
    assert at.query_params == {"lang": "en", "plain": "1"}
    at.segmented_control(key="lang").set_value("ko").run()
    assert at.title[0].value == "개요" and "lang" not in at.query_params


def test_sign_out(app_env: Path) -> None:
    at = signed_in_app("auditor")
    at.button(key="_signout").click().run()
    assert "auth" not in at.session_state
    assert at.text_input(key="_signin_user").label == t("signin.user") and not at.text_input(key="_signin_user").value


def _protected_page() -> None:
    import pandas as pd
    import streamlit as st

    from ui.shell import page

    ctx = page("overview")
    df = pd.DataFrame({"phone": ["010-1234-5678"], "biz_no": ["1234567890"], "firms": [7]})
    st.dataframe(ctx.protect(df, {"phone": "phone", "biz_no": "biz_no"}))


@pytest.mark.parametrize(("role", "phone", "logged"), [("evaluator", "010-****-5678", 0), ("auditor", "010-1234-5678", 1)])
def test_personal_data_is_masked_unless_the_role_sees_it_and_unmasked_views_are_logged(
        mini_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str, phone: str, logged: int) -> None:
    db = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, db)
    monkeypatch.setenv("MADANG_DB", str(db))
    at = AppTest.from_function(_protected_page, default_timeout=30)
    at.session_state["auth"] = {"user": f"{role}1", "role": role}
    at.session_state["_shell"] = ShellState((), {})
    at.run()
    assert not at.exception
    assert at.dataframe[0].value["phone"].tolist() == [phone]
    rows = []
    if records_path(db).exists():
        with records(db, write=False) as tx:
            rows = [tuple(r) for r in tx.execute("SELECT user_name, role, action FROM access_log").fetchall()]
    assert rows == [(f"{role}1", role, "view_personal")] * logged


def test_filters_survive_a_page_that_does_not_use_them(app_env: Path) -> None:
    at = signed_in_app("admin", query={"region": "11"})
    at.multiselect(key="size").select("micro").run()
    at.switch_page("pages/admin.py").run()
    assert not at.multiselect and at.query_params == {"region": "11", "size": "micro"}
    assert "이 화면에 적용되지 않는 필터: 시도, 기업 규모" in [c.value for c in at.sidebar.caption]
    at.switch_page("pages/overview.py").run()
    assert at.multiselect(key="region").value == ["11"] and at.multiselect(key="size").value == ["micro"]
    assert at.dataframe[0].value.shape[0] == 1  # 서울 소상공인 only


def test_language_chosen_before_sign_in_is_kept(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import signin

    monkeypatch.setattr(signin, "_sleep", lambda s: None)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.segmented_control(key="lang").set_value("en").run()
    assert at.title[0].value == "Madang Insight" and at.query_params == {"lang": "en"}
    at.text_input(key="_signin_user").input("policy")
    at.text_input(key="_signin_password").input("policy-demo")
    at.button[0].click().run()
    assert at.title[0].value == "Overview" and at.query_params == {"lang": "en"}

"""AppTest of pages/scoring.py: roles, empty state, masked data, decisions."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.harness import signed_in_app
from data.records import records
from tests.ui.helpers import NOT_IN_MENU, texts

PAGE = "pages/scoring.py"


@pytest.fixture(autouse=True)
def _navigation_as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copied from tests/ui/conftest.py: AppTest must run app.py on every run, as the server does."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def scored(trained_tiny: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(trained_tiny[0], path)
    monkeypatch.setenv("MADANG_DB", str(path))
    return path


def test_evaluator_sees_a_masked_applicant_with_explanations(scored: Path) -> None:
    at = signed_in_app("evaluator", page=PAGE)
    assert not at.exception
    at.text_input(key="scoring.app").input("1").run()
    assert not at.exception
    shown = texts(at)
    assert "점수" in shown and "등급" in shown and "가정 분석" in shown and "다음 등급까지 필요한 최소 변화" in shown
    info = dict(zip(at.dataframe[0].value["field"], at.dataframe[0].value["value"]))
    assert info["사업자등록번호"].endswith("*****")
    for contact in ("대표자", "전화", "이메일"):
        assert info[contact] == "" or "*" in info[contact], (contact, info[contact])
    reasons = at.dataframe[1].value
    assert len(reasons) >= 1 and reasons["code"].str.fullmatch(r"KTOP-\d\d").all()
    # every reason is on the page as a full sentence (not cut off in a table cell)
    from scoring import explain
    lines = [ln for ln in shown.splitlines() if ln.startswith("- `")]
    for code, value in zip(reasons["code"], reasons["value_text"]):
        assert any(ln.startswith(f"- `{code}` ") and value in ln and ln.endswith("다.") for ln in lines), code
    # several drivers at once in what-if, the waterfall redrawn
    picker = at.multiselect(key="whatif_drivers_ktop_1")
    picker.set_value(["debt_ratio", "patents"]).run()
    assert not at.exception and "가정 점수" in texts(at)
    assert explain.what_if_drivers(["debt_ratio", "sales_growth", "patents"]) == ["debt_ratio", "patents"]
    assert len(at.get("plotly_chart")) == 2   # waterfall and what-if waterfall: only the open tab runs
    from ui.i18n import t
    for tab, charts in (("global", 3), ("card", 5)):   # importance, beeswarm, dependence; calibration, grades, …
        at.session_state["scoring.tab"] = t(f"scoring.tab.{tab}", "ko")
        at.run()
        assert not at.exception and len(at.get("plotly_chart")) >= charts, tab
        assert at.query_params.get("tab") == [tab] or at.query_params.get("tab") == tab
    with records(scored) as con:
        assert con.execute("SELECT count(*) FROM access_log WHERE action = 'view_applicant'").fetchone()[0] == 1


def test_decision_needs_a_reason_then_is_stored(scored: Path) -> None:
    at = signed_in_app("evaluator", page=PAGE)
    at.text_input(key="scoring.app").input("1").run()
    submit = [b for b in at.button if "판단 기록" in str(b.label)][0]
    submit.click().run()
    assert "사유를 입력해야" in texts(at)
    at.text_area(key="decision_reason").input("재무제표 확인 완료")
    [b for b in at.button if "판단 기록" in str(b.label)][0].click()
    at.run()
    assert not at.exception
    with records(scored) as con:
        assert con.execute("SELECT count(*), min(reason) FROM evaluator_decisions").fetchone() == (1, "재무제표 확인 완료")


def test_policy_role_is_refused(scored: Path) -> None:
    at = signed_in_app("policy")
    with pytest.raises(ValueError, match=NOT_IN_MENU):
        at.switch_page(PAGE).run()   # not in the policy menu: cannot be opened by URL
    at = signed_in_app("evaluator", page=PAGE)
    assert "평가 점수와 설명" in texts(at)
    at.session_state["auth"] = {"user": "p", "role": "policy"}   # the role changes under an open page
    at.run()
    assert "평가 점수와 설명" not in texts(at) and not any(m.label == "점수" for m in at.metric)


def test_empty_state_before_training(tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    monkeypatch.setenv("MADANG_DB", str(path))
    at = signed_in_app("evaluator", page=PAGE)
    assert not at.exception
    shown = texts(at)
    # in words for a user who cannot run commands: no command line, no server path (issue 21)
    assert "아직 학습된 평가 모델이 없습니다" in shown and "관리자가" in shown
    assert "python -m" not in shown and str(tmp_path) not in shown
    assert [b.key for b in at.button] == ["_signout"]            # no job button: not an admin


def test_english_view_and_the_other_model(scored: Path) -> None:
    at = signed_in_app("admin", page=PAGE, query={"lang": "en"})
    at.text_input(key="scoring.app").input("2").run()
    at.segmented_control(key="scoring.model").set_value("kvalue").run()
    assert not at.exception
    shown = texts(at)
    assert "P(success)" in shown and "Score" in shown
    assert at.dataframe[1].value["code"].str.startswith("KVALUE-").all()

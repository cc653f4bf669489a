"""Evaluator decisions (append-only, reason required, logged) and the HTML export."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data.access import AccessDenied
from data.records import IntegrityErrors, records
from scoring import decisions, report
from ui import i18n


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "madang.duckdb"
    duckdb.connect(str(path)).close()  # the records file sits beside it
    return path


def test_decisions_need_a_reason_and_an_allowed_role(db: Path) -> None:
    with pytest.raises(ValueError):
        decisions.record(db, user="e", role="evaluator", application_id=1, model="ktop", model_version="v", agrees=True, reason="  ")
    with pytest.raises(AccessDenied):
        decisions.record(db, user="p", role="policy", application_id=1, model="ktop", model_version="v", agrees=True, reason="ok")
    # the schema itself refuses an override without a reason
    with pytest.raises(IntegrityErrors), records(db) as con:
        con.execute("INSERT INTO evaluator_decisions VALUES (99, 1, 'ktop', 'v', 'x', CURRENT_TIMESTAMP, false, '')")


def test_decisions_are_appended_and_logged(db: Path) -> None:
    a = decisions.record(db, user="kim", role="evaluator", application_id=7, model="ktop", model_version="v1",
                         agrees=True, reason="근거 충분")
    b = decisions.record(db, user="lee", role="admin", application_id=7, model="ktop", model_version="v1",
                         agrees=False, reason="현장 실사 결과 매출 과대")
    assert b == a + 1
    hist = decisions.history(db, 7, role="evaluator")
    assert hist["decision_id"].tolist() == [a, b] and hist["agrees"].tolist() == [True, False]
    assert hist["reason"].tolist() == ["근거 충분", "현장 실사 결과 매출 과대"]
    with records(db) as con:
        log = [tuple(r) for r in con.execute("SELECT user_name, action, object FROM access_log ORDER BY log_id").fetchall()]
    assert [r[:2] for r in log] == [("kim", "decision"), ("lee", "decision")] and "override" in log[1][2]
    assert not hasattr(decisions, "update") and not hasattr(decisions, "delete")


def test_html_export_is_self_contained_and_escaped() -> None:
    table = pd.DataFrame({"label": ["부채비율", "특허 수"], "block": ["사업성", "기술성"], "value_text": ["2.5배", "<b>3건"],
                          "points": [-20.0, 12.5]})
    long = "부채비율 2.5배: 동종업계 중앙값(1.2배)보다 높아 점수가 20점 낮아졌습니다."
    reasons = pd.DataFrame({"code": ["KTOP-17", "KTOP-08"], "role": ["principal", "context"],
                            "sentence": [long, "기업 규모 micro: 점수가 4점 낮아졌습니다."], "points": [-20.0, -4.0]})
    html = report.render(model="ktop", version="ktop-abc", info={"biz_no": "123-45-*****"}, score=512.0, grade="BB",
                         percentile=40.0, probability=0.021, base=519.5, table=table, reasons=reasons,
                         generated_at="2026-01-01T00:00:00", synthetic=True, t=partial(i18n.t, lang="ko"))
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html
    assert "512" in html and "BB" in html and "KTOP-17" in html and "123-45-*****" in html
    # every sentence in full, principal reasons before the context section
    assert long in html and html.index(long) < html.index(i18n.t("scoring.reasons.context")) < html.index("기업 규모 micro")
    assert "&lt;b&gt;3건" in html and "<b>3건" not in html
    assert "합성 데이터" in html

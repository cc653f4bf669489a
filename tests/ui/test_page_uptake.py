"""The program uptake page in AppTest on the tiny database: roles, figures equal to the analytics
functions, suppression for the policy role, filters and drill-down read from the URL, every tab."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.filters import Filters
from analytics.uptake import summary as uptake
from bench.harness import signed_in_app
from data.privacy import SUPPRESSED
from tests.ui.helpers import NOT_IN_MENU, denied, page_alone, texts
from ui import fmt
from ui.i18n import t
from ui.shell import PageContext

PAGE = "pages/uptake.py"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MADANG_DB", str(tiny_db))
    return tiny_db


def _headline(db: Path, flt: Filters, drill: uptake.Drill = ()) -> dict[str, object]:
    with duckdb.connect(str(db), read_only=True) as con:
        fig = uptake.headline(con, flt, drill, role="policy").figures
    return dict(zip(fig["metric"], fig["current"]))


def _metric(at: AppTest, key: str) -> str:
    label = t(f"uptake.m.{key}", "ko")
    return next(m.value for m in at.metric if m.label == label)


def test_policy_sees_the_headline_of_the_analytics(db: Path) -> None:
    at = signed_in_app("policy", PAGE)
    assert not at.exception
    want = _headline(db, Filters())
    assert len(at.metric) == len(uptake.HEADLINE_METRICS)
    assert _metric(at, "applications") == fmt.num(want["applications"])
    assert _metric(at, "amount_awarded_krw") == fmt.money(want["amount_awarded_krw"])
    assert _metric(at, "selection_rate") == fmt.pct(want["selection_rate"])
    assert len(at.get("plotly_chart")) >= 1 and at.get("download_button")


def test_admin_may_open_the_page(db: Path) -> None:
    at = signed_in_app("admin", PAGE)
    assert not at.exception and len(at.metric) == len(uptake.HEADLINE_METRICS)


@pytest.mark.parametrize("role", ["auditor", "evaluator"])
def test_other_roles_cannot_open_it(db: Path, role: str) -> None:
    at = signed_in_app(role)
    with pytest.raises(ValueError, match=NOT_IN_MENU):  # not in the role's navigation
        at.switch_page(PAGE).run()
    # the page file on its own, shell in place: the page's own check draws nothing of the view
    direct = page_alone(PAGE, role)
    assert denied(direct)
    assert not direct.metric and not direct.dataframe and not direct.get("plotly_chart")


def test_filter_in_the_url_changes_the_figures(db: Path) -> None:
    at = signed_in_app("policy", PAGE, query={"region": "11", "size": ["micro", "small"]})
    assert not at.exception
    want = _headline(db, Filters(regions=("11",), sizes=("micro", "small")))
    assert _metric(at, "applications") == fmt.num(want["applications"])
    assert want["applications"] < _headline(db, Filters())["applications"]


def test_drill_down_in_the_url_narrows_the_view(db: Path) -> None:
    # A bound (query-params) widget is set through session state. AppTest cannot open
    # /uptake?d_size=... directly: its start page drops parameters it does not know.
    at = signed_in_app("policy", PAGE)
    at.session_state["d_size"] = "micro"
    at.session_state["d_age"] = "03-06"
    at.run()
    assert not at.exception
    want = _headline(db, Filters(), (("size", "micro"), ("age", "03-06")))
    assert _metric(at, "applications") == fmt.num(want["applications"])
    assert t("uptake.dim.size", "ko") in texts(at)


def test_policy_sees_suppressed_cells_and_admin_does_not(db: Path) -> None:
    seen = {}
    for role in ("policy", "admin"):
        at = signed_in_app(role, PAGE)
        at.session_state["tab"] = t("uptake.tab.breakdown", "ko")
        at.session_state["by"] = "program"
        at.run()
        assert not at.exception
        seen[role] = (at.dataframe[0].value == SUPPRESSED).any().any()
    assert seen == {"policy": True, "admin": False}


@pytest.mark.parametrize("tab", ["summary", "breakdown", "reach", "docs", "time", "program"])
def test_every_tab_draws_without_error(db: Path, tab: str) -> None:
    at = signed_in_app("policy", PAGE)
    at.session_state["tab"] = t(f"uptake.tab.{tab}", "ko")
    at.run()
    assert not at.exception and not at.error
    assert at.get("plotly_chart") or at.dataframe or at.info
    assert "[uptake." not in texts(at)  # every label the tab uses exists


def test_english_is_available(db: Path) -> None:
    at = signed_in_app("policy", PAGE, query={"lang": "en"})
    assert not at.exception
    assert at.title[0].value == t("uptake.title", "en")
    assert {m.label for m in at.metric} == {t(f"uptake.m.{m}", "en") for m in uptake.HEADLINE_METRICS}
    assert "[uptake." not in texts(at)


def test_empty_slice_explains_itself(db: Path) -> None:
    at = signed_in_app("policy", PAGE, query={"from": "2026-10-31", "to": "2026-10-31", "category": "기타"})
    assert not at.exception
    if not at.metric:  # nothing in that slice: the page says why instead of drawing empty charts
        assert t("uptake.empty", "ko") in texts(at)


def test_csv_carries_filters_version_and_suppression(db: Path) -> None:
    flt = Filters(regions=("11",))
    with duckdb.connect(str(db), read_only=True) as con:
        df = uptake.breakdown(con, flt, "program", role="policy")
    ctx = PageContext(user="policy", role="policy", lang="ko", plain=False, filters=flt, db_path=db,
                      data_version="v1", meta={"data_version": "v1", "source": "synthetic"}, page_key="uptake")
    text = ctx.csv(df)
    assert "region=11" in text and "v1" in text and t("common.suppressed_note", "ko") in text
    assert f",{SUPPRESSED}," in text

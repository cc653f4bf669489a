"""The program uptake page in AppTest on the tiny database: roles, figures equal to the analytics
functions, suppression for the policy role, filters and drill-down read from the URL, every tab."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.filters import Filters
from analytics.uptake import summary as uptake
from bench.harness import signed_in_app
from data.privacy import SUPPRESSED
from tests.ui.helpers import NOT_IN_MENU, denied, opened_link, page_alone, texts
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


def _url(at: AppTest, key: str) -> list[str]:
    """The values of ``key`` in the app's address (AppTest keeps one value as a plain string)."""
    value = at.query_params.get(key, [])
    return value if isinstance(value, list) else [value]


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
    at = opened_link("policy", PAGE, {"d_size": "micro", "d_age": "03-06"})
    assert not at.exception
    want = _headline(db, Filters(), (("size", "micro"), ("age", "03-06")))
    assert _metric(at, "applications") == fmt.num(want["applications"])
    assert t("uptake.dim.size", "ko") in texts(at)
    assert _url(at, "d_size") == ["micro"] and _url(at, "d_age") == ["03-06"]


def test_tab_and_breakdown_are_codes_in_the_url_in_either_language(db: Path) -> None:
    at = opened_link("policy", PAGE, {"tab": "breakdown", "by": "region", "lang": "en"})
    assert not at.exception
    assert _url(at, "tab") == ["breakdown"] and _url(at, "by") == ["region"]
    assert at.get("plotly_chart")  # the region breakdown draws its tile map and bars
    at.sidebar.segmented_control("lang").set_value("ko").run()  # the language changes, the view stays
    assert not at.exception
    assert _url(at, "tab") == ["breakdown"] and _url(at, "by") == ["region"]
    assert at.session_state["uptake.tab"] == t("uptake.tab.breakdown", "ko")


def test_a_bad_page_parameter_is_dropped_with_a_notice(db: Path) -> None:
    at = opened_link("policy", PAGE, {"tab": "breakdown", "by": "규모"})  # a label, not a code
    assert not at.exception
    assert any("by=규모" in w.value for w in at.warning)
    assert _url(at, "by") != ["규모"]


def test_policy_sees_suppressed_cells_and_admin_does_not(db: Path) -> None:
    seen = {}
    for role in ("policy", "admin"):
        at = opened_link(role, PAGE, {"tab": "breakdown", "by": "program"})
        assert not at.exception
        seen[role] = (at.dataframe[0].value == SUPPRESSED).any().any()
    assert seen == {"policy": True, "admin": False}


@pytest.mark.parametrize("tab", ["summary", "breakdown", "reach", "docs", "time", "program"])
def test_every_tab_draws_without_error(db: Path, tab: str) -> None:
    at = opened_link("policy", PAGE, {"tab": tab})
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


def test_csv_carries_filters_version_and_suppression(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # filters and period in words (시도: 서울), not codes (region=11); headers in the language, codes below
    monkeypatch.setattr("ui.names.cache.query", lambda fn, *a, **k: _options(db))
    flt = Filters(regions=("11",), date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
    with duckdb.connect(str(db), read_only=True) as con:
        df = uptake.breakdown(con, flt, "program", role="policy")
    ctx = PageContext(user="policy", role="policy", lang="ko", plain=False, filters=flt, db_path=db,
                      data_version="v1", meta={"data_version": "v1", "source": "synthetic"}, page_key="uptake")
    text = ctx.csv(df, {"name": ("uptake.col.name", "text"), "applications": ("uptake.col.applications", "num"),
                        "selection_rate": ("uptake.col.selection_rate", "pct")})
    assert "region=11" not in text and f"{t('dim.region', 'ko')}: 서울" in text
    assert "2025-01-01 ~ 2025-12-31" in text and "v1" in text and t("common.suppressed_note", "ko") in text
    lines = text.splitlines()
    data = [line for line in lines if not line.startswith("#")]
    assert data[0] == f"{t('uptake.col.name', 'ko')},{t('uptake.col.applications', 'ko')},{t('uptake.col.selection_rate', 'ko')} (%)"
    assert data[1] == "name,applications,selection_rate"
    assert f",{SUPPRESSED}," in text or f",{SUPPRESSED}\n" in text
    rates = [row.split(",")[-1] for row in data[2:] if not row.endswith(SUPPRESSED)]
    assert rates and all(r == "" or len(r.split(".")[-1]) <= 1 for r in rates)  # rounded as shown


def _options(db: Path) -> object:
    from analytics import filters as flt
    with duckdb.connect(str(db), read_only=True) as con:
        return flt.options(con)


def test_uptake_settings_stay_on_the_uptake_page(db: Path) -> None:
    # uptake's by=size once leaked into matching's "by" (an empty "Choose options"): each page keeps its own
    at = opened_link("admin", PAGE, {"tab": "breakdown", "by": "size"}, timeout=120)
    assert _url(at, "by") == ["size"]
    at.switch_page("pages/matching.py").run()
    assert not at.exception
    assert "size" not in _url(at, "by") and "by" not in at.session_state["_page_params"].get("matching", {})
    at.switch_page(PAGE).run()  # back on uptake: its own setting is still there
    assert not at.exception and _url(at, "by") == ["size"] and _url(at, "tab") == ["breakdown"]

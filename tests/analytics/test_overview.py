"""The overview's numbers, checked against pandas on the tiny synthetic database."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.overview import plots as overview_plots
from analytics.overview import summary as overview
from data.privacy import SUPPRESSED


@pytest.fixture(scope="module")
def con(tiny_db):
    con = duckdb.connect(str(tiny_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def apps(con) -> pd.DataFrame:
    return con.execute("SELECT a.*, f.region_code, f.size_class::VARCHAR AS size_class, p.category::VARCHAR AS category "
                       "FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)").df()


def test_summary_counts_what_is_loaded(con, apps) -> None:
    s = overview.summary(con)
    firms = con.execute("SELECT * FROM firms").df()
    survey = con.execute("SELECT weight FROM ai_survey").df()
    assert (s.firms, s.applications, s.applicant_firms) == (len(firms), len(apps), apps["firm_id"].nunique())
    assert s.firms_weighted == pytest.approx(firms["weight"].sum())
    assert s.selected == (apps["status"] == "selected").sum()
    assert s.respondents == len(survey) and s.respondents_weighted == pytest.approx(survey["weight"].sum())
    assert s.programs == con.execute("SELECT count(*) FROM programs").fetchone()[0]
    assert s.first_application == apps["submitted_at"].min().date()
    assert overview.meta(con)["source"] == "synthetic"


def test_coverage_matches_pandas_and_suppresses_small_cells_for_policy(con, apps) -> None:
    f = Filters(categories=("수출", "기술"))
    sub = apps[apps["category"].isin(f.categories)]
    expected = sub.groupby(["region_code", "size_class"]).agg(
        firms=("firm_id", "nunique"), applications=("application_id", "size"),
        selected=("status", lambda s: (s == "selected").sum()), awarded_krw=("amount_awarded_krw", "sum")).reset_index()
    got = overview.coverage(con, f, role="evaluator")
    merged = got.merge(expected, on=["region_code", "size_class"], suffixes=("", "_pd"))
    assert len(merged) == len(expected) == len(got)
    for column in ("firms", "applications", "selected", "awarded_krw"):
        assert (merged[column] == merged[f"{column}_pd"]).all(), column
    assert merged["selection_rate"].tolist() == pytest.approx((merged["selected_pd"] / merged["applications_pd"]).tolist())

    policy = overview.coverage(con, f, role="policy")
    small = got["firms"] < 5
    assert small.any(), "the fixture should have small cells"
    assert (policy.loc[small, ["firms", "applications", "selected", "selection_rate", "awarded_krw"]] == SUPPRESSED).all().all()
    assert (policy.loc[~small, "firms"] == got.loc[~small, "firms"]).all()


def test_activity_counts_per_month_with_empty_months_as_zero(con, apps) -> None:
    got = overview.activity(con, Filters(regions=("11",)), role="auditor")
    sub = apps[apps["region_code"] == "11"]
    per = sub.groupby(sub["submitted_at"].dt.to_period("M")).size()
    expected = per.reindex(pd.period_range(per.index.min(), per.index.max(), freq="M"), fill_value=0)
    assert got.unit == "month" and got.hidden == 0
    assert got.frame["applications"].tolist() == expected.tolist()
    assert got.frame["label"].tolist() == [str(p) for p in expected.index]
    firms = sub.groupby(sub["submitted_at"].dt.to_period("M"))["firm_id"].nunique()
    assert got.frame.set_index("label")["firms"].loc[[str(p) for p in firms.index]].tolist() == firms.tolist()
    fig = overview_plots.plot_activity(got, x_title="m", y_title="n", names=("a", "s"), partial_note="partial")
    drawn = [y for t in fig.data if t.name == "a" for y in t.y]
    assert drawn[:len(expected) - 1] == expected.tolist()[:-1]


def test_last_period_is_partial_when_the_data_ends_inside_it(con, apps) -> None:
    end = apps["submitted_at"].max().date()
    got = overview.activity(con, Filters(), role="auditor")
    month_end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    assert got.partial_until == (end if end < month_end else None)
    if got.partial_until is not None:
        fig = overview_plots.plot_activity(got, x_title="m", y_title="n", names=("a", "s"), partial_note="partial")
        assert any(a.text == "partial" for a in fig.layout.annotations)
        dotted = [t for t in fig.data if t.line.dash == "dot"]
        assert dotted and all(t.x[-1] == got.frame["label"].iloc[-1] for t in dotted)


def test_activity_groups_coarser_when_most_months_are_suppressed(con, apps) -> None:
    # a narrow filter: one small region's micro firms, whose months mostly hold under 5 firms
    sizes = apps.groupby("region_code")["firm_id"].nunique().sort_values()
    region = sizes.index[0]
    f = Filters(regions=(region,), categories=("수출",))
    sub = apps[(apps["region_code"] == region) & (apps["category"] == "수출")]
    monthly_firms = sub.groupby(sub["submitted_at"].dt.to_period("M"))["firm_id"].nunique()
    assert ((monthly_firms < 5).sum() * 2 > len(monthly_firms)), "the fixture should make most months small"
    got = overview.activity(con, f, role="policy")
    assert got.unit in ("quarter", "year")
    freq = {"quarter": "Q", "year": "Y"}[got.unit]
    firms = sub.groupby(sub["submitted_at"].dt.to_period(freq))["firm_id"].nunique()
    assert got.hidden == int(((firms > 0) & (firms < 5)).sum())
    shown = got.frame[got.frame["firms"] != SUPPRESSED]
    assert shown["firms"].astype(int).sum() == firms[firms >= 5].sum()
    # other roles see the months themselves
    assert overview.activity(con, f, role="auditor").unit == "month"

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


def test_monthly_counts_per_month(con, apps) -> None:
    got = overview.monthly(con, Filters(regions=("11",)), role="auditor")
    sub = apps[apps["region_code"] == "11"]
    expected = sub.groupby(sub["submitted_at"].dt.to_period("M")).size()
    assert got["applications"].tolist() == expected.tolist()
    assert [m.strftime("%Y-%m") for m in got["month"]] == [str(p) for p in expected.index]
    fig = overview_plots.plot_monthly(got, x_title="m", y_title="n", names=("a", "s"))
    assert list(fig.data[0].y) == expected.tolist()

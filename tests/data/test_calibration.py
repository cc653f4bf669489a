"""The synthetic data reproduces the published figures (data/facts), computed here independently of
the generator: SME counts by 시도 and size, industry and age mix, survey adoption rates, documents
and linkage; and the true outcome model has the promised directions and a realistic oracle AUC."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data import facts

CAPITAL = {"11", "28", "41"}
SME = ("micro", "small", "medium")


@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def published() -> dict[str, float]:
    df = facts.published()
    assert df["source"].notna().all()
    return dict(zip(df["key"], df["value"]))


def test_weighted_sme_counts_by_region_and_size(con: duckdb.DuckDBPyConnection, published: dict) -> None:
    regions = pd.read_csv(facts.REGIONS_CSV, dtype={"region_code": str})
    regions["capital"] = regions["region_code"].isin(CAPITAL)
    group_total = regions.groupby("capital")["smes_10k"].transform("sum")
    total_2023 = np.where(regions["capital"], published["smes_capital_region_2023"], published["smes_non_capital_2023"])
    expected = pd.Series((total_2023 * regions["smes_10k"] / group_total).to_numpy(), index=regions["region_code"])

    w = con.execute("SELECT region_code, size_class::VARCHAR AS size_class, sum(weight) AS w FROM firms "
                    "GROUP BY ALL").df()
    sme = w[w["size_class"].isin(SME)].groupby("region_code")["w"].sum()
    assert (sme.reindex(expected.index) - expected).abs().max() <= 1.0  # integer rounding only
    assert sme.sum() == pytest.approx(published["smes_total_2023"], abs=1e-3)
    assert sme[list(CAPITAL)].sum() == pytest.approx(published["smes_capital_region_2023"], abs=1e-3)
    # every 시도 x size cell has firms, and the weighted counts are whole firms
    assert len(w) == 17 * 5
    assert np.allclose(w["w"], w["w"].round(), atol=1e-6)
    micro = w.loc[w["size_class"] == "micro", "w"].sum() / sme.sum()
    assert micro == pytest.approx(published["micro_share_2022"], abs=0.0005)
    non_sme = w.loc[~w["size_class"].isin(SME), "w"].sum()
    assert 0 < non_sme < 0.002 * sme.sum()  # SMEs are 99.9% of firms


def test_industry_and_age_mix(con: duckdb.DuckDBPyConnection, published: dict) -> None:
    f = con.execute("SELECT ksic_section, weight, date_diff('day', founded_on, DATE '2026-10-31') AS age_days "
                    "FROM firms WHERE size_class IN ('micro', 'small', 'medium')").df()
    share = f.groupby("ksic_section")["weight"].sum() / f["weight"].sum()
    assert share["G"] == pytest.approx(published["smes_wholesale_retail_share_2022"], abs=0.01)
    assert share["L"] == pytest.approx(published["smes_real_estate_share_2022"], abs=0.01)
    assert share["I"] == pytest.approx(published["smes_accommodation_food_share_2022"], abs=0.01)
    assert 0.055 <= share["C"] <= 0.075
    young = f.loc[f["age_days"] <= 7 * 365.25, "weight"].sum() / f["weight"].sum()
    assert young == pytest.approx(published["smes_young_share_2022"], abs=0.01)
    # the sample over-represents larger firms, which make up most applicants
    n = con.execute("SELECT size_class::VARCHAR, count(*) FROM firms GROUP BY 1").fetchall()
    assert dict(n)["micro"] / sum(dict(n).values()) < 0.8


def _weighted(df: pd.DataFrame, col: str, mask: pd.Series | None = None) -> float:
    d = df if mask is None else df[mask]
    return float((d[col] * d["weight"]).sum() / d["weight"].sum())


def test_survey_reproduces_published_adoption(con: duckdb.DuckDBPyConnection, published: dict) -> None:
    s = con.execute("SELECT s.*, s.size_class::VARCHAR AS size, r.capital_region FROM ai_survey s "
                    "JOIN regions r USING (region_code) WHERE survey_year = 2024").df()
    assert len(s) >= 2000
    assert ((s["ai_status"] == "uses") == s["uses_ai"]).all() and ((s["ai_status"] == "plans") == s["plans_ai"]).all()
    sme = s["size"].isin(SME)
    figures = {
        "ai_adoption_large_firms": _weighted(s, "uses_ai", s["size"] == "large"),
        "ai_adoption_smes": _weighted(s, "uses_ai", sme),
        "ai_adoption_capital_region": _weighted(s, "uses_ai", s["capital_region"]),
        "ai_adoption_non_capital_region": _weighted(s, "uses_ai", ~s["capital_region"]),
    }
    for key, value in figures.items():
        assert abs(value - published[key]) <= 0.01, (key, value)
    by_ind = {k: _weighted(s, "uses_ai", sme & (s["ksic_section"] == k)) for k in ("C", "J", "K")}
    assert by_ind["C"] < figures["ai_adoption_smes"] < min(by_ind["J"], by_ind["K"])
    non_users = s[~s["uses_ai"]]
    for key, col in (("barrier_cost", "barrier_cost"), ("barrier_skills", "barrier_skills"),
                     ("barrier_integration", "barrier_integration")):
        assert abs(_weighted(non_users, col) - published[key]) <= 0.05, key
    for key, col in (("wish_practical_training", "wish_training"), ("wish_success_cases", "wish_cases"),
                     ("wish_basic_education", "wish_education")):
        assert abs(_weighted(s, col) - published[key]) <= 0.05, key
    # weights represent the whole firm population
    firms_total = con.execute("SELECT sum(weight) FROM firms").fetchone()[0]
    assert s["weight"].sum() == pytest.approx(firms_total, rel=1e-9)


def test_documents_and_linkage(con: duckdb.DuckDBPyConnection, published: dict) -> None:
    docs, link = con.execute(
        "SELECT avg(a.docs_submitted + a.docs_auto_linked), sum(a.docs_auto_linked) / sum(p.docs_required) "
        "FROM applications a JOIN programs p USING (program_id)").fetchone()
    assert docs == pytest.approx(published["documents_per_application_now"], abs=0.5)
    assert link == pytest.approx(published["admin_data_linkage_rate_now"], abs=0.02)
    first, last = con.execute(
        "SELECT sum(a.docs_auto_linked) FILTER (WHERE submitted_at < DATE '2024-11-01') / "
        "       sum(p.docs_required) FILTER (WHERE submitted_at < DATE '2024-11-01'), "
        "       sum(a.docs_auto_linked) FILTER (WHERE submitted_at >= DATE '2025-11-01') / "
        "       sum(p.docs_required) FILTER (WHERE submitted_at >= DATE '2025-11-01') "
        "FROM applications a JOIN programs p USING (program_id)").fetchone()
    assert first < last
    prog = con.execute("SELECT avg(docs_required), avg(docs_auto_linked / docs_required), "
                       "avg(ai_related::INT) FROM programs").fetchone()
    assert 8 <= prog[0] <= 10 and 0.38 <= prog[1] <= 0.48 and 0.04 <= prog[2] <= 0.12


def test_rates_differ_by_region_size_and_category(con: duckdb.DuckDBPyConnection) -> None:
    def spread(col: str) -> float:
        r = con.execute(f"""SELECT avg((status = 'selected')::INT) FROM applications a JOIN firms f USING (firm_id)
            JOIN programs p USING (program_id) WHERE status IN ('selected', 'rejected') GROUP BY {col}
            HAVING count(*) >= 100""").fetchall()
        return max(x[0] for x in r) - min(x[0] for x in r)
    assert spread("p.category") > 0.2
    assert spread("f.size_class") > 0.03
    assert spread("f.region_code") > 0.05
    # applications peak in the first quarter
    q = dict(con.execute("SELECT quarter(submitted_at), count(*) FROM applications GROUP BY 1").fetchall())
    assert q[1] == max(q.values())


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    ranks = pd.Series(score).rank().to_numpy()
    pos = label.sum()
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * (len(label) - pos)))


def test_truth_model_directions_and_oracle(con: duckdb.DuckDBPyConnection) -> None:
    t = con.execute("SELECT t.*, f.debt_ratio, f.patents, f.rnd_intensity, f.cert_venture OR f.cert_innobiz AS cert "
                    "FROM truth_outcomes t JOIN applications a USING (application_id) JOIN firms f USING (firm_id)").df()
    assert 0.015 <= t["p_default"].mean() <= 0.05 and 0.015 <= t["defaulted"].mean() <= 0.05
    assert 0.2 <= t["p_success"].mean() <= 0.4
    logit = np.log(t["p_default"] / (1 - t["p_default"]))
    assert np.corrcoef(np.log(t["debt_ratio"]), logit)[0, 1] > 0.1
    assert np.corrcoef(np.log1p(t["patents"]), logit)[0, 1] < 0
    assert np.corrcoef(t["rnd_intensity"], logit)[0, 1] < 0
    assert logit[t["cert"]].mean() < logit[~t["cert"]].mean()
    # the truth is a function of observables only: its AUC is what a perfect model reaches (~0.7)
    assert 0.65 <= _auc(t["p_default"].to_numpy(), t["defaulted"].to_numpy()) <= 0.9
    assert 0.62 <= _auc(t["p_success"].to_numpy(), t["succeeded"].to_numpy()) <= 0.9

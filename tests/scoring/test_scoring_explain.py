"""Reason codes, points and what-if on the trained tiny database."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.access import AccessDenied
from scoring import explain, grades, store


@pytest.fixture(scope="module")
def ctx(trained_tiny: tuple[Path, dict]):
    con = duckdb.connect(str(trained_tiny[0]), read_only=True)
    out = {}
    for model in ("ktop", "kvalue"):
        v = store.current_version(con, model)
        out[model] = {"version": v, "sm": store.load_model(con, model, v.version),
                      "sample": store.shap_sample(con, model, v.version, 500, role="evaluator"),
                      "apps": [store.applicant(con, i, model, v.version, role="evaluator") for i in (1, 2, 3, 50, 400)]}
    yield con, out
    con.close()


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_points_add_up_to_the_score_and_reasons_use_only_used_drivers(ctx, model: str) -> None:
    _, out = ctx
    v = out[model]["version"]
    used = explain.used_drivers(v.metrics)
    for a in out[model]["apps"]:
        row = a.frame.iloc[0]
        table = explain.driver_table(model, v.driver_names, a.contrib, row)
        total = explain.base_points(model, v.base) + table["points"].sum()
        assert total == pytest.approx(float(grades.points(model, a.log_odds)), abs=1e-8)
        assert a.score == pytest.approx(min(max(total, 0), 1000), abs=1e-8)
        for key in ("block", "part"):   # grouped contributions add up to the same total
            groups = explain.group_points(table, v.features, key)
            assert groups["points"].sum() == pytest.approx(table["points"].sum(), abs=1e-9)
        assert set(explain.group_points(table, v.features, "block")["group"]) <= {"경영주 역량", "기술성", "시장성", "사업성"}
        reasons = explain.reason_codes(model, table, explain.peer_percentiles(out[model]["sample"], row, v.driver_names), used)
        assert set(reasons["driver"]) <= used
        for sign, cmp in (("-", np.less), ("+", np.greater)):
            part = reasons[reasons["direction"] == sign]
            assert len(part) <= explain.MAX_REASONS and cmp(part["points"], 0).all()
        # the reason codes are the largest contributions in each direction
        lowering = table[(table["points"] < -explain.MIN_POINTS) & table["driver"].isin(used)]
        assert list(reasons[reasons["direction"] == "-"]["driver"]) == list(lowering["driver"].head(4))
        assert all(s.endswith("다.") for s in reasons["sentence"])


def test_model_built_from_the_artifact_reproduces_stored_scores(ctx) -> None:
    _, out = ctx
    for model in ("ktop", "kvalue"):
        for a in out[model]["apps"]:
            assert out[model]["sm"].log_odds(a.frame)[0] == pytest.approx(a.log_odds, abs=1e-12)


def test_what_if_moves_in_the_known_direction(ctx) -> None:
    _, out = ctx
    sm = out["ktop"]["sm"]
    for a in out["ktop"]["apps"]:
        scores = [explain.what_if(sm, a.frame, {"debt_ratio": d})["points"] for d in (0.1, 0.5, 1, 2, 5, 10)]
        assert all(np.diff(scores) <= 1e-9)   # more debt never raises the score
        pats = [explain.what_if(sm, a.frame, {"patents": p})["points"] for p in (0, 1, 3, 10, 50)]
        assert all(np.diff(pats) >= -1e-9)    # more patents never lower it
    wi = explain.what_if(sm, out["ktop"]["apps"][0].frame, {"debt_ratio": 999})  # clipped to the valid range
    assert wi == explain.what_if(sm, out["ktop"]["apps"][0].frame, {"debt_ratio": 20})
    assert wi["grade"] == grades.grade("ktop", np.array([wi["probability"]]))[0]


def test_peer_percentile_against_pandas(ctx) -> None:
    _, out = ctx
    sample = out["kvalue"]["sample"]
    row = out["kvalue"]["apps"][0].frame.iloc[0]
    pct = explain.peer_percentiles(sample, row, ["debt_ratio"])["debt_ratio"]
    peers = sample[sample["ksic_section"] == row["ksic_section"]]
    peers = peers if len(peers) >= explain.MIN_PEERS else sample
    col = peers["debt_ratio"].to_numpy()
    expected = 100 * ((col < row["debt_ratio"]).sum() + 0.5 * (col == row["debt_ratio"]).sum()) / len(col)
    assert pct == pytest.approx(expected)


def test_value_text_and_josa() -> None:
    assert explain.value_text("debt_ratio", 2.5) == "2.5배"
    assert explain.value_text("cert_venture", 1.0) == "있음"
    assert explain.value_text("operating_margin", 0.123) == "12.3%"
    assert explain.value_text("patent_grade", 0.0) == "특허 없음"
    assert explain._josa("부채비율", ("이", "가")) == "이"
    assert explain._josa("특허 수", ("이", "가")) == "가"


def test_store_refuses_policy_and_masks_business_numbers(ctx) -> None:
    con, out = ctx
    v = out["ktop"]["version"]
    with pytest.raises(AccessDenied):
        store.applicant(con, 1, "ktop", v.version, role="policy")
    with pytest.raises(AccessDenied):
        store.find_applicants(con, "1", role="policy")
    a = out["ktop"]["apps"][0]
    assert a.info["biz_no"].endswith("*****")
    raw = con.execute("SELECT biz_no FROM firms JOIN applications USING (firm_id) WHERE application_id = 1").fetchone()[0]
    found = store.find_applicants(con, a.info["biz_no"], role="evaluator")
    assert 1 in found["application_id"].tolist() and raw not in found["biz_no"].tolist()
    assert store.find_applicants(con, "1", role="evaluator")["application_id"].tolist() == [1]


def test_similar_applicants_share_the_program(ctx) -> None:
    con, out = ctx
    v = out["ktop"]["version"]
    sim = store.similar(con, 1, "ktop", v.version, 5, role="evaluator")
    prog = con.execute("SELECT program_id FROM applications WHERE application_id = 1").fetchone()[0]
    ids = sim["application_id"].tolist()
    if ids:
        progs = con.execute("SELECT DISTINCT program_id FROM applications WHERE application_id IN (SELECT unnest(?))", [ids]).fetchall()
        assert progs == [(prog,)] and 1 not in ids
        table = explain.compare_table(sim, "ktop", v.driver_names)
        assert "contrib" not in table and table["top_factors"].str.len().gt(0).all()
    assert isinstance(sim, pd.DataFrame)


def test_cached_views_are_plain_figure_dicts_of_the_current_version(ctx) -> None:
    from scoring import views

    con, out = ctx
    v = out["ktop"]["version"]
    g = views.global_figures(con, "ktop", v.version, "ko", role="evaluator")
    assert g["names"] == v.driver_names and len(g["dependence"]) == len(v.driver_names)
    assert isinstance(g["beeswarm"], dict) and g["beeswarm"]["data"]
    card = views.card_figures(con, "ktop", v.version, "en")
    assert set(card) >= {"calibration", "grades", "confusion", "fair_region", "fair_size", "fair_table"}
    with pytest.raises(LookupError):
        views.card_figures(con, "ktop", "ktop-old", "ko")
    with pytest.raises(AccessDenied):
        views.global_figures(con, "ktop", v.version, "ko", role="policy")

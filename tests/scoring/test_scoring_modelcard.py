"""Model-card functions against independent computations, and model quality on a larger fixture."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from scoring import grades, modelcard, train
from scoring.models import firm_weights


def _mann_whitney_auc(y: np.ndarray, p: np.ndarray) -> float:
    ranks = pd.Series(p).rank().to_numpy()
    n1 = y.sum()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


def test_auc_calibration_confusion_and_fairness_against_pandas() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 2000)
    y = (rng.random(2000) < p).astype(float)
    w = np.ones(2000)
    assert abs(modelcard.auc(y, p) - _mann_whitney_auc(y, p)) < 1e-12
    curve = modelcard.calibration_curve(y, p, w, bins=4)
    order = np.argsort(p, kind="stable")
    assert [c["n"] for c in curve] == [500] * 4
    assert curve[0]["observed"] == y[order[:500]].mean() and curve[3]["predicted"] == p[order[1500:]].mean()
    g = grades.grade("ktop", p)
    mat = np.array(modelcard.grade_confusion(g, g))
    assert mat.sum() == 2000 and (mat == np.diag(np.diag(mat))).all()
    groups = pd.Series(rng.choice(["a", "b"], 2000))
    score = rng.uniform(0, 1000, 2000)
    fair = {r["group"]: r for r in modelcard.fairness("ktop", groups, 1 - y, 1 - p, score, g, w)}
    sel = pd.Series(modelcard.selected("ktop", g)).groupby(groups).mean()
    assert fair["a"]["selection_rate"] == sel["a"] and fair["b"]["median"] == np.median(score[groups == "b"])


def test_grades_rise_with_failure_probability() -> None:
    p = np.array([0.001, 0.005, 0.007, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5])
    assert list(grades.grade("ktop", p)) == list(grades.GRADES)
    floors = grades.grade_floor_points("ktop")
    assert list(floors.values()) == sorted(floors.values(), reverse=True)
    # KTRS's published rates fall inside their grade's band
    for g, rate in grades.KTRS_DEFAULT_RATES.items():
        assert grades.grade("ktop", np.array([rate]))[0] == g


def _observable_oracle_auc(con: duckdb.DuckDBPyConnection, model: str) -> tuple[float, float]:
    """AUC of a logistic regression on the generator's own observable terms (data/synth_outcomes.py).

    The truth is a function of these observables, so this well-specified regression shows what a
    model fitted on the same finite training slice can reach (close to the truth's own AUC).
    """
    d = train.load_training_data(con)
    f = con.execute("SELECT a.application_id, f.* FROM applications a JOIN firms f USING (firm_id)").df()
    f = f.set_index("application_id").loc[d["application_id"]]
    a, b = train.split_bounds(d["firm_id"].to_numpy())
    lp = np.log1p(f["patents"].to_numpy())
    pq = np.where(f["patents"] > 0, np.nan_to_num(f["patent_quality"].to_numpy(float), nan=5) - 5, 0.3)
    size = pd.get_dummies(f["size_class"].astype(str)).to_numpy(float)
    if model == "ktop":
        certs = (f["cert_venture"] | f["cert_innobiz"] | f["cert_mainbiz"]).to_numpy(float)
        x = np.column_stack([np.log(f["debt_ratio"]), lp, pq, f["rnd_intensity"], certs, f["operating_margin"],
                             f["sales_growth"], f["ceo_experience_years"], d["firm_age_years"] < 3, size,
                             np.minimum(d["request_to_revenue"].fillna(0), 2)])
        y, p_truth = d["defaulted"].to_numpy(), d["p_default"].to_numpy()
    else:
        x = np.column_stack([lp, pq, f["cert_venture"], f["cert_innobiz"], f["rnd_intensity"], f["sales_growth"],
                             f["operating_margin"], f["tech_staff"] > 0, f["market_growth"], np.log(f["debt_ratio"])])
        y, p_truth = d["succeeded"].to_numpy(), d["p_success"].to_numpy()
    x = x.astype(float)
    w = firm_weights(d["firm_id"].to_numpy())
    lr = LogisticRegression(max_iter=5000, C=100).fit(x[:a], y[:a], sample_weight=w[:a])
    wt = firm_weights(d["firm_id"].to_numpy()[b:])
    return modelcard.auc(y[b:], lr.predict_proba(x[b:])[:, 1], wt), modelcard.auc(y[b:], p_truth[b:], wt)


def test_model_quality_against_the_observable_and_true_oracles(quality_db: tuple[Path, dict]) -> None:
    path, trained = quality_db
    with duckdb.connect(str(path), read_only=True) as con:
        for model in ("ktop", "kvalue"):
            m = trained[model].metrics
            observable_auc, truth_auc = _observable_oracle_auc(con, model)
            assert abs(truth_auc - m["oracle_auc"]) < 1e-9
            assert m["auc"] >= observable_auc - 0.02, (model, m["auc"], observable_auc)
            # the bar: within 0.02 of the truth's own AUC (the best possible model)
            assert m["auc"] > 0.6 and m["oracle_auc"] - m["auc"] <= 0.02, (model, m["auc"], m["oracle_auc"])


def test_grade_failure_rates_rise_grade_by_grade(quality_db: tuple[Path, dict]) -> None:
    for model in ("ktop", "kvalue"):
        rows = [r for r in trained_rows(quality_db, model) if r["n"] >= 100]
        expected = [r["truth"] for r in rows]       # the true failure probability, averaged per grade
        # neighbouring top grades differ by tenths of a percent, less than their sampling noise
        assert all(b >= a - 0.002 for a, b in zip(expected, expected[1:])), (model, expected)
        assert expected[-1] - expected[0] > 0.05
        # observed rates are noisy per grade (a firm's applications share one outcome): compare thirds
        bands = [rows[: len(rows) // 3], rows[len(rows) // 3: 2 * len(rows) // 3], rows[2 * len(rows) // 3:]]
        observed = [sum(r["observed"] * r["n"] for r in b) / sum(r["n"] for r in b) for b in bands]
        assert observed == sorted(observed), (model, observed)


def trained_rows(quality_db: tuple[Path, dict], model: str) -> list[dict]:
    return quality_db[1][model].metrics["grades"]

"""Model-card functions against independent computations, and model quality on a larger fixture."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
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
    tr, ca, te = train.split(d)
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
    fit = np.r_[tr, ca]
    lr = LogisticRegression(max_iter=5000, C=100).fit(x[fit], y[fit], sample_weight=w[fit])
    wt = firm_weights(d["firm_id"].to_numpy()[te])
    return modelcard.auc(y[te], lr.predict_proba(x[te])[:, 1], wt), modelcard.auc(y[te], p_truth[te], wt)


def test_model_quality_against_the_observable_and_true_oracles(quality_db: tuple[Path, dict]) -> None:
    path, trained = quality_db
    with duckdb.connect(str(path), read_only=True) as con:
        for model in ("ktop", "kvalue"):
            m = trained[model].metrics
            observable_auc, truth_auc = _observable_oracle_auc(con, model)
            assert abs(truth_auc - m["oracle_auc"]) < 1e-9
            assert m["auc"] >= observable_auc - 0.02, (model, m["auc"], observable_auc)
            # issue 19's bar on the out-of-time rows: within 0.01 of the truth's own AUC and not above it
            # (a model above the best possible one has seen the outcomes it is judged on)
            assert m["auc"] > 0.6 and 0 <= m["oracle_auc"] - m["auc"] <= 0.01, (model, m["auc"], m["oracle_auc"])
            lo, hi = m["intervals"]["auc"]
            assert lo < m["auc"] < hi and m["intervals"]["reps"] == modelcard.BOOTSTRAP


def test_grade_failure_rates_rise_grade_by_grade(quality_db: tuple[Path, dict]) -> None:
    for model in ("ktop", "kvalue"):
        rows = [r for r in trained_rows(quality_db, model) if r["n"] > 0]
        # issue 19: realised rates on the out-of-time rows rise down the fitted ladder, grade by grade
        observed = [r["observed"] for r in rows]
        assert observed == sorted(observed), (model, [(r["grade"], round(r["observed"], 4)) for r in rows])
        expected = [r["truth"] for r in rows]       # the true failure probability, averaged per grade
        assert expected == sorted(expected) and expected[-1] - expected[0] > 0.05, (model, expected)
        assert all(r["observed_lo"] <= r["observed"] <= r["observed_hi"] for r in rows)
        labels = quality_db[1][model].metrics["ladder"]["labels"]
        assert [r["grade"] for r in trained_rows(quality_db, model)] == labels
        assert [grades.rank(g) for g in labels] == sorted(grades.rank(g) for g in labels)


def test_fit_ladder_merges_until_rates_separate() -> None:
    rng = np.random.default_rng(3)
    n = 60_000
    p = rng.beta(1.2, 30, n)                    # K-TOP-like failure probabilities
    failed = (rng.random(n) < p).astype(float)
    w = np.ones(n)
    lad = grades.fit_ladder("ktop", failed, p, w)
    assert 1 < len(lad.labels) < len(grades.GRADES) and lad.labels[-1] == "D"
    assert len(lad.bounds) == len(lad.labels) - 1 and set(lad.bounds) <= set(grades.BANDS["ktop"])
    # independent check with pandas: rates per merged grade rise, each step by >= z standard errors
    df = pd.DataFrame({"g": grades.grade("ktop", p, lad), "y": failed})
    stats = df.groupby("g")["y"].agg(["mean", "count"]).reindex([g for g in lad.labels if g in set(df["g"])])
    r, c = stats["mean"].to_numpy(), stats["count"].to_numpy()
    se = np.sqrt(r[:-1] * (1 - r[:-1]) / c[:-1] + r[1:] * (1 - r[1:]) / c[1:])
    assert ((r[1:] - r[:-1]) / se >= grades.SEPARATION_Z).all()
    # with no signal at all, everything merges into one grade
    assert grades.fit_ladder("ktop", (rng.random(n) < 0.03).astype(float), p, w).labels == ("D",)


def test_bootstrap_auc_and_equal_opportunity_against_independent_computations() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    p = rng.uniform(0, 0.3, n)
    y = (rng.random(n) < p).astype(float)
    w = rng.uniform(0.2, 1, n)
    _, grp = np.unique(p, return_inverse=True)
    assert modelcard._sorted_auc(y, grp, int(grp.max()) + 1, w) == pytest.approx(modelcard.auc(y, p, w), abs=1e-12)
    firms = rng.integers(0, 800, n)
    b = modelcard.bootstrap(y, p, p, firms, w, np.zeros(n, dtype=int), 1, reps=50)
    assert b["auc"][0] < modelcard.auc(y, p, w) < b["auc"][1] and b["auc_gap"] == [0.0, 0.0]
    g = grades.grade("ktop", p)
    truth_g = grades.grade("ktop", np.clip(p - 0.05, 0, 1))
    groups = pd.Series(rng.choice(["a", "b"], n))
    fair = {r["group"]: r for r in modelcard.fairness("ktop", groups, 1 - y, 1 - p, rng.uniform(0, 1000, n), g,
                                                       np.ones(n), truth_g)}
    good = y == 0
    sel = pd.Series(modelcard.selected("ktop", g))
    sel_t = pd.Series(modelcard.selected("ktop", truth_g))
    for k in ("a", "b"):
        m = (groups == k).to_numpy() & good
        assert fair[k]["tpr"] == pytest.approx(sel[m].mean()) and fair[k]["fnr"] == pytest.approx(1 - sel[m].mean())
        assert fair[k]["tpr_truth"] == pytest.approx(sel_t[m].mean())


def test_psi_against_a_hand_computation() -> None:
    from scoring import drift

    e, a = [0.25, 0.25, 0.5], [0.2, 0.3, 0.5]
    assert drift.psi(e, a) == pytest.approx((0.2 - 0.25) * np.log(0.2 / 0.25) + (0.3 - 0.25) * np.log(0.3 / 0.25))
    frame = pd.DataFrame({"debt_ratio": np.linspace(0, 10, 1000), "size_class": ["micro"] * 1000})
    prof = drift.profile(frame, np.linspace(0, 999, 1000), ["debt_ratio", "size_class"])
    same = drift.compare(prof, frame, np.linspace(0, 999, 1000))
    assert same["psi_score"] == pytest.approx(0) and max(same["psi_features"].values()) == pytest.approx(0)
    shifted = drift.compare(prof, frame.assign(debt_ratio=frame["debt_ratio"] + 3, size_class="small"),
                            np.linspace(300, 999, 1000))
    assert shifted["psi_features"]["debt_ratio"] > drift.SHIFT and shifted["psi_features"]["size_class"] > drift.SHIFT
    assert shifted["psi_score"] > drift.SHIFT


def trained_rows(quality_db: tuple[Path, dict], model: str) -> list[dict]:
    return quality_db[1][model].metrics["grades"]

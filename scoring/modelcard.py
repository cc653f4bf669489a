"""Model card: quality, calibration, grades and fairness of one trained model, as plain data.

Computed once by ``scoring.train`` on the held-out (latest) test slice and stored in
``model_versions.metrics``; the page only draws it (figures in :mod:`scoring.plots`). The oracle
rows use the synthetic truth's own probabilities on the same test rows: the best any model could do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from scoring import grades

# Selected at the cut-off: K-TOP grade B or better (KTRS's lowest grade eligible for a guarantee);
# K-value grade BB or better (success at least as likely as not).
CUTOFF_GRADE = {"ktop": "B", "kvalue": "BB"}
MIN_GROUP = 30   # groups smaller than this get no rates (too noisy to read)


def selected(model: str, grade_labels: np.ndarray) -> np.ndarray:
    """Whether each grade passes the model's cut-off."""
    order = {g: i for i, g in enumerate(grades.GRADES)}
    cut = order[CUTOFF_GRADE[model]]
    return np.array([order[g] <= cut for g in grade_labels], dtype=bool)


def auc(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """(Weighted) ROC AUC, or None when only one class is present."""
    return float(roc_auc_score(y, p, sample_weight=w)) if 0 < y.sum() < len(y) else None


def _mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.average(x, weights=w))


def calibration_curve(y: np.ndarray, p: np.ndarray, w: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Weighted mean predicted vs observed rate in equal-count bins of the prediction."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append({"predicted": _mean(p[chunk], w[chunk]), "observed": _mean(y[chunk], w[chunk]),
                        "n": int(len(chunk))})
    return out


def grade_table(model: str, failed: np.ndarray, p_fail: np.ndarray, p_fail_truth: np.ndarray,
                grade_labels: np.ndarray, w: np.ndarray) -> list[dict[str, object]]:
    """Per grade: count, observed failure rate, mean predicted and true failure probability (weighted)."""
    out = []
    for g in grades.GRADES:
        m = grade_labels == g
        n = int(m.sum())
        out.append({"grade": g, "n": n,
                    "observed": _mean(failed[m], w[m]) if n else None,
                    "predicted": _mean(p_fail[m], w[m]) if n else None,
                    "truth": _mean(p_fail_truth[m], w[m]) if n else None,
                    "ktrs": grades.KTRS_DEFAULT_RATES.get(g) if model == "ktop" else None})
    return out


def grade_confusion(model_grades: np.ndarray, truth_grades: np.ndarray) -> list[list[int]]:
    """Counts of (model grade, grade of the true probability), rows and columns in ladder order."""
    idx = {g: i for i, g in enumerate(grades.GRADES)}
    mat = np.zeros((len(grades.GRADES), len(grades.GRADES)), dtype=np.int64)
    np.add.at(mat, ([idx[g] for g in model_grades], [idx[g] for g in truth_grades]), 1)
    return mat.tolist()


def fairness(model: str, groups: pd.Series, y_good: np.ndarray, p_good: np.ndarray, score: np.ndarray,
             grade_labels: np.ndarray, w: np.ndarray) -> list[dict[str, object]]:
    """Per group: score distribution, selection rate at the cut-off, calibration (good outcome).

    Rates are per application; calibration and AUC weight each firm once, like the headline metrics.
    """
    sel = selected(model, grade_labels)
    out = []
    for name, idx in groups.groupby(groups.to_numpy(), sort=True).indices.items():
        n = len(idx)
        row: dict[str, object] = {"group": str(name), "n": int(n)}
        if n >= MIN_GROUP:
            q = np.quantile(score[idx], [0.1, 0.25, 0.5, 0.75, 0.9])
            row.update({"p10": q[0], "p25": q[1], "median": q[2], "p75": q[3], "p90": q[4],
                        "selection_rate": float(sel[idx].mean()),
                        "predicted_good": _mean(p_good[idx], w[idx]), "observed_good": _mean(y_good[idx], w[idx]),
                        "auc": auc(y_good[idx], p_good[idx], w[idx])})
        out.append({k: (float(v) if isinstance(v, np.floating) else v) for k, v in row.items()})
    return out


def importance(contrib_points: np.ndarray, driver_names: list[str], blocks: list[str]) -> dict[str, object]:
    """Mean |SHAP| in points per driver and per KTRS block, over all applications."""
    per_driver = np.abs(contrib_points).mean(axis=0)
    block_names = sorted(set(blocks))
    blocks_arr = np.asarray(blocks)
    per_block = {b: float(np.abs(contrib_points[:, blocks_arr == b].sum(axis=1)).mean()) for b in block_names}
    return {"drivers": dict(zip(driver_names, map(float, per_driver))), "blocks": per_block}


def test_metrics(model: str, test: pd.DataFrame) -> dict[str, object]:
    """Everything measured on the held-out rows.

    ``test`` needs: y (target outcome), p (calibrated target probability), p_truth (the truth's
    probability of the target), score, grade, region, size_class, w (1 / the firm's rows in the
    slice: a firm's applications share one realised outcome, so each firm counts once), unseen (the firm has no
    application in the training or calibration slices: a realised outcome is a firm's, so repeat
    applicants' test rows are easier than a new applicant's).
    """
    y = test["y"].to_numpy(dtype=float)
    p = test["p"].to_numpy(dtype=float)
    p_truth = test["p_truth"].to_numpy(dtype=float)
    failed = y if model == "ktop" else 1.0 - y
    p_fail = grades.failure_probability(model, p)
    p_fail_truth = grades.failure_probability(model, p_truth)
    g = test["grade"].to_numpy()
    y_good, p_good = 1.0 - failed, 1.0 - p_fail
    w = test["w"].to_numpy(dtype=float)
    unseen = test["unseen"].to_numpy()
    model_auc, oracle_auc = auc(y, p, w), auc(y, p_truth, w)
    return {
        "n_test": int(len(test)), "base_rate": float(y.mean()),
        "auc": model_auc, "oracle_auc": oracle_auc,
        "auc_gap": (oracle_auc - model_auc) if model_auc is not None and oracle_auc is not None else None,
        "unseen_share": float(test["unseen"].mean()),
        "auc_unseen": auc(y[unseen], p[unseen], w[unseen]),
        "oracle_auc_unseen": auc(y[unseen], p_truth[unseen], w[unseen]),
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "oracle_brier": float(brier_score_loss(y, p_truth, sample_weight=w)),
        "calibration": calibration_curve(y, p, w),
        "grades": grade_table(model, failed, p_fail, p_fail_truth, g, w),
        "grade_confusion": grade_confusion(g, grades.grade(model, p_truth)),
        "fairness": {
            "region": fairness(model, test["region"], y_good, p_good, test["score"].to_numpy(), g, w),
            "size": fairness(model, test["size_class"], y_good, p_good, test["score"].to_numpy(), g, w),
        },
        "cutoff_grade": CUTOFF_GRADE[model],
    }

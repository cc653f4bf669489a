"""Model card: quality, calibration, grades and fairness of one trained model, as plain data.

Computed once by ``scoring.train`` on the out-of-time test slice (the latest 20% of applications by
submission time, never seen in training or calibration) and stored in ``model_versions.metrics``;
the page only draws it (figures in :mod:`scoring.plots`). The oracle rows use the synthetic
truth's own probabilities on the same test rows: the best any model could do. Intervals come from a
bootstrap over firms (a firm's applications share one outcome, so firms are the unit resampled).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from scoring import grades

# Selected at the cut-off: K-TOP grade B or better (KTRS's lowest grade eligible for a guarantee);
# K-value grade BB or better (success at least as likely as not).
CUTOFF_GRADE = {"ktop": "B", "kvalue": "BB"}
MIN_GROUP = 30   # groups smaller than this get no rates (too noisy to read)


BOOTSTRAP = 200   # firm resamples for the card's intervals (each one is a weighted pass over sorted rows)


def selected(model: str, grade_labels: np.ndarray) -> np.ndarray:
    """Whether each grade passes the model's cut-off (a merged grade passes if its label does)."""
    cut = grades.rank(CUTOFF_GRADE[model])
    order = {g: grades.rank(g) for g in set(grade_labels)}
    return np.array([order[g] <= cut for g in grade_labels], dtype=bool)


def auc(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """(Weighted) ROC AUC, or None when only one class is present."""
    return float(roc_auc_score(y, p, sample_weight=w)) if 0 < y.sum() < len(y) else None


def _sorted_auc(y: np.ndarray, tie_group: np.ndarray, n_groups: int, w: np.ndarray) -> float:
    """Weighted AUC from rows grouped by equal prediction (group ids ascending with the prediction).

    The same order serves every bootstrap replicate: only the weights change, so each replicate is
    two bincounts and a cumulative sum instead of a sort.
    """
    pos = np.bincount(tie_group, weights=w * y, minlength=n_groups)
    neg = np.bincount(tie_group, weights=w * (1 - y), minlength=n_groups)
    below = np.cumsum(neg) - neg
    total = pos.sum() * neg.sum()
    return float((pos * (below + 0.5 * neg)).sum() / total) if total > 0 else float("nan")


def bootstrap(y: np.ndarray, p: np.ndarray, p_truth: np.ndarray, firm_ids: np.ndarray, w: np.ndarray,
              grade_idx: np.ndarray, n_grades: int, *, reps: int = BOOTSTRAP, seed: int = 0) -> dict[str, Any]:
    """95% percentile intervals over firm resamples: AUC, Brier (model and truth), the AUC gap and
    each grade's realised target rate (``grade_idx``: the row's position on the version's ladder)."""
    _, firm = np.unique(firm_ids, return_inverse=True)
    n_firms = int(firm.max()) + 1 if len(firm) else 0
    rng = np.random.default_rng(seed)
    _, gm = np.unique(p, return_inverse=True)
    _, gt = np.unique(p_truth, return_inverse=True)
    ngm, ngt = int(gm.max()) + 1, int(gt.max()) + 1
    stats: dict[str, list] = {k: [] for k in ("auc", "oracle_auc", "auc_gap", "brier", "oracle_brier")}
    rates = []
    for _ in range(reps):
        mult = np.bincount(rng.integers(0, n_firms, n_firms), minlength=n_firms)[firm]
        ww = w * mult
        a, o = _sorted_auc(y, gm, ngm, ww), _sorted_auc(y, gt, ngt, ww)
        stats["auc"].append(a)
        stats["oracle_auc"].append(o)
        stats["auc_gap"].append(o - a)
        stats["brier"].append(float(np.average((p - y) ** 2, weights=ww)))
        stats["oracle_brier"].append(float(np.average((p_truth - y) ** 2, weights=ww)))
        n = np.bincount(grade_idx, weights=ww, minlength=n_grades)
        f = np.bincount(grade_idx, weights=ww * y, minlength=n_grades)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates.append(np.where(n > 0, f / n, np.nan))
    out: dict[str, Any] = {k: [float(np.nanquantile(v, 0.025)), float(np.nanquantile(v, 0.975))]
                              for k, v in stats.items()}
    r = np.asarray(rates)
    out["grade_rate"] = [[None, None] if np.isnan(col).all() else
                         [float(np.nanquantile(col, 0.025)), float(np.nanquantile(col, 0.975))] for col in r.T]
    out["reps"] = reps
    return out


def ece(curve: list[dict[str, float]]) -> float:
    """Expected calibration error: |predicted - observed| averaged over the curve's bins by size."""
    n = sum(c["n"] for c in curve)
    return float(sum(c["n"] * abs(c["predicted"] - c["observed"]) for c in curve) / n) if n else float("nan")


def _mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.average(x, weights=w))


def calibration_curve(y: np.ndarray, p: np.ndarray, w: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Weighted mean predicted vs observed rate in equal-count bins of the prediction."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append({"predicted": _mean(p[chunk], w[chunk]), "observed": _mean(y[chunk], w[chunk]),
                        "n": len(chunk)})
    return out


def grade_table(model: str, failed: np.ndarray, p_fail: np.ndarray, p_fail_truth: np.ndarray,
                grade_labels: np.ndarray, w: np.ndarray, ladder: grades.Ladder | None = None,
                intervals: list | None = None) -> list[dict[str, object]]:
    """Per grade of the ladder: count, observed failure rate (with its bootstrap interval), mean
    predicted and true failure probability (weighted)."""
    out = []
    for i, g in enumerate((ladder or grades.full_ladder(model)).labels):
        m = grade_labels == g
        n = int(m.sum())
        out.append({"grade": g, "n": n,
                    "observed": _mean(failed[m], w[m]) if n else None,
                    "predicted": _mean(p_fail[m], w[m]) if n else None,
                    "truth": _mean(p_fail_truth[m], w[m]) if n else None,
                    "observed_lo": intervals[i][0] if intervals and n else None,
                    "observed_hi": intervals[i][1] if intervals and n else None,
                    "ktrs": grades.KTRS_DEFAULT_RATES.get(g) if model == "ktop" else None})
    return out


def grade_confusion(model_grades: np.ndarray, truth_grades: np.ndarray,
                    labels: tuple[str, ...] = grades.GRADES) -> list[list[int]]:
    """Counts of (model grade, grade of the true probability), rows and columns in ladder order."""
    idx = {g: i for i, g in enumerate(labels)}
    mat = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(mat, ([idx[g] for g in model_grades], [idx[g] for g in truth_grades]), 1)
    return mat.tolist()


def fairness(model: str, groups: pd.Series, y_good: np.ndarray, p_good: np.ndarray, score: np.ndarray,
             grade_labels: np.ndarray, w: np.ndarray, truth_grades: np.ndarray | None = None) -> list[dict[str, object]]:
    """Per group: score distribution, selection rate at the cut-off, calibration (good outcome), and
    equal opportunity: the pass rate among applicants who did have the good outcome (``tpr``) and its
    complement, the false-negative rate, beside the same rates under the truth's own grades.

    Rates are per application; calibration and AUC weight each firm once, like the headline metrics.
    """
    sel = selected(model, grade_labels)
    sel_truth = selected(model, truth_grades) if truth_grades is not None else None
    good = np.asarray(y_good) > 0.5
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
            g_idx = idx[good[idx]]
            if len(g_idx):
                tpr = float(sel[g_idx].mean())
                row.update({"tpr": tpr, "fnr": 1.0 - tpr})
                if sel_truth is not None:
                    tpr_truth = float(sel_truth[g_idx].mean())
                    row.update({"tpr_truth": tpr_truth, "fnr_truth": 1.0 - tpr_truth})
        out.append({k: (float(v) if isinstance(v, np.floating) else v) for k, v in row.items()})
    return out


def importance(contrib_points: np.ndarray, driver_names: list[str], blocks: list[str]) -> dict[str, object]:
    """Mean |SHAP| in points per driver and per KTRS block, over all applications."""
    per_driver = np.abs(contrib_points).mean(axis=0)
    block_names = sorted(set(blocks))
    blocks_arr = np.asarray(blocks)
    per_block = {b: float(np.abs(contrib_points[:, blocks_arr == b].sum(axis=1)).mean()) for b in block_names}
    return {"drivers": dict(zip(driver_names, map(float, per_driver))), "blocks": per_block}


def test_metrics(model: str, test: pd.DataFrame, ladder: grades.Ladder | None = None,
                 reps: int = BOOTSTRAP) -> dict[str, object]:
    """Everything measured on the out-of-time rows.

    ``test`` needs: y (target outcome), p (calibrated target probability), p_truth (the truth's
    probability of the target), score, grade, region, size_class, firm_id, w (1 / the firm's rows in
    the slice: a firm's applications share one realised outcome, so each firm counts once), unseen
    (the firm has no application in the training or calibration slices: repeat applicants' rows may
    be easier than a new applicant's, so the card shows both).
    """
    lad = ladder or grades.full_ladder(model)
    y = test["y"].to_numpy(dtype=float)
    p = test["p"].to_numpy(dtype=float)
    p_truth = test["p_truth"].to_numpy(dtype=float)
    failed = y if model == "ktop" else 1.0 - y
    p_fail = grades.failure_probability(model, p)
    p_fail_truth = grades.failure_probability(model, p_truth)
    g = test["grade"].to_numpy()
    g_truth = grades.grade(model, p_truth, lad)
    y_good, p_good = 1.0 - failed, 1.0 - p_fail
    w = test["w"].to_numpy(dtype=float)
    unseen = test["unseen"].to_numpy()
    model_auc, oracle_auc = auc(y, p, w), auc(y, p_truth, w)
    grade_idx = np.searchsorted(np.asarray(lad.bounds), p_fail, side="left")
    boot = bootstrap(failed, p_fail, p_fail_truth, test["firm_id"].to_numpy(), w, grade_idx, len(lad.labels),
                     reps=reps)
    # the bootstrap ran on failure (for the grade rates); AUC and Brier are the same for the target
    curve, curve_truth = calibration_curve(y, p, w), calibration_curve(y, p_truth, w)
    return {
        "n_test": len(test), "base_rate": float(y.mean()),
        "auc": model_auc, "oracle_auc": oracle_auc,
        "auc_gap": (oracle_auc - model_auc) if model_auc is not None and oracle_auc is not None else None,
        "unseen_share": float(test["unseen"].mean()),
        "auc_unseen": auc(y[unseen], p[unseen], w[unseen]),
        "oracle_auc_unseen": auc(y[unseen], p_truth[unseen], w[unseen]),
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "oracle_brier": float(brier_score_loss(y, p_truth, sample_weight=w)),
        "ece": ece(curve), "oracle_ece": ece(curve_truth),
        "intervals": {k: v for k, v in boot.items() if k != "grade_rate"},
        "calibration": curve, "calibration_truth": curve_truth,
        "ladder": lad.to_dict(),
        "grades": grade_table(model, failed, p_fail, p_fail_truth, g, w, lad, boot["grade_rate"]),
        "grade_confusion": grade_confusion(g, g_truth, lad.labels),
        "fairness": {
            "region": fairness(model, test["region"], y_good, p_good, test["score"].to_numpy(), g, w, g_truth),
            "size": fairness(model, test["size_class"], y_good, p_good, test["score"].to_numpy(), g, w, g_truth),
        },
        "cutoff_grade": CUTOFF_GRADE[model],
    }

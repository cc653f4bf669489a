"""Population stability between model versions: of the scores and of every input driver.

Each version stores a *profile*: its score distribution on fixed 50-point bins and, per numeric
driver, the decile edges of the data it was trained on with the share of rows in each bin
(categorical drivers: the share of each category). The next version bins its own data on the
previous version's edges, so PSI compares like with like without keeping the old rows:

    PSI = sum over bins (actual - expected) * ln(actual / expected)

Read as the usual rule of thumb: < 0.1 stable, 0.1-0.25 a shift worth a look, > 0.25 a shift.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scoring.features import DRIVER_BY_NAME

SCORE_EDGES = tuple(float(x) for x in np.arange(50, 1000, 50))   # inner edges of 0..1000 in 50-point bins
DECILES = np.linspace(0.1, 0.9, 9)
EPS = 1e-4        # floor for empty bins (PSI's log needs both shares positive)
WATCH, SHIFT = 0.1, 0.25


def _shares(idx: np.ndarray, k: int) -> list[float]:
    counts = np.bincount(idx, minlength=k).astype(float)
    return (counts / max(counts.sum(), 1.0)).tolist()


def _bin(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Bin index per value; missing values get a bin of their own (the last)."""
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(edges), v, side="right")
    return np.where(np.isnan(v), len(edges) + 1, idx)


def profile(frame: pd.DataFrame, score: np.ndarray, names: list[str]) -> dict[str, object]:
    """The distributions a later version is compared against."""
    feats: dict[str, dict[str, list]] = {}
    for n in names:
        d = DRIVER_BY_NAME[n]
        if d.categorical:
            cats = list(d.categories)
            codes = pd.Categorical(frame[n].astype(str), categories=cats).codes
            feats[n] = {"categories": cats, "shares": _shares(np.where(codes < 0, len(cats), codes), len(cats) + 1)}
        else:
            v = pd.to_numeric(frame[n]).to_numpy(dtype=float, na_value=np.nan)
            edges = sorted(set(np.nanquantile(v, DECILES).tolist())) if np.isfinite(v).any() else []
            feats[n] = {"edges": edges, "shares": _shares(_bin(v, edges), len(edges) + 2)}
    return {"score_edges": list(SCORE_EDGES), "score_shares": score_shares(score), "features": feats}


def score_shares(score: np.ndarray) -> list[float]:
    return _shares(_bin(score, list(SCORE_EDGES)), len(SCORE_EDGES) + 2)


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), EPS)
    a = np.maximum(np.asarray(actual, dtype=float), EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def compare(previous: dict[str, Any], frame: pd.DataFrame, score: np.ndarray) -> dict[str, Any]:
    """PSI of this data's scores and drivers against a previous version's profile."""
    out: dict[str, float] = {}
    for n, ref in previous["features"].items():
        if n not in frame.columns:
            continue
        if "categories" in ref:
            cats = ref["categories"]
            codes = pd.Categorical(frame[n].astype(str), categories=cats).codes
            now = _shares(np.where(codes < 0, len(cats), codes), len(cats) + 1)
        else:
            edges = ref["edges"]
            now = _shares(_bin(pd.to_numeric(frame[n]).to_numpy(dtype=float, na_value=np.nan), edges), len(edges) + 2)
        out[n] = psi(ref["shares"], now)
    return {"psi_score": psi(previous["score_shares"], score_shares(score)),
            "psi_features": dict(sorted(out.items(), key=lambda kv: -kv[1]))}


def level(value: float) -> str:
    """stable, watch or shift (the rule of thumb above)."""
    return "stable" if value < WATCH else "watch" if value < SHIFT else "shift"

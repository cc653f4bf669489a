"""True outcome probabilities per application (truth_outcomes) from a known latent model.

p_default (3-year failure, K-TOP target) and p_success (K-VALUE target) are logistic functions of
the firm's and the application's observable attributes only, with known directions (more and
better patents, R&D and certifications lower the default risk; a higher debt ratio raises it). So
each probability is the best prediction anyone can make from the data a model sees (the oracle),
and the truth's own AUC is the ceiling a model can reach: the remaining uncertainty is the
realised draw. The booleans are drawn from the probabilities with one uniform per firm, so that a
firm's repeated applications tell one consistent story.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from data.synth.firms import Firms

TARGET_DEFAULT_RATE = 0.03
TARGET_SUCCESS_RATE = 0.30
_DEFAULT_SIZE = np.array([0.3, 0.0, -0.2, -0.4, -0.7])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _intercept(eta: np.ndarray, target: float) -> float:
    """The intercept that makes the mean probability equal target (bisection on a fixed subsample)."""
    eta = eta[:: max(1, len(eta) // 50_000)]
    lo, hi = -15.0, 15.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if _sigmoid(eta + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def generate(rng: np.random.Generator, firms: Firms, apps: pd.DataFrame) -> pd.DataFrame:
    ft = firms.table
    fi = apps["firm_id"].to_numpy() - 1  # firm_id is the row number + 1
    col = {c: ft[c].to_numpy()[fi] for c in (
        "debt_ratio", "patents", "patent_quality", "rnd_intensity", "operating_margin", "sales_growth",
        "ceo_experience_years", "cert_venture", "cert_innobiz", "cert_mainbiz", "tech_staff", "market_growth",
        "revenue_krw")}
    size_i = firms.size_i[fi]
    founded = ft["founded_on"].to_numpy()[fi]
    age_years = (apps["submitted_at"].to_numpy() - founded) / np.timedelta64(1, "D") / 365.25
    certs = col["cert_venture"] | col["cert_innobiz"] | col["cert_mainbiz"]
    log_pat = np.log1p(col["patents"])
    pq = np.where(col["patents"] > 0, np.nan_to_num(col["patent_quality"], nan=5.0) - 5.0, 0.3)
    burden = apps["amount_requested_krw"].to_numpy() / np.maximum(col["revenue_krw"], 1)

    eta_d = (0.6 * np.log(col["debt_ratio"]) - 0.3 * log_pat + 0.15 * pq - 4.0 * col["rnd_intensity"]
             - 0.35 * certs - 4.0 * col["operating_margin"] - 1.0 * col["sales_growth"]
             - 0.015 * col["ceo_experience_years"] + 0.45 * (age_years < 3) + _DEFAULT_SIZE[size_i]
             + 0.3 * np.minimum(burden, 2.0))
    p_default = _sigmoid(eta_d + _intercept(eta_d, TARGET_DEFAULT_RATE))

    eta_s = (0.35 * log_pat - 0.1 * pq + 0.45 * col["cert_venture"] + 0.3 * col["cert_innobiz"]
             + 3.0 * col["rnd_intensity"] + 2.5 * col["sales_growth"] + 2.0 * col["operating_margin"]
             + 0.3 * (col["tech_staff"] > 0) + 5.0 * col["market_growth"] - 0.2 * np.log(col["debt_ratio"]))
    p_success = _sigmoid(eta_s + _intercept(eta_s, TARGET_SUCCESS_RATE))

    draw_d, draw_s = rng.random(len(ft)), rng.random(len(ft))
    return pd.DataFrame({
        "application_id": apps["application_id"].to_numpy(),
        "p_default": p_default, "defaulted": draw_d[fi] < p_default,
        "p_success": p_success, "succeeded": draw_s[fi] < p_success,
    })

"""Synthetic AI-adoption survey (ai_survey): weighted respondent microdata that reproduces the
published adoption rates.

Respondents are sampled by 시도 x size (larger firms oversampled) and post-stratified to the firm
population, so weights sum to the population of each cell. Adoption comes from a latent propensity
(industry, size, noise) cut at a weighted quantile per calibration group, so the weighted estimates
hit their targets exactly instead of only in expectation:

* the published figures (KCCI 2024) are large 48.8%, SMEs 28.7%, capital region 40.4%, elsewhere
  17.9%; they cannot all hold at once, since 52.6% of SMEs are in the capital region and
  0.526 * 40.4 + 0.474 * 17.9 = 29.7. The SME rates are set so the three errors are equal
  (about 0.5 percentage points each): capital 39.9%, elsewhere 17.4%, giving SMEs 29.2%.
* 중견기업 30.1% (KCCI/KIET 2024).

Barriers and wished-for support follow the KBIZ Seoul small-merchant survey (2025) approximately.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from data.synth.firms import SECTIONS, SIZES, industry_dist, largest_remainder, population_targets

SURVEY_YEAR = 2024
RESPONDENTS_AT_SCALE_1 = 20_000
MIN_RESPONDENTS = 2_000
_SIZE_SHARE = {"micro": 0.50, "small": 0.22, "medium": 0.15, "midsize": 0.07, "large": 0.06}
_CAPITAL = {"11", "28", "41"}
# Adoption targets per calibration group (see the module docstring).
TARGETS = {"sme_capital": 0.39875, "sme_other": 0.17375, "midsize": 0.301, "large": 0.488}
# Industry effect on the latent propensity: IT and finance use AI most, manufacturing less.
_INDUSTRY_EFFECT = {"J": 1.3, "K": 1.4, "M": 0.7, "Q": 0.2, "P": 0.3, "N": 0.1, "C": -0.45, "G": 0.0,
                    "I": -0.5, "L": -0.3, "A": -0.9, "H": -0.5, "F": -0.4, "S": -0.4, "R": 0.0, "D": -0.2}
_BARRIERS = {"barrier_cost": 0.69, "barrier_skills": 0.307, "barrier_integration": 0.23,
             "barrier_security": 0.15, "barrier_no_need": 0.28}
_WISHES = {"wish_training": 0.477, "wish_cases": 0.41, "wish_education": 0.303,
           "wish_funding": 0.40, "wish_consulting": 0.20}


def n_respondents(scale: float) -> int:
    return max(MIN_RESPONDENTS, round(RESPONDENTS_AT_SCALE_1 * scale))


def _weighted_threshold(score: np.ndarray, weight: np.ndarray, share: float) -> float:
    """The score above which the weighted share of respondents is closest to share."""
    order = np.argsort(-score, kind="stable")
    cum = np.cumsum(weight[order]) / weight.sum()
    k = int(np.argmin(np.abs(cum - share)))
    return float(score[order][k])


def generate(rng: np.random.Generator, scale: float) -> pd.DataFrame:
    pop = population_targets()
    n = n_respondents(scale)
    parts = []
    for size, share in _SIZE_SHARE.items():
        cells = pop[pop["size_class"] == size].reset_index(drop=True)
        m = max(len(cells), round(n * share))
        alloc = 1 + largest_remainder(m - len(cells), np.sqrt(cells["population"].to_numpy(float)))
        parts.append(pd.DataFrame({
            "region_code": np.repeat(cells["region_code"].to_numpy(), alloc),
            "size_class": size,
            "weight": np.repeat(cells["population"].to_numpy(float) / alloc, alloc),
            "ksic_section": np.array(SECTIONS)[rng.choice(len(SECTIONS), alloc.sum(), p=industry_dist(size))],
        }))
    df = pd.concat(parts, ignore_index=True)
    n = len(df)
    size_i = df["size_class"].map({s: i for i, s in enumerate(SIZES)}).to_numpy()
    score = df["ksic_section"].map(_INDUSTRY_EFFECT).fillna(0).to_numpy() + 0.3 * size_i + rng.logistic(0, 1, n)
    capital = df["region_code"].isin(_CAPITAL).to_numpy()
    group = np.where(size_i == 4, "large", np.where(size_i == 3, "midsize",
                                                   np.where(capital, "sme_capital", "sme_other")))
    uses = np.zeros(n, dtype=bool)
    w = df["weight"].to_numpy()
    for g, target in TARGETS.items():
        m = group == g
        uses[m] = score[m] >= _weighted_threshold(score[m], w[m], target)
    plans = ~uses & (rng.random(n) < np.clip(0.33 + 0.06 * score, 0.05, 0.7))
    status = np.where(uses, "uses", np.where(plans, "plans", "none"))

    out = pd.DataFrame({
        "respondent_id": np.arange(1, n + 1, dtype=np.int64), "survey_year": SURVEY_YEAR,
        "region_code": df["region_code"], "size_class": df["size_class"], "ksic_section": df["ksic_section"],
        "weight": w, "ai_status": status, "uses_ai": uses, "plans_ai": plans,
    })
    # barriers are asked of non-users; larger firms worry less about cost and more about integration
    bigger = size_i >= 1
    for col, p in _BARRIERS.items():
        adj = {"barrier_cost": -0.15, "barrier_integration": 0.12, "barrier_no_need": -0.08}.get(col, 0.0)
        p_eff = p + adj * bigger - (0.2 if col == "barrier_no_need" else 0) * plans
        out[col] = ~uses & (rng.random(n) < np.clip(p_eff, 0.01, 0.99))
    for col, p in _WISHES.items():
        out[col] = rng.random(n) < p
    return out

"""Score points and grades.

Points are linear in the calibrated log-odds of the *good* outcome, as in a credit scorecard:
``points = 500 + PDO / ln 2 * (log-odds(good) - anchor)``, so every PDO points doubles the odds of
the good outcome. Because the mapping is linear, SHAP contributions in log-odds become exact
contributions in points (times ±PDO/ln 2), and reason codes add up to the score. Points are clipped
to 0..1000 only for display; explanations use the unclipped value.

The 10-step ladder is defined by probability bands (K-TOP: the probability of default; K-value: the
probability of not succeeding), which are score bands too. K-TOP's bands are set around KTRS's
published 3-year default rates (A 0.68%, BBB 0.83%, BB 1.90%, B 2.87%), so that if the model is
calibrated each grade's observed failure rate falls in its band and rises grade by grade.
"""
from __future__ import annotations

import math

import numpy as np

GRADES: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
PDO = 40.0                     # points to double the odds
FACTOR = PDO / math.log(2.0)   # points per unit of log-odds
# 500 points: K-TOP at a 3% default probability, K-value at even odds of success.
ANCHOR_LOG_ODDS_GOOD = {"ktop": math.log(0.97 / 0.03), "kvalue": 0.0}
# Upper bound of each grade's failure probability (the last grade takes the rest).
BANDS = {
    "ktop": (0.004, 0.006, 0.0075, 0.0125, 0.024, 0.035, 0.06, 0.12, 0.25),
    "kvalue": (0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90),
}
# KTRS's published 3-year default rates by grade (../shared/facts/programs_and_brokers.md).
KTRS_DEFAULT_RATES = {"A": 0.0068, "BBB": 0.0083, "BB": 0.0190, "B": 0.0287}


def sign(model: str) -> float:
    """+1 when the model's target is the good outcome (K-value), -1 when it is failure (K-TOP)."""
    return 1.0 if model == "kvalue" else -1.0


def points_per_log_odds(model: str) -> float:
    """Points per unit of the model's target log-odds (negative for K-TOP: default lowers the score)."""
    return sign(model) * FACTOR


def points(model: str, log_odds_target: np.ndarray | float) -> np.ndarray:
    """Unclipped score points from the calibrated log-odds of the model's target."""
    return 500.0 + FACTOR * (sign(model) * np.asarray(log_odds_target) - ANCHOR_LOG_ODDS_GOOD[model])


def display_score(raw_points: np.ndarray | float) -> np.ndarray:
    return np.clip(raw_points, 0.0, 1000.0)


def failure_probability(model: str, probability: np.ndarray | float) -> np.ndarray:
    """The probability of the bad outcome from the model's target probability."""
    p = np.asarray(probability, dtype=float)
    return 1.0 - p if model == "kvalue" else p


def grade(model: str, probability: np.ndarray | float) -> np.ndarray:
    """Grade labels from the model's calibrated target probability."""
    idx = np.searchsorted(np.asarray(BANDS[model]), failure_probability(model, probability), side="left")
    return np.asarray(GRADES, dtype=object)[idx]


def grade_floor_points(model: str) -> dict[str, float]:
    """The lowest score of each grade (for the grade ladder drawn beside a score)."""
    out = {}
    for g, pf in zip(GRADES, BANDS[model]):
        p_target = pf if model == "ktop" else 1.0 - pf
        out[g] = float(points(model, math.log(p_target / (1.0 - p_target))))
    return out

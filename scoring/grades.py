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

A trained version does not use all ten steps blindly: :func:`fit_ladder` merges neighbouring
grades until, on the rows the model was fitted on (never the out-of-time test rows), each grade's
realised failure rate is below the next one's by more than its sampling noise. The merged grade
keeps the label of its worst member (AAA+AA+A becomes "A"), so a grade never promises more than the
data can tell apart; the version stores its :class:`Ladder` and every grade comes from it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Ladder:
    """Grade labels best first and the upper failure-probability bound of each but the last."""
    labels: tuple[str, ...]
    bounds: tuple[float, ...]

    def to_dict(self) -> dict[str, list]:
        return {"labels": list(self.labels), "bounds": list(self.bounds)}

    @classmethod
    def from_dict(cls, doc: dict) -> Ladder:
        return cls(tuple(doc["labels"]), tuple(float(b) for b in doc["bounds"]))


def full_ladder(model: str) -> Ladder:
    """The ten-step ladder before any merge."""
    return Ladder(GRADES, tuple(BANDS[model]))


def grade(model: str, probability: np.ndarray | float, ladder: Ladder | None = None) -> np.ndarray:
    """Grade labels from the model's calibrated target probability."""
    lad = ladder or full_ladder(model)
    idx = np.searchsorted(np.asarray(lad.bounds), failure_probability(model, probability), side="left")
    return np.asarray(lad.labels, dtype=object)[idx]


def rank(label: str) -> int:
    """Position of a grade on the full ladder (0 = AAA): merged ladders keep the order."""
    return GRADES.index(label)


def grade_floor_points(model: str, ladder: Ladder | None = None) -> dict[str, float]:
    """The lowest score of each grade but the last (for the grade ladder drawn beside a score)."""
    lad = ladder or full_ladder(model)
    out = {}
    for g, pf in zip(lad.labels, lad.bounds):
        out[g] = float(points(model, target_log_odds(model, pf)))
    return out


def target_log_odds(model: str, p_fail: float) -> float:
    """The model's target log-odds at a failure probability (a grade boundary)."""
    p_target = p_fail if model == "ktop" else 1.0 - p_fail
    return math.log(p_target / (1.0 - p_target))


# Neighbouring grades stay apart only when the better one's realised rate is lower by at least this
# many standard errors (firms counted once); 1.64 is a one-sided 5% test.
SEPARATION_Z = 1.64


def _band_stats(failed: np.ndarray, w: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per band: firm-weighted failure rate and effective number of firms (sum of weights)."""
    n = np.bincount(idx, weights=w, minlength=k)
    f = np.bincount(idx, weights=w * failed, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, f / n, np.nan), n


def fit_ladder(model: str, failed: np.ndarray, p_fail: np.ndarray, w: np.ndarray,
               z: float = SEPARATION_Z) -> Ladder:
    """Merge neighbouring grades until each is separated from the next by ``z`` standard errors.

    ``failed`` (0/1), ``p_fail`` (the model's failure probability) and ``w`` (1 / the firm's rows)
    come from the fitting rows. Empty grades go first; then the least separated neighbouring pair
    is merged, one at a time, so the ladder keeps as many steps as the data supports.
    """
    bounds = list(BANDS[model])
    labels = list(GRADES)
    failed = np.asarray(failed, dtype=float)
    w = np.asarray(w, dtype=float)
    while len(labels) > 1:
        idx = np.searchsorted(np.asarray(bounds), p_fail, side="left")
        rate, n = _band_stats(failed, w, idx, len(labels))
        empty = np.flatnonzero(n <= 0)
        if len(empty):
            j = int(empty[0])
            i = j if j < len(labels) - 1 else j - 1   # merge an empty grade into its worse neighbour
        else:
            r = np.clip(rate, 1e-6, 1 - 1e-6)
            se = np.sqrt(r[:-1] * (1 - r[:-1]) / n[:-1] + r[1:] * (1 - r[1:]) / n[1:])
            sep = (rate[1:] - rate[:-1]) / se
            i = int(np.argmin(sep))
            if sep[i] >= z:
                break
        # merge grade i into i + 1: the boundary between them goes, the worse label stays
        del bounds[i]
        del labels[i]
    return Ladder(tuple(labels), tuple(bounds))

"""Counterfactual advice: the smallest change in actionable drivers that reaches a better grade.

Only drivers from :func:`scoring.explain.what_if_drivers` move (actionable, with a monotone
direction, so every step in the good direction can only raise the score), each within its valid
range and along a grid of the peers' own values (5% quantile steps; counts by whole units; a
certification from none to held), so advice never asks for a value no comparable firm has. The
size of a change is measured in peer percentiles: moving debt from the peers' 70th to their 50th
percentile costs 0.2, whatever the unit.

The search is greedy (among every remaining grid value of every driver, the move with the most
points per percentile first, all scored in one batch) and then trims every changed driver back as
far as the target allows; the best single-driver change is also tried, and
the cheaper of the two kept. Advice is verified by scoring the changed row: what is promised is
what the model gives.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring import grades
from scoring.explain import apply_changes, what_if_drivers
from scoring.features import DRIVER_BY_NAME
from scoring.models import ScoringModel

QUANTILES = np.linspace(0.05, 0.95, 19)
CERT_COST = 0.25        # a certification counts as a move of 25 peer percentiles
MAX_COUNT_STEP = 10     # counts (patents) are offered up to 10 more than now
MAX_STEPS = 30


@dataclass
class Advice:
    target: str                      # the grade aimed at
    reached: bool
    changes: dict[str, tuple[float, float]] = field(default_factory=dict)   # driver -> (now, advised)
    grade_after: str = ""
    points_after: float = float("nan")
    cost: float = float("nan")       # total move in peer percentiles


def _ecdf(values: np.ndarray, v: float) -> float:
    return float((values < v).mean() + 0.5 * (values == v).mean()) if len(values) else 0.0


def peer_values(peers: pd.DataFrame, name: str) -> np.ndarray:
    """The peers' non-missing values of one driver."""
    return pd.to_numeric(peers[name], errors="coerce").dropna().to_numpy(dtype=float) if name in peers else np.array([])


def candidates(name: str, now: float, col: np.ndarray) -> list[float]:
    """Values better than ``now`` for one driver, nearest first, within range and the peers' values
    (``col``)."""
    d = DRIVER_BY_NAME[name]
    if name.startswith("cert_"):
        vals = [1.0] if now < 0.5 else []
    elif name == "patents":
        vals = [now + k for k in range(1, MAX_COUNT_STEP + 1)]
    else:
        qs = np.quantile(col, QUANTILES) if len(col) else np.array([])
        vals = sorted({float(q) for q in qs if (q > now if d.good > 0 else q < now)}, reverse=d.good < 0)
    return [float(np.clip(v, d.lo, d.hi)) for v in vals]


def _cost(name: str, now: float, new: float, col: np.ndarray) -> float:
    if name.startswith("cert_"):
        return CERT_COST if new != now else 0.0
    step = abs(_ecdf(col, new) - _ecdf(col, now))
    return max(step, 0.01) if new != now else 0.0   # a move past every peer still costs something


def target_points(model: str, ladder: grades.Ladder, target: str) -> float:
    """The lowest unclipped score that earns ``target`` on the ladder."""
    i = list(ladder.labels).index(target)
    return float(grades.points(model, grades.target_log_odds(model, ladder.bounds[i]))) if i < len(ladder.bounds) \
        else -math.inf


# Points are a monotone function of the probability the grade is read from; this margin keeps float
# rounding at a grade boundary on the safe side (the final advice is checked on the grade itself).
_MARGIN = 1e-6


def _batch(sm: ScoringModel, row0: pd.DataFrame, changes: list[dict[str, float]]) -> np.ndarray:
    """Unclipped points of the row under each set of changes, scored in one call."""
    rows = row0.loc[row0.index.repeat(len(changes))].reset_index(drop=True)
    for name in {n for ch in changes for n in ch}:
        d = DRIVER_BY_NAME[name]
        col = rows[name].to_numpy(dtype=float, na_value=np.nan).copy()
        for i, ch in enumerate(changes):
            if name in ch:
                col[i] = float(np.clip(ch[name], d.lo, d.hi))
        rows[name] = col
    return np.asarray(grades.points(sm.model, sm.log_odds(rows)), dtype=float)


def _grade(sm: ScoringModel, row: pd.DataFrame, ladder: grades.Ladder) -> tuple[str, float]:
    lo = float(sm.log_odds(row)[0])
    return str(grades.grade(sm.model, np.array([1 / (1 + math.exp(-lo))]), ladder)[0]), float(grades.points(sm.model, lo))


def advise(sm: ScoringModel, frame_row: pd.DataFrame, ladder: grades.Ladder, target: str,
           peers: pd.DataFrame) -> Advice:
    """The cheapest change found that earns ``target`` (or better); ``reached`` False if none does."""
    row0 = frame_row.reset_index(drop=True)
    names = what_if_drivers(sm.driver_names)
    now = {n: float(row0.iloc[0][n]) if pd.notna(row0.iloc[0][n]) else float(DRIVER_BY_NAME[n].lo) for n in names}
    if now.get("patents", 1.0) == 0 and "patent_grade" in names:
        names.remove("patent_grade")     # a patent's quality means nothing without a patent
    g0, p0 = _grade(sm, row0, ladder)
    if grades.rank(g0) <= grades.rank(target):
        return Advice(target, True, {}, g0, p0, 0.0)
    need = target_points(sm.model, ladder, target) + _MARGIN
    cols = {n: peer_values(peers, n) for n in names}
    grid = {n: candidates(n, now[n], cols[n]) for n in names}
    options = [a for a in (_single(sm, row0, grid, need, now, cols), _greedy(sm, row0, grid, need, now, cols)) if a]
    found = [a for a in (_finish(sm, row0, ladder, target, ch, now, cols) for ch in options) if a is not None]
    if not found:
        g, pts = _grade(sm, apply_changes(row0, {n: v[-1] for n, v in grid.items() if v}), ladder)
        return Advice(target, False, {}, g, pts)
    return min(found, key=lambda a: a.cost)


def _finish(sm: ScoringModel, row0: pd.DataFrame, ladder: grades.Ladder, target: str, chosen: dict[str, float],
            now: dict[str, float], cols: dict[str, np.ndarray]) -> Advice | None:
    """The advice for a set of changes, verified on the grade the model gives the changed row."""
    row = apply_changes(row0, chosen)
    g, pts = _grade(sm, row, ladder)
    if grades.rank(g) > grades.rank(target):
        return None
    changes = {n: (now[n], float(row.iloc[0][n])) for n in chosen}
    return Advice(target, True, changes, g, pts, sum(_cost(n, a, b, cols[n]) for n, (a, b) in changes.items()))


def _single(sm: ScoringModel, row0: pd.DataFrame, grid: dict[str, list[float]], need: float,
            now: dict[str, float], cols: dict[str, np.ndarray]) -> dict[str, float] | None:
    """The nearest value of one driver alone that reaches ``need``, cheapest driver first (one batch).

    Grids are nearest-first and the score is monotone along them, so the first value that reaches is
    the smallest change of that driver; across drivers the peer-percentile cost decides.
    """
    trials = [(n, v) for n, vals in grid.items() for v in vals]
    if not trials:
        return None
    pts = _batch(sm, row0, [{n: v} for n, v in trials])
    first: dict[str, float] = {}
    for (n, v), p in zip(trials, pts):
        if p >= need and n not in first:
            first[n] = v
    if not first:
        return None
    best = min(first, key=lambda n: _cost(n, now[n], first[n], cols[n]))
    return {best: first[best]}


def _greedy(sm: ScoringModel, row0: pd.DataFrame, grid: dict[str, list[float]], need: float,
            now: dict[str, float], cols: dict[str, np.ndarray]) -> dict[str, float] | None:
    """Step by step, the move with the most points per percentile; then trim each move back."""
    pos = {n: -1 for n in grid}          # index into grid[n]; -1 = unchanged
    chosen: dict[str, float] = {}
    pts = float(_batch(sm, row0, [{}])[0])
    for _ in range(MAX_STEPS):
        if pts >= need:
            break
        # every remaining grid value of every driver is a candidate move, scored in one batch, so a
        # step may jump several grid points when that buys more points per percentile
        moves = [(n, k) for n in grid for k in range(pos[n] + 1, len(grid[n]))]
        if not moves:
            return None
        gain = _batch(sm, row0, [{**chosen, n: grid[n][k]} for n, k in moves]) - pts
        cost = np.array([_cost(n, chosen.get(n, now[n]), grid[n][k], cols[n]) for n, k in moves])
        j = int(np.argmax(np.where(gain > 0, gain / np.maximum(cost, 1e-3), -np.inf)))
        if gain[j] <= 0:
            return None
        n, k = moves[j]
        pos[n] = k
        chosen[n] = grid[n][k]
        pts += float(gain[j])
    else:
        return None
    # trim: move each driver back toward its current value (or drop it) while the target still holds
    for n in list(chosen):
        trials = [{m: v for m, v in chosen.items() if m != n}] + [{**chosen, n: grid[n][k]} for k in range(pos[n])]
        ok = np.flatnonzero(_batch(sm, row0, trials) >= need)
        if len(ok):
            chosen = trials[int(ok[0])]
    return chosen


def next_grade(ladder: grades.Ladder, current: str) -> str | None:
    """The grade one step better on the ladder (None at the top)."""
    i = list(ladder.labels).index(current)
    return ladder.labels[i - 1] if i > 0 else None


def cutoff_grade(ladder: grades.Ladder, cutoff: str) -> str:
    """The best-ranked ladder grade that still passes a cut-off named on the full ladder (a merged
    ladder may have folded the cut-off grade into a worse one, which then no longer passes)."""
    passing = [g for g in ladder.labels if grades.rank(g) <= grades.rank(cutoff)]
    return passing[-1] if passing else ladder.labels[0]

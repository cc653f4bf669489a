"""Counterfactual advice: the smallest change in actionable drivers that reaches a better grade.

Only drivers from :func:`scoring.explain.what_if_drivers` move (actionable, with a monotone
direction, so every step in the good direction can only raise the score), each within its valid
range and along a grid of the peers' own values (5% quantile steps; counts by whole units; a
certification from none to held), so advice never asks for a value no comparable firm has. The
size of a change is measured in peer percentiles: moving debt from the peers' 70th to their 50th
percentile costs 0.2, whatever the unit.

The search is greedy (the step with the most points per percentile first) and then trims every
changed driver back as far as the target allows; the best single-driver change is also tried, and
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
MAX_STEPS = 60


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


def candidates(name: str, now: float, peers: pd.DataFrame) -> list[float]:
    """Values better than ``now`` for one driver, nearest first, within range and the peers' values."""
    d = DRIVER_BY_NAME[name]
    col = pd.to_numeric(peers[name], errors="coerce").dropna().to_numpy(dtype=float) if name in peers else np.array([])
    if name.startswith("cert_"):
        vals = [1.0] if now < 0.5 else []
    elif name == "patents":
        vals = [now + k for k in range(1, MAX_COUNT_STEP + 1)]
    else:
        qs = np.quantile(col, QUANTILES) if len(col) else np.array([])
        vals = sorted({float(q) for q in qs if (q > now if d.good > 0 else q < now)}, reverse=d.good < 0)
    return [float(np.clip(v, d.lo, d.hi)) for v in vals]


def _cost(name: str, now: float, new: float, peers: pd.DataFrame) -> float:
    if name.startswith("cert_"):
        return CERT_COST if new != now else 0.0
    col = pd.to_numeric(peers[name], errors="coerce").dropna().to_numpy(dtype=float) if name in peers else np.array([])
    step = abs(_ecdf(col, new) - _ecdf(col, now))
    return max(step, 0.01) if new != now else 0.0   # a move past every peer still costs something


def target_points(model: str, ladder: grades.Ladder, target: str) -> float:
    """The lowest unclipped score that earns ``target`` on the ladder."""
    i = list(ladder.labels).index(target)
    return float(grades.points(model, grades.target_log_odds(model, ladder.bounds[i]))) if i < len(ladder.bounds) \
        else -math.inf


def _points(sm: ScoringModel, rows: pd.DataFrame) -> np.ndarray:
    return np.asarray(grades.points(sm.model, sm.log_odds(rows)), dtype=float)


def _grade(sm: ScoringModel, row: pd.DataFrame, ladder: grades.Ladder) -> tuple[str, float]:
    lo = float(sm.log_odds(row)[0])
    return str(grades.grade(sm.model, np.array([1 / (1 + math.exp(-lo))]), ladder)[0]), float(grades.points(sm.model, lo))


def _reaches(sm: ScoringModel, row: pd.DataFrame, ladder: grades.Ladder, target: str) -> bool:
    return grades.rank(_grade(sm, row, ladder)[0]) <= grades.rank(target)


def advise(sm: ScoringModel, frame_row: pd.DataFrame, ladder: grades.Ladder, target: str,
           peers: pd.DataFrame) -> Advice:
    """The cheapest change found that earns ``target`` (or better); ``reached`` False if none does."""
    row0 = frame_row.copy()
    names = what_if_drivers(sm.driver_names)
    now = {n: float(row0.iloc[0][n]) if pd.notna(row0.iloc[0][n]) else float(DRIVER_BY_NAME[n].lo) for n in names}
    if now.get("patents", 1.0) == 0 and "patent_grade" in names:
        names.remove("patent_grade")     # a patent's quality means nothing without a patent
    if _reaches(sm, row0, ladder, target):
        g, pts = _grade(sm, row0, ladder)
        return Advice(target, True, {}, g, pts, 0.0)
    grid = {n: candidates(n, now[n], peers) for n in names}
    best = _single(sm, row0, ladder, target, grid, now, peers)
    greedy = _greedy(sm, row0, ladder, target, grid, now, peers)
    options = [a for a in (best, greedy) if a is not None]
    if not options:
        g, pts = _grade(sm, apply_changes(row0, {n: v[-1] for n, v in grid.items() if v}), ladder)
        return Advice(target, False, {}, g, pts)
    return min(options, key=lambda a: a.cost)


def _finish(sm: ScoringModel, row0: pd.DataFrame, ladder: grades.Ladder, target: str, chosen: dict[str, float],
            now: dict[str, float], peers: pd.DataFrame) -> Advice | None:
    row = apply_changes(row0, chosen)
    if not _reaches(sm, row, ladder, target):
        return None
    g, pts = _grade(sm, row, ladder)
    changes = {n: (now[n], float(row.iloc[0][n])) for n in chosen}
    return Advice(target, True, changes, g, pts, sum(_cost(n, a, b, peers) for n, (a, b) in changes.items()))


def _single(sm: ScoringModel, row0: pd.DataFrame, ladder: grades.Ladder, target: str,
            grid: dict[str, list[float]], now: dict[str, float], peers: pd.DataFrame) -> Advice | None:
    """The cheapest change of one driver alone (its grid scored in one batch)."""
    need = target_points(sm.model, ladder, target)
    found = []
    for n, vals in grid.items():
        if not vals:
            continue
        rows = pd.concat([row0] * len(vals), ignore_index=True)
        rows[n] = vals
        ok = np.flatnonzero(_points(sm, rows) >= need)
        for i in ok[:3]:      # the first grid value that reaches may still miss by rounding: try a few
            a = _finish(sm, row0, ladder, target, {n: vals[i]}, now, peers)
            if a is not None:
                found.append(a)
                break
    return min(found, key=lambda a: a.cost) if found else None


def _greedy(sm: ScoringModel, row0: pd.DataFrame, ladder: grades.Ladder, target: str,
            grid: dict[str, list[float]], now: dict[str, float], peers: pd.DataFrame) -> Advice | None:
    """Step by step, the move with the most points per percentile; then trim each move back."""
    need = target_points(sm.model, ladder, target)
    pos = {n: -1 for n in grid}          # index into grid[n]; -1 = unchanged
    chosen: dict[str, float] = {}
    pts = float(_points(sm, row0)[0])
    for _ in range(MAX_STEPS):
        if pts >= need and _reaches(sm, apply_changes(row0, chosen), ladder, target):
            break
        moves = [n for n in grid if pos[n] + 1 < len(grid[n])]
        if not moves:
            return None
        rows = pd.concat([apply_changes(row0, {**chosen, n: grid[n][pos[n] + 1]}) for n in moves], ignore_index=True)
        gain = _points(sm, rows) - pts
        cost = np.array([_cost(n, chosen.get(n, now[n]), grid[n][pos[n] + 1], peers) for n in moves])
        j = int(np.argmax(gain / np.maximum(cost, 1e-3)))
        n = moves[j]
        pos[n] += 1
        chosen[n] = grid[n][pos[n]]
        pts += float(gain[j])
    else:
        return None
    # trim: move each driver back toward its current value while the target still holds
    for n in list(chosen):
        for k in range(pos[n]):
            trial = {**chosen, n: grid[n][k]}
            if _reaches(sm, apply_changes(row0, trial), ladder, target):
                chosen = trial
                break
        if n in chosen and _reaches(sm, apply_changes(row0, {m: v for m, v in chosen.items() if m != n}), ladder, target):
            chosen.pop(n)
    return _finish(sm, row0, ladder, target, chosen, now, peers)


def next_grade(ladder: grades.Ladder, current: str) -> str | None:
    """The grade one step better on the ladder (None at the top)."""
    i = list(ladder.labels).index(current)
    return ladder.labels[i - 1] if i > 0 else None


def cutoff_grade(ladder: grades.Ladder, cutoff: str) -> str:
    """The best-ranked ladder grade that still passes a cut-off named on the full ladder (a merged
    ladder may have folded the cut-off grade into a worse one, which then no longer passes)."""
    passing = [g for g in ladder.labels if grades.rank(g) <= grades.rank(cutoff)]
    return passing[-1] if passing else ladder.labels[0]

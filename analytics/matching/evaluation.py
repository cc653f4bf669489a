"""Program matching, part 3: offline evaluation on a time split, as a firm would meet the matcher.

Every method ranks exactly the same candidates: the programs open and eligible on the query day of
a firm that applied in the evaluation window ``[eval_cut, end]``, asked on a random day of its
active span (:mod:`analytics.matching.training` explains the visit-day model). Features and the
baselines' statistics come from applications before ``eval_cut``; the learned rankers were trained
on labels decided before it. Methods: the two learned rankers (gradient boosting, LightGBM
LambdaMART) and the baselines of :mod:`analytics.matching.baselines`.

Measures per query: NDCG@k with graded gains (2 selected, 1 applied) and recall@k of the programs
applied to (and selected) among those reachable on the day; ``recall_all`` also counts the
applications no method could find (the program opened later, or the firm was not eligible) as
misses. Intervals are paired bootstrap intervals over queries (:func:`paired_bootstrap`): every
resample takes the same queries for both methods. The live ranking method is a learned ranker only
if it beats the strongest baseline by an NDCG@k margin whose 95% interval excludes 0; otherwise the
strongest baseline ranks. Ties are broken by program id everywhere.

:func:`evaluate` is the batch computation (minutes at national scale); the batch step
(``python -m analytics.matching evaluate``) stores its result and the page reads it back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd

from analytics.matching import baselines, rank, training

K = 10
EVAL_QUERIES = 3000
IMPORTANCE_QUERIES = 300
BOOTSTRAP = 1000
METHODS: tuple[str, ...] = (*training.LEARNED, *baselines.BASELINES)


def recall_at_k(ranked: list[str], grades: dict[str, int], k: int = K, min_grade: int = 1) -> float | None:
    """Share of the relevant items (grade >= min_grade) found in the first k; None without any."""
    rel = {item for item, g in grades.items() if g >= min_grade}
    if not rel:
        return None
    return len(rel.intersection(ranked[:k])) / len(rel)


def ndcg_at_k(ranked: list[str], grades: dict[str, int], k: int = K) -> float | None:
    """Normalised discounted cumulative gain with linear gains (grade) and log2(rank + 1) discounts."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    if not ideal:
        return None
    dcg = sum(grades.get(item, 0) / np.log2(i + 2) for i, item in enumerate(ranked[:k]))
    idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return float(dcg / idcg)


def rank_by(cands: pd.DataFrame, column: str) -> dict[int, list[str]]:
    """Program ids per query, by ``column`` descending then program id (NaN last)."""
    order = cands.assign(_v=cands[column].fillna(-np.inf)).sort_values(
        ["query_id", "_v", "program_id"], ascending=[True, False, True], kind="mergesort")
    return {qid: list(g["program_id"]) for qid, g in order.groupby("query_id", sort=True)}


def per_query(rankings: dict[int, list[str]], relevant: dict[int, dict[str, int]], k: int = K,
              applied: dict[int, int] | None = None) -> pd.DataFrame:
    """One row per query of ``relevant`` (reachable programs and their grades): ndcg, recall,
    recall_selected (NaN without a selection) and, given the number of all programs the firm applied
    to (``applied``, reachable or not), recall_all."""
    rows = []
    for qid in sorted(relevant):
        grades, ranked = relevant[qid], rankings.get(qid, [])
        rs = recall_at_k(ranked, grades, k, min_grade=2)
        found = len({p for p, g in grades.items() if g > 0}.intersection(ranked[:k]))
        rows.append({"query_id": qid, "ndcg": ndcg_at_k(ranked, grades, k), "recall": recall_at_k(ranked, grades, k),
                     "recall_selected": np.nan if rs is None else rs,
                     "recall_all": found / applied[qid] if applied else np.nan})
    return pd.DataFrame(rows, columns=["query_id", "ndcg", "recall", "recall_selected", "recall_all"])


def metrics(rankings: dict[int, list[str]], relevant: dict[int, dict[str, int]], k: int = K) -> dict[str, float]:
    """Mean recall@k (applied), recall@k (selected) and NDCG@k over the queries."""
    pq = per_query(rankings, relevant, k)
    return {"recall": float(pq["recall"].mean()), "recall_selected": float(pq["recall_selected"].mean()),
            "ndcg": float(pq["ndcg"].mean()), "queries": len(pq), "queries_selected": int(pq["recall_selected"].notna().sum())}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, n_boot: int = BOOTSTRAP, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``a - b`` over queries and its percentile bootstrap interval: each of ``n_boot``
    resamples draws query indices with replacement (``rng.integers``) and takes the mean difference
    over the same queries for both methods."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0:
        return float("nan"), float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, len(d), size=(n_boot, len(d)))
    means = d[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(d.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


@dataclass(frozen=True)
class Evaluation:
    """Figures of the offline evaluation and the ranker it chose."""

    figures: pd.DataFrame     # method, ndcg, ndcg_lo, ndcg_hi, recall, recall_lo, recall_hi, recall_all,
    #                           recall_selected, margin, margin_lo, margin_hi (NDCG against the strongest baseline)
    k: int
    queries: int              # queries with at least one reachable application (the NDCG/recall base)
    mean_candidates: float    # eligible programs per query
    unreachable: float        # share of the applications not open/eligible on the query day
    best_learned: str         # the learned ranker with the higher NDCG
    strongest_baseline: str   # the baseline with the higher NDCG
    winner: str               # what ranks live: best_learned if its margin's interval excludes 0
    importance: pd.DataFrame  # feature, ndcg_drop (NDCG lost when shuffled, best learned ranker)
    ranker: rank.Ranker       # fitted models and live statistics, ranking with ``winner``


def _relevant(feats: pd.DataFrame) -> dict[int, dict[str, int]]:
    pos = feats[feats["grade"] > 0]
    return {qid: dict(zip(g["program_id"], g["grade"])) for qid, g in pos.groupby("query_id")}


def evaluate(con: duckdb.DuckDBPyConnection, *, seed: int = rank.SEED, k: int = K, n_queries: int = EVAL_QUERIES,
             n_train: int = training.TRAIN_QUERIES, n_boot: int = BOOTSTRAP) -> Evaluation:
    """Fit the learned rankers, score every method on the evaluation window's queries, and choose
    the live ranking method. Deterministic given the seed."""
    train_cut, eval_cut, end = training.split_dates(con)
    models = training.fit_models(training.training_frame(con, seed, n_train), seed)
    feats, all_rel = training.labelled(con, eval_cut, end + timedelta(days=1), rank.stats(con, eval_cut),
                                       n_queries, seed + 1)
    relevant = _relevant(feats)
    feats = feats[feats["query_id"].isin(relevant)].copy()
    scorer = rank.Ranker(models=models, method="learned", train_cut=train_cut, eval_cut=eval_cut, end=end,
                         live=rank.stats(con, end + timedelta(days=1)), seed=seed)
    applied = all_rel.groupby("query_id").size()
    per = {}
    for m in METHODS:
        feats[m] = scorer.score(feats, m)
        per[m] = per_query(rank_by(feats, m), relevant, k, applied.to_dict())
    ndcg = {m: per[m]["ndcg"].to_numpy() for m in METHODS}
    best_learned = max(training.LEARNED, key=lambda m: ndcg[m].mean())
    strongest = max(baselines.BASELINES, key=lambda m: ndcg[m].mean())
    rows = []
    for i, m in enumerate(METHODS):
        zero = np.zeros(len(ndcg[m]))
        n_mean, n_lo, n_hi = paired_bootstrap(ndcg[m], zero, n_boot=n_boot, seed=seed + i)
        r_mean, r_lo, r_hi = paired_bootstrap(per[m]["recall"].to_numpy(), zero, n_boot=n_boot, seed=seed + i)
        margin = paired_bootstrap(ndcg[m], ndcg[strongest], n_boot=n_boot, seed=seed + 100 + i)
        rows.append({"method": m, "ndcg": n_mean, "ndcg_lo": n_lo, "ndcg_hi": n_hi, "recall": r_mean, "recall_lo": r_lo,
                     # over every query with an application from its day on; unreachable ones are misses
                     "recall_hi": r_hi, "recall_all": float(per[m]["recall_all"].sum() / max(len(applied), 1)),
                     "recall_selected": float(per[m]["recall_selected"].mean()),
                     "margin": margin[0], "margin_lo": margin[1], "margin_hi": margin[2]})
    figures = pd.DataFrame(rows)
    winner = best_learned if figures.set_index("method").loc[best_learned, "margin_lo"] > 0 else strongest
    n_apps = int(applied.sum())
    return Evaluation(
        figures=figures, k=k, queries=len(relevant),
        mean_candidates=float(feats.groupby("query_id").size().mean()) if len(feats) else 0.0,
        unreachable=1 - sum(len(g) for g in relevant.values()) / n_apps if n_apps else 0.0,
        best_learned=best_learned, strongest_baseline=strongest, winner=winner,
        importance=_importance(feats, relevant, scorer, best_learned, k, seed),
        ranker=rank.Ranker(models=models, method=winner, train_cut=train_cut, eval_cut=eval_cut, end=end,
                           live=scorer.live, seed=seed))


def _importance(feats: pd.DataFrame, relevant: dict[int, dict[str, int]], scorer: rank.Ranker, method: str, k: int,
                seed: int) -> pd.DataFrame:
    """Permutation importance on a seeded subset of the queries: NDCG lost when a feature is shuffled."""
    rng = np.random.default_rng(seed)
    sub_ids = set(rng.permutation(sorted(relevant))[:IMPORTANCE_QUERIES].tolist())
    sub = feats[feats["query_id"].isin(sub_ids)].copy()
    sub_rel = {q: g for q, g in relevant.items() if q in sub_ids}
    base_ndcg = metrics(rank_by(sub, method), sub_rel, k)["ndcg"]
    rows = []
    for feature in rank.FEATURES:
        shuffled = sub.copy()
        shuffled[feature] = rng.permutation(shuffled[feature].to_numpy())
        shuffled["_s"] = scorer.score(shuffled, method)
        rows.append({"feature": feature, "ndcg_drop": base_ndcg - metrics(rank_by(shuffled, "_s"), sub_rel, k)["ndcg"]})
    return pd.DataFrame(rows).sort_values(["ndcg_drop", "feature"], ascending=[False, True]).reset_index(drop=True)


def table_text(figures: pd.DataFrame, k: int = K) -> str:
    """The figures as a plain-text table (the batch step and the benchmark print it)."""
    lines = [f"{'method':11s} {f'NDCG@{k} [95% CI]':>24s} {f'recall@{k} [95% CI]':>24s} {'recall all':>10s} "
             f"{'recall sel':>10s} {'NDCG margin vs strongest baseline':>34s}"]
    for r in figures.itertuples():
        lines.append(f"{r.method:11s} {r.ndcg:8.3f} [{r.ndcg_lo:.3f}, {r.ndcg_hi:.3f}] {r.recall:8.3f} "
                     f"[{r.recall_lo:.3f}, {r.recall_hi:.3f}] {r.recall_all:10.3f} {r.recall_selected:10.3f} "
                     f"{r.margin:+13.3f} [{r.margin_lo:+.3f}, {r.margin_hi:+.3f}]")
    return "\n".join(lines)

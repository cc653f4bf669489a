"""Program matching, part 3: offline evaluation on a time split.

The ranker (:mod:`analytics.matching_rank`) is trained with features from applications before
``train_cut`` and labels from ``[train_cut, eval_cut)``. It is then evaluated on firms that applied
in ``[eval_cut, end]``: each is asked on the day of its first application there, features come from
applications before ``eval_cut`` only, and the relevant programs are those it applied to in the
window (gain 2 if selected, 1 if only applied) that were open and eligible on that day. Measures:
recall@k of applied programs, recall@k of selected programs and NDCG@k with graded gains, against
two baselines ranking the same eligible candidates: "most popular" (most applications before the cut)
and "newest" (latest opening date; 상시 programs last). Ties are broken by program id everywhere.

:func:`evaluate` is a batch computation (seconds at scale 1): pages call it through the result cache.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from analytics.matching import rank as mr
from data import access

K = 10
EVAL_QUERIES = 3000
IMPORTANCE_QUERIES = 300
METHODS = ("learned", "popular", "newest")


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


def metrics(rankings: dict[int, list[str]], relevant: dict[int, dict[str, int]], k: int = K) -> dict[str, float]:
    """Mean recall@k (applied), recall@k (selected) and NDCG@k over the queries."""
    rec, rec_sel, ndcg = [], [], []
    for qid, grades in relevant.items():
        ranked = rankings.get(qid, [])
        rec.append(recall_at_k(ranked, grades, k))
        ndcg.append(ndcg_at_k(ranked, grades, k))
        rs = recall_at_k(ranked, grades, k, min_grade=2)
        if rs is not None:
            rec_sel.append(rs)
    return {"recall": float(np.mean(rec)) if rec else float("nan"),
            "recall_selected": float(np.mean(rec_sel)) if rec_sel else float("nan"),
            "ndcg": float(np.mean(ndcg)) if ndcg else float("nan"), "queries": len(relevant),
            "queries_selected": len(rec_sel)}


@dataclass(frozen=True)
class Evaluation:
    """Figures of the offline evaluation (one row per method) and the split they come from."""

    figures: pd.DataFrame     # method, recall, recall_selected, ndcg, queries, queries_selected
    train_cut: date
    eval_cut: date
    end: date
    k: int
    mean_candidates: float    # eligible programs per query
    unreachable: float        # share of applied programs that were not open/eligible on the query day
    importance: pd.DataFrame  # feature, gain in NDCG lost when the feature is shuffled


def _relevant(feats: pd.DataFrame) -> dict[int, dict[str, int]]:
    pos = feats[feats["grade"] > 0]
    return {qid: dict(zip(g["program_id"], g["grade"])) for qid, g in pos.groupby("query_id")}


def evaluate(con: duckdb.DuckDBPyConnection, *, role: str, seed: int = mr.SEED, k: int = K,
             n_queries: int = EVAL_QUERIES) -> Evaluation:
    """Recall@k and NDCG@k of the learned ranker and both baselines on the evaluation window
    (computed once per process and data version; the same for every role)."""
    access.require(role, "matching")
    return mr.memo(("evaluate", mr.data_key(con), seed, k, n_queries), lambda: _evaluate(con, seed, k, n_queries))


def _evaluate(con: duckdb.DuckDBPyConnection, seed: int, k: int, n_queries: int) -> Evaluation:
    r = mr.ranker(con, seed)
    st = mr.stats(con, r.eval_cut)
    feats, all_rel = mr.labelled(con, r.eval_cut, r.end + timedelta(days=1), st, n_queries, seed + 1)
    relevant = _relevant(feats)
    feats = feats[feats["query_id"].isin(relevant)]
    feats["learned"] = r.score(feats)
    feats["popular"] = feats["n_apps"].fillna(0)
    feats["newest"] = pd.to_datetime(feats["opens_on"]).astype("int64").where(feats["always_open"] == 0, np.nan)
    rows = [{"method": m, **metrics(rank_by(feats, m), relevant, k)} for m in METHODS]
    # permutation importance on a seeded subset of the queries (26 extra scorings of the candidates)
    rng = np.random.default_rng(seed)
    sub_ids = set(rng.permutation(sorted(relevant))[:IMPORTANCE_QUERIES].tolist())
    sub = feats[feats["query_id"].isin(sub_ids)].copy()
    sub_rel = {q: g for q, g in relevant.items() if q in sub_ids}
    base_ndcg = metrics(rank_by(sub, "learned"), sub_rel, k)["ndcg"]
    importance = []
    for feature in mr.FEATURES:
        shuffled = sub.copy()
        shuffled[feature] = rng.permutation(shuffled[feature].to_numpy())
        shuffled["s"] = r.score(shuffled)
        importance.append({"feature": feature, "ndcg_drop": base_ndcg - metrics(rank_by(shuffled, "s"), sub_rel, k)["ndcg"]})
    n_rel = len(all_rel)
    return Evaluation(
        figures=pd.DataFrame(rows), train_cut=r.train_cut, eval_cut=r.eval_cut, end=r.end, k=k,
        mean_candidates=float(feats.groupby("query_id").size().mean()) if len(feats) else 0.0,
        unreachable=1 - sum(len(g) for g in relevant.values()) / n_rel if n_rel else 0.0,
        importance=pd.DataFrame(importance).sort_values("ndcg_drop", ascending=False).reset_index(drop=True))

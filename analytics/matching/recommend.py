"""Program matching: live recommendations for a profile, ranked by what won the offline evaluation.

The ranker comes from the latest run of the batch step (:mod:`analytics.matching.store`): its
winner ranks (a learned ranker only if it beat the strongest baseline with an NDCG margin whose 95%
interval excludes 0). Before the batch step has ever run, candidates are ranked by applications per
open day (the ``popular`` baseline, which needs no fitted model) and the page says so.
"""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.matching import eligibility as matching
from analytics.matching import rank, store, training
from data import access

FALLBACK = "popular"


def live_ranker(con: duckdb.DuckDBPyConnection) -> rank.Ranker:
    """The stored ranker, or the ``popular`` baseline with statistics of all applications so far."""
    stored = store.load_ranker(con)
    if stored is not None:
        return stored
    train_cut, eval_cut, end = training.split_dates(con)
    return rank.Ranker(models={}, method=FALLBACK, train_cut=train_cut, eval_cut=eval_cut, end=end,
                       live=rank.stats(con, end + timedelta(days=1)), seed=rank.SEED)


def recommend(con: duckdb.DuckDBPyConnection, profile: matching.Profile, day: date, filters: Filters = Filters(),
              *, role: str, k: int = 20) -> pd.DataFrame:
    """The programs open on ``day`` that the profile may apply to, best first, with scores and reasons.

    Every role of the page may rank a hand-entered profile; a profile of a firm of the database
    (``firm_id`` set: its history and exclusions count) only evaluators and admins. Ties are broken
    by program id, so the order is deterministic. ``method`` says what ranked.
    """
    access.require(role, "matching")
    if profile.firm_id is not None:
        access.require(role, "matching.firm")
    cands = matching.candidates(con, matching.queries_frame([profile], [day]), filters)
    if cands.empty:
        return cands.assign(score=[], rank=[], reasons=[], method=[])
    r = live_ranker(con)
    cands["firm_id"] = cands["firm_id"].astype("Int64")
    ids = [profile.firm_id] if profile.firm_id is not None else []
    feats = rank.features(cands, r.live, rank.history(con, ids, day))
    feats["score"] = r.score(feats)
    # the program's place among today's candidates by applications per open day (top share)
    feats["pop_top"] = feats["pop_rate"].rank(ascending=False, pct=True, method="max").fillna(1.0)
    feats = feats.sort_values(["score", "program_id"], ascending=[False, True], kind="mergesort").head(k)
    feats["rank"] = np.arange(1, len(feats) + 1)
    feats["reasons"] = [rank.reasons(row) for _, row in feats.iterrows()]
    feats["always_open"] = feats["always_open"].astype(bool)
    feats["method"] = r.method
    return feats[["rank", "program_id", "title", "ministry", "agency", "category", "opens_on", "closes_on",
                  "always_open", "days_left", "max_award_krw", "score", "reasons", "method"]].reset_index(drop=True)

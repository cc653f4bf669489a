"""Program matching: the time split, the queries asked as a firm would meet the matcher, and the
fitted learned rankers.

Split (:func:`split_dates`): features from applications before ``train_cut``, training labels from
the window ``[train_cut, eval_cut)``, evaluation on ``[eval_cut, end]``. A training label is an
application submitted in the label window; it counts as "selected" only if that outcome was decided
before ``eval_cut``, so nothing the evaluation period decides leaks into training.

Visit-day model (:func:`window_queries`): we do not observe when a firm looks for programs, only
when it applies. Asking on the day of its first application conditions the query on the outcome
(the relevant programs are then exactly the ones closing soon, and deadline features look more
useful than on an ordinary visit). Instead each sampled firm is asked on a uniformly random day of
its active span in the window: from the window's start (or its founding, if later) to its last
application there. The day is drawn independently of which programs it applied to, and the same
query (firm, day) is asked of every method. Relevant programs are those it applied to on or after
that day in the window (gain 2 if selected, 1 if only applied); programs it applied to earlier in
the window were already found and are neither candidates nor relevant.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from lightgbm import LGBMRanker
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from analytics.matching import eligibility as matching
from analytics.matching import rank
from data import facts

WINDOW_DAYS = 120          # length of the label window and of the evaluation window
TRAIN_QUERIES = 3000       # firms sampled per window (all of them when fewer)
NEGATIVES_PER_QUERY = 25   # not-applied candidates kept per training query
LEARNED: tuple[str, ...] = ("learned", "lambdarank")


def split_dates(con: duckdb.DuckDBPyConnection) -> tuple[date, date, date]:
    """(train_cut, eval_cut, end): label window [train_cut, eval_cut), evaluation window [eval_cut, end]."""
    end = facts.reference_date(con)
    eval_cut = end - timedelta(days=WINDOW_DAYS - 1)
    return eval_cut - timedelta(days=WINDOW_DAYS), eval_cut, end


def window_queries(con: duckdb.DuckDBPyConnection, start: date, stop: date, n: int, seed: int,
                   outcomes_before: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Queries of firms that applied in [start, stop), each on a random day of its active span (a
    seeded sample of ``n``); the programs each applied to from that day on (query_id, program_id,
    grade, decided_at: grade 2 = selected, counted only if decided before ``outcomes_before`` when
    given); and the (query_id, program_id) it had applied to in the window before that day."""
    firms = con.execute(f"""
        WITH w AS (SELECT firm_id, max(submitted_at)::DATE AS last_day FROM applications
                   WHERE submitted_at >= ? AND submitted_at < ? GROUP BY firm_id)
        SELECT w.last_day, f.* FROM w JOIN ({matching.FIRM_SQL}) f USING (firm_id) ORDER BY firm_id""",
                        [start, stop]).df()
    rng = np.random.default_rng(seed)
    if len(firms) > n:
        firms = firms.iloc[np.sort(rng.choice(len(firms), n, replace=False))].reset_index(drop=True)
    first = np.maximum(pd.to_datetime(firms["founded_on"]), pd.Timestamp(start))
    span = (pd.to_datetime(firms["last_day"]) - first).dt.days.clip(lower=0) + 1
    days = first + pd.to_timedelta(np.floor(rng.random(len(firms)) * span.to_numpy()), unit="D")
    q = matching.firm_queries(firms.drop(columns="last_day"), days)
    apps = con.execute("""
        SELECT firm_id, program_id, submitted_at::DATE AS submitted, status = 'selected' AS selected, decided_at
        FROM applications WHERE submitted_at >= ? AND submitted_at < ? AND firm_id IN (SELECT unnest(?::BIGINT[]))""",
                       [start, stop, [int(x) for x in q["firm_id"]]]).df()
    apps = q[["query_id", "firm_id", "day"]].astype({"firm_id": "int64"}).merge(apps, on="firm_id")
    later = apps["submitted"] >= apps["day"]
    counted = apps["selected"] & (apps["decided_at"] < pd.Timestamp(outcomes_before) if outcomes_before else apps["selected"])
    rel = apps[later].assign(grade=np.where(counted[later], 2, 1), decided_at=apps["decided_at"].where(counted))
    rel = rel.groupby(["query_id", "program_id"], as_index=False).agg(grade=("grade", "max"), decided_at=("decided_at", "min"))
    before = apps.loc[~later, ["query_id", "program_id"]].drop_duplicates()
    return q, rel, before


def labelled(con: duckdb.DuckDBPyConnection, start: date, stop: date, st: rank.Stats, n: int, seed: int,
             outcomes_before: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate pairs of the window's queries with their features, ``grade`` (0 = not applied) and
    ``decided_at`` of a selection; and every program the queried firms applied to from their day on
    (open and eligible on the day or not: the rest is unreachable for any method)."""
    q, rel, before = window_queries(con, start, stop, n, seed, outcomes_before)
    cands = matching.candidates(con, q)
    cands["firm_id"] = cands["firm_id"].astype("int64")
    cands = cands.merge(before.assign(_before=True), on=["query_id", "program_id"], how="left")
    cands = cands[cands["_before"].isna()].drop(columns="_before")
    feats = rank.features(cands, st, rank.history(con, [int(x) for x in q["firm_id"]], start))
    feats = feats.merge(rel, on=["query_id", "program_id"], how="left")
    feats["grade"] = feats["grade"].fillna(0).astype(int)
    return feats, rel


def training_frame(con: duckdb.DuckDBPyConnection, seed: int, n: int = TRAIN_QUERIES) -> pd.DataFrame:
    """The labelled training pairs: features before ``train_cut``, labels in [train_cut, eval_cut)
    with outcomes decided before ``eval_cut``."""
    train_cut, eval_cut, _ = split_dates(con)
    feats, _ = labelled(con, train_cut, eval_cut, rank.stats(con, train_cut), n, seed, outcomes_before=eval_cut)
    return feats


def _sample(feats: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every positive and at most NEGATIVES_PER_QUERY seeded negatives per query, in query order: a
    ranking only needs the order, and at scale 1 the full candidate lists are a million rows."""
    rng = np.random.default_rng(seed)
    neg = feats["grade"] == 0
    keep = ~neg | (feats.assign(_r=rng.random(len(feats))).groupby("query_id")["_r"].rank(method="first")
                   .where(neg, np.inf) <= NEGATIVES_PER_QUERY)
    return feats[keep].sort_values(["query_id", "program_id"], kind="mergesort")


def fit_classifier(sample: pd.DataFrame, seed: int) -> HistGradientBoostingClassifier:
    """Applied-or-not gradient boosting over the features; selected applications weigh double."""
    model = HistGradientBoostingClassifier(
        max_iter=120, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=False, random_state=seed, categorical_features=[rank.FEATURES.index("category_i")])
    # one thread: OpenMP spinning on a busy 2-core machine made the fit 15x slower
    with threadpool_limits(1):
        model.fit(sample[list(rank.FEATURES)].to_numpy(float), (sample["grade"] > 0).astype(int).to_numpy(),
                  sample_weight=np.where(sample["grade"] == 2, 2.0, 1.0))
    return model


def fit_lambdarank(sample: pd.DataFrame, seed: int) -> LGBMRanker:
    """LightGBM's LambdaMART on the same features and queries, optimising NDCG@10 with the
    evaluation's linear gains (0 / 1 / 2). Cold start suits it: its inputs are program and segment
    statistics, not ids, so a program that opened yesterday is ranked like its peers."""
    model = LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.05, num_leaves=31,
                       min_child_samples=40, reg_lambda=1.0, label_gain=[0.0, 1.0, 2.0], lambdarank_truncation_level=10,
                       random_state=seed, deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)
    groups = sample.groupby("query_id", sort=True).size().to_numpy()
    model.fit(sample[list(rank.FEATURES)].to_numpy(float), sample["grade"].to_numpy(int), group=groups,
              categorical_feature=[rank.FEATURES.index("category_i")])
    return model


def fit_models(feats: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Both learned rankers (:data:`LEARNED`) on the same sampled training pairs."""
    sample = _sample(feats, seed)
    return {"learned": fit_classifier(sample, seed), "lambdarank": fit_lambdarank(sample, seed)}

"""Program matching, part 2: the learned relevance ranker and its reasons.

Features of a (firm, program) pair come from applications submitted before a cut date only
(:func:`stats`): how popular the program is (per open day; its agency x category for a new program),
how often firms of the same industry / size / region apply to it and are selected by it, how much
firms of the same size and industry favour its support field (category affinity of similar firms),
the firm's own history (firms of the database), days to the deadline and since the opening, award
size against the firm's sales, and the fit of its age band and certifications.

Training follows the time split of :mod:`analytics.matching_eval`: features from applications before
``train_cut``, labels = the programs a firm applied to (selected ones weigh double) in the window
``[train_cut, eval_cut)``, asked on the day of its first application there. The model evaluated there
is the model used for live recommendations (with features refreshed from all applications).
Deterministic given the seed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from analytics.filters import Filters
from analytics.matching import eligibility as matching
from data import access, facts

T = TypeVar("T")

SEED = 7
WINDOW_DAYS = 120          # length of the label window and of the evaluation window
TRAIN_QUERIES = 3000       # firms sampled per window (all of them when fewer)
NEGATIVES_PER_QUERY = 25   # not-applied candidates kept per training query
PRIOR = 10.0               # pseudo-counts of the smoothed rates and shares
FEATURES: tuple[str, ...] = (
    "pop_rate", "pop_backoff", "prog_sel", "lift_ind", "lift_size", "lift_region", "sel_ind", "sel_size",
    "sel_region", "cat_lift", "firm_cat_share", "firm_n_apps", "firm_applied_prog", "days_left", "days_open",
    "always_open", "log_award", "award_to_sales", "local_only", "age_band", "cert_required", "age_years",
    "size_i", "n_certs", "log_employees", "category_i")
_CATEGORIES = ("금융", "기술", "인력", "수출", "내수", "창업", "경영", "기타")
_SEG = {"ind": "ksic_section", "size": "size_class", "region": "region_code"}


@dataclass(frozen=True)
class Stats:
    """Application statistics before a cut date (the only source of the features)."""

    cut: date
    programs: pd.DataFrame      # program_id, pop_rate, pop_backoff, prog_sel, n_apps
    segments: dict[str, pd.DataFrame]  # "ind"/"size"/"region" -> program_id, key, lift_x, sel_x
    cat_affinity: pd.DataFrame  # size_class, ksic_section, category, cat_lift


# Applications before the cut ($cut) with their firm and program; outcomes only if decided before it.
_PERIOD = """WITH a AS (
        SELECT a.firm_id, a.program_id, f.ksic_section, f.size_class::VARCHAR AS size_class, f.region_code,
               p.category::VARCHAR AS category, p.agency,
               a.status IN ('selected', 'rejected') AND a.decided_at < $cut AS decided,
               a.status = 'selected' AND a.decided_at < $cut AS selected
        FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        WHERE a.submitted_at < $cut)"""


def stats(con: duckdb.DuckDBPyConnection, cut: date) -> Stats:
    """Smoothed popularity, segment lifts, selection rates and category affinity before ``cut``."""
    head, cutp = _PERIOD, {"cut": cut}
    cat = con.execute(f"""{head} SELECT category, count(*) FILTER (WHERE selected) AS sel,
                          count(*) FILTER (WHERE decided) AS dec FROM a GROUP BY 1""", cutp).df()
    total_sel, total_dec = cat["sel"].sum(), cat["dec"].sum()
    base = (total_sel + PRIOR * 0.4) / (total_dec + PRIOR)
    cat["cat_sel"] = (cat["sel"] + PRIOR * base) / (cat["dec"] + PRIOR)
    # days each program was open before the cut (상시: since the first application of the data)
    progs = con.execute(f"""{head}
        SELECT p.program_id, p.agency, p.category::VARCHAR AS category,
               CASE WHEN p.always_open THEN greatest(date_diff('day', (SELECT min(submitted_at)::DATE FROM applications), $cut), 1)
                    WHEN p.opens_on < $cut THEN date_diff('day', p.opens_on, least(p.closes_on + 1, $cut))
                    ELSE 0 END AS open_days,
               count(a.program_id) AS n_apps, count(*) FILTER (WHERE a.selected) AS sel,
               count(*) FILTER (WHERE a.decided) AS dec
        FROM programs p LEFT JOIN a USING (program_id) GROUP BY ALL""", cutp).df()
    progs["rate"] = np.where(progs["open_days"] > 0, progs["n_apps"] / progs["open_days"].clip(lower=1) * 30, np.nan)
    known = progs[progs["open_days"] > 0]
    back = known.groupby(["agency", "category"])[["n_apps", "open_days"]].sum()
    back["pop_backoff"] = np.log1p(back["n_apps"] / back["open_days"].clip(lower=1) * 30)
    progs = progs.merge(back[["pop_backoff"]].reset_index(), on=["agency", "category"], how="left")
    progs["pop_backoff"] = progs["pop_backoff"].fillna(float(np.log1p(known["n_apps"].sum() / max(known["open_days"].sum(), 1) * 30)))
    progs["pop_rate"] = np.log1p(progs["rate"])
    progs = progs.merge(cat[["category", "cat_sel"]], on="category", how="left")
    progs["cat_sel"] = progs["cat_sel"].fillna(base)
    progs["prog_sel"] = (progs["sel"] + PRIOR * progs["cat_sel"]) / (progs["dec"] + PRIOR)

    segments = {}
    for name, col in _SEG.items():
        seg = con.execute(f"""{head} SELECT program_id, {col} AS key, count(*) AS n,
                              count(*) FILTER (WHERE selected) AS sel, count(*) FILTER (WHERE decided) AS dec
                              FROM a GROUP BY ALL""", cutp).df()
        share = seg.groupby("key")["n"].sum()
        share = (share + 1) / (share.sum() + len(share))
        seg = seg.merge(progs[["program_id", "n_apps", "prog_sel"]], on="program_id").merge(
            share.rename("share").reset_index(), on="key")
        seg[f"lift_{name}"] = np.log(((seg["n"] + PRIOR * seg["share"]) / (seg["n_apps"] + PRIOR)) / seg["share"])
        seg[f"sel_{name}"] = (seg["sel"] + PRIOR * seg["prog_sel"]) / (seg["dec"] + PRIOR)
        segments[name] = seg[["program_id", "key", f"lift_{name}", f"sel_{name}"]]

    aff = con.execute(f"""{head} SELECT size_class, ksic_section, category, count(*) AS n FROM a GROUP BY ALL""", cutp).df()
    c_share = aff.groupby("category")["n"].sum() / max(aff["n"].sum(), 1)
    s_tot = aff.groupby(["size_class", "category"])["n"].sum().rename("n_sc").reset_index()
    s_tot = s_tot.merge(aff.groupby("size_class")["n"].sum().rename("n_s").reset_index(), on="size_class")
    s_tot["frac_sc"] = (s_tot["n_sc"] + PRIOR * s_tot["category"].map(c_share)) / (s_tot["n_s"] + PRIOR)
    aff = aff.merge(aff.groupby(["size_class", "ksic_section"])["n"].sum().rename("n_si").reset_index(),
                    on=["size_class", "ksic_section"]).merge(s_tot[["size_class", "category", "frac_sc"]],
                                                             on=["size_class", "category"])
    aff["cat_lift"] = np.log((aff["n"] + PRIOR * aff["frac_sc"]) / (aff["n_si"] + PRIOR) / aff["category"].map(c_share))
    return Stats(cut=cut, programs=progs[["program_id", "pop_rate", "pop_backoff", "prog_sel", "n_apps"]],
                 segments=segments, cat_affinity=aff[["size_class", "ksic_section", "category", "cat_lift"]])


def history(con: duckdb.DuckDBPyConnection, firm_ids: list[int], cut: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firms' own applications before the cut: (firm_id, category, n) and (firm_id, program_id)."""
    if not firm_ids:
        return (pd.DataFrame({"firm_id": pd.Series(dtype="int64"), "category": pd.Series(dtype=object),
                              "n": pd.Series(dtype="int64")}),
                pd.DataFrame({"firm_id": pd.Series(dtype="int64"), "program_id": pd.Series(dtype=object)}))
    by_cat = con.execute("""
        SELECT a.firm_id, p.category::VARCHAR AS category, count(*) AS n
        FROM applications a JOIN programs p USING (program_id)
        WHERE a.firm_id IN (SELECT unnest(?::BIGINT[])) AND a.submitted_at < ? GROUP BY ALL""", [firm_ids, cut]).df()
    by_prog = con.execute("""
        SELECT DISTINCT firm_id, program_id FROM applications
        WHERE firm_id IN (SELECT unnest(?::BIGINT[])) AND submitted_at < ?""", [firm_ids, cut]).df()
    return by_cat, by_prog


def features(cands: pd.DataFrame, st: Stats, hist: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """The feature columns (:data:`FEATURES`) for candidate pairs of :func:`matching.candidates`."""
    df = cands.merge(st.programs, on="program_id", how="left")
    for name, col in _SEG.items():
        seg = st.segments[name].rename(columns={"key": col})
        df = df.merge(seg, on=["program_id", col], how="left")
        # no applicant of the segment yet: the smoothed lift of zero applicants, log(PRIOR / (n + PRIOR))
        df[f"lift_{name}"] = df[f"lift_{name}"].fillna(np.log(PRIOR / (df["n_apps"].fillna(0) + PRIOR)))
        df[f"sel_{name}"] = df[f"sel_{name}"].fillna(df["prog_sel"])
    df = df.merge(st.cat_affinity, on=["size_class", "ksic_section", "category"], how="left")
    df["cat_lift"] = df["cat_lift"].fillna(0.0)
    by_cat, by_prog = hist
    tot = by_cat.groupby("firm_id")["n"].sum().rename("firm_tot").reset_index()
    df = df.merge(by_cat.rename(columns={"n": "firm_cat"}), on=["firm_id", "category"], how="left").merge(tot, on="firm_id", how="left")
    df["firm_n_apps"] = np.log1p(df["firm_tot"].fillna(0))
    df["firm_cat_share"] = (df["firm_cat"].fillna(0) / df["firm_tot"].where(df["firm_tot"] > 0)).fillna(0)
    applied = by_prog.assign(firm_applied_prog=1.0)
    df = df.merge(applied, on=["firm_id", "program_id"], how="left")
    df["firm_applied_prog"] = df["firm_applied_prog"].fillna(0.0)
    day = pd.to_datetime(df["day"])
    df["days_left"] = np.where(df["always_open"], 365, (pd.to_datetime(df["closes_on"]) - day).dt.days)
    df["days_open"] = np.where(df["always_open"], 365, (day - pd.to_datetime(df["opens_on"])).dt.days)
    df["log_award"] = np.log1p(df["max_award_krw"].fillna(0).astype(float))
    df["award_to_sales"] = df["log_award"] - np.log1p(df["revenue_krw"].astype(float))
    df["age_band"] = (df["min_age_years"].notna() | df["max_age_years"].notna()).astype(float)
    df["cert_required"] = (df["required_certs"] != "").astype(float)
    df["size_i"] = df["size_class"].map({s: i for i, s in enumerate(matching.SIZES)}).astype(float)
    df["log_employees"] = np.log1p(df["employees"].astype(float))
    df["category_i"] = df["category"].map({c: i for i, c in enumerate(_CATEGORIES)}).astype(float)
    for col in ("always_open", "local_only"):
        df[col] = df[col].astype(float)
    return df


def _model(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=120, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
        categorical_features=[FEATURES.index("category_i")])


@dataclass(frozen=True)
class Ranker:
    """A fitted model, the split it was trained on and the live statistics it ranks with."""

    model: HistGradientBoostingClassifier
    train_cut: date
    eval_cut: date
    end: date
    live: Stats
    seed: int

    def score(self, feats: pd.DataFrame) -> np.ndarray:
        if feats.empty:
            return np.zeros(0)
        with threadpool_limits(1):
            return self.model.predict_proba(feats[list(FEATURES)].to_numpy(float))[:, 1]


def split_dates(con: duckdb.DuckDBPyConnection) -> tuple[date, date, date]:
    """(train_cut, eval_cut, end): label window [train_cut, eval_cut), evaluation window [eval_cut, end]."""
    end = facts.reference_date(con)
    eval_cut = end - timedelta(days=WINDOW_DAYS - 1)
    return eval_cut - timedelta(days=WINDOW_DAYS), eval_cut, end


def window_queries(con: duckdb.DuckDBPyConnection, start: date, stop: date, n: int, seed: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firms that applied in [start, stop), asked on the day of their first application there (a
    sample of ``n``, seeded), and the programs each applied to in the window (grade 2 = selected,
    1 = applied)."""
    firms = con.execute(f"""
        WITH w AS (SELECT firm_id, min(submitted_at)::DATE AS day FROM applications
                   WHERE submitted_at >= ? AND submitted_at < ? GROUP BY firm_id)
        SELECT w.day, f.* FROM w JOIN ({matching.FIRM_SQL}) f USING (firm_id) ORDER BY firm_id""",
                        [start, stop]).df()
    if len(firms) > n:
        firms = firms.iloc[np.sort(np.random.default_rng(seed).choice(len(firms), n, replace=False))]
    q = matching.firm_queries(firms.drop(columns="day"), firms["day"])
    rel = con.execute("""
        SELECT firm_id, program_id, max(CASE WHEN status = 'selected' THEN 2 ELSE 1 END) AS grade
        FROM applications WHERE submitted_at >= ? AND submitted_at < ? AND firm_id IN (SELECT unnest(?::BIGINT[]))
        GROUP BY ALL""", [start, stop, [int(x) for x in q["firm_id"]]]).df()
    rel = q[["query_id", "firm_id"]].astype({"firm_id": "int64"}).merge(rel, on="firm_id")[["query_id", "program_id", "grade"]]
    return q, rel


def labelled(con: duckdb.DuckDBPyConnection, start: date, stop: date, st: Stats, n: int, seed: int
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate pairs of the window's queries with their features and grade (0 = not applied), and
    every program the queried firms applied to in the window (open and eligible or not)."""
    q, rel = window_queries(con, start, stop, n, seed)
    cands = matching.candidates(con, q)
    cands["firm_id"] = cands["firm_id"].astype("int64")
    feats = features(cands, st, history(con, [int(x) for x in q["firm_id"]], start))
    feats = feats.merge(rel, on=["query_id", "program_id"], how="left")
    feats["grade"] = feats["grade"].fillna(0).astype(int)
    return feats, rel


def fit(feats: pd.DataFrame, seed: int) -> HistGradientBoostingClassifier:
    """Applied-or-not classifier over the features; selected applications weigh double.

    Every positive and at most NEGATIVES_PER_QUERY seeded negatives per query: a ranking only needs
    the order, and at scale 1 the full candidate lists would be a million rows. One thread: OpenMP
    spinning on a busy 2-core machine made the fit 15x slower.
    """
    rng = np.random.default_rng(seed)
    neg = feats["grade"] == 0
    keep = ~neg | (feats.assign(_r=rng.random(len(feats))).groupby("query_id")["_r"].rank(method="first")
                   .where(neg, np.inf) <= NEGATIVES_PER_QUERY)
    sample = feats[keep]
    model = _model(seed)
    with threadpool_limits(1):
        model.fit(sample[list(FEATURES)].to_numpy(float), (sample["grade"] > 0).astype(int).to_numpy(),
                  sample_weight=np.where(sample["grade"] == 2, 2.0, 1.0))
    return model


_MEMO: dict[tuple, object] = {}
_PENDING: dict[tuple, threading.Lock] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 8


def memo(key: tuple, compute: Callable[[], T]) -> T:
    """A process-wide store of batch results (fitted rankers, evaluation, coverage) by data version and
    arguments. Plain Python, so that analytics stays free of Streamlit; pages still cache their own
    results. One lock per key: sessions asking for the same result wait for one computation, while
    others (a recommendation while the blind spots are computed) go on.
    """
    with _MEMO_LOCK:
        if key in _MEMO:
            return _MEMO[key]  # type: ignore[return-value]
        pending = _PENDING.setdefault(key, threading.Lock())
    with pending:
        with _MEMO_LOCK:
            if key in _MEMO:
                return _MEMO[key]  # type: ignore[return-value]
        value = compute()
        with _MEMO_LOCK:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.pop(next(iter(_MEMO)))
            _MEMO[key] = value
            _PENDING.pop(key, None)
        return value


def data_key(con: duckdb.DuckDBPyConnection) -> tuple:
    """Identifies the data cheaply: the data version a writer stamps, plus the size of the tables."""
    return tuple(con.execute("""SELECT (SELECT max(value) FROM meta WHERE key = 'data_version'),
                                 (SELECT count(*) FROM applications), (SELECT max(application_id) FROM applications),
                                 (SELECT count(*) FROM programs)""").fetchall()[0])


def _fit_ranker(con: duckdb.DuckDBPyConnection, seed: int) -> Ranker:
    train_cut, eval_cut, end = split_dates(con)
    feats, _ = labelled(con, train_cut, eval_cut, stats(con, train_cut), TRAIN_QUERIES, seed)
    return Ranker(model=fit(feats, seed), train_cut=train_cut, eval_cut=eval_cut, end=end,
                  live=stats(con, end + timedelta(days=1)), seed=seed)


def ranker(con: duckdb.DuckDBPyConnection, seed: int = SEED) -> Ranker:
    """The fitted ranker for this data (trained once per process and data version, then reused)."""
    return memo(("ranker", data_key(con), seed), lambda: _fit_ranker(con, seed))


# ---------------------------------------------------------------- reasons
def reasons(row: pd.Series | dict) -> tuple[tuple[str, float | str], ...]:
    """Why a program suits the firm, as (label code, value) pairs, most telling first (at most 4).

    Codes are label keys ``matching.reason.<code>`` (Korean and English); values fill ``{v}``
    (amounts of ``sales_*`` in KRW, for the page to format).
    """
    out: list[tuple[str, float | str]] = []
    if row["firm_cat_share"] >= 0.3:
        out.append(("history", row["category"]))
    if row["sel_ind"] >= max(0.45, row["prog_sel"] * 1.1):
        out.append(("ind_selected", round(100 * row["sel_ind"])))
    if row.get("pop_top", 1.0) <= 0.2:
        out.append(("popular", max(1, round(100 * row["pop_top"]))))
    if row["lift_ind"] >= np.log(1.5):
        out.append(("ind_applies", round(float(np.exp(row["lift_ind"])), 1)))
    if row["cat_lift"] >= np.log(1.3):
        out.append(("similar_field", row["category"]))
    if not row["always_open"] and row["days_left"] <= 14:
        out.append(("deadline", int(row["days_left"])))
    if row["always_open"]:
        out.append(("always_open", ""))
    if row["local_only"]:
        out.append(("local", ""))
    if pd.notna(row["max_age_years"]):
        out.append(("age_band", int(row["max_age_years"])))
    # a limit the firm meets is a reason: the program is reserved for firms like it
    for code, col in (("sales_max", "max_revenue_krw"), ("sales_min", "min_revenue_krw"),
                      ("emp_max", "max_employees"), ("emp_min", "min_employees")):
        if pd.notna(row[col]):
            out.append((code, int(row[col])))
    if row["cert_required"]:
        out.append(("cert", row["required_certs"]))
    if not row["always_open"] and row["days_open"] <= 7:
        out.append(("new", int(row["days_open"])))
    if row["lift_size"] >= np.log(1.5):
        out.append(("size_applies", round(float(np.exp(row["lift_size"])), 1)))
    return tuple(out[:4])


def recommend(con: duckdb.DuckDBPyConnection, profile: matching.Profile, day: date, filters: Filters = Filters(),
              *, role: str, k: int = 20, seed: int = SEED) -> pd.DataFrame:
    """The programs open on ``day`` that the profile may apply to, best first, with scores and reasons.

    Every role of the page may rank a hand-entered profile; a profile of a firm of the database
    (``firm_id`` set: its history and exclusions count) only evaluators and admins. Ties are broken
    by program id, so the order is deterministic.
    """
    access.require(role, "matching")
    if profile.firm_id is not None:
        access.require(role, "matching.firm")
    r = ranker(con, seed)
    cands = matching.candidates(con, matching.queries_frame([profile], [day]), filters)
    if cands.empty:
        return cands.assign(score=[], rank=[], reasons=[])
    cands["firm_id"] = cands["firm_id"].astype("Int64")
    ids = [profile.firm_id] if profile.firm_id is not None else []
    feats = features(cands, r.live, history(con, ids, day))
    feats["score"] = r.score(feats)
    # the program's place among today's candidates by applications per open day (top share)
    feats["pop_top"] = feats["pop_rate"].rank(ascending=False, pct=True, method="max").fillna(1.0)
    feats = feats.sort_values(["score", "program_id"], ascending=[False, True], kind="mergesort").head(k)
    feats["rank"] = np.arange(1, len(feats) + 1)
    feats["reasons"] = [reasons(row) for _, row in feats.iterrows()]
    feats["always_open"] = feats["always_open"].astype(bool)
    return feats[["rank", "program_id", "title", "ministry", "agency", "category", "opens_on", "closes_on",
                  "always_open", "days_left", "max_award_krw", "score", "reasons"]].reset_index(drop=True)

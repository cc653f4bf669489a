"""Program matching, part 2: features of a (firm, program) pair and the fitted ranker.

Features of a pair come from applications submitted before a cut date only (:func:`stats`): how
popular the program is (applications per open day; its agency x category for a program not open
before the cut), how often firms of the same industry / size / region apply to it and are selected
by it, how much firms of the same size and
industry favour its support field, the firm's own history (firms of the database), days to the
deadline and since the opening, award size against the firm's sales, and the fit of its age band and
certifications. Outcomes count only if decided before the cut.

A :class:`Ranker` holds the fitted models (:mod:`analytics.matching.training`), the method that
won the offline evaluation (:mod:`analytics.matching.evaluation`) and the live statistics it ranks
with; the batch step stores it (:mod:`analytics.matching.store`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.matching import baselines
from analytics.matching import eligibility as matching

SEED = 7
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


@dataclass(frozen=True)
class Ranker:
    """Fitted models, the split they were trained on, the live statistics they rank with and the
    method that ranks live recommendations (the winner of the offline evaluation)."""

    models: dict[str, Any]   # learned method -> fitted model (see analytics.matching.training)
    method: str              # a key of models or a baseline of analytics.matching.baselines
    train_cut: date
    eval_cut: date
    end: date
    live: Stats
    seed: int

    def score(self, feats: pd.DataFrame, method: str | None = None) -> np.ndarray:
        """Scores of the candidate pairs by ``method`` (default: the ranking method); higher is better."""
        method = method or self.method
        if feats.empty:
            return np.zeros(0)
        if method not in self.models:
            return baselines.SCORERS[method](feats)
        model, x = self.models[method], feats[list(FEATURES)].to_numpy(float)
        # one thread: OpenMP spinning on a busy 2-core machine made scoring many times slower
        with threadpool_limits(1):
            return model.predict_proba(x)[:, 1] if hasattr(model, "predict_proba") else model.predict(x, num_threads=1)


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

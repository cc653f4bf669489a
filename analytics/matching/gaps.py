"""Program matching, part 4: blind spots (추천 사각지대) for policy staff.

On a day, for the firm population (every firm of the database, weighted by ``firms.weight``):

* groups of firms (시도 x size x industry, or any coarser grouping) with few **eligible** programs
  (exact: every firm is checked against every open program, firms with the same region, size,
  industry, age and certifications, and sales and employees between the same program limits, counted
  together) or few **well-matched** programs: programs whose score by the live ranking method
  (:func:`analytics.matching.recommend.live_ranker`) reaches the "good match" bar, the score of
  the 10th recommendation of the median firm (estimated on a seeded sample of up to
  ``SAMPLE_PER_GROUP`` firms per group);
* programs open that day that are almost never recommended (rarely in a sampled firm's top 10,
  weighted) or applied to (applicants in the 365 days before the day).

Aggregates only; for the policy role groups and programs standing for 1-4 firms are suppressed.

Computing a day takes minutes at national scale, so the batch step (``python -m analytics.matching
evaluate``) computes the reference day with no filters, the page's default view, and stores it
(:func:`analytics.matching.store.write_gaps`); :func:`coverage` reads that back, and computes only
other days and filtered views.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.matching import eligibility as matching
from analytics.matching import rank as mr
from analytics.matching import store
from analytics.matching.recommend import live_ranker
from data import access, privacy

SAMPLE_PER_GROUP = 3
TOP_K = 10
RARE_SHARE = 0.01       # recommended to < 1% of firms (weighted): "almost never recommended"
RARE_APPLICANTS = 5     # < 5 applicant firms in the year before the day: "almost never applied to"
GROUP_DIMS = ("region_code", "size_class", "ksic_section")


@dataclass(frozen=True)
class Coverage:
    """Per-firm results of one day (before grouping): the part that is expensive to compute."""

    firms: pd.DataFrame     # region, size, industry, n_eligible -> weight, n_firms
    sample: pd.DataFrame    # sampled firms: region, size, industry, weight (stands for), n_good
    programs: pd.DataFrame  # program_id, title, ministry, agency, category, eligible_share, recommended_share,
    #                         applications, applicants (in the 365 days before the day)
    bar: float              # the "good match" score
    stored_at: datetime | None = None  # when the batch step computed it; None: computed on this visit


def _firm_side(filters: Filters) -> tuple[str, list]:
    return filters.where(app=None, firm="f", program=None)


def compute(con: duckdb.DuckDBPyConnection, day: date, filters: Filters = Filters(), *, seed: int = mr.SEED,
            ranker: mr.Ranker | None = None) -> Coverage:
    """The blind spots of ``day`` under ``filters``, ranked by ``ranker`` (default: the live one)."""
    w, params = _firm_side(filters)
    # the smallest sales and headcount of a limit class stand for the class (all pass the same limits)
    combos = con.execute(f"""
        WITH cuts AS ({matching.LIMIT_CUTS_SQL})
        SELECT f.region_code, f.size_class, f.ksic_section,
               floor(date_diff('day', f.founded_on, ?::DATE) / 365.25)::INTEGER AS age_years, f.certs,
               {matching.limit_classes()}, min(f.revenue_krw) AS revenue_krw, min(f.employees) AS employees,
               sum(f.weight) AS weight, count(*) AS n_firms
        FROM ({matching.FIRM_SQL}) f, cuts WHERE f.founded_on <= ?::DATE AND {w} GROUP BY ALL ORDER BY ALL""",
                         [day, day, *params]).df()
    queries = combos.assign(query_id=range(len(combos)), firm_id=pd.array([None] * len(combos), dtype="Int64"),
                            day=pd.Timestamp(day))
    per_combo, per_program = matching.eligible_weight(con, queries, filters)
    combos["n_eligible"] = per_combo["n_eligible"].to_numpy()

    # a seeded sample of firms per group, each standing for its share of the group's weight
    firms = con.execute(f"SELECT f.* FROM ({matching.FIRM_SQL}) f WHERE f.founded_on <= ?::DATE AND {w} ORDER BY f.firm_id",
                        [day, *params]).df()
    firms["_r"] = np.random.default_rng(seed).random(len(firms))
    firms["_i"] = firms.groupby(list(GROUP_DIMS))["_r"].rank(method="first")
    group_w = firms.groupby(list(GROUP_DIMS))["weight"].transform("sum")
    sample = firms[firms["_i"] <= SAMPLE_PER_GROUP].copy()
    sample["stands_for"] = group_w[sample.index] / sample.groupby(list(GROUP_DIMS))["_r"].transform("size")
    sample = sample.reset_index(drop=True)
    q = matching.firm_queries(sample.drop(columns=["_r", "_i", "stands_for", "weight"]), [day] * len(sample))
    cands = matching.candidates(con, q, filters)
    r = ranker or live_ranker(con)
    if cands.empty:
        bar = np.inf
        sample["n_good"] = 0
        rec = pd.DataFrame(columns=["program_id", "recommended_weight"])
    else:
        cands["firm_id"] = cands["firm_id"].astype("int64")
        feats = mr.features(cands, r.live, mr.history(con, [int(x) for x in q["firm_id"]], day))
        feats["score"] = r.score(feats)
        feats = feats.sort_values(["query_id", "score", "program_id"], ascending=[True, False, True], kind="mergesort")
        feats["pos"] = feats.groupby("query_id").cumcount() + 1
        tenth = feats[feats["pos"] == TOP_K]["score"]
        bar = float(tenth.median()) if len(tenth) else float(feats["score"].min())
        good = feats[feats["score"] >= bar].groupby("query_id").size()
        sample["n_good"] = sample.index.map(good).fillna(0).to_numpy()
        top = feats[feats["pos"] <= TOP_K].merge(sample[["stands_for"]].rename_axis("query_id").reset_index(), on="query_id")
        rec = top.groupby("program_id")["stands_for"].sum().rename("recommended_weight").reset_index()
    total_w = float(combos["weight"].sum()) or 1.0
    pw, pp = filters.where(app=None, firm=None, program="p")
    progs = con.execute(f"""
        SELECT p.program_id, p.title, p.ministry, p.agency, p.category::VARCHAR AS category, p.always_open, p.closes_on
        FROM programs p WHERE (p.always_open OR (p.opens_on <= ?::DATE AND p.closes_on >= ?::DATE)) AND {pw}
        ORDER BY p.program_id""", [day, day, *pp]).df()
    progs = progs.merge(per_program, on="program_id", how="left").merge(rec, on="program_id", how="left")
    # shares of the population; clipped because weights summed in another order may exceed 1 by 1e-16
    progs["eligible_share"] = (progs["weight"].fillna(0) / total_w).clip(upper=1.0)
    progs["recommended_share"] = (progs["recommended_weight"].fillna(0) / total_w).clip(upper=1.0)
    fw, fp = _firm_side(filters)
    apps = con.execute(f"""
        SELECT a.program_id, count(*) AS applications, count(DISTINCT a.firm_id) AS applicants
        FROM applications a JOIN firms f USING (firm_id)
        WHERE a.submitted_at >= ?::DATE AND a.submitted_at < ?::DATE AND {fw} GROUP BY 1""",
                       [day - timedelta(days=365), day + timedelta(days=1), *fp]).df()
    progs = progs.merge(apps, on="program_id", how="left").fillna({"applications": 0, "applicants": 0})
    progs[["applications", "applicants"]] = progs[["applications", "applicants"]].astype(int)
    # the firms by group and number of eligible programs: all that grouping and the median need
    firms = combos.groupby([*GROUP_DIMS, "n_eligible"], observed=True, as_index=False)[["weight", "n_firms"]].sum()
    return Coverage(firms=firms, sample=sample[[*GROUP_DIMS, "stands_for", "n_good"]],
                    programs=progs.drop(columns=["weight", "recommended_weight"]), bar=bar)


def coverage(con: duckdb.DuckDBPyConnection, day: date, filters: Filters = Filters(), *, role: str,
             seed: int = mr.SEED) -> Coverage:
    """The per-firm results of a day, which :func:`group_gaps` and :func:`program_gaps` aggregate
    (the page caches it once per day and filters). Aggregates of firms only; small groups are
    suppressed by the aggregating functions. The stored result of the batch step when it is of this
    day with no filters (and the default seed), else computed now."""
    access.require(role, "matching")
    if filters == Filters() and seed == mr.SEED:
        stored = store.stored_gaps(con, day)
        if stored is not None:
            return stored
    return compute(con, day, filters, seed=seed)


def group_gaps(cov: Coverage, by: tuple[str, ...] = GROUP_DIMS, *, role: str) -> pd.DataFrame:
    """Groups of firms with their weighted size, mean eligible and well-matched programs per firm, and
    ``gap_firms``: how many firms (weighted) fall short of the national median, weighted by how far.
    Largest gaps first."""
    access.require(role, "matching")
    by = tuple(d for d in GROUP_DIMS if d in by) or GROUP_DIMS
    if cov.firms.empty:
        return pd.DataFrame(columns=[*by, "n_firms", "firms", "eligible", "well_matched", "gap_firms"])
    f = cov.firms.assign(we=cov.firms["weight"] * cov.firms["n_eligible"])
    g = f.groupby(list(by), observed=True).agg(n_firms=("n_firms", "sum"), firms=("weight", "sum"), we=("we", "sum")).reset_index()
    g["eligible"] = g["we"] / g["firms"]
    s = cov.sample.assign(wg=cov.sample["stands_for"] * cov.sample["n_good"])
    sg = s.groupby(list(by), observed=True).agg(sw=("stands_for", "sum"), wg=("wg", "sum")).reset_index()
    g = g.merge(sg, on=list(by), how="left")
    g["well_matched"] = (g["wg"] / g["sw"]).fillna(0)
    med_e = _weighted_median(f["n_eligible"], f["weight"])
    med_g = _weighted_median(cov.sample["n_good"], cov.sample["stands_for"])
    short_e = (1 - g["eligible"] / med_e).clip(lower=0) if med_e > 0 else 0 * g["eligible"]
    short_g = (1 - g["well_matched"] / med_g).clip(lower=0) if med_g > 0 else 0 * g["well_matched"]
    g["gap_firms"] = g["firms"] * np.maximum(short_e, short_g)
    g = g.sort_values(["gap_firms", *by], ascending=[False, *[True] * len(by)]).reset_index(drop=True)
    out = g[[*by, "n_firms", "firms", "eligible", "well_matched", "gap_firms"]]
    return privacy.suppress_small(out, ["n_firms"], role, derived=["firms", "eligible", "well_matched", "gap_firms"])


def _weighted_median(values: pd.Series, weights: pd.Series) -> float:
    if values.empty:
        return 0.0
    order = np.argsort(values.to_numpy(), kind="stable")
    v, w = values.to_numpy()[order], weights.to_numpy(float)[order]
    return float(v[np.searchsorted(np.cumsum(w), w.sum() / 2)])


def program_gaps(cov: Coverage, *, role: str) -> pd.DataFrame:
    """Programs open on the day with the share of firms eligible, the share that gets them in their top
    10, and applications / applicant firms in the 365 days before; rarely recommended ones first."""
    access.require(role, "matching")
    p = cov.programs.copy()
    p["rarely_recommended"] = p["recommended_share"] < RARE_SHARE
    p["rarely_applied"] = p["applicants"] < RARE_APPLICANTS
    p = p.sort_values(["recommended_share", "applicants", "program_id"], kind="mergesort").reset_index(drop=True)
    out = p[["program_id", "title", "ministry", "agency", "category", "eligible_share", "recommended_share",
             "applications", "applicants", "rarely_recommended", "rarely_applied"]]
    return privacy.suppress_small(out, ["applicants"], role, derived=["applications"])

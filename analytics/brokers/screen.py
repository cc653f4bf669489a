"""Screening at submission time: a day's new applications against everything a stored run indexed,
without recomputing the history.

The run keeps an index beside the data file (:mod:`analytics.brokers.index`): every plan's MinHash
signature with each LSH band's buckets, and every identifier value's document frequency with its
carriers. :func:`links_for` finds the links a full re-run would make for the new applications:

* **plans**: the new plans are hashed (their texts are the only ones read), looked up band by
  band in the stored buckets, subject to the same bucket cap (counted over history and new plans)
  and the same two-stage verification as :func:`analytics.brokers.minhash.similar_pairs`;
* **identifiers**: a value's firms are the run's count plus the new firms that carry it; values
  under the run's DF cap link the new application with every stored carrier of another firm, with
  the run's rarity weight (names, as in the run, only when rare or beside other evidence; the
  run's name bursts and traces need the whole calendar and are not recomputed here);
* each link is weighed and called strong as the run does (groups, weights, timing, the learned
  single-value weight).

Beside the links, a new application that carries one of a cluster's *traces* (a value on more of
its firms than chance, :func:`analytics.brokers.links.cluster_traces`, kept with the run: the
broker's writer, whose name is too common to link any pair) shares that evidence with the cluster.

:func:`screen` turns those links into one row per (new application, cluster of the run): an
application is **held** when its links share at least ``min_groups`` independent evidence groups
(not timing; from its links or the cluster's traces) with the members of one flagged cluster: the broker's phone and its template, its
account and its writer. The held list is for a person to look at before selection; it never
changes a stored run.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pandas as pd

from analytics.brokers import evidence, links, lsh, minhash
from analytics.brokers import index as brokers_index
from analytics.brokers.links import GROUPS, LinkParams
from data.db import attach_run, db_path_of

LINK_COLUMNS = ["app_a", "app_b", "weight", "groups", "plan_similarity", "time_gap_hours", "strong", "ids"]


def open_run_index(con: duckdb.DuckDBPyConnection, run_id: str) -> brokers_index.RunIndex:
    idx = brokers_index.open_index(db_path_of(con), run_id)
    if idx is None:
        raise LookupError(f"run {run_id} has no screening index beside the data file (an older run, or a copied "
                          "file): run broker detection again")
    return idx


def _over_cap(queries: np.ndarray, over_key: np.ndarray, over_size: np.ndarray, sig_ex: np.ndarray, band: int,
              rows: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Which queries (distinct band keys) are buckets the run found over its cap (listed), and
    which of those have more than ``cap`` stored rows now: the run's size less the bucket's rows in
    ``sig_ex`` (the stored rows of applications screened again, which count once, as new). The
    run's cap is at most ``cap`` (it grows with the plans), so a key not listed has at most ``cap``
    rows."""
    if not over_key.size:
        return np.zeros(queries.size, dtype=bool), np.zeros(queries.size, dtype=bool)
    ex_keys, ex_valid = minhash._band_key(sig_ex, band, rows)
    ex_keys = np.sort(ex_keys[ex_valid])
    pos, listed = brokers_index.find_sorted(over_key, queries)
    again = np.searchsorted(ex_keys, queries, "right") - np.searchsorted(ex_keys, queries, "left")
    return listed, listed & (over_size[pos] - again > cap)


def _band_lookup(small: tuple[np.ndarray, np.ndarray], big: tuple[np.ndarray, np.ndarray], sig: np.ndarray,
                 band: int, rows: int, idx_bits: int, queries: np.ndarray, n_new: np.ndarray, listed: np.ndarray,
                 over: np.ndarray, excluded: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`analytics.brokers.lsh.lookup` in a band kept in two parts (:func:`analytics.brokers.lsh.split_band`):
    a bucket the run listed over its cap has its rows in the big part only, searched for the
    few such queries not ``over`` now (:func:`_over_cap`); every other query in the small part."""
    qi, rr, full = lsh.lookup(*small, sig, band, rows, idx_bits, queries, n_new, listed, excluded, cap)
    under = listed & ~over
    if under.any():
        qb, rb, full_b = lsh.lookup(*big, sig, band, rows, idx_bits, queries, n_new, ~under, excluded, cap)
        qi, rr, full = np.concatenate([qi, qb]), np.concatenate([rr, rb]), np.where(under, full_b, full)
    return qi, rr, full


def _new_plans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """application_id, firm_id, plan_text of the new applications (``_new``)."""
    return con.execute("""SELECT p.application_id, a.firm_id, p.plan_text FROM business_plans p
                          JOIN _new USING (application_id) JOIN applications a USING (application_id)
                          ORDER BY p.application_id""").df()


def _plan_links(new: pd.DataFrame, idx: brokers_index.RunIndex, p: LinkParams, verify_bins: int = 64) -> pd.DataFrame:
    """(app_a, app_b, plan_similarity) of the ``new`` plans (:func:`_new_plans`) as a full re-run
    would pair them (reads only the index: no connection)."""
    cols = ["app_a", "app_b", "plan_similarity"]
    if new.empty or idx.meta.get("plans") is None:
        return pd.DataFrame(columns=cols)
    sig_n = minhash.signatures(new["plan_text"].tolist(), bins=p.bins, k=p.shingle_k, seed=p.seed)
    sig_n[links.template_copies(sig_n, np.asarray(idx.load("template_sig")), p)] = minhash.EMPTY
    codes_n = lsh.codes(sig_n)
    apps_n, firms_n = new["application_id"].to_numpy(np.int64), new["firm_id"].to_numpy(np.int64)
    apps_h, firms_h, codes_h = idx.load("plan_apps"), idx.load("plan_firms"), idx.load("plan_codes")
    # the signatures are read a row at a time (the few candidates whose codes pass, and the keys
    # of buckets near the cap), so each fault reads its own page, not the kernel's read-around
    sig_h = idx.load("plan_sig", random=True)
    excluded = np.isin(apps_h, apps_n)          # new applications the run already hashed count once
    sig_ex = np.asarray(sig_h[np.flatnonzero(excluded)])

    cap = links.bucket_cap(p, int(apps_h.size - excluded.sum() + apps_n.size))
    rows, idx_bits = int(idx.meta["rows"]), int(idx.meta["idx_bits"])
    rough_at = p.plan_threshold * 0.6

    def band_pairs(band: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(new application, other application, estimate) of the pairs that meet in this band."""
        keys, valid = minhash._band_key(sig_n, band, rows)
        q = np.flatnonzero(valid)
        if not q.size:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        uk, inv, n_new = np.unique(keys[q], return_inverse=True, return_counts=True)
        small, big, over_key, over_size = idx.band(band)
        listed, over = _over_cap(uk, over_key, over_size, sig_ex, band, rows, cap)
        ui, hr, full = _band_lookup(small, big, sig_h, band, rows, idx_bits, uk, n_new, listed, over, excluded, cap)
        ok = ~full[inv]
        # new x stored: each new plan with the stored candidates of its (distinct) key
        by_key = np.argsort(ui, kind="stable")
        ui, hr = ui[by_key], hr[by_key]
        first = np.searchsorted(ui, np.arange(uk.size))
        cnt = np.bincount(ui, minlength=uk.size)
        qn = np.flatnonzero(ok & (cnt[inv] > 0))                 # query positions with stored candidates
        reps = cnt[inv[qn]]
        qi = np.repeat(qn, reps)
        hr = hr[np.repeat(first[inv[qn]], reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))]
        sel = firms_n[q[qi]] != firms_h[hr]
        a_new, b_hist = q[qi[sel]], hr[sel]
        keep, sims = lsh.verify_candidates(sig_n, codes_n, a_new, sig_h, codes_h, b_hist, band, rows, verify_bins,
                                           rough_at, p.plan_threshold)
        found = [(apps_n[a_new[keep]], np.asarray(apps_h[b_hist[keep]]), sims)]
        # new x new (within one bucket of this band: exact keys)
        order = np.argsort(inv, kind="stable")
        starts = np.flatnonzero(np.r_[True, inv[order][1:] != inv[order][:-1]])
        lens = np.diff(np.r_[starts, order.size])
        okb = ok[order[starts]] & (lens >= 2)
        na, nb = minhash._pairs_in_runs(q[order], starts[okb], lens[okb])
        other = firms_n[na] != firms_n[nb]
        na, nb = na[other], nb[other]
        if na.size:
            # the same two stages as minhash.similar_pairs; the estimate over all bins, as a full run reports it
            keep, sims = lsh.verify_candidates(sig_n, codes_n, na, sig_n, codes_n, nb, band, rows, verify_bins,
                                               rough_at, p.plan_threshold)
            found.append((apps_n[na[keep]], apps_n[nb[keep]], sims))
        a, b, sims = (np.concatenate(x) for x in zip(*found))
        return a, b, sims

    with ThreadPoolExecutor(max_workers=2) as pool:     # the look-ups and checks run compiled without the GIL
        per_band = list(pool.map(band_pairs, range(sig_n.shape[1] // rows)))
    a, b = np.concatenate([x[0] for x in per_band]), np.concatenate([x[1] for x in per_band])
    if not a.size:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame({"app_a": np.minimum(a, b), "app_b": np.maximum(a, b),
                        "plan_similarity": np.concatenate([x[2] for x in per_band])})
    return out.drop_duplicates(["app_a", "app_b"]).reset_index(drop=True)


def _identifier_links(con: duckdb.DuckDBPyConnection, idx: brokers_index.RunIndex, p: LinkParams, run: dict,
                      ) -> pd.DataFrame:
    """One row per (pair with a new application, shared value) under the DF cap, as the run weighs it:
    app_a, app_b, kind, grp, value, firms, weight (names not yet filtered, see :func:`links_for`)."""
    supp = run.get("suppressed_identifiers", [])
    con.register("_supp_s", pd.DataFrame(supp, columns=["kind", "value"]) if supp else
                 pd.DataFrame({"kind": ["-"], "value": ["-"]}))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _new_fp AS   -- the new applications' values as the run's _fp keeps them
        SELECT DISTINCT f.application_id, a.firm_id, f.kind::VARCHAR AS kind, f.value,
               {brokers_index.value_hash("f.kind", "f.value")} AS h   -- as the index keyed the run's _fp
        FROM app_fingerprints f JOIN _new USING (application_id) JOIN applications a USING (application_id)
        JOIN firms fi USING (firm_id)
        ANTI JOIN _supp_s s ON s.kind = f.kind::VARCHAR AND s.value = f.value
        WHERE NOT (f.kind = 'doc_author' AND f.value = coalesce(fi.ceo_name, ''))
    """)
    nf = con.execute("SELECT * FROM _new_fp").df()
    cols = ["app_a", "app_b", "kind", "grp", "value", "firms", "weight"]
    if nf.empty:
        return pd.DataFrame(columns=cols)
    nf["h"] = nf["h"].astype(np.uint64)
    vals = nf[["kind", "value", "h"]].drop_duplicates("h").reset_index(drop=True)
    hs = vals["h"].to_numpy(np.uint64)
    vals["hist_firms"] = idx.value_firms(hs)
    # firms of each kind, history and new (the weights divide by them; the cap is a share of them)
    totals = run.get("stats", {}).get("kind_totals", {})
    total = {}
    for kind, g in nf.groupby("kind"):
        _, seen = brokers_index.find_sorted(idx.kind_firms(str(kind)), g["firm_id"].unique())
        total[kind] = int(totals.get(kind, 0)) + int((~seen).sum())
    vals["total"] = vals["kind"].map(total)
    vals["limit"] = np.minimum(p.df_cap, np.maximum(p.df_cap_floor, p.df_cap_share * vals["total"]))
    # only values whose stored count leaves room under the cap can link; their carriers are stored
    room = vals[vals["hist_firms"] <= vals["limit"]].reset_index(drop=True)
    q, capp, cfirm = idx.carriers(room["h"].to_numpy(np.uint64))
    hist = pd.DataFrame({"h": room["h"].to_numpy(np.uint64)[q], "application_id": capp, "firm_id": cfirm})
    newc = nf.loc[nf["h"].isin(room["h"]), ["h", "application_id", "firm_id"]]
    carriers = pd.concat([hist, newc], ignore_index=True).drop_duplicates(["h", "application_id"])
    firms = carriers.groupby("h")["firm_id"].nunique().rename("firms")
    room = room.join(firms, on="h")
    room = room[(room["firms"] >= 2) & (room["firms"] <= room["limit"])]
    pairs = newc.merge(carriers, on="h", suffixes=("", "_o"))
    pairs = pairs[(pairs["firm_id"] != pairs["firm_id_o"]) & pairs["h"].isin(room["h"])]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    pairs = pairs.merge(room[["h", "kind", "value", "firms", "total"]], on="h")
    out = pd.DataFrame({
        "app_a": np.minimum(pairs["application_id"], pairs["application_id_o"]),
        "app_b": np.maximum(pairs["application_id"], pairs["application_id_o"]),
        "kind": pairs["kind"], "grp": pairs["kind"].map(GROUPS), "value": pairs["value"],
        "firms": pairs["firms"].astype(np.int64),
        "weight": np.log2(p.m_prob * pairs["total"].to_numpy(float) / pairs["firms"].to_numpy(float))})
    return out.drop_duplicates(["app_a", "app_b", "kind", "value"]).reset_index(drop=True)


def links_for(con: duckdb.DuckDBPyConnection, run_id: str, app_ids: list[int]) -> pd.DataFrame:
    """The links a full re-run would make for ``app_ids`` (new applications), from the run's index:
    app_a, app_b, weight, groups, plan_similarity, time_gap_hours, strong, ids (shared values as
    {kind, value, firms, weight} dicts, heaviest first). Reads no stored plan text."""
    p, run = evidence.stored_run(con, run_id)
    idx = open_run_index(con, run_id)
    con.register("_new", pd.DataFrame({"application_id": pd.Series(sorted(set(app_ids)), dtype="int64")}))
    # the plans' look-ups (compiled, no GIL) read the index while the identifiers' SQL and look-ups
    # read the data file and the index's value files: a cold disk serves both at once
    with ThreadPoolExecutor(max_workers=1) as pool:
        planning = pool.submit(_plan_links, _new_plans(con), idx, p)
        ids = _identifier_links(con, idx, p, run)
        plans = planning.result()
    weak = ids["kind"].isin(p.weak_kinds)
    other = pd.concat([ids.loc[~weak, ["app_a", "app_b"]], plans[["app_a", "app_b"]]]).drop_duplicates()
    beside = ids[weak].merge(other, on=["app_a", "app_b"], how="left", indicator=True)["_merge"].eq("both").to_numpy()
    ids = pd.concat([ids[~weak], ids[weak][(ids.loc[weak, "firms"] <= p.weak_df_cap).to_numpy() | beside]])
    if ids.empty and plans.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    stats = run.get("stats", {})
    m = stats.get("weights", {}).get("m", {})
    single = ids[~ids["kind"].isin(p.weak_kinds)].assign(
        bits=lambda d: d["weight"] + np.log2(d["grp"].map(m).fillna(p.m_prob).astype(float) / p.m_prob))
    single_pairs = set(map(tuple, single.loc[single["bits"] >= p.single_bits, ["app_a", "app_b"]].to_numpy().tolist()))
    # per pair: the best weight of each group and the evidence list, heaviest first (plain loops:
    # a pandas apply per pair costs a millisecond each)
    ids = ids.sort_values(["app_a", "app_b", "weight", "kind", "value"], ascending=[True, True, False, True, True])
    agg: dict[tuple[int, int], tuple[dict[str, float], list[dict]]] = {}
    for a, b, kind, grp, value, firms, w in zip(ids["app_a"].tolist(), ids["app_b"].tolist(), ids["kind"].tolist(),
                                                ids["grp"].tolist(), ids["value"].tolist(), ids["firms"].tolist(),
                                                ids["weight"].tolist()):
        best, ev = agg.setdefault((a, b), ({}, []))
        best.setdefault(grp, w)
        ev.append({"kind": kind, "value": value, "firms": int(firms), "weight": round(float(w), 2)})
    plan_sim = dict(zip(zip(plans["app_a"].tolist(), plans["app_b"].tolist()), plans["plan_similarity"].tolist()))
    keys = sorted(set(agg) | set(plan_sim))
    none: tuple[dict[str, float], list[dict]] = ({}, [])
    out = pd.DataFrame({
        "app_a": pd.Series([k[0] for k in keys], dtype="int64"), "app_b": pd.Series([k[1] for k in keys], dtype="int64"),
        "id_weight": [float(sum(agg.get(k, none)[0].values())) for k in keys],
        "id_groups": [sorted(agg.get(k, none)[0]) for k in keys],
        "ids": [agg.get(k, none)[1] for k in keys],
        "plan_similarity": [plan_sim.get(k, np.nan) for k in keys]})
    sims = out["plan_similarity"].astype(float)
    has_plan = sims.notna().to_numpy()
    t = dict(con.execute("SELECT application_id, epoch(submitted_at) FROM applications WHERE application_id IN "
                         "(SELECT unnest(?))", [sorted(set(out["app_a"]) | set(out["app_b"]))]).fetchall())
    gap = np.abs(out["app_a"].map(t).to_numpy(float) - out["app_b"].map(t).to_numpy(float)) / 3600.0
    timed = gap <= p.burst_hours
    out["groups"] = [g + (["plan"] if hp else []) + (["timing"] if tm else [])
                     for g, hp, tm in zip(out["id_groups"], has_plan, timed)]
    out["weight"] = out["id_weight"] + np.where(has_plan, links.plan_weight(sims.fillna(0).to_numpy(), p), 0.0) + \
        np.where(timed, float(stats.get("timing_weight", 0.0)), 0.0)
    out["time_gap_hours"] = gap
    plan_strong = min((lv for lv, w in p.plan_levels if w >= p.single_bits), default=2.0)
    out["strong"] = ((out["groups"].apply(len) >= p.min_groups) & (out["weight"] >= p.min_weight)) | \
        pd.Series([(a, b) in single_pairs for a, b in zip(out["app_a"], out["app_b"])], index=out.index) | \
        (sims.fillna(0) >= plan_strong)
    return out[LINK_COLUMNS].sort_values(["app_a", "app_b"]).reset_index(drop=True)


def _trace_hits(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """New applications (``_new_fp`` of :func:`links_for`) carrying a trace of a run's cluster:
    application_id, cluster_id, groups ([its group]), values ([the value]), as the run's clusters
    count a trace."""
    idx = open_run_index(con, run_id)
    cols = ["application_id", "cluster_id", "groups", "values"]
    if not (idx.path / "trace_hash.npy").exists():
        return pd.DataFrame(columns=cols)
    th, tc = np.asarray(idx.load("trace_hash")), np.asarray(idx.load("trace_cluster"))
    nf = con.execute("SELECT application_id, kind, value, h FROM _new_fp").df()
    if nf.empty or not th.size:
        return pd.DataFrame(columns=cols)
    h = nf["h"].to_numpy(np.uint64)
    lo, hi = np.searchsorted(th, h, "left"), np.searchsorted(th, h, "right")
    n = hi - lo
    rows = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    hit = nf.iloc[np.repeat(np.arange(len(nf)), n)].reset_index(drop=True)
    hit["cluster_id"] = tc[rows]
    return pd.DataFrame({"application_id": hit["application_id"], "cluster_id": hit["cluster_id"],
                         "groups": [[GROUPS[k]] for k in hit["kind"]], "values": [[v] for v in hit["value"]]})


def screen(con: duckdb.DuckDBPyConnection, run_id: str, app_ids: list[int], *, min_groups: int = 2) -> pd.DataFrame:
    """One row per (new application, cluster of the run) its links reach: application_id, cluster_id,
    flagged, groups (evidence groups shared with the cluster's members, timing left out), values
    (shared identifiers), plan_similarity, hold. Applications already in the run are compared
    with everything else."""
    cols = ["application_id", "cluster_id", "flagged", "groups", "values", "plan_similarity", "hold"]
    lk = links_for(con, run_id, app_ids)
    new = set(int(a) for a in app_ids)
    ends = pd.concat([lk.assign(application_id=lk["app_a"], other=lk["app_b"]),
                      lk.assign(application_id=lk["app_b"], other=lk["app_a"])], ignore_index=True)
    ends = ends[ends["application_id"].isin(new)]
    run = attach_run(con, run_id)
    mem = con.execute(f"SELECT application_id AS other, cluster_id FROM {run}.broker_cluster_members WHERE run_id = ?",
                      [run_id]).df()
    ends = ends.merge(mem, on="other")
    ends["values"] = [[e["value"] for e in ids] for ids in ends["ids"]]
    ends = pd.concat([ends, _trace_hits(con, run_id)], ignore_index=True)
    if ends.empty:
        return pd.DataFrame(columns=cols)
    acc: dict[tuple[int, int], tuple[set, set, list]] = {}
    sims = ends["plan_similarity"] if "plan_similarity" in ends else pd.Series(np.nan, index=ends.index)
    for app, cid, groups, values, sim in zip(ends["application_id"].tolist(), ends["cluster_id"].tolist(),
                                             ends["groups"].tolist(), ends["values"].tolist(), sims.tolist()):
        g, v, s = acc.setdefault((int(app), int(cid)), (set(), set(), []))
        g.update(x for x in groups if x != "timing")
        v.update(values)
        if sim == sim and sim is not None:   # not NaN
            s.append(sim)
    out = pd.DataFrame({"application_id": [k[0] for k in acc], "cluster_id": [k[1] for k in acc],
                        "groups": [sorted(x[0]) for x in acc.values()], "values": [sorted(x[1]) for x in acc.values()],
                        "plan_similarity": [max(x[2]) if x[2] else np.nan for x in acc.values()]})
    flagged = dict(con.execute(f"SELECT cluster_id, flagged FROM {run}.broker_clusters WHERE run_id = ?", [run_id]).fetchall())
    out["flagged"] = out["cluster_id"].map(flagged).fillna(False).astype(bool)
    out["hold"] = out["flagged"] & (out["groups"].apply(len) >= min_groups)
    return out[cols].sort_values(["hold", "application_id"], ascending=[False, True]).reset_index(drop=True)

"""Screening at submission time: new applications against a stored detection run, without
recomputing the history.

A day's applications are compared only with the members of the run's clusters: their shared
identifiers (a value's rarity read from the data for those values alone) and their plans (MinHash
signatures of the flagged clusters' plans, computed once per call, a few thousand texts). An
application is **held** when it shares at least ``min_groups`` independent evidence groups with the
members of one flagged cluster: the broker's phone and its template, its account and its writer.
The held list is for a person to look at before selection; it never changes a stored run.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics.brokers import minhash
from analytics.brokers.links import GROUPS, LinkParams


def screen(con: duckdb.DuckDBPyConnection, run_id: str, app_ids: list[int], *, params: LinkParams = LinkParams(),
           min_groups: int = 2) -> pd.DataFrame:
    """One row per (new application, cluster) it touches: application_id, cluster_id, flagged,
    groups (shared evidence groups), values (shared identifiers), plan_similarity, hold.
    Applications already in the run are compared with the cluster's *other* members."""
    con.register("_new", pd.DataFrame({"application_id": pd.Series(app_ids, dtype="int64")}))
    con.register("_grp", pd.DataFrame({"kind": list(GROUPS), "grp": list(GROUPS.values())}))
    ids = con.execute("""
        WITH nf AS (
            SELECT f.application_id, a.firm_id, f.kind::VARCHAR AS kind, f.value
            FROM app_fingerprints f JOIN _new USING (application_id) JOIN applications a USING (application_id)
        ), mem AS (
            SELECT m.cluster_id, m.application_id, a.firm_id FROM broker_cluster_members m
            JOIN applications a USING (application_id) WHERE m.run_id = $run
        ), hit AS (
            SELECT nf.application_id, mem.cluster_id, nf.kind, nf.value, count(DISTINCT mem.firm_id) AS member_firms
            FROM nf JOIN app_fingerprints f ON f.kind::VARCHAR = nf.kind AND f.value = nf.value
            JOIN mem ON mem.application_id = f.application_id AND mem.application_id <> nf.application_id
                    AND mem.firm_id <> nf.firm_id
            GROUP BY ALL
        ), df AS (    -- rarity of the shared values only (no pass over every value)
            SELECT f.kind::VARCHAR AS kind, f.value, count(DISTINCT a.firm_id) AS firms
            FROM app_fingerprints f JOIN applications a USING (application_id)
            SEMI JOIN (SELECT DISTINCT kind, value FROM hit) h ON h.kind = f.kind::VARCHAR AND h.value = f.value
            GROUP BY ALL
        )
        SELECT hit.*, df.firms, g.grp FROM hit JOIN df USING (kind, value) JOIN _grp g USING (kind)
        -- a rare value, or one most of the cluster carries (the broker's writer on many members)
        WHERE (df.firms <= $cap AND NOT list_contains($weak, hit.kind)) OR hit.member_firms >= $trace
    """, {"run": run_id, "cap": params.df_cap, "weak": list(params.weak_kinds), "trace": params.trace_firms}).df()
    plans = _plan_hits(con, run_id, app_ids, params)
    rows = pd.concat([
        ids.groupby(["application_id", "cluster_id"]).agg(
            groups=("grp", lambda s: sorted(set(s))),
            values=("value", lambda s: sorted(set(s)))).reset_index(),
        plans.assign(groups=[["plan"]] * len(plans), values=[[]] * len(plans)),
    ], ignore_index=True)
    cols = ["application_id", "cluster_id", "flagged", "groups", "values", "plan_similarity", "hold"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    out = rows.groupby(["application_id", "cluster_id"]).agg(
        groups=("groups", lambda s: sorted({g for gs in s for g in gs})),
        values=("values", lambda s: sorted({v for vs in s for v in vs})),
        plan_similarity=("plan_similarity", "max")).reset_index()
    flagged = dict(con.execute("SELECT cluster_id, flagged FROM broker_clusters WHERE run_id = ?", [run_id]).fetchall())
    out["flagged"] = out["cluster_id"].map(flagged).fillna(False).astype(bool)
    out["hold"] = out["flagged"] & (out["groups"].apply(len) >= min_groups)
    return out[cols].sort_values(["hold", "application_id"], ascending=[False, True]).reset_index(drop=True)


def _plan_hits(con: duckdb.DuckDBPyConnection, run_id: str, app_ids: list[int], params: LinkParams) -> pd.DataFrame:
    """(application_id, cluster_id, plan_similarity) of new plans near a flagged cluster member's plan."""
    new = con.execute("""SELECT p.application_id, a.firm_id, p.plan_text FROM business_plans p JOIN _new USING (application_id)
                         JOIN applications a USING (application_id)""").df()
    old = con.execute("""
        SELECT m.cluster_id, p.application_id, a.firm_id, p.plan_text FROM broker_cluster_members m
        JOIN broker_clusters c USING (run_id, cluster_id) JOIN business_plans p USING (application_id)
        JOIN applications a USING (application_id) WHERE m.run_id = ? AND c.flagged
    """, [run_id]).df()
    if new.empty or old.empty:
        return pd.DataFrame(columns=["application_id", "cluster_id", "plan_similarity"])
    kw = {"bins": params.bins, "k": params.shingle_k, "seed": params.seed}
    sn, so = minhash.signatures(new["plan_text"].tolist(), **kw), minhash.signatures(old["plan_text"].tolist(), **kw)
    out = []
    for i in range(len(new)):   # a day's plans, one row of comparisons each
        sim = minhash.estimate_jaccard(so, np.broadcast_to(sn[i], so.shape))
        near = (sim >= params.plan_threshold) & (old["firm_id"].to_numpy() != new.at[i, "firm_id"]) & (
            old["application_id"].to_numpy() != new.at[i, "application_id"])
        if near.any():
            best = pd.DataFrame({"cluster_id": old["cluster_id"].to_numpy()[near], "sim": sim[near]}).groupby("cluster_id")["sim"].max()
            out += [(int(new.at[i, "application_id"]), int(c), float(s)) for c, s in best.items()]
    return pd.DataFrame(out, columns=["application_id", "cluster_id", "plan_similarity"])

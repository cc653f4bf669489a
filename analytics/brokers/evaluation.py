"""Quality of a detection run against the planted truth (synthetic data only).

Used by the tests and ``bench/brokers.py``; the detector itself never imports this module and
never reads ``truth_broker_rings``. Definitions:

* a ring is **found** when at least ``found_share`` (80%) of its member applications fall in one
  flagged cluster; recall = found rings / rings;
* a flagged cluster is **correct** when at least half of its applications are members of planted
  (non-decoy) rings; precision = correct / flagged clusters;
* a decoy group counts as **flagged** when one flagged cluster holds at least
  ``decoy_members`` of its applications (a flag built on the decoy, not a stray member);
* triage: precision of the top ``top`` flagged-or-not clusters ordered by risk, against the same
  clusters ordered by size (the naive order).
"""
from __future__ import annotations

import duckdb
import pandas as pd


def truth(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """application_id, ring_id, ring_kind, decoy."""
    return con.execute("SELECT application_id, ring_id, ring_kind::VARCHAR AS ring_kind, decoy FROM truth_broker_rings").df()


def evaluate(members: pd.DataFrame, clusters: pd.DataFrame, truth_rows: pd.DataFrame, *, found_share: float = 0.8,
             decoy_members: int = 3, top: int = 50) -> dict:
    """Quality figures of one run (see the module docstring)."""
    m = members[["application_id", "cluster_id"]].merge(clusters[["cluster_id", "flagged", "risk", "size"]], on="cluster_id")
    t = truth_rows.merge(m, on="application_id", how="left")
    flagged_t = t[t["flagged"].fillna(False).astype(bool)]
    rings = truth_rows[~truth_rows["decoy"]]
    ring_sizes = rings.groupby("ring_id").size()
    best = flagged_t[~flagged_t["decoy"]].groupby(["ring_id", "cluster_id"]).size().groupby("ring_id").max()
    share = (best.reindex(ring_sizes.index).fillna(0) / ring_sizes)
    found = share >= found_share
    any_best = t[~t["decoy"] & t["cluster_id"].notna()].groupby(["ring_id", "cluster_id"]).size().groupby("ring_id").max()
    clustered = (any_best.reindex(ring_sizes.index).fillna(0) / ring_sizes) >= found_share
    ring_members = set(rings["application_id"])
    m["ring_member"] = m["application_id"].isin(ring_members)
    per_cluster = m.groupby("cluster_id").agg(share=("ring_member", "mean"), flagged=("flagged", "first"),
                                              risk=("risk", "first"), size=("size", "first"))
    per_cluster["correct"] = per_cluster["share"] >= 0.5
    fl = per_cluster[per_cluster["flagged"]]
    decoys = truth_rows[truth_rows["decoy"]]
    decoy_hits = flagged_t[flagged_t["decoy"]].groupby(["ring_id", "cluster_id"]).size()
    decoy_flagged = set(decoy_hits[decoy_hits >= decoy_members].index.get_level_values(0))
    n_decoys = decoys["ring_id"].nunique()
    kinds = rings.drop_duplicates("ring_id").set_index("ring_id")["ring_kind"]
    by_risk = per_cluster.sort_values(["risk", "size"], ascending=False).head(top)
    by_size = per_cluster.sort_values(["size", "risk"], ascending=False).head(top)
    return {
        "rings": int(len(ring_sizes)), "rings_found": int(found.sum()),
        "recall": float(found.mean()) if len(found) else 1.0,
        "recall_if_all_flagged": float(clustered.mean()) if len(clustered) else 1.0,
        "recall_by_kind": {k: round(float(found[kinds == k].mean()), 3) for k in sorted(kinds.unique())},
        "flagged_clusters": int(len(fl)), "correct_flagged": int(fl["correct"].sum()),
        "precision": float(fl["correct"].mean()) if len(fl) else 1.0,
        "decoy_groups": int(n_decoys), "decoys_flagged": len(decoy_flagged),
        "decoy_flag_rate": len(decoy_flagged) / n_decoys if n_decoys else 0.0,
        "decoys_flagged_by_kind": decoys[decoys["ring_id"].isin(decoy_flagged)].drop_duplicates("ring_id")["ring_kind"].value_counts().to_dict(),
        f"top{top}_precision_by_risk": float(by_risk["correct"].mean()) if len(by_risk) else 0.0,
        f"top{top}_precision_by_size": float(by_size["correct"].mean()) if len(by_size) else 0.0,
        "missed_rings": {int(r): (kinds[r], round(float(share[r]), 2)) for r in found.index[~found]},
    }

"""A deliberately simple broker detector, the bar the real one must clear on every data set.

Shared rare identifiers (a value used by 2..``df_cap`` firms) and near-duplicate plans link
applications of different firms; connected components of those links are clusters; a cluster is
flagged when it holds at least ``min_firms`` firms and its links show at least ``min_groups``
independent groups of evidence (:data:`analytics.brokers.links.GROUPS`). No weights, no risk score.
Run beside :func:`analytics.brokers.detect.detect` in the benchmark and the quality tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analytics.brokers import links
from analytics.brokers.links import LinkParams


@dataclass(frozen=True)
class BaselineParams:
    df_cap: int = 50      # a value of more firms is not rare
    min_groups: int = 2   # independent kinds of evidence a flagged cluster shows
    min_firms: int = 4    # two or three firms are related firms, not a ring


def detect(con: duckdb.DuckDBPyConnection, params: BaselineParams = BaselineParams(),
           link_params: LinkParams = LinkParams()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(members: application_id, cluster_id; clusters: cluster_id, size, n_firms, groups, flagged, risk)."""
    plans, _ = links.plan_pairs(con, [], link_params)
    con.register("_bl_groups", pd.DataFrame({"kind": list(links.GROUPS), "grp": list(links.GROUPS.values())}))
    con.register("_bl_plans", plans[["app_a", "app_b"]])
    pairs = con.execute("""
        WITH fp AS (
            SELECT DISTINCT f.application_id, a.firm_id, f.kind::VARCHAR AS kind, f.value
            FROM app_fingerprints f JOIN applications a USING (application_id) JOIN firms fi USING (firm_id)
            WHERE NOT (f.kind = 'doc_author' AND f.value = coalesce(fi.ceo_name, ''))
        ), rare AS (
            SELECT kind, value FROM fp GROUP BY ALL HAVING count(DISTINCT firm_id) BETWEEN 2 AND $cap
        )
        SELECT DISTINCT x.application_id AS app_a, y.application_id AS app_b, g.grp
        FROM fp x JOIN rare USING (kind, value) JOIN fp y USING (kind, value) JOIN _bl_groups g USING (kind)
        WHERE x.application_id < y.application_id AND x.firm_id <> y.firm_id
        UNION SELECT app_a, app_b, 'plan' FROM _bl_plans
    """, {"cap": params.df_cap}).df()
    if pairs.empty:
        empty = pd.DataFrame(columns=["cluster_id", "size", "n_firms", "groups", "flagged", "risk"])
        return pd.DataFrame(columns=["application_id", "cluster_id"]), empty
    apps = np.unique(np.concatenate([pairs["app_a"].to_numpy(), pairs["app_b"].to_numpy()]))
    a, b = np.searchsorted(apps, pairs["app_a"].to_numpy()), np.searchsorted(apps, pairs["app_b"].to_numpy())
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(len(apps), len(apps))), directed=False)
    members = pd.DataFrame({"application_id": apps, "cluster_id": label})
    firm = con.execute("SELECT application_id, firm_id FROM applications").df().set_index("application_id")["firm_id"]
    members["firm_id"] = members["application_id"].map(firm)
    groups = pairs.assign(cluster_id=label[a]).groupby("cluster_id")["grp"].agg(lambda s: sorted(set(s)))
    cl = members.groupby("cluster_id").agg(size=("application_id", "size"), n_firms=("firm_id", "nunique"))
    cl["groups"] = groups.reindex(cl.index)
    cl["flagged"] = (cl["n_firms"] >= params.min_firms) & (cl["groups"].apply(len) >= params.min_groups)
    cl["risk"] = cl["groups"].apply(len) / len(set(links.GROUPS.values()))
    cl = cl[cl["n_firms"] >= 2].reset_index()
    return members[members["cluster_id"].isin(cl["cluster_id"])][["application_id", "cluster_id"]], cl

"""The network of a broker cluster as an investigator reads it: applications and what they share
(a phone, e-mail, IP, device, bank account, address, document author, or a group of near-copy
business plans) as two kinds of nodes.

A shared phone is one node that every application using it points at, as in link-analysis tools
(Linkurious, Splink's cluster studio): ten applications on one phone read as a star, not as 45
application-to-application lines. The identifiers drawn are the ones the detection run stored as
evidence of its links, so the picture shows what the detector counted.

Identifier values are masked for every role but the auditor (``data.privacy``), and node ids never
carry a value, so nothing unmasked reaches the browser of a role that may not see it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import networkx as nx
import pandas as pd

from analytics.brokers.links import GROUPS
from data import access, privacy
from data.db import attach_run

# Evidence an edge can carry, in the order an investigator weighs it: the identifier kinds, then plans.
KINDS: tuple[str, ...] = ("phone", "email", "bank_account", "ip", "device", "address", "doc_author", "plan")
APPLICATION, IDENTIFIER = "application", "identifier"


@dataclass(frozen=True)
class Graph:
    """A cluster's network as two tables, and the stored links between its applications.

    ``nodes``: node_id ("a<application_id>" or "i<n>"), node_type (application / identifier), hop
    (stored links from the focus; None beyond the hops asked for, or without a focus), x, y (a
    seeded layout); applications: application_id, firm_id, firm_name, biz_no, status, program,
    submitted_at, amount_awarded_krw, region, in_cluster; identifiers: kind, value (masked per
    role; none for a plan group), firms (firms using the value in all the data; applications in a
    plan group), weight (its rarity weight; a plan group's heaviest plan link).
    ``edges``: source (an application), target (an identifier), kind, group, weight, similarity
    (plans: the application's highest similarity within its group).
    ``links``: the stored links (app_a, app_b, weight, strong, evidence with values masked per role,
    evidence_groups, plan_similarity, time_gap_hours).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    links: pd.DataFrame

    def kinds(self) -> list[str]:
        """The evidence kinds present on the edges, in :data:`KINDS` order."""
        present = set(self.edges["kind"])
        return [k for k in KINDS if k in present]

    def only(self, kinds: list[str] | tuple[str, ...]) -> Graph:
        """The graph with edges of ``kinds`` only; identifiers left without an edge are dropped,
        applications always stay (a member that no longer connects is itself a finding)."""
        edges = self.edges[self.edges["kind"].isin(list(kinds))].reset_index(drop=True)
        used = set(edges["source"]) | set(edges["target"])
        keep = (self.nodes["node_type"] == APPLICATION) | self.nodes["node_id"].isin(used)
        return Graph(nodes=self.nodes[keep].reset_index(drop=True), edges=edges, links=self.links)

    def applications(self) -> pd.DataFrame:
        return self.nodes[self.nodes["node_type"] == APPLICATION].reset_index(drop=True)

    def identifiers(self) -> pd.DataFrame:
        return self.nodes[self.nodes["node_type"] == IDENTIFIER].reset_index(drop=True)

    def neighbours(self, node_id: str) -> pd.DataFrame:
        """The nodes one edge away from ``node_id``, with the edge's kind and weight (heaviest first)."""
        e = self.edges
        mine = e[(e["source"] == node_id) | (e["target"] == node_id)]
        other = mine["target"].where(mine["source"] == node_id, mine["source"])
        found = pd.DataFrame({"node_id": other.to_numpy(), "edge_kind": mine["kind"].to_numpy(),
                              "edge_weight": mine["weight"].to_numpy()})
        return (found.merge(self.nodes, on="node_id", how="left")
                .sort_values(["edge_weight", "node_id"], ascending=[False, True], ignore_index=True))

    def strongest_partner(self, app: int) -> int | None:
        """The application ``app`` has its heaviest stored link with (None when it has none): the
        pair an auditor asks "why linked" about first."""
        e = self.links[(self.links["app_a"] == app) | (self.links["app_b"] == app)]
        if e.empty:
            return None
        top = e.sort_values(["weight", "app_a", "app_b"], ascending=[False, True, True]).iloc[0]
        return int(top["app_b"] if top["app_a"] == app else top["app_a"])


def neighbourhood(con: duckdb.DuckDBPyConnection, run_id: str, seeds: set[int], hops: int) -> dict[int, int]:
    """Applications within ``hops`` stored links of the seeds, each with its distance (seeds: 0)."""
    dist = dict.fromkeys(seeds, 0)
    frontier = set(seeds)
    run = attach_run(con, run_id)
    for step in range(1, hops + 1):
        if not frontier:
            break
        rows = con.execute(f"""
            SELECT app_b FROM {run}.broker_links WHERE run_id = ? AND app_a IN (SELECT unnest(?::BIGINT[]))
            UNION SELECT app_a FROM {run}.broker_links WHERE run_id = ? AND app_b IN (SELECT unnest(?::BIGINT[]))
        """, [run_id, sorted(frontier), run_id, sorted(frontier)]).fetchall()
        frontier = {r[0] for r in rows} - set(dist)
        dist.update(dict.fromkeys(frontier, step))
    return dist


def cluster_graph(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str,
                  focus: int | None = None, hops: int = 0, seed: int = 0) -> Graph:
    """The cluster's applications, the identifiers they share and their plan links; with ``focus``
    and ``hops``, also the applications within ``hops`` stored links of the focus (from outside the
    cluster too), each node marked with its distance from the focus."""
    access.require(role, "brokers")
    run = attach_run(con, run_id)
    apps = {r[0] for r in con.execute(f"SELECT application_id FROM {run}.broker_cluster_members WHERE run_id = ? AND cluster_id = ?",
                                      [run_id, cluster_id]).fetchall()}
    dist = neighbourhood(con, run_id, {focus}, hops) if focus is not None else {}
    ids = sorted(apps | set(dist))
    nodes = _application_nodes(con, run_id, cluster_id, ids)
    links = con.execute(f"""
        SELECT app_a, app_b, weight, strong, evidence_groups, evidence, plan_similarity, time_gap_hours
        FROM {run}.broker_links WHERE run_id = ? AND app_a IN (SELECT unnest(?::BIGINT[])) AND app_b IN (SELECT unnest(?::BIGINT[]))
        ORDER BY app_a, app_b
    """, [run_id, ids, ids]).df()
    links["evidence"] = [json.loads(e) for e in links["evidence"]]
    identifiers, edges = _identifiers(links, role)
    links["evidence"] = [_visible(e, role) for e in links["evidence"]]
    nodes = pd.concat([nodes, identifiers], ignore_index=True).astype(
        {"application_id": "Int64", "firm_id": "Int64", "firms": "Int64", "in_cluster": "boolean"})  # typed beside identifier rows
    nodes["hop"] = _hops(nodes, edges, dist)
    nodes = _layout(nodes, edges, seed)
    if not privacy.sees_personal(role):
        nodes = privacy.mask_frame(nodes, {"biz_no": "biz_no"})
    return Graph(nodes=nodes, edges=edges, links=links)


def _application_nodes(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, ids: list[int]) -> pd.DataFrame:
    nodes = con.execute(f"""
        SELECT 'a' || a.application_id AS node_id, 'application' AS node_type, a.application_id, a.firm_id,
               f.name AS firm_name, f.biz_no, a.status::VARCHAR AS status, p.title AS program, a.submitted_at,
               a.amount_awarded_krw, r.short_ko AS region, coalesce(m.cluster_id = ?, false) AS in_cluster
        FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        JOIN regions r ON r.region_code = f.region_code
        LEFT JOIN {attach_run(con, run_id)}.broker_cluster_members m ON m.application_id = a.application_id AND m.run_id = ?
        WHERE a.application_id IN (SELECT unnest(?::BIGINT[])) ORDER BY a.application_id
    """, [cluster_id, run_id, ids]).df()
    nodes["in_cluster"] = nodes["in_cluster"].astype(bool)
    return nodes


def _identifiers(links: pd.DataFrame, role: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Identifier nodes and their edges (application -> identifier). A shared value is one node;
    applications whose plans are near copies of each other (a connected group of plan links) share
    one "similar plans" node, so a template used by 17 applicants is one star, not 136 lines."""
    holders: dict[tuple[str, str], set[int]] = {}
    facts: dict[tuple[str, str], tuple[int, float]] = {}
    plans = nx.Graph()
    for r in links.itertuples():
        for e in r.evidence:
            if e["kind"] == "plan":
                plans.add_edge(int(r.app_a), int(r.app_b), weight=float(e.get("weight") or 0.0),
                               similarity=float(e.get("similarity") or 0.0))
            elif e.get("value"):
                key = (e["kind"], e["value"])
                holders.setdefault(key, set()).update((int(r.app_a), int(r.app_b)))
                facts[key] = (int(e.get("firms") or 0), float(e.get("weight") or 0.0))
    for group in nx.connected_components(plans):
        key = ("plan", str(min(group)))
        holders[key] = set(group)
        facts[key] = (len(group), max(w for _, _, w in plans.subgraph(group).edges(data="weight")))
    # Ids in a fixed order that does not depend on the value (the id reaches the browser, the value
    # may not): by kind, then by the first application holding it.
    order = sorted(holders, key=lambda k: (KINDS.index(k[0]) if k[0] in KINDS else len(KINDS), min(holders[k]), k[1]))
    node_rows, edge_rows = [], []
    for n, key in enumerate(order):
        kind, value = key
        firms, weight = facts[key]
        if kind == "plan":
            shown, similarity = None, {a: max(d for _, _, d in plans.edges(a, data="similarity")) for a in holders[key]}
        else:
            shown, similarity = value if privacy.sees_personal(role) else privacy.mask(kind, value), {}
        node_rows.append({"node_id": f"i{n}", "node_type": IDENTIFIER, "kind": kind, "value": shown,
                          "firms": firms, "weight": weight})
        edge_rows += [{"source": f"a{app}", "target": f"i{n}", "kind": kind, "group": GROUPS.get(kind, kind),
                       "weight": weight, "similarity": similarity.get(app)} for app in sorted(holders[key])]
    edges = pd.DataFrame(edge_rows, columns=["source", "target", "kind", "group", "weight", "similarity"])
    nodes = pd.DataFrame(node_rows, columns=["node_id", "node_type", "kind", "value", "firms", "weight"])
    return nodes, edges


def _hops(nodes: pd.DataFrame, edges: pd.DataFrame, dist: dict[int, int]) -> pd.Series:
    """Each application's distance from the focus in stored links (None beyond it or without a
    focus); an identifier takes the nearest of its applications."""
    app_hop = {f"a{a}": d for a, d in dist.items()}
    near = (edges.assign(h=edges["source"].map(app_hop)).dropna(subset=["h"]).groupby("target")["h"].min().to_dict()
            if len(edges) else {})
    return pd.Series([app_hop.get(n, near.get(n)) for n in nodes["node_id"]], dtype="Int64")


def _layout(nodes: pd.DataFrame, edges: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A seeded force layout (networkx), the starting point the browser refines; the static report
    draws it as it is."""
    g = nx.Graph()
    g.add_nodes_from(nodes["node_id"])
    g.add_edges_from(zip(edges["source"], edges["target"]))
    pos = nx.spring_layout(g, seed=seed, k=1.5 / max(len(g), 1) ** 0.5) if len(g) else {}
    return nodes.assign(x=[float(pos[n][0]) for n in nodes["node_id"]], y=[float(pos[n][1]) for n in nodes["node_id"]])


def _visible(evidence: list[dict], role: str) -> list[dict]:
    """Evidence items with values masked for roles that may not see personal data."""
    if privacy.sees_personal(role):
        return evidence
    return [e | {"value": privacy.mask(e["kind"], e["value"])} if e.get("value") else e for e in evidence]

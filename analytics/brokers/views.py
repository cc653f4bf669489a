"""What the auditor page reads from a detection run: the ranked cluster list, search, and the
network graph of a cluster (with a node's neighbours expanded by hops), as data and as figures.

Every function returns application-level rows, so each checks the role first. Fingerprint values
are shown in full to auditors only (``data.privacy.sees_personal``); other allowed roles get them
masked. The page logs the views.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb
import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from data import access, privacy

STATUS_COLOURS = {"selected": "#d62728", "rejected": "#7f7f7f", "submitted": "#1f77b4", "withdrawn": "#bcbd22"}
GROUP_COLOURS = {"contact": "#e377c2", "network": "#ff7f0e", "document": "#2ca02c", "plan": "#9467bd",
                 "money": "#8c564b", "place": "#17becf", "timing": "#bbbbbb"}
# What an auditor reads for an evidence group, an identifier kind, an application status or why a
# shared value did not count (Korean, English).
TERMS: dict[str, tuple[str, str]] = {
    "phone": ("전화번호", "phone"), "email": ("이메일", "e-mail"), "ip": ("IP", "IP"), "device": ("기기", "device"),
    "bank_account": ("계좌번호", "bank account"), "address": ("주소", "address"), "doc_author": ("문서 작성자", "document author"),
    "over_cap": ("너무 흔한 값 (상한 초과)", "too common (over the cap)"), "same_firm": ("같은 기업", "same firm"),
    "suppressed": ("예외 목록", "suppressed"), "namesake": ("흔한 이름: 다른 근거나 집중 제출이 없어 제외", "a common name, without other evidence or a burst"),
    "in_burst": ("흔한 이름이지만 몇 시간 안에 몰려 제출됨", "a common name, but in a burst of submissions"), "same_group": ("같은 증거 종류에 더 강한 값", "a stronger value of the same group"),
    "contact": ("연락처", "contact"), "network": ("IP·기기", "IP/device"), "document": ("문서 작성자", "document author"),
    "plan": ("사업계획서", "plan"), "money": ("계좌", "bank account"), "place": ("주소", "address"),
    "timing": ("제출 시점", "timing"), "selected": ("선정", "selected"), "rejected": ("탈락", "rejected"),
    "submitted": ("접수", "submitted"), "withdrawn": ("철회", "withdrawn"),
}


def term(name: str, lang: str = "ko") -> str:
    """``name`` (see :data:`TERMS`) in ``lang``; unknown names show as they are."""
    pair = TERMS.get(name)
    return name if pair is None else pair[0 if lang == "ko" else 1]


def terms(names: str, lang: str = "ko") -> str:
    """A ', '-joined list of names (as :func:`cluster_list` gives them) in ``lang``."""
    return ", ".join(term(n, lang) for n in names.split(", ")) if names else names


def latest_run(con: duckdb.DuckDBPyConnection, *, role: str) -> dict | None:
    """The newest detection run (run_id, created_at, params) or None when none exists yet."""
    access.require(role, "brokers")
    rows = con.execute("SELECT run_id, created_at, params FROM broker_runs ORDER BY created_at DESC, run_id DESC LIMIT 1").fetchall()
    if not rows:
        return None
    row = rows[0]
    return {"run_id": row[0], "created_at": row[1], "params": json.loads(row[2])}


def cluster_list(con: duckdb.DuckDBPyConnection, run_id: str, *, role: str, flagged_only: bool = False) -> pd.DataFrame:
    """Clusters of a run ranked by risk: size, firms, evidence kinds, risk, flag, amount, programs, regions."""
    access.require(role, "brokers")
    return con.execute("""
        WITH m AS (
            SELECT c.cluster_id, any_value(p.title) AS program, count(*) AS n, f.region_code
            FROM broker_cluster_members c JOIN applications a USING (application_id)
            JOIN programs p USING (program_id) JOIN firms f USING (firm_id)
            WHERE c.run_id = ? GROUP BY c.cluster_id, a.program_id, f.region_code
        ), progs AS (
            SELECT cluster_id, string_agg(DISTINCT program, ' · ') AS programs FROM (
                SELECT cluster_id, program, row_number() OVER (PARTITION BY cluster_id ORDER BY sum(n) DESC, program) AS r
                FROM m GROUP BY cluster_id, program) WHERE r <= 3 GROUP BY ALL
        ), regs AS (
            SELECT m.cluster_id, string_agg(DISTINCT r.short_ko, ' · ' ORDER BY r.short_ko) AS regions
            FROM m JOIN regions r USING (region_code) GROUP BY ALL
        )
        SELECT c.cluster_id, c.risk, c.flagged, c.size, c.n_firms, array_to_string(c.evidence_groups, ', ') AS evidence,
               c.awarded_krw, c.n_programs, progs.programs, c.n_regions, regs.regions, c.first_at, c.last_at
        FROM broker_clusters c LEFT JOIN progs USING (cluster_id) LEFT JOIN regs USING (cluster_id)
        WHERE c.run_id = ? AND (NOT ? OR c.flagged)
        ORDER BY c.risk DESC, c.size DESC, c.cluster_id
    """, [run_id, run_id, flagged_only]).df()


def reasons(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str) -> dict:
    """The stored parts of a cluster's risk score (see analytics.clusters.risk)."""
    access.require(role, "brokers")
    rows = con.execute("SELECT reasons, risk, flagged FROM broker_clusters WHERE run_id = ? AND cluster_id = ?",
                       [run_id, cluster_id]).fetchall()
    return {} if not rows else json.loads(rows[0][0]) | {"risk": rows[0][1], "flagged": rows[0][2]}


def find(con: duckdb.DuckDBPyConnection, run_id: str, text: str, *, role: str) -> pd.DataFrame:
    """Applications matching an application id or a 사업자등록번호 (dashes allowed), with their cluster."""
    access.require(role, "brokers")
    digits = re.sub(r"\D", "", text or "")
    if not digits:
        return pd.DataFrame(columns=["application_id", "biz_no", "firm_name", "cluster_id"])
    return con.execute("""
        SELECT a.application_id, f.biz_no, f.name AS firm_name, m.cluster_id
        FROM applications a JOIN firms f USING (firm_id)
        LEFT JOIN broker_cluster_members m ON m.application_id = a.application_id AND m.run_id = ?
        WHERE a.application_id = TRY_CAST(? AS BIGINT) OR f.biz_no = ?
        ORDER BY m.cluster_id NULLS LAST, a.application_id LIMIT 50
    """, [run_id, digits, digits]).df()


@dataclass(frozen=True)
class Graph:
    """Nodes (applications, with layout x/y) and edges (stored links) of a cluster view."""

    nodes: pd.DataFrame
    edges: pd.DataFrame

    def strongest_partner(self, app: int) -> int | None:
        """The application ``app`` has its heaviest link with (None when it has none): the pair an
        auditor asks "why linked" about first."""
        e = self.edges[(self.edges["app_a"] == app) | (self.edges["app_b"] == app)]
        if e.empty:
            return None
        top = e.sort_values(["weight", "app_a", "app_b"], ascending=[False, True, True]).iloc[0]
        return int(top["app_b"] if top["app_a"] == app else top["app_a"])


def _neighbourhood(con: duckdb.DuckDBPyConnection, run_id: str, seeds: set[int], hops: int) -> set[int]:
    """Applications within ``hops`` stored links of the seeds."""
    seen, frontier = set(seeds), set(seeds)
    for _ in range(hops):
        if not frontier:
            break
        rows = con.execute("""
            SELECT app_b FROM broker_links WHERE run_id = ? AND app_a IN (SELECT unnest(?::BIGINT[]))
            UNION SELECT app_a FROM broker_links WHERE run_id = ? AND app_b IN (SELECT unnest(?::BIGINT[]))
        """, [run_id, sorted(frontier), run_id, sorted(frontier)]).fetchall()
        frontier = {r[0] for r in rows} - seen
        seen |= frontier
    return seen


def cluster_graph(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str,
                  focus: int | None = None, hops: int = 0, seed: int = 0) -> Graph:
    """The cluster's applications and links; with ``focus`` and ``hops``, also that node's neighbours."""
    access.require(role, "brokers")
    apps = {r[0] for r in con.execute("SELECT application_id FROM broker_cluster_members WHERE run_id = ? AND cluster_id = ?",
                                      [run_id, cluster_id]).fetchall()}
    if focus is not None and hops > 0:
        apps |= _neighbourhood(con, run_id, {focus}, hops)
    ids = sorted(apps)
    nodes = con.execute("""
        SELECT a.application_id, a.firm_id, f.name AS firm_name, f.biz_no, a.status::VARCHAR AS status,
               p.title AS program, a.submitted_at, a.amount_awarded_krw, r.short_ko AS region,
               m.cluster_id = ? AS in_cluster
        FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        JOIN regions r ON r.region_code = f.region_code
        LEFT JOIN broker_cluster_members m ON m.application_id = a.application_id AND m.run_id = ?
        WHERE a.application_id IN (SELECT unnest(?::BIGINT[])) ORDER BY a.application_id
    """, [cluster_id, run_id, ids]).df()
    nodes["in_cluster"] = nodes["in_cluster"].fillna(False).astype(bool)
    edges = con.execute("""
        SELECT app_a, app_b, weight, strong, evidence_groups, evidence, plan_similarity, time_gap_hours
        FROM broker_links WHERE run_id = ? AND app_a IN (SELECT unnest(?::BIGINT[])) AND app_b IN (SELECT unnest(?::BIGINT[]))
    """, [run_id, ids, ids]).df()
    edges["evidence"] = [_visible(json.loads(e), role) for e in edges["evidence"]]
    edges["group"] = [_main_group(list(g)) for g in edges["evidence_groups"]]
    g = nx.Graph()
    g.add_nodes_from(ids)
    g.add_weighted_edges_from(zip(edges["app_a"], edges["app_b"], edges["weight"]))
    pos = nx.spring_layout(g, seed=seed, weight="weight") if ids else {}
    nodes["x"] = nodes["application_id"].map(lambda a: float(pos[a][0]))
    nodes["y"] = nodes["application_id"].map(lambda a: float(pos[a][1]))
    if not privacy.sees_personal(role):
        nodes = privacy.mask_frame(nodes, {"biz_no": "biz_no"})
    return Graph(nodes=nodes, edges=edges)


def _main_group(groups: list[str]) -> str:
    """The group an edge is drawn in: the first non-timing one, in a fixed order of strength."""
    for g in ("plan", "contact", "network", "document", "money", "place", "timing"):
        if g in groups:
            return g
    return "timing"


def _visible(evidence: list[dict], role: str) -> list[dict]:
    """Evidence items with values masked for roles that may not see personal data."""
    if privacy.sees_personal(role):
        return evidence
    return [e | {"value": privacy.mask(e["kind"], e["value"])} if e.get("value") else e for e in evidence]


def evidence_text(evidence: list[dict], lang: str = "ko") -> str:
    """One line per evidence item, for hovers and tables."""
    firms = "개 기업" if lang == "ko" else " firms"
    parts = []
    for e in evidence:
        if e["kind"] == "plan":
            parts.append(f"{term('plan', lang)} ~{e.get('similarity', 0):.2f}")
        else:
            parts.append(f"{term(e['kind'], lang)}: {e['value']} ({e['firms']}{firms}, {e['weight']:+.1f})")
    return "<br>".join(parts)


def plot_network(graph: Graph, *, lang: str = "ko", highlight: int | None = None) -> go.Figure:
    """Plotly network: nodes coloured by status, edges by evidence group, hover shows the evidence."""
    n, e = graph.nodes, graph.edges
    pos = dict(zip(n["application_id"], zip(n["x"], n["y"])))
    fig = go.Figure()
    for group, part in e.groupby("group", sort=True):
        xs, ys, hx, hy, ht = [], [], [], [], []
        for _, r in part.iterrows():
            (x0, y0), (x1, y1) = pos[r["app_a"]], pos[r["app_b"]]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
            hx.append((x0 + x1) / 2)
            hy.append((y0 + y1) / 2)
            gap = "" if pd.isna(r["time_gap_hours"]) else f"<br>Δt {r['time_gap_hours']:.1f} h"
            strong = (" (강한 연결)" if lang == "ko" else " (strong)") if r["strong"] else ""
            ht.append(f"{r['app_a']} — {r['app_b']}<br>{'가중치' if lang == 'ko' else 'weight'} {r['weight']:.1f}"
                      f"{strong}{gap}<br>{evidence_text(r['evidence'], lang)}")
        colour = GROUP_COLOURS.get(group, "#999")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1.5},
                                 name=term(group, lang), hoverinfo="skip", legendgroup=group))
        fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", marker={"size": 6, "color": colour, "opacity": 0.4},
                                 hovertext=ht, hoverinfo="text", showlegend=False, legendgroup=group))
    for status, part in n.groupby("status", sort=True):
        hover = [f"{r.application_id} · {r.firm_name} ({r.biz_no})<br>{r.program}<br>{r.region} · {term(r.status, lang)} · "
                 f"{r.submitted_at:%Y-%m-%d %H:%M}" for r in part.itertuples()]
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=term(status, lang), hovertext=hover, hoverinfo="text",
            customdata=part["application_id"],
            marker={"size": [16 if a == highlight else 11 for a in part["application_id"]],
                    "color": STATUS_COLOURS.get(status, "#333"),
                    "symbol": ["circle" if c else "circle-open" for c in part["in_cluster"]],
                    "line": {"width": 1, "color": "#222"}}))
    # top margin: plotly's toolbar sits over the plot's top right corner, where the legend starts
    fig.update_layout(showlegend=True, height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"visible": False}, yaxis={"visible": False}, hovermode="closest",
                      legend={"title": {"text": "상태 · 증거" if lang == "ko" else "status · evidence"}})
    return fig

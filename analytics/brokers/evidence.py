"""Why two applicants are linked, the cluster's timeline, and the evidence pack (CSV + HTML).

``why_linked`` recomputes the evidence of any two applications from the raw fingerprints and plans
with the parameters of the run (so it also answers for pairs that were never linked): every shared
identifier with the number of firms that use it and the weight it got, suppressed or over the cap
shown as such, plus the plan similarity and the time gap, drawn as a Splink-style waterfall.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.brokers import graph as network
from analytics.brokers import graph_draw as network_draw
from analytics.brokers import links, minhash
from analytics.brokers import views as broker_views
from analytics.brokers.links import GROUPS, LinkParams
from data import access, export, privacy


@dataclass(frozen=True)
class WhyLinked:
    """The evidence between two applications (rows: kind, group, value, firms, weight, counted, note)."""

    app_a: int
    app_b: int
    evidence: pd.DataFrame
    plan_a: str
    plan_b: str
    plan_similarity: float
    time_gap_hours: float | None
    total_weight: float
    strong: bool


def _params(con: duckdb.DuckDBPyConnection, run_id: str) -> LinkParams:
    rows = con.execute("SELECT params FROM broker_runs WHERE run_id = ?", [run_id]).fetchall()
    stored = json.loads(rows[0][0])["links"] if rows else {}
    fields = LinkParams.__dataclass_fields__
    values: dict[str, Any] = {k: (tuple(tuple(x) for x in v) if k == "plan_levels" else v)
                              for k, v in stored.items() if k in fields}
    return LinkParams(**values)


def why_linked(con: duckdb.DuckDBPyConnection, run_id: str, app_a: int, app_b: int, *, role: str) -> WhyLinked:
    """Every shared identifier of two applications with its rarity and weight, plans and time gap."""
    access.require(role, "brokers")
    p = _params(con, run_id)
    run = json.loads(con.execute("SELECT params FROM broker_runs WHERE run_id = ?", [run_id]).fetchall()[0][0])
    stats, suppressed = run.get("stats", {}), {tuple(x) for x in run.get("suppressed_identifiers", [])}
    shared = con.execute("""
        WITH s AS (
            SELECT kind::VARCHAR AS kind, value FROM app_fingerprints WHERE application_id = ?
            INTERSECT SELECT kind::VARCHAR, value FROM app_fingerprints WHERE application_id = ?
        )
        SELECT s.kind, s.value, count(DISTINCT a.firm_id) AS firms
        FROM s JOIN app_fingerprints f ON f.kind::VARCHAR = s.kind AND f.value = s.value
        JOIN applications a USING (application_id)
        GROUP BY ALL ORDER BY firms
    """, [app_a, app_b]).df()
    # firms per kind as the run counted them (a full scan per view would cost seconds at scale)
    shared["total"] = shared["kind"].map(stats.get("kind_totals", {})).fillna(shared["firms"]).astype(float)
    rows = con.execute("""SELECT a.application_id, a.firm_id, a.submitted_at, coalesce(p.plan_text, '') AS plan_text
                          FROM applications a LEFT JOIN business_plans p USING (application_id)
                          WHERE a.application_id IN (?, ?)""", [app_a, app_b]).df().set_index("application_id")
    same_firm = len(rows) == 2 and rows.loc[app_a, "firm_id"] == rows.loc[app_b, "firm_id"]
    cap = np.minimum(p.df_cap, np.maximum(p.df_cap_floor, p.df_cap_share * shared["total"].to_numpy(float)))
    shared["group"] = shared["kind"].map(GROUPS)
    shared["weight"] = links.identifier_weight(shared["firms"].to_numpy(), shared["total"].to_numpy(), p).round(2)
    shared["counted"] = (shared["firms"] >= 2) & (shared["firms"] <= cap) & (not same_firm)
    shared["note"] = np.where(shared["firms"] > cap, "over_cap", np.where(same_firm, "same_firm", ""))
    # A name counts only where the run let it (rare, a trace, beside other evidence, in a burst):
    # the stored link says which values it used; a pair the run did not store gets the DF rule.
    stored = con.execute("SELECT evidence FROM broker_links WHERE run_id = ? AND app_a = ? AND app_b = ?",
                         [run_id, min(app_a, app_b), max(app_a, app_b)]).fetchall()
    weak = shared["kind"].isin(p.weak_kinds).to_numpy()
    if stored:
        used = {(e["kind"], e["value"]) for e in json.loads(stored[0][0]) if e["kind"] != "plan"}
        named = np.array([(k, v) in used for k, v in zip(shared["kind"], shared["value"])], dtype=bool)
        left_out = weak & ~named & shared["counted"].to_numpy()
        shared["counted"] = named & (not same_firm)
        shared.loc[named & weak & (shared["note"] == "over_cap").to_numpy(), "note"] = "in_burst"
    else:
        left_out = weak & (shared["firms"] > p.weak_df_cap).to_numpy() & shared["counted"].to_numpy()
        shared.loc[left_out, "counted"] = False
    shared.loc[left_out, "note"] = "namesake"
    supp = np.array([(k, v) in suppressed for k, v in zip(shared["kind"], shared["value"])], dtype=bool)
    shared.loc[supp, ["counted", "note"]] = [False, "suppressed"]
    # one piece of evidence per group: the best counted weight
    best = shared[shared["counted"]].sort_values("weight", ascending=False).drop_duplicates("group")
    shared.loc[shared["counted"] & ~shared.index.isin(best.index), ["counted", "note"]] = [False, "same_group"]
    sim = minhash.exact_jaccard(rows.loc[app_a, "plan_text"], rows.loc[app_b, "plan_text"], p.shingle_k) if len(rows) == 2 else 0.0
    extra = []
    if sim >= p.plan_threshold:
        extra.append({"kind": "plan", "group": "plan", "value": f"{sim:.2f}", "firms": None, "total": None,
                      "weight": float(links.plan_weight(sim, p)), "counted": not same_firm, "note": ""})
    gap = abs((rows.loc[app_a, "submitted_at"] - rows.loc[app_b, "submitted_at"]).total_seconds()) / 3600 if len(rows) == 2 else None
    if gap is not None and gap <= p.burst_hours and (len(best) or extra):
        extra.append({"kind": "timing", "group": "timing", "value": f"{gap:.1f} h", "firms": None, "total": None,
                      "weight": float(stats.get("timing_weight", 0.0)), "counted": not same_firm, "note": ""})
    ev = pd.concat([shared, pd.DataFrame(extra)], ignore_index=True) if extra else shared
    if not privacy.sees_personal(role) and len(ev):
        ev["value"] = [v if k in ("plan", "timing") else privacy.mask(k, v) for k, v in zip(ev["kind"], ev["value"])]
    counted = ev[ev["counted"].astype(bool)] if len(ev) else ev
    total = float(counted["weight"].sum()) if len(counted) else 0.0
    n_groups = counted["group"].nunique() if len(counted) else 0
    strong = (n_groups >= p.min_groups and total >= p.min_weight)
    return WhyLinked(app_a, app_b, ev.reset_index(drop=True), rows.loc[app_a, "plan_text"] if app_a in rows.index else "",
                     rows.loc[app_b, "plan_text"] if app_b in rows.index else "", sim, gap, total, strong)


def plot_waterfall(why: WhyLinked, *, lang: str = "ko") -> go.Figure:
    """Splink-style waterfall of the weights that add up to the link's total."""
    ev = why.evidence
    used = ev[ev["counted"].astype(bool)] if len(ev) else ev
    labels = [f"{broker_views.term(k, lang)}{' ' if k in ('plan', 'timing') else ': '}{v}"
              for k, v in zip(used.get("kind", []), used.get("value", []))]
    total_label = "합계" if lang == "ko" else "total"
    fig = go.Figure(go.Waterfall(
        x=labels + [total_label], y=list(used.get("weight", [])) + [why.total_weight],
        measure=["relative"] * len(labels) + ["total"], connector={"line": {"color": "#999"}},
        text=[f"{w:+.1f}" for w in used.get("weight", [])] + [f"{why.total_weight:.1f}"], textposition="outside"))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title="가중치 (bits)" if lang == "ko" else "weight (bits)")
    return fig


def plot_bits(terms: pd.DataFrame, *, lang: str = "ko") -> go.Figure:
    """Waterfall of a pair's match weight with the run's learned weights
    (:func:`analytics.brokers.weights.waterfall`): prior, each group agreeing or not, total."""
    labels = [broker_views.term(t, lang) if not g else f"{broker_views.term(g, lang)} · {broker_views.term(t, lang)}"
              for t, g in zip(terms["term"], terms["group"])]
    fig = go.Figure(go.Waterfall(
        x=labels, y=terms["bits"].tolist(), measure=["total" if t == "total" else "relative" for t in terms["term"]],
        connector={"line": {"color": "#999"}}, textposition="outside",
        text=[f"{b:+.1f}" if t != "total" else f"{b:.1f} ({v})" for t, b, v in zip(terms["term"], terms["bits"], terms["value"])]))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title="일치 가중치 (bits)" if lang == "ko" else "match weight (bits)")
    return fig


def highlight_shared(text: str, other: str, k: int) -> str:
    """HTML of ``text`` with the passages it shares with ``other`` (shared shingles) marked."""
    t, shared = minhash.normalise(text), minhash.shingles(other, k)
    covered = np.zeros(len(t) + 1, dtype=np.int32)
    for i in range(len(t) - k + 1):
        if (i == 0 or t[i - 1] == " ") and t[i : i + k] in shared:
            covered[i] += 1
            covered[i + k] -= 1
    on = np.cumsum(covered)[: len(t)] > 0
    out, i = [], 0
    while i < len(t):
        j = i
        while j < len(t) and on[j] == on[i]:
            j += 1
        chunk = html.escape(t[i:j])
        out.append(f"<mark>{chunk}</mark>" if on[i] else chunk)
        i = j
    return "".join(out)


def timeline(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str) -> pd.DataFrame:
    """Submissions of a cluster in time: application, firm, program, status, amount."""
    access.require(role, "brokers")
    return con.execute("""
        SELECT a.application_id, a.submitted_at, f.name AS firm_name, p.title AS program, a.status::VARCHAR AS status,
               a.amount_awarded_krw
        FROM broker_cluster_members m JOIN applications a USING (application_id)
        JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        WHERE m.run_id = ? AND m.cluster_id = ? ORDER BY a.submitted_at
    """, [run_id, cluster_id]).df()


def plot_timeline(df: pd.DataFrame, *, lang: str = "ko") -> go.Figure:
    """Each submission as a point in time, one row per program, coloured by status."""
    fig = go.Figure()
    for status, part in df.groupby("status", sort=True):
        fig.add_trace(go.Scatter(
            x=part["submitted_at"], y=part["program"], mode="markers", name=broker_views.term(status, lang),
            marker={"size": 10, "color": broker_views.STATUS_COLOURS.get(status, "#333")},
            hovertext=[f"{r.application_id} · {r.firm_name}<br>{r.submitted_at:%Y-%m-%d %H:%M}" for r in part.itertuples()],
            hoverinfo="text"))
    fig.update_layout(height=max(260, 28 * df["program"].nunique() + 120), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title="제출 시각" if lang == "ko" else "submitted at")
    return fig


def pack_tables(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str) -> dict[str, pd.DataFrame]:
    """The evidence of one cluster as tables: members and links (one row per evidence item)."""
    access.require(role, "brokers")
    g = network.cluster_graph(con, run_id, cluster_id, role=role)
    rows = []
    for r in g.links.itertuples():
        for e in r.evidence:
            rows.append({"app_a": r.app_a, "app_b": r.app_b, "strong": r.strong, "link_weight": round(r.weight, 2),
                         "kind": e["kind"], "value": e.get("value"), "firms": e.get("firms"),
                         "weight": e.get("weight"), "plan_similarity": e.get("similarity"),
                         "time_gap_hours": r.time_gap_hours})
    members = g.applications()[["application_id", "firm_id", "firm_name", "biz_no", "status", "program", "submitted_at",
                                "amount_awarded_krw", "region", "in_cluster"]]
    return {"members": members, "links": pd.DataFrame(rows)}


def pack_csv(tables: dict[str, pd.DataFrame], history: pd.DataFrame, *, header: list[str]) -> bytes:
    """One CSV (UTF-8 with BOM for Excel): header lines, then each table under a '# section' line."""
    parts = [export.csv_text(pd.DataFrame(), header)] + [
        export.csv_text(df, [name]) for name, df in list(tables.items()) + [("case_history", history)]]
    return ("\ufeff" + "".join(parts)).encode("utf-8")


def pack_html(title: str, tables: dict[str, pd.DataFrame], history: pd.DataFrame, reasons: dict,
              figures: dict[str, go.Figure], *, header: list[str]) -> str:
    """A self-contained HTML report: the header, the risk reasons, the figures (plotly.js inlined
    once), the members, the links and the case history."""
    parts = [f"<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px}h2{margin-top:1.5em}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", "<ul>" + "".join(f"<li>{html.escape(h)}</li>" for h in header) + "</ul>",
             "<h2>risk</h2>", pd.DataFrame([reasons]).T.rename(columns={0: "value"}).to_html(border=0)]
    first = True
    for name, fig in figures.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=True if first else False))
        first = False
    for name, df in list(tables.items()) + [("case_history", history)]:
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(df.to_html(index=False, border=0))
    parts.append(f"<p>generated {datetime.now():%Y-%m-%d %H:%M}</p></body></html>")
    return "".join(parts)


@dataclass(frozen=True)
class EvidencePack:
    """The evidence pack of one case, built only when asked for (download buttons take callables)."""

    db_path: str | Path
    run_id: str
    cluster_id: int
    case_id: int
    role: str
    lang: str = "ko"
    title: str = ""

    def _parts(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict, list[str], duckdb.DuckDBPyConnection]:
        from analytics.brokers import cases
        from data.db import connect_read_only

        con = connect_read_only(self.db_path)
        tables = pack_tables(con, self.run_id, self.cluster_id, role=self.role)
        history = cases.history(self.db_path, self.case_id, role=self.role)
        reasons = broker_views.reasons(con, self.run_id, self.cluster_id, role=self.role)
        header = [f"case {self.case_id}: {self.title}", f"run {self.run_id}", f"cluster {self.cluster_id}",
                  f"generated {datetime.now():%Y-%m-%d %H:%M} by role {self.role}"]
        return tables, history, reasons, header, con

    def csv(self) -> bytes:
        tables, history, _, header, con = self._parts()
        con.close()
        return pack_csv(tables, history, header=header)

    def html(self) -> str:
        tables, history, reasons, header, con = self._parts()
        try:
            figures = {
                "network": network_draw.plot_network(network.cluster_graph(con, self.run_id, self.cluster_id, role=self.role),
                                                     lang=self.lang),
                "timeline": plot_timeline(timeline(con, self.run_id, self.cluster_id, role=self.role), lang=self.lang),
            }
        finally:
            con.close()
        return pack_html(self.title or f"case {self.case_id}", tables, history, reasons, figures, header=header)

"""The evidence pack of a case: its tables as one CSV and a self-contained HTML report."""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go

from analytics.brokers import graph as network
from analytics.brokers import graph_draw as network_draw
from analytics.brokers import views as broker_views
from analytics.brokers.evidence import timeline
from analytics.brokers.graph_draw import Label, Term
from analytics.brokers.plots import plot_timeline
from data import access, export


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
    """The evidence pack of one case, built only when asked for (download buttons take callables).
    ``t`` and ``term`` word its figures in the user's language (as in :mod:`analytics.brokers.plots`)."""

    db_path: str | Path
    run_id: str
    cluster_id: int
    case_id: int
    role: str
    t: Label
    term: Term
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
                                                     self.t, self.term),
                "timeline": plot_timeline(timeline(con, self.run_id, self.cluster_id, role=self.role), self.t, self.term),
            }
        finally:
            con.close()
        return pack_html(self.title or f"case {self.case_id}", tables, history, reasons, figures, header=header)

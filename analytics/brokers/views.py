"""What the auditor page reads from a detection run: the ranked cluster list, search, a cluster's
risk reasons, and the colours the broker views share (their words are ``names.term.*`` in the
label catalogue, passed in by the page as a ``term`` function). The network of a cluster is
:mod:`analytics.brokers.graph` (data) and :mod:`analytics.brokers.graph_draw` (drawings).

Every function returns application-level rows, so each checks the role first. Fingerprint values
are shown in full to auditors only (``data.privacy.sees_personal``); other allowed roles get them
masked. The page logs the views.
"""
from __future__ import annotations

import json
import re

import duckdb
import pandas as pd

from data import access
from data.db import attach_run, run_ids

STATUS_COLOURS = {"selected": "#d62728", "rejected": "#7f7f7f", "submitted": "#1f77b4", "withdrawn": "#bcbd22"}
GROUP_COLOURS = {"contact": "#e377c2", "network": "#ff7f0e", "document": "#2ca02c", "plan": "#9467bd",
                 "money": "#8c564b", "place": "#17becf", "timing": "#bbbbbb"}


def latest_run(con: duckdb.DuckDBPyConnection, *, role: str) -> dict | None:
    """The newest detection run (run_id, created_at, params) or None when none exists yet."""
    access.require(role, "brokers")
    stored = run_ids(con)
    if not stored:
        return None
    row = con.execute(f"SELECT run_id, created_at, params FROM {attach_run(con, stored[0])}.broker_runs").fetchall()[0]
    return {"run_id": row[0], "created_at": row[1], "params": json.loads(row[2])}


def cluster_list(con: duckdb.DuckDBPyConnection, run_id: str, *, role: str, flagged_only: bool = False) -> pd.DataFrame:
    """Clusters of a run ranked by risk: size, firms, evidence kinds, risk, flag, amount, programs, regions."""
    access.require(role, "brokers")
    run = attach_run(con, run_id)
    return con.execute(f"""
        WITH m AS (
            SELECT c.cluster_id, any_value(p.title) AS program, count(*) AS n, f.region_code
            FROM {run}.broker_cluster_members c JOIN applications a USING (application_id)
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
        FROM {run}.broker_clusters c LEFT JOIN progs USING (cluster_id) LEFT JOIN regs USING (cluster_id)
        WHERE c.run_id = ? AND (NOT ? OR c.flagged)
        ORDER BY c.risk DESC, c.size DESC, c.cluster_id
    """, [run_id, run_id, flagged_only]).df()


def reasons(con: duckdb.DuckDBPyConnection, run_id: str, cluster_id: int, *, role: str) -> dict:
    """The stored parts of a cluster's risk score (see analytics.clusters.risk)."""
    access.require(role, "brokers")
    rows = con.execute(f"SELECT reasons, risk, flagged FROM {attach_run(con, run_id)}.broker_clusters WHERE run_id = ? AND cluster_id = ?",
                       [run_id, cluster_id]).fetchall()
    return {} if not rows else json.loads(rows[0][0]) | {"risk": rows[0][1], "flagged": rows[0][2]}


def related_firms(con: duckdb.DuckDBPyConnection, run_id: str, *, role: str) -> pd.DataFrame:
    """Related firms applying separately (특수관계 기업), one row per group, most applications first:
    household, firms (names), biz_nos, basis, applications, programs."""
    access.require(role, "brokers")
    return con.execute(f"""
        SELECT r.household, string_agg(DISTINCT f.name, ' · ') AS firms, string_agg(DISTINCT f.biz_no, ' · ') AS biz_nos,
               any_value(r.basis) AS basis, count(a.application_id) AS applications,
               count(DISTINCT a.program_id) AS programs
        FROM {attach_run(con, run_id)}.broker_related_firms r JOIN firms f USING (firm_id) LEFT JOIN applications a USING (firm_id)
        WHERE r.run_id = ? GROUP BY r.household ORDER BY applications DESC, r.household
    """, [run_id]).df()


def find(con: duckdb.DuckDBPyConnection, run_id: str, text: str, *, role: str) -> pd.DataFrame:
    """Applications matching an application id or a 사업자등록번호 (dashes allowed), with their cluster."""
    access.require(role, "brokers")
    digits = re.sub(r"\D", "", text or "")
    if not digits:
        return pd.DataFrame(columns=["application_id", "biz_no", "firm_name", "cluster_id"])
    return con.execute(f"""
        SELECT a.application_id, f.biz_no, f.name AS firm_name, m.cluster_id
        FROM applications a JOIN firms f USING (firm_id)
        LEFT JOIN {attach_run(con, run_id)}.broker_cluster_members m ON m.application_id = a.application_id AND m.run_id = ?
        WHERE a.application_id = TRY_CAST(? AS BIGINT) OR f.biz_no = ?
        ORDER BY m.cluster_id NULLS LAST, a.application_id LIMIT 50
    """, [run_id, digits, digits]).df()

"""What the auditor page reads from a detection run: the ranked cluster list, search, a cluster's
risk reasons, and the names and colours the broker views share. The network of a cluster is
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
    "home": ("같은 집 주소·전화", "same home address and phone"), "representative": ("같은 대표자", "same representative"),
    "home+representative": ("같은 집·같은 대표자", "same home and representative"),
    "prior": ("사전 비율", "prior"), "agree": ("일치", "agrees"), "disagree": ("불일치", "disagrees"), "total": ("합계", "total"),
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


def related_firms(con: duckdb.DuckDBPyConnection, run_id: str, *, role: str) -> pd.DataFrame:
    """Related firms applying separately (특수관계 기업), one row per group, most applications first:
    household, firms (names), biz_nos, basis, applications, programs. Empty for runs before the table."""
    access.require(role, "brokers")
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'broker_related_firms'").fetchall()[0][0]:
        return pd.DataFrame(columns=["household", "firms", "biz_nos", "basis", "applications", "programs"])
    return con.execute("""
        SELECT r.household, string_agg(DISTINCT f.name, ' · ') AS firms, string_agg(DISTINCT f.biz_no, ' · ') AS biz_nos,
               any_value(r.basis) AS basis, count(a.application_id) AS applications,
               count(DISTINCT a.program_id) AS programs
        FROM broker_related_firms r JOIN firms f USING (firm_id) LEFT JOIN applications a USING (firm_id)
        WHERE r.run_id = ? GROUP BY r.household ORDER BY applications DESC, r.household
    """, [run_id]).df()


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

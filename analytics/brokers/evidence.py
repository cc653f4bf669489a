"""Why two applicants are linked and the cluster's timeline (figures in :mod:`.plots`, the evidence
pack in :mod:`.pack`).

``why_linked`` recomputes the evidence of any two applications from the raw fingerprints and plans
with the parameters of the run (so it also answers for pairs that were never linked): every shared
identifier with the number of firms that use it and the weight it got, suppressed or over the cap
shown as such, plus the plan similarity and the time gap (drawn by :func:`.plots.plot_waterfall`).
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.brokers import index as brokers_index
from analytics.brokers import links, minhash
from analytics.brokers.links import GROUPS, LinkParams
from data import access, privacy
from data.db import attach_run, db_path_of


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


def stored_run(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[LinkParams, dict]:
    """A stored run's link parameters (defaults for any the run predates) and all it stored with
    them (``stats``, suppressed identifiers, cluster parameters), read and parsed once."""
    rows = con.execute(f"SELECT params FROM {attach_run(con, run_id)}.broker_runs WHERE run_id = ?", [run_id]).fetchall()
    if not rows:
        raise LookupError(f"no broker run {run_id}")
    run = json.loads(rows[0][0])
    return LinkParams.from_json(run.get("links", {})), run


def _shared_values(con: duckdb.DuckDBPyConnection, run_id: str, app_a: int, app_b: int) -> pd.DataFrame:
    """The values two applications share with the number of firms using each (kind, value, firms).

    Firms per value come from the run's stored frequencies (:mod:`analytics.brokers.index`: the
    counts the run weighed the links with); only a value the run did not count (suppressed, or a
    representative's own name) and a run without an index fall back to counting in the data, a
    scan of every fingerprint (seconds at national scale)."""
    shared = con.execute(f"""
        SELECT kind, value, {brokers_index.value_hash()} AS h FROM (
            SELECT kind::VARCHAR AS kind, value FROM app_fingerprints WHERE application_id = ?
            INTERSECT SELECT kind::VARCHAR, value FROM app_fingerprints WHERE application_id = ?)
    """, [app_a, app_b]).df()
    idx = brokers_index.open_index(db_path_of(con), run_id)
    shared["firms"] = idx.value_firms(shared["h"].to_numpy(np.uint64)) if idx is not None and len(shared) else 0
    missing = shared[shared["firms"] == 0]
    if len(missing):
        con.register("_why_missing", missing[["kind", "value"]])
        counted = dict(((k, v), n) for k, v, n in con.execute("""
            SELECT f.kind::VARCHAR AS kind, f.value, count(DISTINCT a.firm_id)
            FROM app_fingerprints f JOIN applications a USING (application_id)
            SEMI JOIN _why_missing m ON m.kind = f.kind::VARCHAR AND m.value = f.value GROUP BY ALL
        """).fetchall())
        shared.loc[missing.index, "firms"] = [counted.get((k, v), 0) for k, v in zip(missing["kind"], missing["value"])]
    shared["firms"] = shared["firms"].astype(np.int64)
    return shared.drop(columns="h").sort_values(["firms", "kind", "value"]).reset_index(drop=True)


def why_linked(con: duckdb.DuckDBPyConnection, run_id: str, app_a: int, app_b: int, *, role: str) -> WhyLinked:
    """Every shared identifier of two applications with its rarity and weight, plans and time gap."""
    access.require(role, "brokers")
    p, run = stored_run(con, run_id)
    stats, suppressed = run.get("stats", {}), {tuple(x) for x in run.get("suppressed_identifiers", [])}
    shared = _shared_values(con, run_id, app_a, app_b)
    # firms per kind as the run counted them (a full scan per view would cost seconds at scale)
    shared["total"] = shared["kind"].map(stats.get("kind_totals", {})).fillna(shared["firms"]).astype(float)
    # one point look-up per application: with ``IN (a, b)`` DuckDB reads every plan text (seconds
    # at national scale on a fresh connection); an equality prunes all row groups but one
    one = """SELECT a.application_id, a.firm_id, a.submitted_at, coalesce(p.plan_text, '') AS plan_text
             FROM applications a LEFT JOIN business_plans p USING (application_id) WHERE a.application_id = {}"""
    rows = con.execute(f"{one.format('$a')} UNION {one.format('$b')}",
                       {"a": app_a, "b": app_b}).df().set_index("application_id")
    same_firm = len(rows) == 2 and rows.loc[app_a, "firm_id"] == rows.loc[app_b, "firm_id"]
    cap = np.minimum(p.df_cap, np.maximum(p.df_cap_floor, p.df_cap_share * shared["total"].to_numpy(float)))
    shared["group"] = shared["kind"].map(GROUPS)
    shared["weight"] = links.identifier_weight(shared["firms"].to_numpy(), shared["total"].to_numpy(), p).round(2)
    shared["counted"] = (shared["firms"] >= 2) & (shared["firms"] <= cap) & (not same_firm)
    shared["note"] = np.where(shared["firms"] > cap, "over_cap", np.where(same_firm, "same_firm", ""))
    # A name counts only where the run let it (rare, a trace, beside other evidence, in a burst):
    # the stored link says which values it used; a pair the run did not store gets the DF rule.
    stored = con.execute(f"SELECT evidence FROM {attach_run(con, run_id)}.broker_links WHERE run_id = ? AND app_a = ? AND app_b = ?",
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
    return con.execute(f"""
        SELECT a.application_id, a.submitted_at, f.name AS firm_name, p.title AS program, a.status::VARCHAR AS status,
               a.amount_awarded_krw
        FROM {attach_run(con, run_id)}.broker_cluster_members m JOIN applications a USING (application_id)
        JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        WHERE m.run_id = ? AND m.cluster_id = ? ORDER BY a.submitted_at
    """, [run_id, cluster_id]).df()

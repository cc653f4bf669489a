"""Broker network audit (불법 브로커 · 제3자 부당개입): the detection batch job.

    python -m analytics.brokers --db PATH [--out clusters.csv]

fingerprints and plans -> weighted links with evidence (:mod:`analytics.links`) -> clusters with a
risk score and reasons (:mod:`analytics.clusters`) -> ``broker_runs`` / ``broker_clusters`` /
``broker_cluster_members`` / ``broker_links`` under a new run id, in a run file of its own beside
the data file, written through :func:`data.db.run_writer` (all or nothing). The suppression list is read from the records file
(seeded with the public template plans on first use). The detector never reads ``truth_*`` tables.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.brokers import cases, clusters, links, suppressions, weights
from analytics.brokers import index as brokers_index
from analytics.brokers.clusters import ClusterParams
from analytics.brokers.links import LinkParams
from data import export
from data.db import attach_run, connect_read_only, get_meta, run_ids, run_writer

Progress = Callable[[str], None]
MEMORY_LIMIT = "3GB"
# During the plan step DuckDB only streams plan texts to Python, which holds the signatures (5 GB
# at scale 10); any page cache DuckDB keeps beside them only raises the job's peak.
PLAN_MEMORY_LIMIT = "1GB"


@dataclass
class Detection:
    """Everything one run found (kept in memory for tests and the benchmark)."""

    links: pd.DataFrame        # links touching a clustered application: app_a, app_b, weight, groups, evidence (JSON),
                               # plan_similarity, time_gap_hours, strong, hard, cluster_id (when both ends share one)
    members: pd.DataFrame      # application_id, cluster_id, firm_id, ...
    clusters: pd.DataFrame     # cluster_id, size, n_firms, risk, flagged, reasons, ...
    stats: dict
    related: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["firm_id", "household", "basis"]))


def _enough_firms(con: duckdb.DuckDBPyConnection, assignment: dict[int, int], min_firms: int) -> dict[int, int]:
    """Drop groups of fewer than ``min_firms`` firms (two households sharing a phone are not a
    network) and renumber the rest 0.. in their order."""
    if not assignment:
        return assignment
    a = pd.DataFrame({"application_id": list(assignment), "cluster_id": list(assignment.values())})
    firm = dict(con.execute("SELECT application_id, firm_id FROM applications WHERE application_id IN (SELECT unnest(?))",
                            [a["application_id"].tolist()]).fetchall())
    a["firm_id"] = a["application_id"].map(firm)
    firms = a.groupby("cluster_id")["firm_id"].nunique()
    keep = firms.index[firms >= min_firms]
    renumber = {old: new for new, old in enumerate(sorted(keep))}
    a = a[a["cluster_id"].isin(keep)]
    return dict(zip(a["application_id"], a["cluster_id"].map(renumber)))


def _touching(near: pd.DataFrame, assignment: dict[int, int]) -> pd.Series:
    """Which of the held links touch a clustered application (those :func:`_score` keeps)."""
    apps = set(assignment)
    return near["app_a"].isin(apps) | near["app_b"].isin(apps)


@dataclass
class _Scored:
    """One scoring of an assignment (:func:`_score`)."""

    assignment: dict[int, int]
    members: pd.DataFrame
    traces: pd.DataFrame
    risk: pd.DataFrame


def _score(con: duckdb.DuckDBPyConnection, near: pd.DataFrame, assignment: dict[int, int], household: dict[int, int],
           link_params: LinkParams, cluster_params: ClusterParams, reordered: pd.DataFrame,
           before: tuple[_Scored, ...] = ()) -> tuple[pd.DataFrame, _Scored]:
    """(links touching the clustered applications, with cluster_id where both ends share one; the
    members, traces and risk of each cluster) of an assignment.
    ``reordered``: the plan links (app_a, app_b) whose copies are reordered (links.reordered_copies).
    A cluster's score depends on its members alone: one with the same members as a cluster scored
    ``before`` takes its members, traces and risk from there (renumbered), and only the others are
    scored, each a second and more at scale."""
    near = near[_touching(near, assignment)].reset_index(drop=True)
    a_cl = near["app_a"].map(assignment)
    b_cl = near["app_b"].map(assignment)
    near["cluster_id"] = a_cl.where(a_cl == b_cl)
    known = {frozenset(apps): (b, cid) for b in before for cid, apps in clusters.members_of(b.assignment).items()}
    reused = {cid: known[frozenset(apps)] for cid, apps in clusters.members_of(assignment).items()
              if frozenset(apps) in known}
    fresh = {app: cid for app, cid in assignment.items() if cid not in reused}
    parts: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []
    if fresh:
        members = _members(con, fresh)
        in_cluster = near[near["strong"] & near["cluster_id"].isin(set(fresh.values()))]
        traces = links.cluster_traces(con, fresh, alpha=link_params.trace_alpha, min_firms=cluster_params.trace_firms)
        disguised = in_cluster.merge(reordered[["app_a", "app_b"]], on=["app_a", "app_b"])
        parts.append((members, traces, clusters.risk(members, in_cluster, cluster_params, household, traces,
                                                     disguised[["cluster_id", "firm_a", "firm_b"]])))
    for b in {id(b): b for b, _ in reused.values()}.values():
        renumber = {old: new for new, (src, old) in reused.items() if src is b}
        def moved(df: pd.DataFrame) -> pd.DataFrame:
            df = df[df["cluster_id"].isin(renumber.keys())]
            return df.assign(cluster_id=df["cluster_id"].map(renumber).astype(df["cluster_id"].dtype))
        parts.append((moved(b.members), moved(b.traces), moved(b.risk)))
    if not parts:
        return near, _Scored(assignment, pd.DataFrame(columns=[
            "application_id", "cluster_id", "firm_id", "region_code", "program_id", "submitted_at", "status",
            "amount_awarded_krw", "prog_selection_rate", "prog_mean_award"]), links.cluster_traces(con, {}, alpha=0, min_firms=0),
            pd.DataFrame(columns=["cluster_id", "size", "n_firms", "risk", "flagged", "reasons"]))
    members, traces, risk = (pd.concat([x[i] for x in parts if len(x[i])] or [parts[0][i]]) for i in range(3))
    return near, _Scored(assignment, members.reset_index(drop=True), traces.reset_index(drop=True),
                         risk.sort_values("cluster_id").reset_index(drop=True))


def _firms_applications(con: duckdb.DuckDBPyConnection, assignment: dict[int, int]) -> pd.DataFrame:
    """application_id, firm_id, submitted_at of every application of the clustered applications' firms."""
    con.register("_assign_f", pd.DataFrame({"application_id": pd.Series(list(assignment), dtype="int64")}))
    return con.execute("""
        SELECT application_id, firm_id, submitted_at FROM applications
        WHERE firm_id IN (SELECT a.firm_id FROM applications a JOIN _assign_f USING (application_id))
    """).df()


def _calls(con: duckdb.DuckDBPyConnection, assignment: dict[int, int]) -> tuple[dict[int, str], dict[str, float]]:
    """(application -> program of the clustered applications, program -> its share of all applications)."""
    con.register("_assign_c", pd.DataFrame({"application_id": pd.Series(list(assignment), dtype="int64")}))
    calls = dict(con.execute("SELECT application_id, program_id FROM applications SEMI JOIN _assign_c USING (application_id)"
                             ).fetchall())
    share = dict(con.execute("SELECT program_id, count(*) / sum(count(*)) OVER () FROM applications GROUP BY ALL").fetchall())
    return calls, share


def _members(con: duckdb.DuckDBPyConnection, assignment: dict[int, int]) -> pd.DataFrame:
    """Clustered applications with what the risk score compares them with (their programs' rates)."""
    con.register("_assign", pd.DataFrame({"application_id": list(assignment), "cluster_id": list(assignment.values())}))
    return con.execute("""
        WITH prog AS (
            SELECT program_id, avg((status = 'selected')::DOUBLE) AS prog_selection_rate,
                   avg(amount_awarded_krw)::DOUBLE AS prog_mean_award
            FROM applications WHERE program_id IN (
                SELECT DISTINCT a.program_id FROM applications a JOIN _assign USING (application_id))
            GROUP BY ALL
        )
        SELECT s.application_id, s.cluster_id, a.firm_id, f.region_code, a.program_id, a.submitted_at,
               a.status::VARCHAR AS status, a.amount_awarded_krw, p.prog_selection_rate, p.prog_mean_award
        FROM _assign s JOIN applications a USING (application_id) JOIN firms f USING (firm_id)
        JOIN prog p USING (program_id)
    """).df()


def seed_sets(con: duckdb.DuckDBPyConnection, confirmed: list[tuple[str, int]]) -> list[list[int]]:
    """The applications of each confirmed case's cluster (``broker_cluster_members`` of its run)
    that are still in the data; cases of runs the data no longer has give nothing."""
    stored = set(run_ids(con))
    sets = []
    for run_id in sorted({r for r, _ in confirmed} & stored):
        run = attach_run(con, run_id)
        rows = con.execute(f"""
            SELECT list(m.application_id ORDER BY m.application_id) AS apps
            FROM {run}.broker_cluster_members m SEMI JOIN applications a ON a.application_id = m.application_id
            WHERE m.cluster_id IN (SELECT unnest($ids::INTEGER[])) GROUP BY m.cluster_id ORDER BY m.cluster_id
        """, {"ids": sorted(c for r, c in confirmed if r == run_id)}).fetchall()
        sets += [[int(a) for a in apps] for (apps,) in rows]
    return sets


def detect(con: duckdb.DuckDBPyConnection, supp: pd.DataFrame, *, link_params: LinkParams = LinkParams(),
           cluster_params: ClusterParams = ClusterParams(), progress: Progress = lambda _: None,
           chunk: int = 200_000, memory_limit: str | None = None, seeds: list[list[int]] | None = None,
           index: brokers_index.Writer | None = None) -> Detection:
    """Run detection on an open data connection (read-only use) with the given suppression list.

    ``chunk`` bounds how many plans are read and hashed at once; it never changes the result.
    ``memory_limit`` (when given) caps DuckDB in the SQL steps; the plan step runs under
    :data:`PLAN_MEMORY_LIMIT`, as Python's signatures are the memory then. ``seeds``: the
    applications of confirmed cases (:func:`seed_sets`), from which m is counted when they hold
    enough pairs (:func:`analytics.brokers.weights.estimate`). With ``index``, what screening
    needs later is written beside the data file (:mod:`analytics.brokers.index`)."""
    stats: dict = {}
    t0 = time.perf_counter()
    templates = supp.loc[supp["kind"] == "plan", "value"].tolist() if len(supp) else []
    if memory_limit:
        con.execute(f"SET memory_limit = '{PLAN_MEMORY_LIMIT}'")
    pl, plan_stats = links.plan_pairs(con, templates, link_params, chunk=chunk, index=index)
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    stats.update(plan_stats)
    stats["t_plans"] = round(time.perf_counter() - t0, 2)
    progress(f"plans: {plan_stats['plans']:,} plans, {len(pl):,} similar pairs ({stats['t_plans']} s)")

    t1 = time.perf_counter()
    chance = links.chance_within(con, link_params)
    stats["timing_weight"] = round(links.timing_weight(chance, link_params), 2)
    links.value_frequencies(con, supp)
    stats["kind_totals"] = dict(con.execute("SELECT kind, total FROM _tot").fetchall())  # for why-linked views
    if index is not None:
        ti = time.perf_counter()
        index.identifiers(con, link_params.df_cap)   # read now, written behind the cluster step
        stats["t_index_identifiers"] = round(time.perf_counter() - ti, 2)
    stats["identifier_pairs"] = len(links.identifier_pairs(con, link_params, pl, chance=chance))
    stats["t_identifiers"] = round(time.perf_counter() - t1, 2)
    progress(f"identifiers: {stats['identifier_pairs']:,} shared-value pairs ({stats['t_identifiers']} s)")

    t2 = time.perf_counter()
    all_links = links.combine(con, pl, link_params, stats["timing_weight"])
    fs = weights.estimate(con, len(pl), plan_stats["plans"], seeds=seeds, plan_links=pl)
    stats["weights"] = fs.to_json()
    links.strengthen(con, link_params, fs.m)
    all_links = con.table("_links")
    # in a fixed order: components and communities are numbered in the order edges arrive
    st = all_links.filter("strong").select("app_a, app_b").order("app_a, app_b").fetchnumpy()
    # DuckDB releases the GIL: on a second core it finds the related firms (SQL) while Python finds
    # the components, and later the stored links' evidence while Python splits the clusters; the
    # connection is used by one thread at a time (each result is taken before Python uses it again)
    with ThreadPoolExecutor(max_workers=1) as beside:
        relating = beside.submit(links.related_firms, con, link_params)
        assignment = clusters.components(st["app_a"], st["app_b"], cluster_params)
        related = relating.result()
        household = dict(zip(related["firm_id"], related["household"]))
        assignment = _enough_firms(con, assignment, cluster_params.min_firms)
        links.trace_carriers(con, min_firms=cluster_params.trace_firms, weak_kinds=link_params.weak_kinds)
        for _ in range(2):  # twice: a member attached in the first pass may carry another member's trace
            assignment = links.attach_by_traces(con, assignment, min_firms=cluster_params.trace_firms,
                                                min_share=cluster_params.trace_share)
            assignment = clusters.attach_by_links(
                assignment, links.touching(con, assignment, ("app_a", "app_b", "firm_a", "firm_b", "hard")),
                min_firms=cluster_params.trace_firms)
        near = links.touching(con, assignment)  # the only links Python holds: those of clustered applications
        calls, call_share = _calls(con, assignment)   # merging and splitting clusters never adds a member
        # the evidence of every link Python holds (a link's evidence is its own, whichever cluster it
        # ends in), for the stored ones kept after scoring
        evidencing = beside.submit(links.evidence, con, near, link_params)
        assignment = clusters.merge_linked(assignment, near)
        assignment = clusters.split_blocks(assignment, near, household, min_households=cluster_params.min_firms,
                                           calls=calls, call_share=call_share, calls_alpha=cluster_params.calls_alpha)
        near_evidence = np.array(evidencing.result(), dtype=object)
    if index is not None:   # its sorts and writes take the core that splitting and scoring leave idle
        index.write_behind()
    assignment = clusters.same_sitting(assignment, _firms_applications(con, assignment), hours=cluster_params.sitting_hours)
    links.clustered_values(con, assignment)   # every assignment scored below is this one, or a part of it
    # the clustered plan copies' sentence orders, read once: splitting a cluster never adds a member
    inside = near["app_a"].isin(assignment.keys()) & near["app_b"].isin(assignment.keys())
    reordered = links.reordered_copies(con, near[inside & near["strong"] & near["plan_similarity"].notna()], link_params)
    near_kept, scored = _score(con, near, assignment, household, link_params, cluster_params, reordered)
    thin = clusters.thin(scored.risk, cluster_params)
    if thin:   # once: a swamped ring found in a thin cluster is judged on its own
        split = clusters.split_communities(assignment, near, household, thin, cluster_params)
        # only the thin clusters' pieces are judged (a cluster's score depends on its members alone)
        pieces = {app: c for app, c in split.items() if assignment[app] in thin}
        judged = _score(con, near, pieces, household, link_params, cluster_params, reordered)[1] if pieces else None
        found = set(judged.risk.loc[judged.risk["flagged"], "cluster_id"].astype(int)) if judged is not None else set()
        if found and judged is not None:
            assignment = clusters.keep_found(assignment, split, thin, found)
            near_kept, scored = _score(con, near, assignment, household, link_params, cluster_params, reordered,
                                       before=(scored, judged))
    # the evidence of the links _score kept (those _touching its assignment, in order)
    kept = _touching(near, scored.assignment)
    near = near_kept
    members, traces, cl = scored.members, scored.traces, scored.risk
    near["evidence"] = near_evidence[kept.to_numpy()]
    stats["thin_split"] = len(thin)
    stats["cluster_traces"] = int(traces[["cluster_id", "kind", "value"]].drop_duplicates().shape[0])
    if index is not None:
        index.traces(con, traces)
    stats.update(links=len(all_links), strong_links=len(st["app_a"]), clusters=len(cl),
                 related_groups=int(related["household"].nunique()) if len(related) else 0, flagged=int(cl["flagged"].sum()) if len(cl) else 0, t_clusters=round(time.perf_counter() - t2, 2))
    progress(f"clusters: {stats['clusters']:,}, flagged {stats['flagged']:,} ({stats['t_clusters']} s)")
    return Detection(links=near, members=members, clusters=cl, stats=stats, related=related)


def store(con: duckdb.DuckDBPyConnection, det: Detection, *, run_id: str, params: dict) -> None:
    """Write one run's results into its new run file (:func:`data.db.run_writer`)."""
    con.execute("INSERT INTO broker_runs VALUES (?, ?, ?)",
                [run_id, datetime.now().replace(microsecond=0), json.dumps(params | {"stats": det.stats}, default=str)])
    if len(det.clusters):
        c = det.clusters
        con.register("_c", pd.DataFrame({
            "cluster_id": c["cluster_id"].astype(int), "size": c["size"].astype(int), "risk": c["risk"].astype(float),
            "flagged": c["flagged"].astype(bool), "reasons": [json.dumps(r, ensure_ascii=False, default=str) for r in c["reasons"]],
            "n_firms": c["n_firms"].astype(int), "groups": c["groups"], "awarded_krw": c["awarded_krw"].astype("int64"),
            "n_programs": c["n_programs"].astype(int), "n_regions": c["n_regions"].astype(int),
            "first_at": c["first_at"], "last_at": c["last_at"]}))
        con.execute("""INSERT INTO broker_clusters SELECT ?, cluster_id, size, risk, flagged, reasons::JSON, n_firms,
                       groups, awarded_krw, n_programs, n_regions, first_at, last_at FROM _c""", [run_id])
        con.register("_m", det.members[["cluster_id", "application_id"]])
        con.execute("INSERT INTO broker_cluster_members SELECT ?, cluster_id, application_id FROM _m", [run_id])
    if len(det.related):
        con.register("_r", det.related[["household", "firm_id", "basis"]])
        con.execute("INSERT INTO broker_related_firms SELECT ?, household, firm_id, basis FROM _r", [run_id])
    # Links kept for the auditor: every link touching a clustered application (strong or not), so
    # the graph can expand a node's neighbours and show why weaker ties did not count.
    keep = det.links
    if len(keep):
        con.register("_l", pd.DataFrame({
            "app_a": keep["app_a"], "app_b": keep["app_b"], "weight": keep["weight"].round(3),
            "evidence": keep["evidence"],
            "plan_similarity": keep["plan_similarity"], "time_gap_hours": keep["time_gap_hours"].round(2),
            "strong": keep["strong"], "groups": keep["groups"]}))
        con.execute("""INSERT INTO broker_links SELECT ?, app_a, app_b, weight, evidence::JSON, plan_similarity,
                       time_gap_hours, strong, groups FROM _l""", [run_id])


def write_csv(det: Detection, out: Path) -> None:
    """One row per clustered application: application_id, cluster_id, risk, flagged."""
    m = det.members[["application_id", "cluster_id"]].merge(det.clusters[["cluster_id", "risk", "flagged"]], on="cluster_id")
    export.write_csv(m.sort_values(["risk", "cluster_id", "application_id"], ascending=[False, True, True]), out)


def run(db_path: Path | str, *, out: Path | None = None, link_params: LinkParams = LinkParams(),
        cluster_params: ClusterParams = ClusterParams(), progress: Progress = lambda _: None,
        memory_limit: str = MEMORY_LIMIT) -> tuple[str, Detection]:
    """The batch job: read suppressions, detect, store under a new run id; returns (run_id, detection).

    Detection reads the data file (read-only); the run is stored in a run file of its own beside
    it (:func:`data.db.run_writer`), so the data file is never copied. An import may land while
    detection runs; then nothing is stored: the run would describe data that is no longer there.

    ``memory_limit`` caps DuckDB (it spills joins and temp tables to disk beyond it); without a
    cap it keeps the file's pages cached up to 80% of the machine, beside the plan signatures."""
    with connect_read_only(db_path) as con:
        templates = [r[0] for r in con.execute("SELECT plan_text FROM public_templates ORDER BY plan_text").fetchall()]
    added = suppressions.seed_templates(db_path, templates)
    if added:
        progress(f"suppression list: seeded {added} public template plans")
    supp = suppressions.load(db_path)
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    ids = supp[supp["kind"] != "plan"] if len(supp) else supp
    params = {"links": link_params.to_json(), "clusters": cluster_params.to_json(), "suppressions": len(supp),
              "suppressed_identifiers": ids[["kind", "value"]].values.tolist() if len(ids) else []}
    confirmed = cases.confirmed_clusters(db_path)
    idx = brokers_index.Writer(db_path, run_id)
    try:
        with connect_read_only(db_path) as con:
            version = get_meta(con).get("data_version", "")
            seeds = seed_sets(con, confirmed)
            if seeds:
                progress(f"weights: {len(seeds)} confirmed cases as the labelled seed set")
            det = detect(con, supp, link_params=link_params, cluster_params=cluster_params, progress=progress,
                         memory_limit=memory_limit, seeds=seeds, index=idx)
        t = time.perf_counter()
        with run_writer(db_path, run_id, seen=version) as con:
            store(con, det, run_id=run_id, params=params)
        idx.commit()   # after the run is stored: a run that fails leaves no index
        det.stats["t_store"] = round(time.perf_counter() - t, 2)
        progress(f"stored run {run_id} and its screening index ({det.stats['t_store']} s)")
    finally:
        idx.discard()
    if out is not None:
        write_csv(det, out)
    return run_id, det


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analytics.brokers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, type=Path, help="the data file (madang.duckdb)")
    ap.add_argument("--out", type=Path, help="also write one row per clustered application to this CSV")
    ap.add_argument("--memory-limit", default=MEMORY_LIMIT, help=f"DuckDB's memory cap (default {MEMORY_LIMIT})")
    args = ap.parse_args(argv)
    if not args.db.exists():
        print(f"error: no database at {args.db}: build one with `python -m data.build --db {args.db}`", file=sys.stderr)
        return 2
    t = time.perf_counter()
    run_id, det = run(args.db, out=args.out, memory_limit=args.memory_limit, progress=lambda msg: print(f"[{time.perf_counter() - t:6.1f}s] {msg}", flush=True))
    print(f"run {run_id}: {det.stats['clusters']:,} clusters, {det.stats['flagged']:,} flagged, "
          f"{len(det.members):,} applications clustered in {time.perf_counter() - t:.1f} s"
          + (f"; wrote {args.out}" if args.out else ""))
    return 0


"""Program matching: the stored results of the batch step (``python -m analytics.matching evaluate``).

The evaluation fits the rankers and scores every method (minutes at national scale), far too
slow for a page visit. The batch step stores its figures and the fitted ranker in the data file
(``matching_runs``, ``matching_figures``, ``matching_importance``); the page reads the latest run
back (milliseconds) and the recommendations rank with its ranker. The same step stores the blind
spots of the reference day with no filters (``matching_gap_*``, :func:`write_gaps`), which the blind-spots
tab reads instead of computing them (minutes) on a visit. The ranker is pickled: it holds
scikit-learn and LightGBM models and the live statistics, and the data file is written only by our
own jobs.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from data import access
from data.db import SCHEMA_PATH

if TYPE_CHECKING:
    from analytics.matching.evaluation import Evaluation
    from analytics.matching.gaps import Coverage
    from analytics.matching.rank import Ranker

TABLES = ("matching_runs", "matching_figures", "matching_importance")
GAP_TABLES = ("matching_gap_runs", "matching_gap_firms", "matching_gap_sample", "matching_gap_programs")
_SECTION = "program matching outputs"
_GAP_SECTION = "program matching blind spots"
GAP_FIRM_COLUMNS = ("region_code", "size_class", "ksic_section", "n_eligible", "weight", "n_firms")
GAP_SAMPLE_COLUMNS = ("region_code", "size_class", "ksic_section", "stands_for", "n_good")
GAP_PROGRAM_COLUMNS = ("program_id", "title", "ministry", "agency", "category", "always_open", "closes_on",
                       "eligible_share", "recommended_share", "applications", "applicants")
FIGURE_COLUMNS = ("method", "ndcg", "ndcg_lo", "ndcg_hi", "recall", "recall_lo", "recall_hi", "recall_all",
                  "recall_selected", "margin", "margin_lo", "margin_hi")


def data_key(con: duckdb.DuckDBPyConnection) -> str:
    """What a run describes: the applications (ids, outcomes) and the programs (every column), hashed.

    Not ``meta.data_version``: every write of the file, this job's own included, renews that."""
    row = con.execute("""
        SELECT (SELECT count(*) || '/' || coalesce(max(application_id), 0) || '/' || coalesce(sum(hash(application_id, status, decided_at)), 0)
                FROM applications),
               (SELECT count(*) || '/' || coalesce(sum(hash(p::VARCHAR)), 0) FROM programs p),
               (SELECT coalesce(max(value), '') FROM meta WHERE key = 'as_of')""").fetchall()[0]
    return hashlib.sha256("|".join(str(v) for v in row).encode()).hexdigest()[:16]


def _has_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = TABLES) -> bool:
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                                       ).fetchall()}
    return set(tables) <= names


def _create_tables(con: duckdb.DuckDBPyConnection, section: str = _SECTION) -> None:
    """A section of data/schema.sql, for a data file built before its tables existed."""
    sections = SCHEMA_PATH.read_text(encoding="utf-8").split("-- " + "-" * 64 + " ")
    con.execute(next(s for s in sections if s.startswith(section)).split("\n", 1)[1])


def write(con: duckdb.DuckDBPyConnection, ev: Evaluation, params: dict, key: str) -> str:
    """Store one evaluation run (inside a :func:`data.db.writer` session); returns its run id."""
    if not _has_tables(con):
        _create_tables(con)
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    r = ev.ranker
    summary = {"k": ev.k, "queries": ev.queries, "mean_candidates": ev.mean_candidates, "unreachable": ev.unreachable,
               "best_learned": ev.best_learned, "strongest_baseline": ev.strongest_baseline, "winner": ev.winner}
    con.execute("INSERT INTO matching_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        run_id, datetime.now(), json.dumps(params), key, r.train_cut, r.eval_cut, r.end, json.dumps(summary),
        pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)])
    figures = ev.figures[list(FIGURE_COLUMNS)].assign(run_id=run_id)
    con.register("_mfig", figures)
    con.register("_mimp", ev.importance.assign(run_id=run_id))
    try:
        con.execute(f"INSERT INTO matching_figures SELECT run_id, {', '.join(FIGURE_COLUMNS)} FROM _mfig")
        con.execute("INSERT INTO matching_importance SELECT run_id, feature, ndcg_drop FROM _mimp")
    finally:
        con.unregister("_mfig")
        con.unregister("_mimp")
    return run_id


@dataclass(frozen=True)
class StoredEvaluation:
    """The latest stored evaluation run, as the page shows it."""

    run_id: str
    created_at: datetime
    params: dict
    stale: bool                 # the applications or programs changed since the run
    train_cut: date
    eval_cut: date
    end: date
    summary: dict               # k, queries, mean_candidates, unreachable, best_learned, strongest_baseline, winner
    figures: pd.DataFrame       # FIGURE_COLUMNS, one row per method
    importance: pd.DataFrame    # feature, ndcg_drop

    @property
    def winner(self) -> str:
        return str(self.summary["winner"])


def _latest_id(con: duckdb.DuckDBPyConnection) -> str | None:
    if not _has_tables(con):
        return None
    rows = con.execute("SELECT run_id FROM matching_runs ORDER BY created_at DESC, run_id DESC LIMIT 1").fetchall()
    return str(rows[0][0]) if rows else None


def latest(con: duckdb.DuckDBPyConnection, *, role: str) -> StoredEvaluation | None:
    """The latest stored evaluation (aggregate figures), or None before the batch step has run."""
    access.require(role, "matching")
    run_id = _latest_id(con)
    if run_id is None:
        return None
    created, params, key, train_cut, eval_cut, end, summary = con.execute(
        "SELECT created_at, params, data_key, train_cut, eval_cut, end_day, summary FROM matching_runs WHERE run_id = ?",
        [run_id]).fetchall()[0]
    figures = con.execute(f"SELECT {', '.join(FIGURE_COLUMNS)} FROM matching_figures WHERE run_id = ?", [run_id]).df()
    order = {m: i for i, m in enumerate(json.loads(params).get("methods", []))}
    figures = figures.sort_values("method", key=lambda s: s.map(order).fillna(len(order))).reset_index(drop=True)
    importance = con.execute("SELECT feature, ndcg_drop FROM matching_importance WHERE run_id = ? "
                             "ORDER BY ndcg_drop DESC, feature", [run_id]).df()
    return StoredEvaluation(run_id=run_id, created_at=created, params=json.loads(params), stale=key != data_key(con),
                            train_cut=train_cut, eval_cut=eval_cut, end=end, summary=json.loads(summary),
                            figures=figures, importance=importance)


def load_ranker(con: duckdb.DuckDBPyConnection) -> Ranker | None:
    """The ranker of the latest run (ranking with that run's winner), or None before the batch step."""
    run_id = _latest_id(con)
    if run_id is None:
        return None
    blob = con.execute("SELECT ranker FROM matching_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    return pickle.loads(bytes(blob))  # our own job wrote it into our own data file (see the module docstring)


def write_gaps(con: duckdb.DuckDBPyConnection, run_id: str, day: date, cov: Coverage) -> None:
    """Store the blind spots of ``day`` (no filters) computed with run ``run_id``'s ranker (inside a
    :func:`data.db.writer` session, after :func:`write`)."""
    if not _has_tables(con, GAP_TABLES):
        _create_tables(con, _GAP_SECTION)
    con.execute("INSERT INTO matching_gap_runs VALUES (?, ?, ?)", [run_id, day, cov.bar])
    for table, frame, columns in (("matching_gap_firms", cov.firms, GAP_FIRM_COLUMNS),
                                  ("matching_gap_sample", cov.sample, GAP_SAMPLE_COLUMNS),
                                  ("matching_gap_programs", cov.programs, GAP_PROGRAM_COLUMNS)):
        con.register("_mgap", frame[list(columns)])
        try:
            con.execute(f"INSERT INTO {table} (run_id, {', '.join(columns)}) SELECT ?, * FROM _mgap", [run_id])
        finally:
            con.unregister("_mgap")


def stored_gaps(con: duckdb.DuckDBPyConnection, day: date) -> Coverage | None:
    """The latest run's stored blind spots if they are of ``day`` and the data has not changed since
    (``stored_at`` says when they were computed), else None: the caller computes them."""
    run_id = _latest_id(con)
    if run_id is None or not _has_tables(con, GAP_TABLES):
        return None
    rows = con.execute("SELECT g.day, g.bar, r.created_at, r.data_key FROM matching_gap_runs g "
                       "JOIN matching_runs r USING (run_id) WHERE run_id = ?", [run_id]).fetchall()
    if not rows or rows[0][0] != day or rows[0][3] != data_key(con):
        return None
    from analytics.matching.gaps import Coverage  # gaps imports this module (through recommend)

    def read(table: str, columns: tuple[str, ...], order: str) -> pd.DataFrame:
        return con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE run_id = ? ORDER BY {order}", [run_id]).df()

    cov = Coverage(firms=read("matching_gap_firms", GAP_FIRM_COLUMNS, "ALL"),
                   sample=read("matching_gap_sample", GAP_SAMPLE_COLUMNS, "ALL"),
                   programs=read("matching_gap_programs", GAP_PROGRAM_COLUMNS, "program_id"),
                   bar=float(rows[0][1]), stored_at=rows[0][2])
    return cov

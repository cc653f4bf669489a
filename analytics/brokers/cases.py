"""Audit cases opened from broker clusters: append-only events in the records file.

A case's state is never stored: it is derived from its events (the latest status and the latest
assignee), so nothing is ever updated in place and the full history is the record. Ids are taken
inside the writing transaction (``max + 1``); :func:`data.db.records` serialises writers (a lock
in this process, DuckDB's file lock across processes, with retries), so two auditors writing at
once both land, and a committed event survives a restart. Every change is logged to ``access_log``.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from data import access, privacy
from data.db import records

STATUSES = ("open", "investigating", "referred", "cleared")
# open -> investigating -> referred / cleared; a closed case may be reopened for investigation.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"investigating", "cleared"}),
    "investigating": frozenset({"referred", "cleared"}),
    "referred": frozenset({"investigating"}),
    "cleared": frozenset({"investigating"}),
}


def _now() -> datetime:
    return datetime.now()


def open_case(db_path: Path | str, *, run_id: str | None, cluster_id: int | None, title: str, user: str, role: str,
              assignee: str | None = None, note: str | None = None) -> int:
    """Open a case (status ``open``) for a cluster; returns its id."""
    access.require(role, "brokers.cases")
    if not title.strip():
        raise ValueError("a case needs a title")
    with records(db_path) as con:
        case_id = con.execute("SELECT coalesce(max(case_id), 0) + 1 FROM cases").fetchall()[0][0]
        now = _now()
        con.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?)", [case_id, run_id, cluster_id, title.strip(), user, now])
        _insert_event(con, case_id, user, now, "open", assignee, note)
    privacy.log_access(db_path, user, role, "case_open", f"case {case_id} run {run_id} cluster {cluster_id}")
    return int(case_id)


def _insert_event(con, case_id: int, user: str, at: datetime, status: str | None, assignee: str | None,
                  note: str | None) -> int:
    event_id = con.execute("SELECT coalesce(max(event_id), 0) + 1 FROM case_events").fetchall()[0][0]
    con.execute("INSERT INTO case_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [event_id, case_id, at, user, status, assignee or None, (note or "").strip() or None])
    return int(event_id)


def add_event(db_path: Path | str, case_id: int, *, user: str, role: str, status: str | None = None,
              assignee: str | None = None, note: str | None = None) -> int:
    """Append one event (a status change, a (re)assignment and/or a note); returns the event id.

    The transition is checked against the state read in the same transaction, so two auditors
    moving one case at once cannot both make an invalid move.
    """
    access.require(role, "brokers.cases")
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if status is None and not assignee and not (note or "").strip():
        raise ValueError("an event needs a status, an assignee or a note")
    with records(db_path) as con:
        current = _state(con, case_id)
        if current is None:
            raise KeyError(f"no case {case_id}")
        if status is not None and status != current["status"] and status not in TRANSITIONS[current["status"]]:
            raise ValueError(f"a case cannot go from {current['status']} to {status}")
        if status == current["status"]:
            status = None  # no change: keep the event as a note/assignment only
        event_id = _insert_event(con, case_id, user, _now(), status, assignee, note)
    privacy.log_access(db_path, user, role, "case_event", f"case {case_id} event {event_id}" + (f" -> {status}" if status else ""))
    return event_id


_STATE_SQL = """
    SELECT c.case_id, c.run_id, c.cluster_id, c.title, c.opened_by, c.opened_at,
           arg_max(e.status, e.event_id) FILTER (WHERE e.status IS NOT NULL)::VARCHAR AS status,
           arg_max(e.assignee, e.event_id) FILTER (WHERE e.assignee IS NOT NULL) AS assignee,
           max(e.at_time) AS updated_at, count(e.event_id) AS events
    FROM cases c LEFT JOIN case_events e USING (case_id)
    {where}
    GROUP BY ALL ORDER BY c.case_id DESC
"""


def _state(con, case_id: int) -> dict | None:
    df = con.execute(_STATE_SQL.format(where="WHERE c.case_id = ?"), [case_id]).df()
    return None if df.empty else df.iloc[0].to_dict()


def list_cases(db_path: Path | str, *, role: str, run_id: str | None = None, cluster_id: int | None = None) -> pd.DataFrame:
    """Every case with its current state (derived from events), newest first."""
    access.require(role, "brokers.cases")
    where, params = ["TRUE"], []
    if run_id is not None:
        where.append("c.run_id = ?")
        params.append(run_id)
    if cluster_id is not None:
        where.append("c.cluster_id = ?")
        params.append(cluster_id)
    with records(db_path) as con:
        return con.execute(_STATE_SQL.format(where="WHERE " + " AND ".join(where)), params).df()


def history(db_path: Path | str, case_id: int, *, role: str) -> pd.DataFrame:
    """All events of a case in order: event_id, at_time, by_user, status, assignee, note."""
    access.require(role, "brokers.cases")
    with records(db_path) as con:
        return con.execute(
            "SELECT event_id, at_time, by_user, status::VARCHAR AS status, assignee, note FROM case_events "
            "WHERE case_id = ? ORDER BY event_id", [case_id]).df()

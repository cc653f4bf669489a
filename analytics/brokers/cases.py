"""Audit cases opened from broker clusters: append-only events in the records file.

A case's state is never stored: it is derived from its events (the latest status and the latest
assignee), so nothing is ever updated in place and the full history is the record (the records store
refuses UPDATE and DELETE on events itself). Ids come from the database; each event and its
``access_log`` row are written in one transaction of :func:`data.records.records`, so an event the
caller was told is saved is stored exactly once, with its log row, whatever other writers do.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from data import access, privacy
from data.records import Tx, records

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
    with records(db_path) as tx:
        now = _now()
        case_id = tx.insert("INSERT INTO cases (run_id, cluster_id, title, opened_by, opened_at) VALUES (?, ?, ?, ?, ?)",
                            [run_id, cluster_id, title.strip(), user, now], "case_id")
        _insert_event(tx, case_id, user, now, "open", assignee, note)
        privacy.log_in(tx, user, role, "case_open", f"case {case_id} run {run_id} cluster {cluster_id}")
    return case_id


def _insert_event(tx: Tx, case_id: int, user: str, at: datetime, status: str | None, assignee: str | None,
                  note: str | None) -> int:
    return tx.insert("INSERT INTO case_events (case_id, at_time, by_user, status, assignee, note) VALUES (?, ?, ?, ?, ?, ?)",
                     [case_id, at, user, status, assignee or None, (note or "").strip() or None], "event_id")


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
    with records(db_path) as tx:
        if status is None:
            # a note or an assignment depends on no state: writers on one case need not queue
            if tx.one("SELECT case_id FROM cases WHERE case_id = ?", [case_id]) is None:
                raise KeyError(f"no case {case_id}")
        else:
            # the case row is locked as its state is read, so two moves of one case are checked one after the other
            current = _state(tx, case_id, lock=True)
            if current is None:
                raise KeyError(f"no case {case_id}")
            if status != current["status"] and status not in TRANSITIONS[current["status"]]:
                raise ValueError(f"a case cannot go from {current['status']} to {status}")
            if status == current["status"]:
                status = None  # no change: keep the event as a note/assignment only
        event_id = _insert_event(tx, case_id, user, _now(), status, assignee, note)
        privacy.log_in(tx, user, role, "case_event", f"case {case_id} event {event_id}" + (f" -> {status}" if status else ""))
    return event_id


# Portable SQL (SQLite and PostgreSQL): the latest status and assignee are the last events that set them.
_STATE_SQL = """
    SELECT c.case_id, c.run_id, c.cluster_id, c.title, c.opened_by, c.opened_at,
           (SELECT e.status FROM case_events e WHERE e.case_id = c.case_id AND e.status IS NOT NULL
            ORDER BY e.event_id DESC LIMIT 1) AS status,
           (SELECT e.assignee FROM case_events e WHERE e.case_id = c.case_id AND e.assignee IS NOT NULL
            ORDER BY e.event_id DESC LIMIT 1) AS assignee,
           (SELECT max(e.at_time) FROM case_events e WHERE e.case_id = c.case_id) AS updated_at,
           (SELECT count(*) FROM case_events e WHERE e.case_id = c.case_id) AS events
    FROM cases c
    {where}
    ORDER BY c.case_id DESC
"""


def _state(tx: Tx, case_id: int, *, lock: bool = False) -> dict | None:
    return tx.one(_STATE_SQL.format(where="WHERE c.case_id = ?") + (tx.for_update() if lock else ""), [case_id])


def list_cases(db_path: Path | str, *, role: str, run_id: str | None = None, cluster_id: int | None = None) -> pd.DataFrame:
    """Every case with its current state (derived from events), newest first."""
    access.require(role, "brokers.cases")
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if run_id is not None:
        where.append("c.run_id = ?")
        params.append(run_id)
    if cluster_id is not None:
        where.append("c.cluster_id = ?")
        params.append(cluster_id)
    with records(db_path, write=False) as tx:
        return tx.df(_STATE_SQL.format(where="WHERE " + " AND ".join(where)), params)


def history(db_path: Path | str, case_id: int, *, role: str) -> pd.DataFrame:
    """All events of a case in order: event_id, at_time, by_user, status, assignee, note."""
    access.require(role, "brokers.cases")
    with records(db_path, write=False) as tx:
        return tx.df("SELECT event_id, at_time, by_user, status, assignee, note FROM case_events "
                     "WHERE case_id = ? ORDER BY event_id", [case_id])


def confirmed_clusters(db_path: Path | str) -> list[tuple[str, int]]:
    """(run_id, cluster_id) of every case whose current status is ``referred``: a ring an auditor
    confirmed and referred. The detection job (not a user) reads them as its labelled seed set
    (:func:`analytics.brokers.weights.seeded_m`), so no role check and no access-log row."""
    with records(db_path, write=False) as tx:
        df = tx.df(_STATE_SQL.format(where="WHERE c.run_id IS NOT NULL AND c.cluster_id IS NOT NULL"))
    df = df[df["status"] == "referred"]
    return [(str(r), int(c)) for r, c in zip(df["run_id"], df["cluster_id"])]

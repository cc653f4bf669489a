"""Evaluators' decisions on a score: agree or override, always with a reason; append-only and logged.

Decisions live in the records store (``data.records``), which survives retraining and rebuilds.
There is no update or delete here on purpose: a changed mind is a new decision.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from data import access, privacy
from data.records import records


def record(db_path: Path | str, *, user: str, role: str, application_id: int, model: str, model_version: str,
           agrees: bool, reason: str, at: datetime | None = None) -> int:
    """Append one decision and log it; returns its id. A reason is required either way."""
    access.require(role, "scoring.decisions")
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required (agree or override)")
    when = (at or datetime.now()).replace(microsecond=0)
    with records(db_path) as tx:
        decision_id = tx.insert(
            "INSERT INTO evaluator_decisions (application_id, model, model_version, decided_by, decided_at, agrees, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [int(application_id), model, model_version, user, when, bool(agrees), reason], "decision_id")
        privacy.log_in(tx, user, role, "decision",
                       f"application {application_id} {model}/{model_version} {'agree' if agrees else 'override'} #{decision_id}")
    return decision_id


def history(db_path: Path | str, application_id: int, *, role: str) -> pd.DataFrame:
    """Every decision on one application, oldest first."""
    access.require(role, "scoring.decisions")
    with records(db_path, write=False) as tx:
        return tx.df("SELECT decision_id, model, model_version, decided_by, decided_at, agrees, reason "
                     "FROM evaluator_decisions WHERE application_id = ? ORDER BY decision_id", [int(application_id)])

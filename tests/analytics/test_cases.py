"""Audit cases: append-only events, derived state, transitions, access log, and concurrent writers
(threads and processes) that lose nothing."""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
from pathlib import Path

import pytest

from analytics.brokers import cases, suppressions
from data import access
from data.records import records, records_path
from data.synth.plans import PUBLIC_TEMPLATES


def _db(tmp_path: Path) -> Path:
    return tmp_path / "madang.duckdb"   # the records file is created on first use


def test_lifecycle_is_append_only(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cid = cases.open_case(db, run_id="r1", cluster_id=4, title="군집 #4", user="kim", role="auditor", assignee="kim")
    cases.add_event(db, cid, user="lee", role="auditor", status="investigating", note="전화번호 확인")
    cases.add_event(db, cid, user="lee", role="auditor", assignee="park")
    with pytest.raises(ValueError):
        cases.add_event(db, cid, user="lee", role="auditor", status="open")       # no way back to open
    cases.add_event(db, cid, user="park", role="admin", status="referred", note="수사 의뢰")
    state = cases.list_cases(db, role="auditor", run_id="r1", cluster_id=4).iloc[0]
    assert (state["status"], state["assignee"], state["events"]) == ("referred", "park", 4)
    hist = cases.history(db, cid, role="auditor")
    assert hist["event_id"].tolist() == sorted(hist["event_id"])
    assert hist["status"].fillna("-").tolist() == ["open", "investigating", "-", "referred"]
    assert hist["by_user"].tolist() == ["kim", "lee", "lee", "park"]
    with records(db, write=False) as tx:
        log = [tuple(r) for r in tx.execute("SELECT action, user_name FROM access_log ORDER BY log_id").fetchall()]
    assert [a for a, _ in log].count("case_event") == 3 and ("case_open", "kim") in log
    with pytest.raises(access.AccessDenied):
        cases.open_case(db, run_id="r1", cluster_id=1, title="x", user="e", role="evaluator")
    with pytest.raises(ValueError):
        cases.add_event(db, cid, user="lee", role="auditor")                      # nothing to record


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cid = cases.open_case(db, run_id="r", cluster_id=1, title="t", user="u", role="auditor")
    cases.add_event(db, cid, user="u", role="auditor", status="cleared", note="honest accountant")
    # a fresh connection (another process after a restart) sees the committed events
    con = sqlite3.connect(records_path(db))
    assert con.execute("SELECT count(*) FROM case_events WHERE case_id = ?", [cid]).fetchall()[0][0] == 2
    con.close()


def _writer(db: str, case_id: int, who: str, n: int) -> None:
    for i in range(n):
        cases.add_event(db, case_id, user=who, role="auditor", note=f"{who} {i}")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cid = cases.open_case(db, run_id="r", cluster_id=1, title="t", user="u", role="auditor")
    n = 15
    threads = [threading.Thread(target=_writer, args=(str(db), cid, f"t{k}", n)) for k in range(3)]
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db), cid, f"p{k}", n)) for k in range(3)]
    for w in threads + procs:
        w.start()
    for w in threads + procs:
        w.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    hist = cases.history(db, cid, role="auditor")
    notes = set(hist["note"].dropna())
    assert len(hist) == 1 + 6 * n and hist["event_id"].is_unique
    assert notes == {f"{w} {i}" for w in ("t0", "t1", "t2", "p0", "p1", "p2") for i in range(n)}


def test_suppression_list(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert suppressions.seed_templates(db, PUBLIC_TEMPLATES) == len(PUBLIC_TEMPLATES)
    assert suppressions.seed_templates(db, PUBLIC_TEMPLATES) == 0                                   # once only
    suppressions.add(db, "phone", "1588-0000", "콜센터", user="kim", role="auditor")
    with pytest.raises(ValueError):
        suppressions.add(db, "phone", "1", " ", user="kim", role="auditor")       # a reason is required
    supp = suppressions.load(db)
    assert ("phone", "1588-0000") in set(zip(supp["kind"], supp["value"]))
    suppressions.remove(db, "phone", "1588-0000", user="kim", role="auditor")
    assert "1588-0000" not in set(suppressions.load(db)["value"])
    with pytest.raises(access.AccessDenied):
        suppressions.add(db, "phone", "x", "y", user="e", role="evaluator")

"""The records store (data/records.py) on SQLite and on a real PostgreSQL server: acknowledged writes are
never lost under contention (8 processes, one killed), ids come from the database, the database itself
refuses UPDATE and DELETE on append-only tables, and the DuckDB records file of earlier versions migrates."""
from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from analytics.brokers import cases, suppressions
from bench.records import hammer, pg_schema
from data import privacy, records
from scoring import decisions

PG_URL = os.environ.get("MADANG_TEST_PG_URL", "")


def pg_reason() -> str | None:
    if not PG_URL:
        return "no PostgreSQL server: set MADANG_TEST_PG_URL (.ci/run installs Debian's postgresql and sets it)"
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server is a reason to skip
        return f"PostgreSQL at MADANG_TEST_PG_URL not reachable: {str(exc).strip().splitlines()[0]}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data-file path whose records live in SQLite beside it, or in a throwaway PostgreSQL schema."""
    monkeypatch.delenv(records.URL_ENV, raising=False)
    if request.param == "sqlite":
        yield tmp_path / "madang.duckdb"
        return
    reason = pg_reason()
    if reason:
        pytest.skip(reason)
    with pg_schema(PG_URL) as url:
        monkeypatch.setenv(records.URL_ENV, url)
        yield tmp_path / "madang.duckdb"


def test_eight_writers_one_killed_lose_no_acknowledged_event(db: Path) -> None:
    res = hammer(db, writers=8, events=100, kill=True)
    assert res.killed == "w0" and res.exitcodes["w0"] == -signal.SIGKILL
    assert {w: c for w, c in res.exitcodes.items() if w != "w0"} == {f"w{k}": 0 for k in range(1, 8)}  # no writer errors
    hist = cases.history(db, res.case_id, role="auditor")
    written = hist.iloc[1:]                                                   # after the opening event
    stored = dict(zip(written["note"], written["event_id"]))
    assert len(stored) == len(written) and hist["event_id"].is_unique       # each event exactly once
    for writer, acked in res.acked.items():
        for event_id, note in acked:
            assert stored.get(note) == event_id, (writer, note)               # every acknowledged event, with its id
    survivors = {f"w{k} {i}" for k in range(1, 8) for i in range(100)}
    assert survivors <= set(stored)
    # the killed writer: what it was told is stored, plus at most the one event in flight when it died
    assert 33 <= len(res.acked["w0"]) < 100 and len([n for n in stored if n.startswith("w0 ")]) - len(res.acked["w0"]) in (0, 1)
    with records.records(db, write=False) as tx:
        logged = tx.execute("SELECT count(*) FROM access_log WHERE action = 'case_event'").fetchone()[0]
    assert logged == len(hist) - 1                                            # every event has its log row


def test_append_only_is_enforced_by_the_database(db: Path) -> None:
    cid = cases.open_case(db, run_id="r", cluster_id=1, title="t", user="u", role="auditor")
    decisions.record(db, user="e", role="evaluator", application_id=1, model="ktop", model_version="v", agrees=True, reason="ok")
    for sql in ("UPDATE case_events SET note = 'forged'", "DELETE FROM case_events", "UPDATE cases SET title = 'x'",
                "DELETE FROM access_log", "UPDATE evaluator_decisions SET agrees = false", "DELETE FROM evaluator_decisions"):
        with pytest.raises(records.IntegrityErrors, match="append-only"), records.records(db) as tx:
            tx.execute(sql)
    assert len(cases.history(db, cid, role="auditor")) == 1
    # an override without a reason is refused by the schema
    with pytest.raises(records.IntegrityErrors), records.records(db) as tx:
        tx.execute("INSERT INTO evaluator_decisions (application_id, model, model_version, decided_by, decided_at, agrees, reason) "
                   "VALUES (1, 'ktop', 'v', 'x', CURRENT_TIMESTAMP, false, '')")
    suppressions.add(db, "phone", "1588-0000", "콜센터", user="kim", role="auditor")   # the editable list stays editable
    suppressions.remove(db, "phone", "1588-0000", user="kim", role="auditor")
    assert suppressions.load(db).empty


def test_ids_come_from_the_database(db: Path) -> None:
    a = cases.open_case(db, run_id="r", cluster_id=1, title="a", user="u", role="auditor")
    b = cases.open_case(db, run_id="r", cluster_id=2, title="b", user="u", role="auditor")
    e = cases.add_event(db, a, user="u", role="auditor", note="n")
    with records.records(db, write=False) as tx:
        assert tx.execute("SELECT max(event_id) FROM case_events").fetchone()[0] == e
    assert b == a + 1
    with records.records(db) as tx:   # the schema gives the id: an insert naming none gets the next one
        d = tx.insert("INSERT INTO cases (title, opened_by, opened_at) VALUES ('x', 'u', CURRENT_TIMESTAMP)", [], "case_id")
    assert d == b + 1


_LEGACY = """
CREATE TYPE model_t AS ENUM ('ktop', 'kvalue');
CREATE TYPE case_status_t AS ENUM ('open', 'investigating', 'referred', 'cleared');
CREATE TYPE role_t AS ENUM ('policy', 'evaluator', 'auditor', 'admin');
CREATE TABLE evaluator_decisions (decision_id BIGINT PRIMARY KEY, application_id BIGINT NOT NULL, model model_t NOT NULL,
    model_version VARCHAR NOT NULL, decided_by VARCHAR NOT NULL, decided_at TIMESTAMP NOT NULL, agrees BOOLEAN NOT NULL, reason VARCHAR);
CREATE TABLE broker_suppressions (kind VARCHAR NOT NULL, value VARCHAR NOT NULL, reason VARCHAR NOT NULL,
    added_by VARCHAR NOT NULL, added_at TIMESTAMP NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE cases (case_id BIGINT PRIMARY KEY, run_id VARCHAR, cluster_id INTEGER, title VARCHAR NOT NULL,
    opened_by VARCHAR NOT NULL, opened_at TIMESTAMP NOT NULL);
CREATE TABLE case_events (event_id BIGINT PRIMARY KEY, case_id BIGINT NOT NULL REFERENCES cases (case_id),
    at_time TIMESTAMP NOT NULL, by_user VARCHAR NOT NULL, status case_status_t, assignee VARCHAR, note VARCHAR);
CREATE TABLE access_log (at_time TIMESTAMP NOT NULL, user_name VARCHAR NOT NULL, role role_t NOT NULL,
    action VARCHAR NOT NULL, object VARCHAR);
INSERT INTO evaluator_decisions VALUES (4, 17, 'kvalue', 'v1', 'kim', TIMESTAMP '2026-03-01 10:00:00', false, '매출 과대');
INSERT INTO broker_suppressions VALUES ('phone', '1588-0000', '콜센터', 'lee', TIMESTAMP '2026-03-01 11:00:00');
INSERT INTO cases VALUES (7, 'run-a', 3, '군집 #3', 'lee', TIMESTAMP '2026-03-02 09:00:00');
INSERT INTO case_events VALUES (11, 7, TIMESTAMP '2026-03-02 09:00:00', 'lee', 'open', 'lee', NULL);
INSERT INTO case_events VALUES (12, 7, TIMESTAMP '2026-03-03 09:00:00', 'park', 'investigating', NULL, '전화 확인');
INSERT INTO access_log VALUES (TIMESTAMP '2026-03-02 09:00:00', 'lee', 'auditor', 'case_open', 'case 7');
"""


def test_the_duckdb_records_file_of_earlier_versions_migrates(db: Path) -> None:
    con = duckdb.connect(str(records.legacy_path(db)))
    con.execute(_LEGACY)
    con.close()
    if os.environ.get(records.URL_ENV):
        assert records.main(["--db", str(db), "migrate"]) == 0        # PostgreSQL: by the command
        assert records.main(["--db", str(db), "migrate"]) == 2        # never copied twice
    # SQLite: by itself, when the new file is created beside the old one
    state = cases.list_cases(db, role="auditor").iloc[0]
    assert (state["case_id"], state["status"], state["assignee"], state["events"]) == (7, "investigating", "lee", 2)
    assert cases.history(db, 7, role="auditor")["event_id"].tolist() == [11, 12]
    hist = decisions.history(db, 17, role="evaluator")
    assert (hist["decision_id"].tolist(), hist["model"].tolist(), hist["agrees"].tolist()) == ([4], ["kvalue"], [False])
    assert list(zip(suppressions.load(db)["kind"], suppressions.load(db)["value"])) == [("phone", "1588-0000")]
    assert privacy.recent_access(db, "admin")["action"].tolist() == ["case_open"]
    # new ids continue after the migrated ones
    assert cases.add_event(db, 7, user="u", role="auditor", note="after") > 12
    assert cases.open_case(db, run_id="r", cluster_id=1, title="t", user="u", role="auditor") > 7


def test_the_sqlite_file_is_owner_only_and_a_corrupt_one_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(records.URL_ENV, raising=False)
    db = tmp_path / "madang.duckdb"
    privacy.log_access(db, "a", "admin", "sign_in")
    path = records.records_path(db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bad = tmp_path / "bad.duckdb"
    records.records_path(bad).write_bytes(b"this is not a database" * 100)
    with pytest.raises(records.RecordsError, match="cannot be read"):
        privacy.log_access(bad, "a", "admin", "sign_in")


def test_a_records_url_that_is_not_postgresql_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(records.URL_ENV, "mysql://x@y/z")
    with pytest.raises(records.RecordsError, match="postgresql://"):
        privacy.log_access(tmp_path / "m.duckdb", "a", "admin", "sign_in")

"""Background jobs (data/jobs.py): the real batch commands as detached processes, with records."""
from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from data import jobs
from data.db import data_version
from tests.data.fixtures_load import FIRMS_HEADER, FIRMS_ROWS, csv_text


def _wait(db: Path, job_id: str, limit_s: float = 300) -> jobs.Job:
    deadline = time.monotonic() + limit_s
    while True:
        job = jobs.get(db, job_id)
        assert job is not None
        if not job.active:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.status}: {jobs.log_tail(db, job_id)}"
        time.sleep(0.2)


def _firms(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM firms").fetchone()[0]


def test_an_uploaded_import_runs_as_a_job_and_its_files_are_removed(tiny_db_copy: Path) -> None:
    before = _firms(tiny_db_copy)
    folder = jobs.save_uploads(tiny_db_copy, [("firms.csv", csv_text(FIRMS_HEADER, FIRMS_ROWS).encode("utf-8"))])
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct((folder / "firms.csv").stat().st_mode & 0o777) == "0o600"
    job = jobs.start(tiny_db_copy, "import", by="admin", folder=folder)
    assert job.status == "queued" and job.by == "admin"
    done = _wait(tiny_db_copy, job.id)
    assert done.status == "done", jobs.log_tail(tiny_db_copy, job.id)
    assert (done.step, done.steps, done.returncode, done.fraction) == (1, 1, 0, 1.0)
    assert _firms(tiny_db_copy) == before + len(FIRMS_ROWS)
    assert not folder.exists()                                     # uploaded files are not kept
    assert "data.load" in jobs.log_tail(tiny_db_copy, job.id)      # the admin's log names the command


def test_a_rejected_import_fails_with_the_reason_and_changes_nothing(tiny_db_copy: Path) -> None:
    version = data_version(tiny_db_copy)
    bad = [[*FIRMS_ROWS[0][:6], "gigantic", *FIRMS_ROWS[0][7:]]]   # not a size class
    folder = jobs.save_uploads(tiny_db_copy, [("firms.csv", csv_text(FIRMS_HEADER, bad).encode("utf-8"))])
    done = _wait(tiny_db_copy, jobs.start(tiny_db_copy, "import", by="admin", folder=folder).id)
    assert done.status == "failed" and done.returncode not in (0, None) and done.error
    assert data_version(tiny_db_copy) == version
    assert jobs.latest(tiny_db_copy, "data").id == done.id and jobs.pending(tiny_db_copy, "data") is None


def test_jobs_of_one_file_run_one_at_a_time(tiny_db_copy: Path) -> None:
    folders = [jobs.save_uploads(tiny_db_copy, [("firms.csv", csv_text(FIRMS_HEADER, [row]).encode("utf-8"))])
               for row in FIRMS_ROWS[:2]]
    started = [jobs.start(tiny_db_copy, "import", by="admin", folder=f) for f in folders]
    done = [_wait(tiny_db_copy, j.id) for j in started]
    assert [j.status for j in done] == ["done", "done"], [jobs.log_tail(tiny_db_copy, j.id) for j in done]
    spans = sorted((datetime.fromisoformat(j.started_at), datetime.fromisoformat(j.ended_at)) for j in done)
    assert spans[0][1] <= spans[1][0]                               # the second began after the first ended
    assert [j.id for j in jobs.jobs(tiny_db_copy)] == sorted((j.id for j in done), reverse=True)


def test_a_killed_job_is_reported_as_failed(tiny_db_copy: Path) -> None:
    job = jobs.start(tiny_db_copy, "brokers", by="admin")
    assert jobs.start(tiny_db_copy, "brokers", by="someone else").id == job.id   # no second equal job
    os.killpg(job.pid, signal.SIGKILL)                              # the runner and its command
    deadline = time.monotonic() + 30
    while (now := jobs.get(tiny_db_copy, job.id)).active:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert now.status == "failed" and "interrupted" in now.error


def test_uploads_keep_only_base_names_and_kinds_are_checked(tiny_db_copy: Path) -> None:
    folder = jobs.save_uploads(tiny_db_copy, [("../../outside.csv", b"x")])
    assert [p.name for p in folder.iterdir()] == ["outside.csv"]
    with pytest.raises(ValueError):
        jobs.save_uploads(tiny_db_copy, [("..", b"x")])
    with pytest.raises(ValueError):
        jobs.start(tiny_db_copy, "rm -rf", by="admin")
    with pytest.raises(ValueError):
        jobs.start(tiny_db_copy, "train", by="admin", folder=folder)

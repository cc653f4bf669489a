"""A job killed mid-way leaves its copy of the data file (and an import's work folder) behind: the next
job removes them, and every file holding personal data is owner-only."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from data.db import attach_run, get_meta, run_ids, run_writer, runs_root, settled, writer
from data.load.importer import load_dir
from tests.data.fixtures_load import FIRMS_HEADER, FIRMS_ROWS, write_csv

ROOT = Path(__file__).resolve().parents[2]

_KILLED_JOB = """
import os, signal, sys
from data.db import settled, writer
with writer(sys.argv[1]) as con:
    con.execute("INSERT INTO meta VALUES ('half', 'done')")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_a_killed_writer_leaves_a_copy_the_next_one_removes(tmp_path: Path) -> None:
    db = tmp_path / "madang.duckdb"
    with writer(db, create=True) as con:
        con.execute("INSERT INTO meta VALUES ('k', 'v')")
    assert _mode(db) == 0o600
    run = subprocess.run([sys.executable, "-c", _KILLED_JOB, str(db)], cwd=ROOT, capture_output=True, timeout=120)
    assert run.returncode == -9
    left = [p for p in tmp_path.iterdir() if p.name.startswith(f".{db.name}.")]
    assert left                                                    # the killed job's copy is there ...
    for p in left:                                                 # ... and not readable by anyone else
        assert _mode(p) & 0o077 == 0, (p, oct(_mode(p)))
    with writer(db) as con:                                        # the next job removes it
        inside = [p for p in tmp_path.iterdir() if p.name.startswith(f".{db.name}.")]
        assert len(inside) == 1 and _mode(inside[0]) == 0o700      # only its own, owner-only work folder
    settled()                                                      # its own is removed behind it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{db.name}.")]
    assert _mode(db) == 0o600
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'half'").fetchone()[0] == 0


def test_an_import_removes_the_work_folders_of_killed_imports(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.gettempdir()) / f"madang-load-{dead.pid}-abc123"
    live = Path(tempfile.gettempdir()) / f"madang-load-{os.getpid()}-abc123"
    for d in (stale, live):
        d.mkdir(exist_ok=True)
        (d / "firms.csv").write_text("personal", encoding="utf-8")
    try:
        src = tmp_path / "in"
        src.mkdir()
        write_csv(src / "firms.csv", FIRMS_HEADER, FIRMS_ROWS)
        load_dir(src, tmp_path / "madang.duckdb")
        assert not stale.exists() and live.exists()               # a running process's folder is left alone
        assert _mode(tmp_path / "madang.duckdb") == 0o600
    finally:
        for d in (stale, live):
            if d.exists():
                for f in d.iterdir():
                    f.unlink()
                d.rmdir()


def test_a_run_file_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    """A run writer that fails leaves no run file and no work folder; a killed one's work folder
    is removed by the next; a stored run file is owner-only; a run of data replaced since the job
    read it is refused."""
    path = tmp_path / "madang.duckdb"
    with writer(path, create=True):
        pass
    with duckdb.connect(str(path), read_only=True) as con:
        seen = get_meta(con)["data_version"]
    with pytest.raises(ValueError), run_writer(path, "r1", seen=seen) as con:
        con.execute("INSERT INTO broker_runs VALUES ('r1', now(), '{}')")
        raise ValueError("the job failed while storing")
    assert list(runs_root(path).iterdir()) == []
    killed = runs_root(path) / f".{2**22 + 1}.0badf00d.tmp"   # a work folder whose job no longer runs
    killed.mkdir()
    with run_writer(path, "r2", seen=seen) as con:
        con.execute("INSERT INTO broker_runs VALUES ('r2', now(), '{}')")
    stored, = runs_root(path).iterdir()
    assert stored.name.endswith(".r2.duckdb") and _mode(stored) == 0o600
    with duckdb.connect(str(path), read_only=True) as con:
        assert run_ids(con) == ["r2"]
        assert con.execute(f"SELECT run_id FROM {attach_run(con, 'r2')}.broker_runs").fetchall() == [("r2",)]
    with pytest.raises(RuntimeError, match="replaced while the detection ran"), run_writer(path, "r3", seen="before"):
        pass
    assert [p.name for p in runs_root(path).iterdir()] == [stored.name]


def test_the_replaced_file_is_freed_behind_the_writer(tmp_path: Path) -> None:
    """A writer keeps a second link to the file it replaces and removes it on a thread: a reader
    that opened the old file still reads it whole; after :func:`settled` no work folder is left,
    and the old file is gone once its reader closes."""
    db = tmp_path / "madang.duckdb"
    with writer(db, create=True) as con:
        con.execute("INSERT INTO meta VALUES ('k', 'old')")
    old = open(db, "rb")   # held across the replace, as a reader's connection would be
    try:
        size = os.fstat(old.fileno()).st_size
        with writer(db) as con:
            con.execute("UPDATE meta SET value = 'new' WHERE key = 'k'")
        settled()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{db.name}.")]
        assert len(old.read()) == size and os.fstat(old.fileno()).st_nlink == 0
    finally:
        old.close()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'k'").fetchone()[0] == "new"

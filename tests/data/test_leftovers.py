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

from data.db import settled, writer
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


def test_a_writer_starts_from_a_snapshot_only_of_the_unchanged_file(tmp_path: Path, monkeypatch) -> None:
    """A snapshot taken ahead (while a job computes) replaces the writer's own copy; if another
    writer replaced the file meanwhile, the writer copies the new file and drops the snapshot."""
    import shutil

    from data import db as data_db

    path = tmp_path / "madang.duckdb"
    with writer(path, create=True) as con:
        con.execute("INSERT INTO meta VALUES ('k', 'first')")
    snap = data_db.snapshot(path)
    assert snap.identity is not None and _mode(snap.work) == 0o700 and snap.path.exists()
    copies: list[str] = []
    real_copy = shutil.copyfile
    monkeypatch.setattr(data_db.shutil, "copyfile", lambda a, b: copies.append(str(a)) or real_copy(a, b))
    with writer(path, snapshot=snap) as con:                        # unchanged: no second copy
        con.execute("INSERT INTO meta VALUES ('used', 'snapshot')")
    assert copies == [] and not snap.work.exists()
    stale = data_db.snapshot(path)
    with writer(path) as con:                                       # an import lands meanwhile
        con.execute("UPDATE meta SET value = 'second' WHERE key = 'k'")
    with writer(path, snapshot=stale) as con:                       # the snapshot is of the old file
        assert con.execute("SELECT value FROM meta WHERE key = 'k'").fetchone()[0] == "second"
    assert len(copies) == 3 and not stale.work.exists()              # the snapshot, the import, the writer
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'used'").fetchone()[0] == 1
    # a snapshot is no writer's copy: a writer holding the lock leaves a live job's snapshot alone
    live = data_db.snapshot(path)
    with writer(path):
        assert live.path.exists()
    live.discard()


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

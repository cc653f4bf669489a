"""The one place that opens Madang Insight's databases.

Two DuckDB files sit side by side:

* the **data** file (``madang.duckdb``): reference tables, firms, programs, applications, survey,
  synthetic truth and batch outputs (scores, SHAP, broker clusters). The app reads it through one
  read-only connection. Batch jobs (build, import, training, broker detection) write through
  :func:`writer`, which works on a copy and swaps it in atomically: a job that fails leaves the
  database exactly as it was, and the running app keeps serving the old file until it sees the new one.
* the **records** (cases, case events, evaluator decisions, suppressions, access log) are not DuckDB:
  several processes append to them at once, so they live in a transactional store, see
  :mod:`data.records` (the one way in).

Neither module here imports streamlit; the app caches the connections (see ``ui/cache.py``).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
# Summary tables (one idempotent `CREATE OR REPLACE TABLE summary_* AS ...` file per view) that every
# writer refreshes before it commits: pages read these instead of scanning millions of raw rows.
SUMMARIES_DIR = Path(__file__).with_name("summaries")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_ROWS_MARK = "-- @data-rows"


DEFAULT_DB = PROJECT_ROOT / "var" / "madang.duckdb"


def default_db_path() -> Path:
    """The data file: ``$MADANG_DB`` or ``var/madang.duckdb`` in the project."""
    return Path(os.environ.get("MADANG_DB", DEFAULT_DB))


def is_default(db_path: Path | str) -> bool:
    """Whether ``db_path`` is the project's own default data file, the only one the app may build by itself
    (a missing file anywhere else is a mistake to report, not a national build to start)."""
    return Path(db_path).resolve() == Path(DEFAULT_DB).resolve()


def users_path(db_path: Path | str) -> Path:
    """The users file of earlier versions that belongs to a data file (imported once into the records store, see data/users.py)."""
    p = Path(db_path)
    return p.with_name(p.stem + ".users.json")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the data tables and reference rows in an empty data database."""
    tables, rows = SCHEMA_PATH.read_text(encoding="utf-8").split(_ROWS_MARK, 1)
    con.execute(tables)
    con.execute(rows.split("\n", 1)[1])


def refresh_summaries(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild every summary table from the current data; returns the files run, in order."""
    done = []
    for sql_file in sorted(SUMMARIES_DIR.glob("*.sql")):
        con.execute(sql_file.read_text(encoding="utf-8"))
        done.append(sql_file.name)
    return done


def data_version(db_path: Path | str) -> str:
    """A key that changes whenever the data file is replaced (build, import, batch job).

    Cheap enough to call on every rerun: it is a stat, not a query.
    """
    st = Path(db_path).stat()
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def connect_read_only(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection for views. Share one per process and take ``.cursor()`` per thread."""
    p = Path(db_path)
    if not p.exists():
        raise FileNotFoundError(f"no database at {p}: build one with `python -m data.build --db {p}`")
    return duckdb.connect(str(p), read_only=True)


def set_meta(con: duckdb.DuckDBPyConnection, **values: object) -> None:
    """Upsert build metadata (source, scale, seed, built_at, ...)."""
    for key, value in values.items():
        con.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, str(value)],
        )


def get_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another job is writing {path.with_suffix('')}; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class Snapshot:
    """A copy of the data file made without the writer's lock (:func:`snapshot`)."""

    source: Path
    work: Path
    identity: tuple[int, int, int] | None   # the source's (inode, size, mtime) while it was copied; None: it changed

    @property
    def path(self) -> Path:
        return self.work / self.source.name

    def discard(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def snapshot(db_path: Path | str) -> Snapshot:
    """Copy the data file now, for a later :func:`writer` to start from (``writer(..., snapshot=)``).

    A long job (broker detection) copies while it computes instead of after: at national scale the
    copy alone is two minutes. Readers never change the file and every writer replaces it whole
    (``os.replace``), so while the file's identity (inode, size, mtime) is unchanged the copy is
    the file; the writer checks that under its lock and copies afresh otherwise. Snapshots are
    named apart from writers' copies, which a writer holding the lock may remove as stale."""
    path = Path(db_path)
    prefix = f".{path.name}.snapshot."
    remove_stale_temp(path.parent, prefix)
    work = path.with_name(f"{prefix}{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    work.mkdir(mode=0o700)   # personal data: owner-only, as the writer's copy
    try:
        before = _identity(path)
        shutil.copyfile(path, work / path.name)
        return Snapshot(path, work, before if _identity(path) == before else None)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


# A replaced data file's blocks are freed when its last link goes: 8.8 s for 16 GB on this ext4
# disk, which a writer paid inside os.replace before its job could end. A writer's work folder (its
# copy, or after the replace a second link to the replaced file) is removed on a thread of its
# own. The threads are not daemons, so the interpreter waits for them at exit; a folder that a
# killed process leaves is a stale work folder, which the next writer removes.
_removals: list[threading.Thread] = []


def settled() -> None:
    """Wait until the work folders of finished writers are removed (their replaced files freed)."""
    while _removals:
        _removals.pop().join()


def _remove_behind(work: Path) -> None:
    removal = threading.Thread(target=shutil.rmtree, args=(work,), kwargs={"ignore_errors": True},
                               name="writer-removal")
    removal.start()
    _removals.append(removal)


@contextmanager
def writer(db_path: Path | str, *, create: bool = False, summaries: bool = True,
           snapshot: Snapshot | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writer for batch jobs: all-or-nothing, atomic replacement of the data file.

    Works on a copy of the file (or, with ``create=True``, on a new file with the schema) and only
    on success refreshes the summary tables and replaces the original with ``os.replace``. An exception inside the block leaves the
    original byte-for-byte as it was. The work folder is removed behind (:func:`settled` waits). A second writer of the same file fails at once with a clear
    error instead of waiting, so two jobs never overwrite each other's results.
    ``summaries=False`` skips refreshing the summary tables, for a job that writes nothing they read
    (broker results); at national scale the refresh is minutes. ``snapshot`` (:func:`snapshot`)
    is used instead of a new copy when the file has not changed since it was taken; it is removed
    either way.
    """
    path = Path(db_path)
    with _file_lock(path.with_name(path.name + ".lock")):
        # holding the lock, no other writer runs: any work folder left beside the file is a killed job's
        remove_stale_temp(path.parent, f".{path.name}.", any_pid=True)
        # the copy holds personal data: it is made inside an owner-only folder (DuckDB creates its
        # file and WAL with the default mode), and made owner-only itself before it replaces the original
        work = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        work.mkdir(mode=0o700)
        tmp = work / path.name
        try:
            if create:
                con = duckdb.connect(str(tmp))
                create_schema(con)
            else:
                if not path.exists():
                    raise FileNotFoundError(f"no database at {path}: build one with `python -m data.build --db {path}`")
                if (snapshot is not None and snapshot.source == path and snapshot.identity is not None
                        and snapshot.path.exists() and _identity(path) == snapshot.identity):
                    os.replace(snapshot.path, tmp)
                else:
                    shutil.copyfile(path, tmp)
                con = duckdb.connect(str(tmp))
            try:
                yield con
                if summaries:
                    refresh_summaries(con)
                set_meta(con, data_version=uuid.uuid4().hex, written_at=datetime.now().isoformat(timespec="seconds"))
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.chmod(tmp, 0o600)
            with contextlib.suppress(OSError):   # none yet (create), or no hard links: freed in os.replace
                os.link(path, work / "replaced")
            os.replace(tmp, path)
        finally:
            _remove_behind(work)
            if snapshot is not None:
                snapshot.discard()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # someone else's live process
    return True


def remove_stale_temp(folder: Path, prefix: str, *, any_pid: bool = False) -> list[Path]:
    """Remove what killed jobs left in ``folder``: entries named ``<prefix><pid>.…`` / ``<prefix><pid>-…``
    whose process no longer runs (all of them with ``any_pid``, when the caller holds the writer's lock).

    A job killed with SIGKILL runs no cleanup, and its copy of the data file is as large and as
    personal as the original; the next job of the same kind removes it. Returns what was removed.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    pattern = re.compile(re.escape(prefix) + r"(\d+)[.-]")
    for entry in folder.iterdir():
        m = pattern.match(entry.name)
        if not m or (not any_pid and _pid_alive(int(m.group(1)))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed

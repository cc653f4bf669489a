"""The one place that opens Madang Insight's databases.

Two stores sit side by side:

* the **data** file (``madang.duckdb``): reference tables, firms, programs, applications, survey,
  synthetic truth and batch outputs (scores, SHAP, matching evaluations). The app reads it through
  one read-only connection. Batch jobs (build, import, training) write through :func:`writer`,
  which works on a copy and swaps it in atomically: a job that fails leaves the database exactly as
  it was, and the running app keeps serving the old file until it sees the new one. Broker
  detection runs are files of their own beside it (:func:`run_writer`, :func:`attach_run`).
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
from datetime import datetime
from pathlib import Path

import duckdb

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
# Summary tables (one idempotent `CREATE OR REPLACE TABLE summary_* AS ...` file per view) that every
# writer refreshes before it commits: pages read these instead of scanning millions of raw rows.
SUMMARIES_DIR = Path(__file__).with_name("summaries")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_RUN_MARK = "-- @run-tables"
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


def _schema() -> tuple[str, str, str]:
    """schema.sql's three parts: the data file's tables, a run file's tables, the reference rows."""
    tables, rest = SCHEMA_PATH.read_text(encoding="utf-8").split(_RUN_MARK, 1)
    run_tables, rows = rest.split(_ROWS_MARK, 1)
    return tables, run_tables.split("\n", 1)[1], rows.split("\n", 1)[1]


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the data tables and reference rows in an empty data database."""
    tables, _, rows = _schema()
    con.execute(tables)
    con.execute(rows)


def refresh_summaries(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild every summary table from the current data; returns the files run, in order."""
    done = []
    for sql_file in sorted(SUMMARIES_DIR.glob("*.sql")):
        con.execute(sql_file.read_text(encoding="utf-8"))
        done.append(sql_file.name)
    return done


def data_version(db_path: Path | str) -> str:
    """A key that changes whenever the data file is replaced (build, import, batch job) or a run
    is stored beside it (:func:`run_writer`).

    Cheap enough to call on every rerun: two stats, not a query.
    """
    st = Path(db_path).stat()
    try:   # a run file renamed into (or removed from) the runs folder changes the folder's mtime
        runs = runs_root(db_path).stat().st_mtime_ns
    except FileNotFoundError:
        runs = 0
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}-{runs}"


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
def _writer_lock(db_path: Path) -> Iterator[None]:
    """The data file's writer lock (``<data file>.lock``), taken at once or refused."""
    lock = db_path.with_name(db_path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another job is writing {db_path}; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
def writer(db_path: Path | str, *, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writer for batch jobs: all-or-nothing, atomic replacement of the data file.

    Works on a copy of the file (or, with ``create=True``, on a new file with the schema) and only
    on success refreshes the summary tables and replaces the original with ``os.replace``. An exception inside the block leaves the
    original byte-for-byte as it was. The work folder is removed behind (:func:`settled` waits). A second writer of the same file fails at once with a clear
    error instead of waiting, so two jobs never overwrite each other's results.
    A new file gets a new ``lineage`` (the runs beside it are its own, see :func:`run_writer`).
    """
    path = Path(db_path)
    with _writer_lock(path):
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
                set_meta(con, lineage=uuid.uuid4().hex)
            else:
                if not path.exists():
                    raise FileNotFoundError(f"no database at {path}: build one with `python -m data.build --db {path}`")
                shutil.copyfile(path, tmp)
                con = duckdb.connect(str(tmp))
            try:
                yield con
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


# ---------------------------------------------------------------- run files
# A broker detection run's results (clusters, members, links: millions of rows at national scale)
# are a DuckDB file of their own beside the data file, written once and never changed: stored
# in the data file, every run would go through the writer's copy of it (16 GB at national scale,
# a minute of the job's time beside its CPU work). A run file belongs to the data file's lineage
# (a new file gets a new one; imports keep it, as they keep the data the run describes), so a
# rebuilt file starts with no runs, as it did when the runs were its tables.


def runs_root(db_path: Path | str) -> Path:
    """The folder of the run files beside a data file (``<data file>.runs``)."""
    p = Path(db_path)
    return p.with_name(p.name + ".runs")


def db_path_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind an open connection's current database (None in memory)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def _lineage(meta: dict[str, str]) -> str:
    # a file made before lineages were kept: its build time, which its imports kept as well
    return re.sub(r"[^0-9A-Za-z]", "", meta.get("lineage") or meta.get("built_at") or "") or "none"


def _run_file(db_path: Path, meta: dict[str, str], run_id: str) -> Path:
    """Where a run of the data described by ``meta`` is (or would be) stored."""
    return runs_root(db_path) / f"{_lineage(meta)}.{run_id}.duckdb"


def run_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The runs stored for the data behind ``con``, newest first (run ids begin with their time)."""
    path = db_path_of(con)
    if path is None or not runs_root(path).is_dir():
        return []
    pattern = _run_file(path, get_meta(con), "*")
    head, tail = pattern.name.split("*")
    return sorted((f.name[len(head):-len(tail)] for f in pattern.parent.glob(pattern.name)), reverse=True)


def run_file(con: duckdb.DuckDBPyConnection, run_id: str) -> Path | None:
    """The file of a run of the data behind ``con`` (None when it has no such run)."""
    path = db_path_of(con)
    file = _run_file(path, get_meta(con), run_id) if path is not None else None
    return file if file is not None and file.exists() else None


def attach_run(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The catalog name of a run's file, attached read-only to ``con``'s instance (once: the file
    never changes); raises LookupError when the data behind ``con`` has no such run."""
    file = run_file(con, run_id)
    if file is None:
        raise LookupError(f"no broker run {run_id}")
    alias = "run_" + re.sub(r"\W", "_", run_id)
    con.execute(f"ATTACH IF NOT EXISTS '{str(file).replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
    return alias


@contextmanager
def run_writer(db_path: Path | str, run_id: str, *, seen: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new run file, for a job that read the data file at its meta ``data_version`` ``seen``.

    All or nothing: the file is written in a work folder and renamed into place when the block
    ends without an exception. The data file's writer lock is held throughout, so no import
    replaces the file meanwhile; if one did since the job read it, nothing is stored (the run
    would describe data that is no longer there). Run files of other lineages (the data of a
    rebuilt file) are removed."""
    path = Path(db_path)
    root = runs_root(path)
    with _writer_lock(path):
        con = connect_read_only(path)
        try:
            meta = get_meta(con)
        finally:
            con.close()
        if meta.get("data_version", "") != seen:
            raise RuntimeError(f"{path} was replaced while the detection ran (an import or a rebuild): "
                               "nothing was stored; run the job again")
        root.mkdir(mode=0o700, exist_ok=True)   # personal data (the links' identifiers): owner-only
        remove_stale_temp(root, ".", any_pid=True)   # holding the lock: a killed job's
        work = root / f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        work.mkdir(mode=0o700)
        try:
            tmp = work / "run.duckdb"
            con = duckdb.connect(str(tmp))
            try:
                con.execute(_schema()[1])
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.chmod(tmp, 0o600)
            final = _run_file(path, meta, run_id)
            os.replace(tmp, final)
            lineage = _lineage(meta) + "."
            for other in root.glob("*.duckdb"):
                if not other.name.startswith(lineage):
                    other.unlink(missing_ok=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


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

"""First visit and rerun of every page, as the app serves it (app.py through AppTest), at scale 1.

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.pages [--db var/bench/pages_scale1.duckdb] [--reruns 5]

For each registered page, as the first role that may open it (admin for the admin page):

* ``cold``: the first visit (a link to the page opened in a new session) right after the data
  changed, with every cache empty (what the first visitor after a batch job would wait without
  the warming in ui/cache.py);
* ``first``: a new session's first visit once the caches are warm (another user, a new tab);
* ``rerun``: the median of plain reruns of the open page (a widget click without new data).

Targets (issue 21): first visit <= 2 s, rerun <= 0.3 s; the figures are printed, never asserted.
The database is a copy of the shared scale-1 file (var/bench/scale1.duckdb, built with seed 42 if
missing) with the batch jobs run on it through data.jobs (training and broker detection), so the
scoring and broker pages show stored results, as after `make app`'s first start.
Writes bench/out/pages.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import BENCH_DIR, write_json

FIRST_TARGET_S = 2.0
RERUN_TARGET_S = 0.3


def _prepare(db: Path, source: Path, *, run_jobs: bool = True) -> None:
    """The benchmark's database: a copy of the scale-1 file, with models and broker runs stored."""
    import duckdb

    from data import jobs
    from data.build import build
    from data.db import run_ids, users_path
    from data.users import DEMO_USERS, add_user, list_users

    if not db.exists():
        if not source.exists():
            print(f"building {source} (scale 1, seed 42) ...", flush=True)
            build(source, scale=1.0, seed=42)
        shutil.copyfile(source, db)
    con = duckdb.connect(str(db), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    trained = "model_versions" in tables and (con.execute("SELECT count(*) FROM model_versions").fetchone() or (0,))[0]
    detected = bool(run_ids(con))
    con.close()
    if run_jobs and (not trained or not detected):
        started = jobs.start(db, "setup", by="bench")
        print(f"running the setup job {started.id} (training, broker detection) on {db} ...", flush=True)
        while (job := jobs.get(db, started.id)) is not None and job.active:
            time.sleep(5)
        if job is None or job.status != "done":
            raise SystemExit(f"the setup job failed: {job.error if job else 'no record'}")
        print(f"  done in {job.elapsed_s():.0f} s", flush=True)
    if len(list_users(users_path(db))) < len(DEMO_USERS):
        for name, (password, role) in DEMO_USERS.items():
            add_user(users_path(db), name, password, role, rounds=4)


def _visit(role: str, path: str, timeout: float, query: dict[str, str] | None = None) -> tuple[Any, float]:
    """A new session of ``role`` opening a link to ``path`` (with ``query``); the seconds of its run
    (the session's first run is the page itself, as when a browser opens the link)."""
    from streamlit.testing.v1 import AppTest

    from bench.harness import APP

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["auth"] = {"user": role, "role": role}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(path)
    t = time.perf_counter()
    at.run()
    return at, time.perf_counter() - t


# every page's default view, then the tabs that read stored results of a batch job
EXTRA_VIEWS: tuple[tuple[str, dict[str, str]], ...] = (
    ("matching", {"tab": "evaluation"}), ("matching", {"tab": "gaps"}),
    ("scoring", {"tab": "global"}), ("scoring", {"tab": "card"}), ("brokers", {"tab": "why"}),
)


def measure(reruns: int, timeout: float) -> list[dict[str, object]]:
    """Cold, first and rerun seconds of every registered page, and of :data:`EXTRA_VIEWS`."""
    from streamlit.runtime.pages_manager import PagesManager

    import app
    from bench.harness import served_pages_init, served_script_cache
    from data import access
    from ui import cache, preload

    PagesManager.__init__ = served_pages_init()  # type: ignore[method-assign]
    served_script_cache()          # pages compiled once, as the server does
    t = time.perf_counter()
    preload.import_all(preload.page_imports())   # what serve.py starts in the background at start
    print(f"page imports preloaded in {time.perf_counter() - t:.1f} s (as serve.py does at start)", flush=True)
    # the shell's own queries (sidebar, filters) are warm in a running server: warm them once here
    _visit("admin", app.PAGES[0].path, timeout)
    rows = []
    specs = {spec.key: spec for spec in app.PAGES}
    for key, query in [(spec.key, {}) for spec in app.PAGES] + list(EXTRA_VIEWS):
        spec = specs[key]
        role = next(r for r in access.ROLES if r in spec.roles)
        cache.clear()
        _visit("admin", app.PAGES[0].path, timeout)  # shell queries back, the page's own are cold
        at, cold = _visit(role, spec.path, timeout, query)
        _, first = _visit(role, spec.path, timeout, query)
        times = []
        for _ in range(reruns):
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
        rerun = statistics.median(times)
        errors = [str(e.value)[:200] for e in at.exception]
        view = key + "".join(f"?{k}={v}" for k, v in query.items())
        rows.append({"page": view, "role": role, "cold_s": round(cold, 3), "first_s": round(first, 3),
                     "rerun_s": round(rerun, 3), "errors": errors})
        flag = lambda v, target: "ok" if v <= target else "SLOW"  # noqa: E731
        print(f"{view:22s} {role:9s} cold {cold:6.2f} s   first {first:6.2f} s ({flag(first, FIRST_TARGET_S)})"
              f"   rerun {rerun:6.3f} s ({flag(rerun, RERUN_TARGET_S)})" + (f"   ERRORS {errors}" if errors else ""),
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=BENCH_DIR / "pages_scale1.duckdb")
    ap.add_argument("--source", type=Path, default=BENCH_DIR / "scale1.duckdb")
    ap.add_argument("--reruns", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds one AppTest run may take")
    ap.add_argument("--no-jobs", action="store_true", help="measure the file as it is (no training or detection first)")
    args = ap.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    _prepare(args.db, args.source, run_jobs=not args.no_jobs)
    os.environ["MADANG_DB"] = str(args.db)
    rows = measure(args.reruns, args.timeout)
    write_json("pages", {"db": str(args.db), "first_target_s": FIRST_TARGET_S, "rerun_target_s": RERUN_TARGET_S,
                         "pages": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

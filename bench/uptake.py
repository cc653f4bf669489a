"""Benchmark of the program uptake view: server time of each analytics function and of whole page
reruns (AppTest), at scale 1 and 10.

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.uptake [--scales 1,10] [--repeat 3]

The databases are built once under var/bench/ (``scale<S>.duckdb``, seed 42) and reused. Function
times are the median of ``--repeat`` calls on one read-only connection (no result cache: this is
the cost of a cache miss). Page times: the first visit of the page (cold result cache), a rerun
with the same parameters (results cached by ui.cache.query), a rerun after a filter change (cold
for the new parameters) and the first visit of each tab. Targets: a page rerun <= 0.3 s at scale 1
and <= 1 s at scale 10.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from analytics.filters import Filters
from analytics.uptake import programs as uptake_programs
from analytics.uptake import reach as uptake_reach
from analytics.uptake import summary as uptake
from bench.harness import BENCH_DIR, ROOT, write_json
from data import facts

TARGETS = {1.0: 0.3, 10.0: 1.0}
TABS = ("summary", "breakdown", "reach", "docs", "time", "program")


def database(scale: float, seed: int = 42) -> Path:
    """The benchmark database of a scale, built once (by the generator's CLI) and then reused."""
    path = BENCH_DIR / f"scale{scale:g}.duckdb"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        print(f"building {path} (scale {scale:g}, seed {seed}) ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "data.build", "--db", str(path), "--scale", str(scale),
                        "--seed", str(seed)], cwd=ROOT, check=True)
        print(f"built in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_functions(path: Path, repeat: int) -> dict[str, float]:
    con = duckdb.connect(str(path), read_only=True)
    ref = facts.reference_date(con)
    year = Filters(date_from=date(ref.year - 1, ref.month, 1), date_to=ref)
    narrow = Filters(regions=("11", "41"), sizes=("micro",), categories=("기술",))
    pid = con.execute("SELECT program_id FROM summary_uptake_programs ORDER BY applications DESC LIMIT 1").fetchall()[0][0]
    calls: dict[str, Callable[[], object]] = {
        "headline": lambda: uptake.headline(con, Filters(), role="policy"),
        "funnel": lambda: uptake.funnel(con, Filters(), role="policy"),
        "funnel by size": lambda: uptake.funnel(con, Filters(), role="policy", by="size"),
        "breakdown ministry": lambda: uptake.breakdown(con, Filters(), "ministry", role="policy"),
        "breakdown program": lambda: uptake.breakdown(con, Filters(), "program", role="policy"),
        "breakdown region (last year)": lambda: uptake.breakdown(con, year, "region", role="policy"),
        "breakdown age (narrow filters)": lambda: uptake.breakdown(con, narrow, "age", role="policy"),
        "drill_options program": lambda: uptake.drill_options(con, Filters(), "program", role="policy"),
        "monthly": lambda: uptake.monthly(con, Filters(), role="policy"),
        "seasonality": lambda: uptake.seasonality(con, Filters(), role="policy"),
        "reach (penetration, blind spots)": lambda: uptake_reach.reach(con, Filters(), role="policy"),
        "concentration": lambda: uptake_reach.concentration(con, Filters(), role="policy"),
        "documents by agency": lambda: uptake_programs.documents(con, Filters(), role="policy"),
        "documents by program": lambda: uptake_programs.documents(con, Filters(), role="policy", by="program"),
        "below_budget": lambda: uptake_programs.below_budget(con, Filters(), role="policy"),
        "search_programs": lambda: uptake_programs.search_programs(con, "지원", role="policy"),
        "program_profile": lambda: uptake_programs.program_profile(con, pid, role="policy"),
    }
    rows = con.execute("SELECT count(*) FROM summary_uptake_apps").fetchall()[0][0]
    print(f"  analytics functions ({rows:,} applications; median of {repeat}, no result cache):")
    times = {}
    for name, call in calls.items():
        times[name] = round(_time(call, repeat), 4)
        print(f"    {name:32s} {times[name]:7.3f} s", flush=True)
    con.close()
    return times


def bench_page(path: Path, target: float | None) -> dict[str, float]:
    from bench.harness import signed_in_app
    from ui.i18n import t

    os.environ["MADANG_DB"] = str(path)
    at = signed_in_app("policy", timeout=300)

    def run(step: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        step()
        elapsed = time.perf_counter() - t0
        assert not at.exception, at.exception
        return elapsed

    first = run(lambda: at.switch_page("pages/uptake.py").run())
    again = run(at.run)
    # a drill-down choice: new parameters for every query of the page (AppTest does not keep the
    # shell's sidebar widgets after switch_page, so the page's own URL-bound widget is used)
    at.session_state["d_size"] = "micro"
    changed = run(at.run)
    changed_again = run(at.run)
    flag = "" if target is None else ("  (target <= %.1f s: %s)" % (target, "met" if again <= target else "MISSED"))
    print("  page (AppTest, policy):")
    print(f"    first visit (cold cache)          {first:7.3f} s")
    print(f"    rerun, same parameters            {again:7.3f} s{flag}")
    print(f"    rerun after a drill-down change   {changed:7.3f} s")
    print(f"    rerun again (cached)              {changed_again:7.3f} s")
    out = {"first_visit_s": first, "rerun_s": again, "rerun_after_change_s": changed, "rerun_again_s": changed_again}
    for tab in TABS[1:]:
        at.session_state["tab"] = t(f"uptake.tab.{tab}", "ko")
        cold = run(at.run)
        warm = run(at.run)
        out[f"tab_{tab}_first_s"], out[f"tab_{tab}_rerun_s"] = cold, warm
        print(f"    tab {tab:10s} first {cold:7.3f} s, rerun {warm:7.3f} s", flush=True)
    return {k: round(v, 4) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated generator scales (default 1,10)")
    ap.add_argument("--repeat", type=int, default=3, help="calls per function (median is printed)")
    args = ap.parse_args()
    figures = {}
    for scale in (float(s) for s in args.scales.split(",")):
        path = database(scale)
        print(f"scale {scale:g}: {path}", flush=True)
        figures[f"scale_{scale:g}"] = {"functions_s": bench_functions(path, args.repeat),
                                       "page": bench_page(path, TARGETS.get(scale)),
                                       "rerun_target_s": TARGETS.get(scale)}
    write_json("uptake", figures)


if __name__ == "__main__":
    main()

"""Benchmark of the AI-adoption view at scale 1: each analytics call uncached, and the page's
rerun time in AppTest (first run of a section, then reruns served by the query cache).

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.adoption [--db var/bench/scale1.duckdb] [--reruns 5]

Builds the scale-1 database (seed 42) at --db if it is missing, else reuses it. Run it under the
lock, as above, so that big builds and benchmarks happen one at a time. Target: rerun <= 0.3 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from analytics.adoption import estimates as adoption
from analytics.adoption import reach as adoption_reach
from analytics.filters import Filters
from bench.harness import ROOT, write_json
from data.db import connect_read_only

TARGET_RERUN_S = 0.3
SECTIONS = ("estimates", "gaps", "map", "targets", "barriers", "reach", "published")


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def analytics_times(db: Path) -> dict[str, float]:
    """Seconds per analytics call on a fresh connection (what a cache miss costs)."""
    con = connect_read_only(db)
    year = adoption.survey_years(con)[0]
    sel = (year,)
    calls = {
        "estimates by size": lambda: adoption.estimates(con, role="policy", by=("size_class",), years=sel),
        "estimates 시도 x industry": lambda: adoption.estimates(con, role="policy", by=("region_code", "ksic_section"), years=sel),
        "gap large-SME": lambda: adoption.gap(con, role="policy", kind="size", years=sel),
        "gap capital": lambda: adoption.gap(con, role="policy", kind="region", years=sel),
        "tile map": lambda: adoption.tile_map(con, role="policy", years=sel),
        "targets": lambda: adoption.targets(con, role="policy", year=year),
        "barriers by size": lambda: adoption.barriers(con, role="policy", by=("size_class",), years=sel),
        "support reach 시도": lambda: adoption_reach.support_reach(con, role="policy", by=("region_code",), years=sel),
        "support reach 시도 x size": lambda: adoption_reach.support_reach(con, role="policy", by=("region_code", "size_class"), years=sel),
        "published comparison": lambda: adoption.published_comparison(con, role="policy"),
        "estimates, filtered (서울, C)": lambda: adoption.estimates(con, Filters(regions=("11",), industries=("C",)), role="policy", years=sel),
    }
    return {name: _timed(call) for name, call in calls.items()}


def page_times(db: Path, reruns: int) -> dict[str, tuple[float, float]]:
    """Per section: (first run, median rerun) of the page in AppTest, signed in as policy."""
    from bench.harness import signed_in_app

    os.environ["MADANG_DB"] = str(db)
    out = {}
    for view in SECTIONS:
        at = signed_in_app("policy", timeout=120)
        at.switch_page("pages/adoption.py")
        at.query_params["view"] = view
        start = time.perf_counter()
        at.run()
        first = time.perf_counter() - start
        assert not at.exception, (view, at.exception)
        times = []
        for _ in range(reruns):
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        out[view] = (first, statistics.median(times))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "scale1.duckdb")
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        from data.build import build

        print(f"building scale 1 at {args.db} ...", flush=True)
        args.db.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        build(args.db, scale=1.0, seed=42)
        print(f"  built in {time.perf_counter() - start:.1f} s")
    con = connect_read_only(args.db)
    n, apps = con.execute("SELECT (SELECT count(*) FROM ai_survey), (SELECT count(*) FROM applications)").fetchall()[0]
    con.close()
    print(f"database: {args.db} ({n:,} survey respondents, {apps:,} applications)")
    print("\nanalytics, uncached (s):")
    functions = analytics_times(args.db)
    for name, sec in functions.items():
        print(f"  {name:<32} {sec:6.3f}")
    print(f"\npage in AppTest (s), target rerun <= {TARGET_RERUN_S}:")
    print(f"  {'section':<12} {'first run':>9} {'rerun':>7}")
    worst = 0.0
    pages = page_times(args.db, args.reruns)
    for view, (first, rerun) in pages.items():
        worst = max(worst, rerun)
        print(f"  {view:<12} {first:9.3f} {rerun:7.3f}")
    print(f"\nslowest rerun {worst:.3f} s: {'OK' if worst <= TARGET_RERUN_S else 'OVER TARGET'}")
    write_json("adoption", {"database": str(args.db), "respondents": n, "applications": apps,
                            "functions_s": {k: round(v, 4) for k, v in functions.items()},
                            "page_s": {k: {"first": round(f, 4), "rerun": round(r, 4)} for k, (f, r) in pages.items()},
                            "rerun_target_s": TARGET_RERUN_S})


if __name__ == "__main__":
    main()

"""Benchmark of program matching: every method on the same candidates with paired bootstrap
intervals, on several seeds and scales, the batch step's time, and the page (AppTest) reading the
stored results.

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.matching [--scales 0.3,1] [--seeds 7,8]

Databases are ``var/bench/scale{S}.duckdb`` (built with ``python -m data.build --scale S --seed 42``).
The first seed of each scale runs the batch step itself (``python -m analytics.matching evaluate``:
fit, evaluate, store); the other seeds only evaluate. Done when, on every seed and scale, the best
learned ranker beats the strongest baseline by an NDCG@10 margin whose 95% interval excludes 0.
Writes the figures to bench/out/matching.json.
Targets: the evaluation tab opens in < 1 s (it reads the stored run); a page rerun <= 0.3 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb

from analytics.matching import eligibility as matching
from analytics.matching import evaluation, gaps, store
from analytics.matching.__main__ import run as batch_step
from analytics.matching.recommend import recommend
from bench.harness import BENCH_DIR, timed, write_json
from data import facts

TARGET_TAB_S = 1.0
TARGET_RERUN_S = 0.3
PROFILES = [matching.Profile("11", "micro", "G", 2), matching.Profile("26", "small", "C", 5, ("venture",)),
            matching.Profile("41", "medium", "J", 12, ("innobiz", "mainbiz")), matching.Profile("50", "micro", "I", 0)]


def bench_scale(path: Path, scale: str, seeds: list[int]) -> list[dict]:
    rows = []
    for i, seed in enumerate(seeds):
        start = time.perf_counter()
        if i == 0:
            ev = batch_step(path, seed=seed)[1]
            what = "batch step (fit, evaluate, store)"
        else:
            with duckdb.connect(str(path), read_only=True) as con:
                ev = evaluation.evaluate(con, seed=seed)
            what = "evaluation (fit, evaluate)"
        secs = time.perf_counter() - start
        r = ev.ranker
        print(f"\nscale {scale}, seed {seed}: {what} {secs:.1f} s; labels {r.train_cut} .. {r.eval_cut}, evaluation "
              f"{r.eval_cut} .. {r.end}; {ev.queries:,} firms, {ev.mean_candidates:.0f} candidates each, "
              f"{ev.unreachable:.1%} of applications unreachable on the query day", flush=True)
        print(evaluation.table_text(ev.figures, ev.k))
        best = ev.figures.set_index("method").loc[ev.best_learned]
        print(f"best learned {ev.best_learned} vs strongest baseline {ev.strongest_baseline}: NDCG@{ev.k} "
              f"{best['margin']:+.3f} [{best['margin_lo']:+.3f}, {best['margin_hi']:+.3f}] -> ranks with {ev.winner}",
              flush=True)
        rows.append({"scale": scale, "seed": seed, "seconds": round(secs, 1), "queries": ev.queries,
                     "mean_candidates": ev.mean_candidates, "unreachable": ev.unreachable, "k": ev.k,
                     "best_learned": ev.best_learned, "strongest_baseline": ev.strongest_baseline, "winner": ev.winner,
                     "figures": ev.figures.to_dict(orient="records")})
    return rows


def bench_reads(path: Path) -> dict:
    """What the page calls, on the stored run: the evaluation read, recommendations, blind spots."""
    with duckdb.connect(str(path), read_only=True) as con:
        read_s, ev = timed(lambda: store.latest(con, role="policy"))
        assert isinstance(ev, store.StoredEvaluation)
        day = facts.reference_date(con)
        rec = []
        for profile in PROFILES:
            rec.append(timed(lambda: recommend(con, profile, day, role="policy"))[0])
        cov_s, _ = timed(lambda: gaps.coverage(con, day, role="policy"))
    out = {"stored_evaluation_read_s": read_s, "recommend_median_s": statistics.median(rec), "coverage_s": cov_s}
    print(f"\nstored evaluation read {read_s:.3f} s; recommend (new profile, median of {len(rec)}) "
          f"{out['recommend_median_s']:.3f} s; blind-spot coverage {cov_s:.2f} s")
    return out


def bench_page(path: Path) -> dict:
    """The page in AppTest as a policy user, in a fresh app: first visit, rerun, and each tab."""
    from streamlit.runtime.pages_manager import PagesManager

    from bench.harness import median_rerun, served_pages_init, signed_in_app
    from ui.i18n import t

    PagesManager.__init__ = served_pages_init()  # type: ignore[method-assign]
    os.environ["MADANG_DB"] = str(path)
    out: dict = {}
    start = time.perf_counter()
    at = signed_in_app("policy", page="pages/matching.py", timeout=600)
    out["first_visit_s"] = time.perf_counter() - start
    out["rerun_s"] = median_rerun(at, 3)
    for tab in ("evaluation", "gaps"):
        at.session_state["tab"] = t(f"matching.tab.{tab}", "ko")
        out[f"tab_{tab}_first_s"] = timed(at.run)[0]
        assert not at.exception, at.exception
        out[f"tab_{tab}_rerun_s"] = median_rerun(at, 3)
    print(f"page (AppTest, policy, fresh process): first visit {out['first_visit_s']:.2f} s, rerun {out['rerun_s']:.3f} s "
          f"(target <= {TARGET_RERUN_S} s); evaluation tab first {out['tab_evaluation_first_s']:.3f} s "
          f"(target < {TARGET_TAB_S} s: {'met' if out['tab_evaluation_first_s'] < TARGET_TAB_S else 'MISSED'}), "
          f"rerun {out['tab_evaluation_rerun_s']:.3f} s; blind spots first {out['tab_gaps_first_s']:.2f} s, "
          f"rerun {out['tab_gaps_rerun_s']:.3f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="0.3,1", help="comma-separated scales (databases var/bench/scale{S}.duckdb)")
    ap.add_argument("--seeds", default="7,8", help="comma-separated seeds (at least two)")
    ap.add_argument("--skip-page", action="store_true", help="no AppTest timing of the page")
    ap.add_argument("--page-only", action="store_true", help="only the reads and the page, on the stored runs")
    args = ap.parse_args()
    scales, seeds = args.scales.split(","), [int(s) for s in args.seeds.split(",")]
    paths = {s: BENCH_DIR / f"scale{s}.duckdb" for s in scales}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        sys.exit(f"no database at {', '.join(missing)}: build with `python -m data.build --db PATH --scale S --seed 42`")
    res: dict = {"runs": [], "reads": {}, "page": {}}
    for s, path in paths.items():
        if not args.page_only:
            res["runs"] += bench_scale(path, s, seeds)
        res["reads"][s] = bench_reads(path)
    if not args.skip_page:
        res["page"] = bench_page(paths[scales[-1]])
    if not res["runs"]:
        write_json("matching", res)
        return
    print("\nsummary: best learned ranker minus strongest baseline, NDCG@10 [95% paired bootstrap interval]")
    done = True
    for r in res["runs"]:
        best = next(f for f in r["figures"] if f["method"] == r["best_learned"])
        ok = best["margin_lo"] > 0
        done &= ok
        print(f"  scale {r['scale']:>4s} seed {r['seed']}: {r['best_learned']:10s} - {r['strongest_baseline']:8s} "
              f"{best['margin']:+.3f} [{best['margin_lo']:+.3f}, {best['margin_hi']:+.3f}] {'excludes 0' if ok else 'INCLUDES 0'}")
    res["done"] = done
    print(f"done (learned ranker beats the strongest baseline on every seed and scale): {done}")
    write_json("matching", res)


if __name__ == "__main__":
    main()

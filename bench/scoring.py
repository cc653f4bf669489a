"""Benchmark of scoring at scale 1: training + exact SHAP for every application, SHAP speed against
the explainerdashboard default, peak memory, and the evaluator page's rerun time.

    flock /tmp/madang-bench.lock .venv/bin/python bench/scoring.py [--db var/bench/scoring_scale1.duckdb]

Uses its own copy of the shared scale-1 database (var/bench/scale1.duckdb, built with seed 42 if
missing) because training writes scores into it. Targets: train + SHAP for all rows <= 180 s on
2 cores; exact SHAP >= 5x faster per row than explainerdashboard's default (shap probability output,
interventional, 100 background rows); page rerun <= 0.3 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

import shap

from bench.harness import ROOT
from data.db import connect_read_only
from scoring import store, train
from scoring.features import encode, load_frame

TARGETS = {"total_s": 180.0, "speedup": 5.0, "rerun_s": 0.3}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def shap_speed(db: Path, threads: int, rows: int, slow_rows: int, seed: int = 0) -> dict[str, dict[str, float]]:
    """Seconds per 10,000 rows: our exact SHAP vs shap's interventional probability explainer."""
    con = connect_read_only(db)
    ids = [r[0] for r in con.execute("SELECT application_id FROM applications ORDER BY hash(application_id + ?) LIMIT ?",
                                     [seed, rows]).fetchall()]
    frame = load_frame(con, ids)
    out = {}
    for model in train.MODELS:
        v = store.current_version(con, model)
        sm = store.load_model(con, model, v.version)
        sm.params["num_threads"] = threads
        t = time.perf_counter()
        sm.contributions(frame)
        ours = (time.perf_counter() - t) / len(frame) * 10_000
        background = frame.iloc[:100]
        target = frame.iloc[100:100 + slow_rows]
        t = time.perf_counter()
        for part in sm.parts:   # explainerdashboard explains each booster this way
            explainer = shap.TreeExplainer(part.booster, data=encode(background, part.drivers),
                                           model_output="probability", feature_perturbation="interventional")
            explainer.shap_values(encode(target, part.drivers), check_additivity=False)
        theirs = (time.perf_counter() - t) / len(target) * 10_000
        out[model] = {"ours_s_per_10k": ours, "default_s_per_10k": theirs, "speedup": theirs / ours}
    con.close()
    return out


def page_rerun(db: Path, reruns: int) -> tuple[float, float]:
    """(first run, median rerun) seconds of pages/scoring.py with an applicant open, in AppTest."""
    from streamlit.runtime.pages_manager import PagesManager

    from bench.harness import median_rerun, served_pages_init, signed_in_app

    PagesManager.__init__ = served_pages_init()
    os.environ["MADANG_DB"] = str(db)
    at = signed_in_app("evaluator", page="pages/scoring.py", timeout=120)
    t = time.perf_counter()
    at.text_input(key="app").input("12345").run()
    first = time.perf_counter() - t
    return first, median_rerun(at, reruns)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "scoring_scale1.duckdb")
    ap.add_argument("--source", type=Path, default=ROOT / "var" / "bench" / "scale1.duckdb")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=20_000, help="rows for our SHAP timing")
    ap.add_argument("--slow-rows", type=int, default=200, help="rows for the explainerdashboard default")
    ap.add_argument("--reruns", type=int, default=7)
    ap.add_argument("--skip-train", action="store_true", help="reuse the scores already in --db")
    args = ap.parse_args()
    if not args.db.exists():
        if not args.source.exists():
            from data.build import build
            print(f"building scale 1 at {args.source} ...", flush=True)
            build(args.source, scale=1.0, seed=42)
        shutil.copyfile(args.source, args.db)
    if not args.skip_train:
        t = time.perf_counter()
        trained = train.run(args.db, threads=args.threads, progress=lambda s: print(s, flush=True))
        total = time.perf_counter() - t
        n = len(next(iter(trained.values())).application_ids)
        print(f"\ntrain + exact SHAP + store, {n:,} applications x {len(trained)} models: {total:.1f} s "
              f"(target <= {TARGETS['total_s']:.0f} s) {'OK' if total <= TARGETS['total_s'] else 'MISSED'}")
        for m, tr in trained.items():
            print(f"  {m}: AUC {tr.metrics['auc']:.3f}, oracle {tr.metrics['oracle_auc']:.3f}, "
                  f"Brier {tr.metrics['brier']:.4f}, additivity max error {tr.metrics['additivity_max_error']:.1e}")
        print(f"peak memory (RSS) {peak_rss_gb():.2f} GB")
        del trained
    for m, r in shap_speed(args.db, args.threads, args.rows, args.slow_rows).items():
        print(f"SHAP {m}: exact (LightGBM TreeSHAP) {r['ours_s_per_10k']:.2f} s / 10k rows; explainerdashboard default "
              f"{r['default_s_per_10k']:.1f} s / 10k rows; ratio {r['speedup']:.0f}x "
              f"(target >= {TARGETS['speedup']:.0f}x) {'OK' if r['speedup'] >= TARGETS['speedup'] else 'MISSED'}")
    first, rerun = page_rerun(args.db, args.reruns)
    print(f"page: first run with an applicant {first:.2f} s; median rerun {rerun:.3f} s "
          f"(target <= {TARGETS['rerun_s']} s) {'OK' if rerun <= TARGETS['rerun_s'] else 'MISSED'}")
    print(f"peak memory (RSS, whole run) {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()

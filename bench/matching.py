"""Benchmark of program matching: every method on the same candidates with paired bootstrap
intervals, on several seeds and scales, the batch step's time, and the page (AppTest) reading the
stored results.

    flock /tmp/madang-bench.lock .venv/bin/python bench/matching.py [--scales 0.3,1] [--seeds 7,8]

Databases are ``var/bench/scale{S}.duckdb`` (built with ``python -m data.build --scale S --seed 42``).
The first seed of each scale runs the batch step itself (``python -m analytics.matching evaluate``:
fit, evaluate, store); the other seeds only evaluate. Done when, on every seed and scale, the best
learned ranker beats the strongest baseline by an NDCG@10 margin whose 95% interval excludes 0.
Writes the figures as JSON (``--json``, default ``var/bench/matching.json``).
Targets: the evaluation tab opens in < 1 s (it reads the stored run); a page rerun <= 0.3 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import matching  # noqa: E402
from analytics.matching import evaluation, gaps, recommend, store  # noqa: E402
from analytics.matching.__main__ import run as batch_step  # noqa: E402

TARGET_TAB_S = 1.0
TARGET_RERUN_S = 0.3
PROFILES = [matching.Profile("11", "micro", "G", 2), matching.Profile("26", "small", "C", 5, ("venture",)),
            matching.Profile("41", "medium", "J", 12, ("innobiz", "mainbiz")), matching.Profile("50", "micro", "I", 0)]


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_scale(path: Path, scale: str, seeds: list[int]) -> list[dict]:
    rows = []
    for i, seed in enumerate(seeds):
        if i == 0:
            secs, (_, ev) = _timed(lambda s=seed: batch_step(path, seed=s))
            what = "batch step (fit, evaluate, store)"
        else:
            with duckdb.connect(str(path), read_only=True) as con:
                secs, ev = _timed(lambda s=seed: evaluation.evaluate(con, seed=s))
            what = "evaluation (fit, evaluate)"
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
        read_s, ev = _timed(lambda: store.latest(con, role="policy"))
        assert ev is not None
        day = matching.reference_date(con)
        rec = [_timed(lambda p=p: recommend.recommend(con, p, day, role="policy"))[0] for p in PROFILES]
        cov_s, cov = _timed(lambda: gaps.coverage(con, day, role="policy"))
    out = {"stored_evaluation_read_s": read_s, "recommend_median_s": statistics.median(rec), "coverage_s": cov_s}
    print(f"\nstored evaluation read {read_s:.3f} s; recommend (new profile, median of {len(rec)}) "
          f"{out['recommend_median_s']:.3f} s; blind-spot coverage {cov_s:.2f} s")
    return out


def bench_page(path: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    from ui.i18n import t

    os.environ["MADANG_DB"] = str(path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["auth"] = {"user": "bench", "role": "policy"}
    at.run()

    def run(step: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        step()
        assert not at.exception, at.exception
        return time.perf_counter() - t0

    out = {"first_visit_s": run(lambda: at.switch_page("pages/matching.py").run()), "rerun_s": run(at.run)}
    for tab in ("evaluation", "gaps"):
        at.session_state["tab"] = t(f"matching.tab.{tab}", "ko")
        out[f"tab_{tab}_first_s"] = run(at.run)
        out[f"tab_{tab}_rerun_s"] = run(at.run)
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
    ap.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "matching.json")
    ap.add_argument("--skip-page", action="store_true", help="no AppTest timing of the page")
    args = ap.parse_args()
    scales, seeds = args.scales.split(","), [int(s) for s in args.seeds.split(",")]
    paths = {s: ROOT / "var" / "bench" / f"scale{s}.duckdb" for s in scales}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        sys.exit(f"no database at {', '.join(missing)}: build with `python -m data.build --db PATH --scale S --seed 42`")
    res: dict = {"runs": [], "reads": {}, "page": {}}
    for s, path in paths.items():
        res["runs"] += bench_scale(path, s, seeds)
        res["reads"][s] = bench_reads(path)
    if not args.skip_page:
        res["page"] = bench_page(paths[scales[-1]])
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
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

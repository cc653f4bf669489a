"""``python -m analytics.matching evaluate --db PATH``: the matcher's batch step.

Fits the learned rankers, evaluates them beside the baselines on the time split (with paired
bootstrap intervals), and stores the figures and the fitted ranker in the data file, so that the
page's evaluation tab and its recommendations only read; then computes the blind spots of the
reference day with no filters with that ranker and stores them, so the blind-spots tab's default
view only reads too. Run it after every build or import.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics.filters import Filters
from analytics.matching import evaluation, gaps, rank, store, training
from data import facts
from data.db import connect_read_only, writer


def run(db_path: Path | str, *, seed: int = rank.SEED, n_queries: int = evaluation.EVAL_QUERIES,
        n_train: int = training.TRAIN_QUERIES, n_boot: int = evaluation.BOOTSTRAP,
        progress: Callable[[str], None] = lambda _: None) -> tuple[str, evaluation.Evaluation]:
    """Evaluate on a read-only connection, compute the reference day's blind spots with the fitted
    ranker, then store both through the writer; returns (run_id, evaluation).

    Nothing is stored if the applications or programs changed while it ran (an import, a rebuild)."""
    with connect_read_only(db_path) as con:
        key = store.data_key(con)
        ev = evaluation.evaluate(con, seed=seed, n_queries=n_queries, n_train=n_train, n_boot=n_boot)
        day = facts.reference_date(con)
        progress(f"evaluated; blind spots of {day} with the {ev.winner} ranker")
        # the page's default view (the default seed: what the page would compute itself)
        cov = gaps.compute(con, day, Filters(), seed=rank.SEED, ranker=ev.ranker)
    params = {"seed": seed, "k": ev.k, "queries": n_queries, "train_queries": n_train, "bootstrap": n_boot,
              "methods": list(evaluation.METHODS)}
    with writer(db_path) as con:
        if store.data_key(con) != key:
            raise RuntimeError(f"{db_path} changed while the evaluation ran (an import or a rebuild): nothing was "
                               "stored; run the step again")
        run_id = store.write(con, ev, params, key)
        store.write_gaps(con, run_id, day, cov)
    return run_id, ev


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analytics.matching", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    ev_ap = sub.add_parser("evaluate", help="fit, evaluate against the baselines and store the results")
    ev_ap.add_argument("--db", required=True, type=Path, help="the data file (madang.duckdb)")
    ev_ap.add_argument("--seed", type=int, default=rank.SEED, help=f"random seed (default {rank.SEED})")
    ev_ap.add_argument("--queries", type=int, default=evaluation.EVAL_QUERIES, help="firms sampled for the evaluation")
    ev_ap.add_argument("--train-queries", type=int, default=training.TRAIN_QUERIES, help="firms sampled for training")
    ev_ap.add_argument("--bootstrap", type=int, default=evaluation.BOOTSTRAP, help="bootstrap resamples")
    args = ap.parse_args(argv)
    if not args.db.exists():
        print(f"error: no database at {args.db}: build one with `python -m data.build --db {args.db}`", file=sys.stderr)
        return 2
    if min(args.queries, args.train_queries, args.bootstrap) < 1:
        print("error: --queries, --train-queries and --bootstrap must be at least 1", file=sys.stderr)
        return 2
    t = time.perf_counter()
    print(f"[{0.0:6.1f}s] fitting and evaluating on {args.db} (seed {args.seed})", flush=True)
    try:
        run_id, ev = run(args.db, seed=args.seed, n_queries=args.queries, n_train=args.train_queries,
                         n_boot=args.bootstrap,
                         progress=lambda msg: print(f"[{time.perf_counter() - t:6.1f}s] {msg}", flush=True))
    except (RuntimeError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    r = ev.ranker
    print(f"[{time.perf_counter() - t:6.1f}s] stored run {run_id}: labels {r.train_cut} .. {r.eval_cut}, "
          f"evaluation {r.eval_cut} .. {r.end}, {ev.queries:,} firms, {ev.mean_candidates:.0f} candidates each, "
          f"{ev.unreachable:.1%} of applications unreachable on the query day")
    print(evaluation.table_text(ev.figures, ev.k))
    print(f"ranks with: {ev.winner} (best learned {ev.best_learned}, strongest baseline {ev.strongest_baseline})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

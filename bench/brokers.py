"""Broker detection at national scale: quality against the planted truth, time, peak memory, and our
text step beside datasketch's MinHash + LSH on the same plans.

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.brokers [--scales 1,10] [--sample 50000]

Builds ``var/bench/scale<S>.duckdb`` if missing, runs the batch job on it (each run adds one
run file beside it, which nothing else benchmarked reads), evaluates against
``truth_broker_rings``, times the auditor page's queries, the screening of the 5,000 latest applications
against the run's index (analytics.brokers.index, written beside the data file: about 1 GB per
million plans) and a rerun of the real page in AppTest. Run one benchmark at a time,
under the lock. Peak RSS is the process's high-water mark, so with several scales run the smallest first.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import threading
import time
from functools import partial
from pathlib import Path

import duckdb

from analytics.brokers import baseline, evidence, graph, graph_draw, minhash, screen
from analytics.brokers import detect as brokers
from analytics.brokers import evaluation as broker_eval
from analytics.brokers import plots as broker_plots
from analytics.brokers import views as broker_views
from analytics.brokers.links import LinkParams
from bench.harness import write_json
from data.db import PROJECT_ROOT, db_path_of, run_file
from ui import i18n, names

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
RERUN_TARGET_S = 0.3


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """Resident memory now (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


class StepPeaks:
    """Highest RSS within each step of the job (sampled), so a progress line says which step
    made the peak; the process high-water mark alone cannot."""

    def __init__(self, every: float = 0.1) -> None:
        self.high, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every: float) -> None:
        while not self._stop.wait(every):
            self.high = max(self.high, _rss_mb())

    def take(self) -> float:
        """The step's peak so far; the next step starts from the memory in use now."""
        high, self.high = max(self.high, _rss_mb()), _rss_mb()
        return high

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def ensure_db(scale: float) -> Path:
    path = BENCH_DIR / f"scale{scale:g}.duckdb"
    if not path.exists():
        from data.build import build

        print(f"building {path} ...", flush=True)
        # in a process of its own: the job's peak memory (this process's high-water mark) is then
        # the job's alone, not the build's (18 GB at scale 10 against the job's 9)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply(build, (path,), {"scale": scale, "seed": 42})
    return path


def detection(db: Path, reruns: int, memory_limit: str = brokers.MEMORY_LIMIT) -> dict:
    """The whole batch job (read suppressions, detect, store); quality and cost."""
    t = time.perf_counter()
    peaks = StepPeaks()
    run_id, det = brokers.run(db, memory_limit=memory_limit, progress=lambda m: print(
        f"  [{time.perf_counter() - t:6.1f}s, step peak {peaks.take():,.0f} MB, RSS now {_rss_mb():,.0f} MB] {m}",
        flush=True))
    seconds = time.perf_counter() - t
    print(f"  [{seconds:6.1f}s, step peak {peaks.take():,.0f} MB] stored", flush=True)
    peaks.stop()
    peak = _peak_mb()
    stats = det.stats
    # the views are timed once the job's writes are on disk
    t = time.perf_counter()
    os.sync()
    flushed = round(time.perf_counter() - t, 1)
    print(f"  the job's writes were on disk {flushed} s after it ended", flush=True)
    con = duckdb.connect(str(db), read_only=True)
    quality = broker_eval.evaluate(det.members, det.clusters, broker_eval.truth(con))
    page = page_timings(con, run_id, det)
    page["screen_5000"] = screening_apart(db, run_id)
    con.close()
    del det
    page["rerun"] = round(page_rerun(db, reruns), 3)
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak), "quiet_after_seconds": flushed, "stats": stats,
            "quality": quality, "page": page}


def screening(con: duckdb.DuckDBPyConnection, run_id: str, n: int = 5_000) -> dict:
    """Seconds to screen the ``n`` latest applications (a day's intake) against the stored run's
    index (analytics.brokers.index: no history recomputed, no stored plan text read), cold and
    warm, and the index's size on disk. Cold: the index's files, the data file and the run file
    are dropped from the page cache first (posix_fadvise, no privileges needed), as on a morning
    after other work."""
    from analytics.brokers import index as brokers_index

    apps = [a for (a,) in con.execute("SELECT application_id FROM applications ORDER BY submitted_at DESC LIMIT ?", [n]).fetchall()]
    idx = brokers_index.open_index(db_path_of(con), run_id)
    files = list(idx.path.iterdir()) if idx is not None else []
    for f in [*files, db_path_of(con), run_file(con, run_id)]:
        if f is not None:
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    out: dict = {}
    for state in ("cold", "warm"):
        t = time.perf_counter()
        got = screen.screen(con, run_id, apps)
        out[f"{state}_seconds"] = round(time.perf_counter() - t, 2)
    return out | {"held": int(got.loc[got["hold"], "application_id"].nunique()),
                  "index_mb": round(sum(f.stat().st_size for f in files) / 2**20)}


def screening_apart(db: Path, run_id: str) -> dict:
    """:func:`screening` in a process of its own, as a day's screening would run beside the app
    (in the job's own process it was two to three times slower, not explained). Cold, it is bound
    by the disk: at scale 10 it reads about 3.6 GB (the codes 1.3, the bands' small parts 1.0, the
    carriers 0.5, the identifier values 0.24, signature rows 0.18, the data file 0.2), 8.5-10.8 s
    where the disk read files at 0.37 GB/s."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_screening_of, (str(db), run_id))


def _screening_of(db: str, run_id: str) -> dict:
    con = duckdb.connect(db, read_only=True)
    try:
        return screening(con, run_id)
    finally:
        con.close()


def page_rerun(db: Path, reruns: int) -> float:
    """Median seconds of a rerun of pages/brokers.py (top cluster open) in AppTest, as an auditor."""
    from streamlit.runtime.pages_manager import PagesManager

    from bench.harness import median_rerun, served_pages_init, signed_in_app

    PagesManager.__init__ = served_pages_init()  # type: ignore[method-assign]
    os.environ["MADANG_DB"] = str(db)
    at = signed_in_app("auditor", page="pages/brokers.py", timeout=300)
    assert not at.exception, at.exception
    return median_rerun(at, reruns)


def page_timings(con: duckdb.DuckDBPyConnection, run_id: str, det: brokers.Detection) -> dict:
    """Seconds for what one rerun of the auditor page computes (uncached)."""
    top = int(det.clusters.sort_values("risk", ascending=False)["cluster_id"].iloc[0])
    members = det.members[det.members["cluster_id"] == top]["application_id"].tolist()
    # the largest cluster expanded by two hops: the biggest graph an auditor is likely to draw
    big = int(det.clusters.sort_values(["size", "cluster_id"], ascending=[False, True])["cluster_id"].iloc[0])
    big_focus = int(det.members[det.members["cluster_id"] == big]["application_id"].min())
    out: dict[str, float | int] = {}
    label, term = partial(i18n.t, lang="ko"), partial(names.term, lang="ko")   # the page's words, in Korean
    for name, fn in {
        "cluster_list": lambda: broker_views.cluster_list(con, run_id, role="auditor"),
        "cluster_graph": lambda: graph_draw.elements(graph.cluster_graph(con, run_id, top, role="auditor"), label, term),
        "largest_graph_hops2": lambda: graph_draw.elements(graph.cluster_graph(con, run_id, big, role="auditor",
                                                                               focus=big_focus, hops=2), label, term),
        "why_linked": lambda: evidence.why_linked(con, run_id, members[0], members[1], role="auditor"),
        "timeline": lambda: broker_plots.plot_timeline(evidence.timeline(con, run_id, top, role="auditor"), label, term),
    }.items():
        t = time.perf_counter()
        fn()
        out[name] = round(time.perf_counter() - t, 3)
    g = graph.cluster_graph(con, run_id, big, role="auditor", focus=big_focus, hops=2)
    out["largest_graph_nodes"], out["largest_graph_edges"] = len(g.nodes), len(g.edges)
    return out


def text_step(db: Path, sample: int, params: LinkParams = LinkParams()) -> dict:
    """Our signatures + LSH vs datasketch MinHash + MinHashLSH on the same plans and shingles."""
    from datasketch import MinHash, MinHashLSH

    con = duckdb.connect(str(db), read_only=True)
    texts = [r[0] for r in con.execute(  # DuckDB takes only a constant here: an int, formatted
        f"SELECT plan_text FROM business_plans USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE (7)").fetchall()]
    con.close()
    t = time.perf_counter()
    sig = minhash.signatures(texts, bins=params.bins, k=params.shingle_k, seed=params.seed)
    i, _, _, _ = minhash.similar_pairs(sig, threshold=params.plan_threshold, rows=params.band_rows,
                                       bucket_cap=params.bucket_cap)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    lsh = MinHashLSH(num_perm=params.bins, params=(params.bins // params.band_rows, params.band_rows))
    for n, text in enumerate(texts):
        m = MinHash(num_perm=params.bins, seed=params.seed)
        m.update_batch([s.encode("utf-8") for s in minhash.shingles(text, params.shingle_k)])
        lsh.insert(n, m)
    theirs = time.perf_counter() - t
    return {"plans": len(texts), "ours_s": round(ours, 2), "datasketch_s": round(theirs, 2),
            "speedup": round(theirs / ours, 1), "our_pairs": int(i.size)}


def ensure_outside(firms: int) -> tuple[Path, Path]:
    """The independent generator's files for ``firms`` firms, imported through data.load (once)."""
    from data.load import load_dir
    from data.synth import outside_rings

    out = BENCH_DIR / f"outside{firms}"
    db = out / "madang.duckdb"
    if not db.exists():
        print(f"writing and importing {out} ...", flush=True)
        imp, _ = outside_rings.write(out, n_firms=firms)
        load_dir(imp, db)
    return db, out / "truth_rings.csv"


def by_kind(q: dict) -> str:
    """Recall by ring kind and honest groups flagged by kind, one line each."""
    rec = ", ".join(f"{k} {v:.2f}" for k, v in q["recall_by_kind"].items())
    dec = ", ".join(f"{k} {v}" for k, v in sorted(q["decoys_flagged_by_kind"].items())) or "none"
    return f"  recall by kind: {rec}\n  honest groups flagged by kind: {dec}"


def versus_baseline(db: Path, truth, ours: dict) -> dict:
    """The simple baseline (analytics.brokers.baseline) on the same data, beside our figures."""
    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    members, cl = baseline.detect(con)
    seconds = time.perf_counter() - t
    con.close()
    b = broker_eval.evaluate(members, cl, truth)
    for name, q in (("ours", ours), ("baseline", b)):
        print(f" {name:>8}: recall {q['recall']:.3f} ({q['rings_found']}/{q['rings']}), precision {q['precision']:.3f} "
              f"({q['correct_flagged']}/{q['flagged_clusters']}), honest groups flagged {q['decoys_flagged']}/{q['decoy_groups']} "
              f"({q['decoy_flag_rate']:.3f})")
        print(by_kind(q))
    print(f"  baseline took {seconds:.1f} s", flush=True)
    return b


def outside(firms: int) -> None:
    """Detection on the independent generator (data/synth/outside_rings.py), against its truth file."""
    from data.synth import outside_rings

    db, truth_path = ensure_outside(firms)
    truth = outside_rings.read_truth(truth_path)
    t = time.perf_counter()
    _, det = brokers.run(db)   # the whole job, as a user would run it on imported files
    seconds = time.perf_counter() - t
    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM applications").fetchall()[0][0]
    q = broker_eval.evaluate(det.members, det.clusters, truth)
    print(f"\nindependent set ({n:,} applications, {firms:,} firms): detection {seconds:.1f} s, peak RSS {_peak_mb():,.0f} MB")
    print(f"  estimated weights: m {det.stats['weights']['m']}, prior {det.stats['weights']['prior']}")
    print(f"  related-firm groups listed apart: {det.related['household'].nunique() if len(det.related) else 0}")
    versus_baseline(db, truth, q)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="1", help="comma-separated generator scales, e.g. 1,10")
    ap.add_argument("--sample", type=int, default=50_000, help="plans for the datasketch comparison")
    ap.add_argument("--reruns", type=int, default=5, help="page reruns (median is printed)")
    ap.add_argument("--skip-text", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true", help="leave out the simple baseline on the scale's data")
    ap.add_argument("--memory-limit", default=brokers.MEMORY_LIMIT, help="DuckDB's cap in the job's SQL steps")
    ap.add_argument("--outside", type=int, default=40_000,
                    help="firms of the independent generator's set (0: skip it)")
    args = ap.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    figures: dict = {}
    if args.outside:
        outside(args.outside)
    for scale in (float(s) for s in args.scales.split(",") if s):
        db = ensure_db(scale)
        print(f"broker detection on {db.name}", flush=True)
        res = detection(db, args.reruns, args.memory_limit)
        q = res["quality"]
        print(json.dumps(res, indent=1, default=str, ensure_ascii=False))
        figures[f"scale{scale:g}"] = res
        write_json("brokers", figures)
        print(f"\nscale {scale:g}: job {res['seconds']} s, peak RSS {res['peak_rss_mb']} MB "
              f"(DuckDB cap {args.memory_limit} in the SQL steps, {brokers.PLAN_MEMORY_LIMIT} in the plan step)")
        print(f"ring recall {q['recall']:.3f} ({q['rings_found']}/{q['rings']}), precision {q['precision']:.3f} "
              f"({q['correct_flagged']}/{q['flagged_clusters']}), decoys flagged {q['decoy_flag_rate']:.3f} "
              f"({q['decoys_flagged']}/{q['decoy_groups']})")
        print(f"screening the {5000:,} latest applications against the run's index "
              f"({res['page']['screen_5000']['index_mb']:,} MB beside the data file): cold {res['page']['screen_5000']['cold_seconds']} s, "
              f"warm {res['page']['screen_5000']['warm_seconds']} s ({res['page']['screen_5000']['held']} held; target <= 10 s at scale 10)")
        st = res["stats"]
        print("steps (s): " + ", ".join(f"{k[2:]} {st[k]}" for k in ("t_plans", "t_signatures", "t_index_plans", "t_lsh",
              "t_identifiers", "t_index_identifiers", "t_clusters", "t_store") if k in st))
        print(f"top-50 precision: by risk {q['top50_precision_by_risk']:.2f}, by size {q['top50_precision_by_size']:.2f}")
        if not args.skip_baseline:
            with duckdb.connect(str(db), read_only=True) as con:
                versus_baseline(db, broker_eval.truth(con), q)
        print(f"page queries (s): {res['page']}; page rerun (AppTest, median) {res['page']['rerun']:.3f} s "
              f"(target <= {RERUN_TARGET_S} s) {'OK' if res['page']['rerun'] <= RERUN_TARGET_S else 'MISSED'}")
        if not args.skip_text:
            ts = text_step(db, args.sample)
            print(f"text step on {ts['plans']:,} plans: ours {ts['ours_s']} s, datasketch {ts['datasketch_s']} s "
                  f"(x{ts['speedup']} faster)", flush=True)


if __name__ == "__main__":
    main()

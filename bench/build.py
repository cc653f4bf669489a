"""Benchmark of the synthetic build: wall time and peak memory per scale, plus the calibration
figures of the built database against the published ones.

    flock /tmp/madang-bench.lock .venv/bin/python -m bench.build [--scales 1,10] [--seed 42] [--keep DIR]

Each scale is built by ``python -m data.build`` in a child process; its peak resident memory comes
from the kernel's accounting for that child (os.wait4), so it includes DuckDB's native memory.
Targets: scale 1 in <= 30 s and <= 4 GB; scale 10 in <= 5 minutes.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench.harness import ROOT, write_json

TARGETS = {1.0: (30.0, 4.0), 10.0: (300.0, None)}

_FIGURES = {
    "firms": "SELECT count(*) FROM firms",
    "programs": "SELECT count(*) FROM programs",
    "applications": "SELECT count(*) FROM applications",
    "survey respondents": "SELECT count(*) FROM ai_survey",
    "weighted SMEs (8,298,915)": "SELECT round(sum(weight)) FROM firms WHERE size_class IN ('micro','small','medium')",
    "weighted SMEs capital (4,362,179)": "SELECT round(sum(weight)) FROM firms JOIN regions USING (region_code) "
                                         "WHERE capital_region AND size_class IN ('micro','small','medium')",
    "micro share (0.951)": "SELECT sum(weight) FILTER (WHERE size_class = 'micro') / sum(weight) FROM firms "
                           "WHERE size_class IN ('micro','small','medium')",
    "C / G / I / L shares (~.065/.261/.110/.152)": """SELECT list(round(s, 3) ORDER BY k) FROM (
        SELECT ksic_section AS k, sum(weight) / (SELECT sum(weight) FROM firms WHERE size_class IN ('micro','small','medium')) AS s
        FROM firms WHERE size_class IN ('micro','small','medium') AND ksic_section IN ('G','L','I','C') GROUP BY 1)""",
    "aged <= 7 years (0.601)": "SELECT sum(weight) FILTER (WHERE founded_on > DATE '2026-10-31' - INTERVAL 7 YEAR) "
                               "/ sum(weight) FROM firms WHERE size_class IN ('micro','small','medium')",
    "AI use large (0.488)": "SELECT sum(weight * uses_ai::INT) / sum(weight) FROM ai_survey WHERE size_class = 'large'",
    "AI use SMEs (0.287)": "SELECT sum(weight * uses_ai::INT) / sum(weight) FROM ai_survey "
                           "WHERE size_class IN ('micro','small','medium')",
    "AI use capital (0.404)": "SELECT sum(weight * uses_ai::INT) / sum(weight) FROM ai_survey JOIN regions USING (region_code) "
                              "WHERE capital_region",
    "AI use elsewhere (0.179)": "SELECT sum(weight * uses_ai::INT) / sum(weight) FROM ai_survey JOIN regions USING (region_code) "
                                "WHERE NOT capital_region",
    "docs per application (9)": "SELECT avg(docs_submitted + docs_auto_linked) FROM applications",
    "linkage rate (0.43)": "SELECT sum(a.docs_auto_linked) / sum(p.docs_required) FROM applications a "
                           "JOIN programs p USING (program_id)",
    "e-contract first/last year": """SELECT list(round(r, 2) ORDER BY y) FROM (SELECT year(submitted_at) AS y,
        avg(e_contract::INT) AS r FROM applications WHERE agreed_at IS NOT NULL GROUP BY 1)""",
    "selection rate (decided)": "SELECT avg((status = 'selected')::INT) FROM applications WHERE status IN ('selected','rejected')",
    "median days to decision": "SELECT median(date_diff('day', submitted_at, decided_at)) FROM applications "
                               "WHERE status IN ('selected','rejected')",
    "mean p_default / realised": "SELECT [round(avg(p_default), 4), round(avg(defaulted::INT), 4)] FROM truth_outcomes",
    "oracle AUC of p_default": """SELECT (sum(r) FILTER (WHERE defaulted) - count(*) FILTER (WHERE defaulted)
        * (count(*) FILTER (WHERE defaulted) + 1) / 2) / (count(*) FILTER (WHERE defaulted)
        * count(*) FILTER (WHERE NOT defaulted)) FROM (SELECT defaulted, rank() OVER (ORDER BY p_default) AS r
        FROM truth_outcomes)""",
}


def run_one(scale: float, seed: int, db: Path) -> tuple[float, float, int]:
    """(seconds, peak GB, exit code) of one build in a child process."""
    cmd = [sys.executable, "-m", "data.build", "--db", str(db), "--scale", str(scale), "--seed", str(seed)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024 ** 2, proc.returncode


def figures(db: Path) -> dict[str, object]:
    con = duckdb.connect(str(db), read_only=True)
    out: dict[str, object] = {}
    try:
        for label, sql in _FIGURES.items():
            value = con.execute(sql).fetchall()[0][0]
            out[label] = round(value, 4) if isinstance(value, float) else value
            print(f"  {label:45s} {out[label]}")
    finally:
        con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="1", help="comma-separated scales, e.g. 1,10")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = ap.parse_args(argv)
    failed = False
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for scale in (float(s) for s in args.scales.split(",")):
            db = folder / f"bench_scale{scale:g}.duckdb"
            seconds, peak_gb, code = run_one(scale, args.seed, db)
            limit_s, limit_gb = TARGETS.get(scale, (None, None))
            verdict = [f"<= {limit_s:.0f} s {'ok' if seconds <= limit_s else 'MISSED'}"] if limit_s else []
            if limit_gb:
                verdict.append(f"<= {limit_gb:.0f} GB {'ok' if peak_gb <= limit_gb else 'MISSED'}")
            print(f"scale {scale:g}: {seconds:.1f} s, peak {peak_gb:.2f} GB, "
                  f"{db.stat().st_size / 1024 ** 2:.0f} MB on disk  {'; '.join(verdict)}" if code == 0
                  else f"scale {scale:g}: build failed with exit code {code}")
            failed |= code != 0
            results[f"scale_{scale:g}"] = {"seconds": round(seconds, 1), "peak_gb": round(peak_gb, 2), "exit_code": code,
                                          "target_s": limit_s, "target_gb": limit_gb,
                                          "calibration": figures(db) if code == 0 else None}
    write_json("build", results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

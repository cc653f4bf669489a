"""Benchmark of the records store under contention: N processes appending case events at once
(``analytics.brokers.cases.add_event``, each with its access-log row), one of them killed (SIGKILL) mid-way.

    .venv/bin/python bench/records.py [--writers 8] [--events 100] [--pg-url postgresql://…] [--json out.json]

Prints events/s for the SQLite store and, when ``--pg-url`` or ``$MADANG_TEST_PG_URL`` is given,
for PostgreSQL (in a throwaway schema), and whether every acknowledged event was stored exactly once.
Target: >= 100 events/s together. :func:`hammer` is also the harness of tests/data/test_records.py.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data import records  # noqa: E402

TARGET_EVENTS_PER_S = 100.0


@dataclass
class Hammered:
    """What the writers were told (acknowledged) and how they ended."""
    case_id: int
    acked: dict[str, list[tuple[int, str]]] = field(default_factory=dict)   # writer -> [(event_id, note)]
    exitcodes: dict[str, int | None] = field(default_factory=dict)
    killed: str | None = None
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(len(v) for v in self.acked.values())


def _write(db: str, case_id: int, who: str, n: int, ack: str, start: object) -> None:
    from analytics.brokers import cases

    start.wait(120)   # type: ignore[attr-defined]  # all writers begin together, after their imports
    with open(ack, "a", encoding="utf-8") as fh:
        for i in range(n):
            event_id = cases.add_event(db, case_id, user=who, role="auditor", note=f"{who} {i}")
            fh.write(f"{event_id}\t{who} {i}\n")   # acknowledged to the caller
            fh.flush()


def _acked(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        event_id, _, note = line.partition("\t")
        if note:   # a line cut by the kill was never acknowledged
            out.append((int(event_id), note))
    return out


def hammer(db: Path, *, writers: int = 8, events: int = 100, kill: bool = True, timeout: float = 600.0) -> Hammered:
    """``writers`` processes × ``events`` events on one case; with ``kill`` the first dies after a third."""
    from analytics.brokers import cases

    case_id = cases.open_case(db, run_id="bench", cluster_id=1, title="contention", user="bench", role="auditor")
    out = Hammered(case_id)
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(writers + 1)
    ack_dir = Path(tempfile.mkdtemp(prefix="madang-acks-"))
    names = [f"w{k}" for k in range(writers)]
    procs = {w: ctx.Process(target=_write, args=(str(db), case_id, w, events, str(ack_dir / w), start)) for w in names}
    for p in procs.values():
        p.start()
    start.wait(120)
    t0 = time.perf_counter()
    if kill:
        victim = names[0]
        while procs[victim].is_alive() and len(_acked(ack_dir / victim)) < events // 3:
            time.sleep(0.01)
        os.kill(procs[victim].pid, signal.SIGKILL)   # type: ignore[arg-type]
        out.killed = victim
    for p in procs.values():
        p.join(timeout)
    out.seconds = time.perf_counter() - t0
    for w, p in procs.items():
        out.exitcodes[w] = p.exitcode
        out.acked[w] = _acked(ack_dir / w)
        (ack_dir / w).unlink(missing_ok=True)
    ack_dir.rmdir()
    return out


@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A throwaway schema on a PostgreSQL server; yields a records URL that uses it, drops it afterwards."""
    import psycopg

    schema = f"madang_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def _measure(label: str, writers: int, events: int) -> dict:
    db = Path(tempfile.mkdtemp(prefix="madang-bench-records-")) / "madang.duckdb"
    res = hammer(db, writers=writers, events=events)
    from analytics.brokers import cases

    hist = cases.history(db, res.case_id, role="auditor")
    stored = list(zip(hist["event_id"], hist["note"]))
    acked = {e for v in res.acked.values() for e in v}
    row = {
        "store": label, "writers": writers, "events_per_writer": events, "killed": res.killed,
        "acknowledged": len(acked), "stored": len(stored) - 1, "seconds": round(res.seconds, 2),
        "events_per_s": round(res.events / res.seconds, 1),
        "all_acknowledged_stored_once": acked <= set(stored) and len(stored) == len({n for _, n in stored}),
        "writer_errors": sorted(w for w, c in res.exitcodes.items() if c not in (0, -signal.SIGKILL)),
    }
    print(f"{label:<11} {writers} writers x {events}: {row['events_per_s']:>7.1f} events/s "
          f"({row['acknowledged']} acknowledged in {row['seconds']} s, one writer killed; "
          f"stored once: {row['all_acknowledged_stored_once']}; writer errors: {row['writer_errors'] or 'none'}; "
          f"target >= {TARGET_EVENTS_PER_S:g})")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--pg-url", default=os.environ.get("MADANG_TEST_PG_URL"))
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "records.json")
    args = parser.parse_args(argv)
    os.environ.pop(records.URL_ENV, None)
    rows = [_measure("sqlite", args.writers, args.events)]
    if args.pg_url:
        with pg_schema(args.pg_url) as url:
            os.environ[records.URL_ENV] = url
            rows.append(_measure("postgresql", args.writers, args.events))
            os.environ.pop(records.URL_ENV)
    else:
        print("postgresql: skipped (no --pg-url and no $MADANG_TEST_PG_URL)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the synthetic national database: ``python -m data.build --db PATH [--scale S] [--seed N]``.

Scale 1 is about 300,000 firms, 2,700 programs, 1,000,000 applications over the 3 years before the
fixed reference date ``AS_OF`` and 20,000 survey respondents. The same (scale, seed) always gives
the same content; the build writes through :func:`data.db.writer`, so a failed build leaves an
existing database untouched.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from data.db import set_meta, writer
from data.load.errors import ImportValidationError
from data.load.importer import programs_frame
from data.synth import applications as synth_applications
from data.synth import channels as synth_channels
from data.synth import firms as synth_firms
from data.synth import outcomes as synth_outcomes
from data.synth import programs as synth_programs
from data.synth import survey as synth_survey
from data.synth.fingerprints import plant

GENERATOR_VERSION = "1.0"
AS_OF = date(2026, 10, 31)

Progress = Callable[[float, str], None]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> None:
    """Bulk insert by column name (the frame's columns are a subset of the table's); the schema's
    constraints judge every row."""
    con.register("_frame", df)
    cols = ", ".join(df.columns)
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame")
    con.unregister("_frame")


def regions_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The 시도 reference rows the program generator places programs in."""
    return con.execute("SELECT region_code, name_ko, short_ko, smes_2021 FROM regions").df()


def build(db_path: Path | str, *, scale: float = 1.0, seed: int = 42, progress: Progress | None = None,
          programs: Sequence[Path] = ()) -> None:
    """Generate the synthetic database at db_path (replaced atomically).

    ``programs``: files of a real catalogue (기업마당 exports, programs CSV/Parquet), validated as an
    import is; the synthetic firms and applications are then built around those programs instead of
    generated ones (:func:`data.synth_programs.around_real` says what is kept and what is drawn).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    report = progress or (lambda fraction, message: None)
    real = None
    if programs:
        report(0.0, f"reading the real catalogue: {', '.join(Path(p).name for p in programs)}")
        real, _ = programs_frame(list(programs))
    # one independent stream per part, so that changing one part leaves the others as they were
    streams = np.random.SeedSequence(seed).spawn(6)
    rng = [np.random.default_rng(s) for s in streams]
    with writer(db_path, create=True) as con:
        report(0.0, "firms")
        firms = synth_firms.generate(rng[0], scale, AS_OF)
        insert_frame(con, "firms", firms.table)
        report(0.15, "channels and programs")
        channels = synth_channels.generate()
        insert_frame(con, "channels", channels)
        catalogue, popularity = synth_programs.generate(rng[1], scale, AS_OF, regions_frame(con))
        if real is not None:
            catalogue, popularity = synth_programs.around_real(rng[1], real, catalogue, popularity, AS_OF)
        insert_frame(con, "programs", catalogue)
        report(0.2, "applications")
        apps = synth_applications.generate(rng[2], scale, AS_OF, firms, catalogue, popularity, channels)
        insert_frame(con, "applications", apps)
        report(0.4, "true outcomes")
        insert_frame(con, "truth_outcomes", synth_outcomes.generate(rng[3], firms, apps))
        report(0.45, "AI-adoption survey")
        insert_frame(con, "ai_survey", synth_survey.generate(rng[4], scale))
        del apps, firms
        report(0.5, "fingerprints, business plans and broker rings")
        plant(con, seed=int(streams[5].generate_state(1)[0]), scale=scale,
              progress=lambda f, m: report(0.5 + 0.45 * f, m))
        report(0.95, "metadata")
        set_meta(con, source="synthetic", scale=scale, seed=seed, as_of=AS_OF.isoformat(),
                 built_at=datetime.now().isoformat(timespec="seconds"), generator_version=GENERATOR_VERSION,
                 fingerprints="yes",
                 programs_from=", ".join(Path(p).name for p in programs) if programs else "synthetic")
    report(1.0, "done")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, type=Path, help="database file to create or replace")
    ap.add_argument("--scale", type=float, default=1.0, help="1 = national scale (300k firms, 1M applications)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (same seed, same database)")
    ap.add_argument("--programs", type=Path, nargs="+", default=[], metavar="FILE",
                    help="build around a real program catalogue (기업마당 .json exports or programs CSV/Parquet) "
                         "instead of generated programs")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    def show(fraction: float, message: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {fraction:4.0%} {message}", flush=True)

    try:
        build(args.db, scale=args.scale, seed=args.seed, progress=show, programs=args.programs)
    except ImportValidationError as exc:
        print(f"error: the program files were refused\n{exc}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"built {args.db} (scale {args.scale}, seed {args.seed}) in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

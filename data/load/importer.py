"""Validated import: ``python -m data.load DIR --db PATH``.

Reads every file in DIR (CSV in UTF-8 or CP949/EUC-KR, Parquet, 기업마당 announcement JSON), checks
all of it against the schema and the database, and writes it only when nothing is wrong. The whole
import runs inside :func:`data.db.writer`, which works on a copy: any error leaves the database (or
its absence) exactly as it was. Errors name the file, the row, the column and the value; up to
``max_errors`` of them are reported at once.

Programs are keyed by the source's own id (기업마당 ``pblancId``), and 기업마당 re-publishes
announcements: a program already in the database is updated (the columns the files carry), a new one
added, and an identical one left alone; when one import holds the same id twice, the later file (and
within it the later row) wins. Every other table keeps the strict rule: a key already in the database
is an error. An import that would change nothing writes nothing (the file stays byte-for-byte).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pandas as pd

from data.db import default_db_path, get_meta, remove_stale_temp, set_meta, writer
from data.load import bizinfo
from data.load.checks import (
    TableInfo,
    build_typed,
    check_columns,
    check_rows,
    check_table,
    q,
    source_columns,
    table_info,
)
from data.load.errors import ImportIssue, ImportValidationError, IssueList
from data.load.files import IMPORTABLE, Staged, stage

__all__ = ["ImportIssue", "ImportSummary", "ImportValidationError", "load_dir", "main", "programs_frame"]
# Tables whose rows a re-import updates by key instead of refusing (see the module docstring).
UPSERT = "programs"


@dataclass
class ImportSummary:
    """What an import did: rows read per table, programs added / updated / unchanged, fallbacks used."""

    rows: dict[str, int]
    added: int = 0                 # programs new to the database
    updated: int = 0               # programs already there, with a changed value
    unchanged: int = 0             # programs already there, identical
    superseded: int = 0            # programs given twice in the import (the later one was kept)
    fallbacks: Counter = field(default_factory=Counter)   # rows per rule of data.bizinfo.FALLBACKS
    written: bool = True           # False: nothing changed, the database file was left untouched

    def lines(self) -> list[str]:
        """The summary as text lines (the CLI prints them; the admin page shows them)."""
        out = ["rows read: " + ", ".join(f"{t} {n:,}" for t, n in self.rows.items())]
        if UPSERT in self.rows:
            out.append(f"programs: {self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged"
                       + (f", {self.superseded:,} given twice (the later kept)" if self.superseded else ""))
        for rule, text in bizinfo.FALLBACKS.items():
            if self.fallbacks.get(rule):
                out.append(f"fallback {rule}: {self.fallbacks[rule]:,} rows ({text})")
        if not self.written:
            out.append("nothing changed: the database was left as it was")
        return out


class _NothingToWrite(Exception):
    """Raised inside the writer to discard its copy when the import changes nothing."""


def _dependency_order(infos: dict[str, TableInfo]) -> list[str]:
    """Tables so that every referenced table comes before the tables that reference it."""
    graph = {t: {ref for _, ref, _, _ in info.fks if ref in infos and ref != t} for t, info in infos.items()}
    return list(TopologicalSorter(graph).static_order())


def _upsert_programs(con: duckdb.DuckDBPyConnection, columns: list[str], shared: list[str],
                     summary: ImportSummary) -> None:
    """Add new programs and update changed ones (only the ``shared`` columns every programs file carries)."""
    cols = ", ".join(q(c) for c in columns)
    con.execute(f"""CREATE TEMP TABLE _prog AS SELECT {cols} FROM (
        SELECT *, row_number() OVER (PARTITION BY program_id ORDER BY _fileno DESC, _row DESC) AS _n
        FROM _all_programs) WHERE _n = 1""")
    same = " AND ".join(f"n.{q(c)} IS NOT DISTINCT FROM p.{q(c)}" for c in shared)
    con.execute(f"CREATE TEMP TABLE _prog_changed AS SELECT n.* FROM _prog n JOIN main.programs p "
                f"USING (program_id) WHERE NOT ({same})")
    total, added, updated = con.execute("""
        SELECT (SELECT count(*) FROM _prog), (SELECT count(*) FROM _prog ANTI JOIN main.programs USING (program_id)),
               (SELECT count(*) FROM _prog_changed)""").fetchall()[0]
    summary.superseded = summary.rows[UPSERT] - total
    summary.added, summary.updated = added, updated
    summary.unchanged = total - summary.added - summary.updated
    sets = ", ".join(f"{q(c)} = n.{q(c)}" for c in shared if c != "program_id")
    if summary.updated:
        con.execute(f"UPDATE main.programs p SET {sets} FROM _prog_changed n WHERE p.program_id = n.program_id")
    con.execute(f"INSERT INTO main.programs ({cols}) SELECT {cols} FROM _prog ANTI JOIN main.programs USING (program_id)")


def load_dir(directory: Path | str, db_path: Path | str, *, max_errors: int = 50,
             progress: Callable[[str], None] | None = None) -> ImportSummary:
    """Validate and import every file in ``directory`` into ``db_path``; what was done.

    Creates the database when it does not exist. Raises :class:`ImportValidationError` (with the
    list of problems) and writes nothing when any file, row or value is wrong.
    """
    say = progress or (lambda _msg: None)
    directory, db_path = Path(directory), Path(db_path)
    if not directory.is_dir():
        raise FileNotFoundError(f"no directory {directory}")
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ImportValidationError([ImportIssue(str(directory), None, None, None, "the directory has no files to import")])
    # a link may point anywhere (another user's files, /etc): only what is really in the folder is imported
    outside = [p for p in files if p.is_symlink() and not p.resolve().is_relative_to(directory.resolve())]
    if outside:
        raise ImportValidationError([ImportIssue(p.name, None, None, None, "a link to a file outside the import folder: "
                                                 "copy the file into the folder instead") for p in outside])
    issues = IssueList(max_errors)
    fresh = not db_path.exists()
    summary = ImportSummary({})
    try:
        _load(files, db_path, fresh, issues, summary, say)
    except _NothingToWrite:
        summary.written = False
    return summary


def _load(files: list[Path], db_path: Path, fresh: bool, issues: IssueList, summary: ImportSummary,
          say: Callable[[str], None]) -> None:
    remove_stale_temp(Path(tempfile.gettempdir()), "madang-load-")   # left by a killed import
    with tempfile.TemporaryDirectory(prefix=f"madang-load-{os.getpid()}-") as tmp, writer(db_path, create=fresh) as con:
        staged: list[tuple[int, Staged, dict[str, str]]] = []
        infos = {t: table_info(con, t) for t in IMPORTABLE}
        unreadable = False
        for index, path in enumerate(files):
            st = stage(con, path, index, Path(tmp), issues)
            if st is None:
                say(f"{path.name}: cannot be read (see errors)")
                unreadable = True
                continue
            present = source_columns(con, st)
            if check_columns(st, infos[st.table], present, issues):
                staged.append((index, st, present))
            else:
                unreadable = True
            say(f"{st.file}: {st.rows:,} rows for {st.table} ({st.encoding or st.kind})")
        if unreadable:  # row checks and references would only echo a file that could not be read whole
            issues.raise_if_any()

        say("checking types, required values, enums, ranges and dates ...")
        for index, st, present in staged:
            build_typed(con, st, index, infos[st.table], present)
            check_rows(con, st, index, infos[st.table], present, issues)
        tables = {st.table for _, st, _ in staged}
        for table in tables:
            con.execute(f"CREATE TEMP VIEW _all_{table} AS " + " UNION ALL ".join(
                f"SELECT {i} AS _fileno, '{st.file.replace(chr(39), chr(39) * 2)}' AS _file, * FROM _fin_{i}"
                for i, st, _ in staged if st.table == table))
        say("checking keys and references ...")
        order = [t for t in _dependency_order(infos) if t in tables]
        for table in order:
            check_table(con, table, infos[table], tables, issues, by_key=table == UPSERT)
        issues.raise_if_any()

        say("all checks passed; writing ...")
        for _, st, _ in staged:
            summary.fallbacks.update(st.fallbacks)
        for table in order:
            summary.rows[table] = sum(st.rows for _, st, _ in staged if st.table == table)
            if table == UPSERT:
                shared = [c for c in infos[table].columns if all(c in present for _, st, present in staged
                                                                  if st.table == table)]
                _upsert_programs(con, list(infos[table].columns), shared, summary)
                say(f"programs: {summary.added:,} added, {summary.updated:,} updated, {summary.unchanged:,} unchanged")
                continue
            cols = ", ".join(q(c) for c in infos[table].columns)
            con.execute(f"INSERT INTO {q(table)} ({cols}) SELECT {cols} FROM _all_{table}")
            say(f"wrote {summary.rows[table]:,} rows to {table}")
        if set(summary.rows) == {UPSERT} and not (summary.added or summary.updated):
            raise _NothingToWrite
        meta = get_meta(con)
        names = [n for n in dict.fromkeys(st.file for _, st, _ in staged)
                 if n not in (meta.get("imported_files") or "").split(", ")]
        now = datetime.now().isoformat(timespec="seconds")
        if fresh:
            set_meta(con, source="imported", built_at=now, imported_at=now, imported_files=", ".join(names))
        else:
            before = meta.get("imported_files")
            set_meta(con, imported_at=now, imported_files=", ".join(([before] if before else []) + names))


def programs_frame(files: list[Path]) -> tuple[pd.DataFrame, ImportSummary]:
    """The programs of some files (기업마당 exports or programs CSV/Parquet), validated exactly as an
    import into a new database would be (:class:`ImportValidationError` when wrong), as a frame with
    the programs table's columns; for builds around a real catalogue (``data.build --programs``)."""
    with tempfile.TemporaryDirectory(prefix="madang-programs-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for path in files:
            path = Path(path)
            if not path.is_file():
                raise FileNotFoundError(f"no file {path}")
            target = folder / path.name
            if target.exists():
                raise ValueError(f"two files named {path.name}")
            shutil.copyfile(path, target)  # a copy: the importer refuses links out of its folder
        summary = load_dir(folder, Path(tmp) / "programs.duckdb")
        if set(summary.rows) != {UPSERT}:
            raise ValueError(f"--programs takes program files only, got rows for {', '.join(summary.rows)}")
        with duckdb.connect(str(Path(tmp) / "programs.duckdb"), read_only=True) as con:
            frame = con.execute("SELECT * REPLACE (target_sizes::VARCHAR[] AS target_sizes, category::VARCHAR AS category) "
                                "FROM programs ORDER BY program_id").df()
    return frame, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data.load",
        description="Validate and import CSV (UTF-8 or CP949), Parquet and 기업마당 JSON files into a "
                    "Madang Insight database. All or nothing: any error leaves the database unchanged.",
        epilog="File names pick the table: " + ", ".join(IMPORTABLE) + " (e.g. firms.csv, "
               "applications_2024.parquet); every .json file is a 기업마당 export for programs. "
               "List columns are |-joined in CSV.")
    parser.add_argument("directory", type=Path, help="folder with the files to import")
    parser.add_argument("--db", type=Path, default=default_db_path(),
                        help="database to import into; created when it does not exist (default: %(default)s)")
    parser.add_argument("--max-errors", type=int, default=50, help="report at most this many problems (default: 50)")
    args = parser.parse_args(argv)
    try:
        summary = load_dir(args.directory, args.db, max_errors=args.max_errors,
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
    except ImportValidationError as err:
        print(err, file=sys.stderr)
        print("가져오기 실패: 오류를 고친 뒤 다시 실행하세요. 데이터베이스는 바뀌지 않았습니다.", file=sys.stderr)
        return 1
    except (FileNotFoundError, RuntimeError) as err:
        print(f"Import failed: {err}", file=sys.stderr)
        return 1
    print(f"Imported into {args.db}: " + ", ".join(f"{t} {n:,}" for t, n in summary.rows.items()))
    for line in summary.lines()[1:]:
        print(f"  {line}")
    return 0


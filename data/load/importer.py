"""Validated import: ``python -m data.load DIR --db PATH``.

Reads every file in DIR (CSV in UTF-8 or CP949/EUC-KR, Parquet, 기업마당 announcement JSON), checks
all of it against the schema and the database, and writes it only when nothing is wrong. The whole
import runs inside :func:`data.db.writer`, which works on a copy: any error leaves the database (or
its absence) exactly as it was. Errors name the file, the row, the column and the value; up to
``max_errors`` of them are reported at once.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path

from data.db import default_db_path, get_meta, set_meta, writer
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

__all__ = ["ImportIssue", "ImportValidationError", "load_dir", "main"]


def _dependency_order(infos: dict[str, TableInfo]) -> list[str]:
    """Tables so that every referenced table comes before the tables that reference it."""
    graph = {t: {ref for _, ref, _, _ in info.fks if ref in infos and ref != t} for t, info in infos.items()}
    return list(TopologicalSorter(graph).static_order())


def load_dir(directory: Path | str, db_path: Path | str, *, max_errors: int = 50,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Validate and import every file in ``directory`` into ``db_path``; rows written per table.

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
    issues = IssueList(max_errors)
    fresh = not db_path.exists()
    with tempfile.TemporaryDirectory(prefix="madang-load-") as tmp, writer(db_path, create=fresh) as con:
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
            check_table(con, table, infos[table], tables, issues)
        issues.raise_if_any()

        counts: dict[str, int] = {}
        say("all checks passed; writing ...")
        for table in order:
            cols = ", ".join(q(c) for c in infos[table].columns)
            con.execute(f"INSERT INTO {q(table)} ({cols}) SELECT {cols} FROM _all_{table}")
            counts[table] = sum(st.rows for _, st, _ in staged if st.table == table)
            say(f"wrote {counts[table]:,} rows to {table}")
        names = ", ".join(st.file for _, st, _ in staged)
        now = datetime.now().isoformat(timespec="seconds")
        if fresh:
            set_meta(con, source="imported", built_at=now, imported_at=now, imported_files=names)
        else:
            before = get_meta(con).get("imported_files")
            set_meta(con, imported_at=now, imported_files=f"{before}, {names}" if before else names)
    return counts


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
        counts = load_dir(args.directory, args.db, max_errors=args.max_errors,
                          progress=lambda m: print(m, file=sys.stderr, flush=True))
    except ImportValidationError as err:
        print(err, file=sys.stderr)
        print("가져오기 실패: 오류를 고친 뒤 다시 실행하세요. 데이터베이스는 바뀌지 않았습니다.", file=sys.stderr)
        return 1
    except (FileNotFoundError, RuntimeError) as err:
        print(f"Import failed: {err}", file=sys.stderr)
        return 1
    print(f"Imported into {args.db}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    return 0


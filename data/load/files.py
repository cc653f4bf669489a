"""Reading the files of an import into raw staging tables (data/load.py validates and writes them).

A file's table comes from its name (``firms.csv``, ``programs.parquet``, ``applications_2024.csv``);
every ``.json`` file is a 기업마당 announcement export and goes to ``programs``. CSV text is UTF-8
(with or without BOM) or CP949/EUC-KR, as Korean agencies export it; the encoding is detected, and a
file that is neither is refused by name. CSV values are staged as text, Parquet values with their
own types; the typed cast and every check happen afterwards in SQL.
"""
from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from data.load import bizinfo
from data.load.errors import IssueList

# Tables an import may fill, in no particular order (load.py orders them by their foreign keys).
IMPORTABLE = ("channels", "firms", "programs", "applications", "app_fingerprints", "business_plans", "public_templates", "ai_survey")
_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+)")


@dataclass
class Staged:
    """One file read into a raw staging table; ``rowid + 1`` of the table is the file's data row."""

    file: str
    table: str
    stg: str
    kind: str                      # csv, parquet or bizinfo (also the default programs.source)
    rows: int = 0
    encoding: str | None = None
    source_fields: dict[str, str] = field(default_factory=dict)  # column -> field name in the file
    fallbacks: Counter = field(default_factory=Counter)          # rows per fallback rule (data.bizinfo.FALLBACKS)

    def label(self, column: str) -> str:
        """A column as the file's author knows it (기업마당 exports use their own field names)."""
        src = self.source_fields.get(column)
        return f"{column} ({src})" if src else column


def table_for(path: Path) -> str | None:
    """The table a file belongs to: its stem is the table name, optionally followed by _suffix or -suffix."""
    if path.suffix.lower() == ".json":
        return "programs"
    stem = path.stem.lower()
    hits = [t for t in IMPORTABLE if stem == t or re.match(re.escape(t) + r"[_\-.]", stem)]
    return max(hits, key=len) if hits else None


def could_be(path: Path) -> str:
    close = difflib.get_close_matches(path.stem.lower(), IMPORTABLE, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(c + path.suffix for c in close)}? " if close else ""
    return f"{hint}File names must start with a table name: {', '.join(IMPORTABLE)} (.csv or .parquet), or be a 기업마당 .json export"


def decode(path: Path, data: bytes, issues: IssueList) -> tuple[str, str] | None:
    """(text, encoding name) of a text file, or None after recording why it cannot be read."""
    name = path.name
    if not data:
        issues.add(name, None, None, None, "empty file (0 bytes)")
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        issues.add(name, None, None, None, "the file is UTF-16; save it as UTF-8 or CP949 (EUC-KR) CSV")
        return None
    if b"\x00" in data:
        issues.add(name, None, None, None, "not a text file: it contains NUL bytes (UTF-16 or binary?); expected UTF-8 or CP949 (EUC-KR) text")
        return None
    if data.startswith(codecs.BOM_UTF8):
        data, bom = data[len(codecs.BOM_UTF8):], True
    else:
        bom = False
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as err:
        # A UTF-8 file cut inside a multi-byte character must not be mistaken for CP949.
        if err.reason == "unexpected end of data" or bom:
            issues.add(name, None, None, None, f"invalid UTF-8 at byte {err.start}: the file is cut off or damaged")
            return None
        utf8_err = err
    try:
        return data.decode("cp949"), "cp949"
    except UnicodeDecodeError:
        bad = data[utf8_err.start:utf8_err.start + 4].hex(" ")
        issues.add(name, None, None, None,
                   f"unknown text encoding: neither UTF-8 nor CP949/EUC-KR (bytes {bad} at offset {utf8_err.start})")
        return None


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, st: Staged, tmpdir: Path, issues: IssueList) -> bool:
    decoded = decode(path, path.read_bytes(), issues)
    if decoded is None:
        return False
    text, st.encoding = decoded
    if not text.strip():
        issues.add(st.file, None, None, None, "empty file (only blank lines)")
        return False
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r"))), [])
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes or "" in header:
        issues.add(st.file, None, ", ".join(dupes) or "(blank)", None, "the header repeats a column name or has a blank one")
        return False
    source = path
    if st.encoding == "cp949":  # DuckDB reads UTF-8 only without extensions: hand it a UTF-8 copy
        source = tmpdir / f"{st.stg}.csv"
        source.write_text(text, encoding="utf-8")
    cols = ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for h in header)
    try:
        con.execute(
            f"CREATE TEMP TABLE {st.stg} AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
            f"columns = {{{cols}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true)",
            [str(source)],
        )
    except duckdb.Error as err:
        msg = str(err)
        line = _CSV_ERROR.search(msg)
        detail = [ln for ln in msg.splitlines()[1:4] if ln and not ln.startswith(("Original Line", "Possible"))]
        row = int(line.group(1)) - 1 if line else None
        issues.add(st.file, row, None, None,
                   "the CSV is malformed or cut off" + (f": {detail[0].strip()}" if detail else ""))
        return False
    return True


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, st: Staged, issues: IssueList) -> bool:
    if path.stat().st_size == 0:
        issues.add(st.file, None, None, None, "empty file (0 bytes)")
        return False
    try:
        con.execute(f"CREATE TEMP TABLE {st.stg} AS SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as err:
        issues.add(st.file, None, None, None,
                   f"not a readable Parquet file (cut off or damaged): {str(err).splitlines()[0]}")
        return False
    return True


def _stage_bizinfo(con: duckdb.DuckDBPyConnection, path: Path, st: Staged, issues: IssueList) -> bool:
    decoded = decode(path, path.read_bytes(), issues)
    if decoded is None:
        return False
    st.encoding = decoded[1]
    regions = dict(con.execute("SELECT short_ko, region_code FROM regions").fetchall())
    regions.update(con.execute("SELECT name_ko, region_code FROM regions").fetchall())
    sections = con.execute("SELECT ksic_section, name_ko, division_from, division_to FROM industries").fetchall()
    parsed = bizinfo.parse(decoded[0], st.file, regions, sections, issues)
    if parsed is None:
        return False
    st.source_fields = {**bizinfo.SOURCE_FIELDS, "target_regions": parsed.region_field}
    st.fallbacks = parsed.fallbacks
    frame = pd.DataFrame(parsed.rows, columns=list(bizinfo.COLUMNS), dtype="object")
    con.register("_bizinfo_frame", frame)
    try:
        con.execute(f"CREATE TEMP TABLE {st.stg} AS SELECT * FROM _bizinfo_frame")
    finally:
        con.unregister("_bizinfo_frame")
    return True


def stage(con: duckdb.DuckDBPyConnection, path: Path, index: int, tmpdir: Path, issues: IssueList) -> Staged | None:
    """Read one file into a staging table, or record why it cannot be read and return None."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".json"):
        issues.add(path.name, None, None, None, "unsupported file type: expected .csv, .parquet or a 기업마당 .json export")
        return None
    table = table_for(path)
    if table is None:
        issues.add(path.name, None, None, None, f"unknown file name: no table called {path.stem!r}. {could_be(path)}")
        return None
    kind = {".csv": "csv", ".parquet": "parquet", ".json": "bizinfo"}[suffix]
    st = Staged(file=path.name, table=table, stg=f"_stg_{index}", kind=kind)
    ok = {"csv": lambda: _stage_csv(con, path, st, tmpdir, issues),
          "parquet": lambda: _stage_parquet(con, path, st, issues),
          "bizinfo": lambda: _stage_bizinfo(con, path, st, issues)}[kind]()
    if not ok:
        return None
    st.rows = con.execute(f"SELECT count(*) FROM {st.stg}").fetchall()[0][0]
    if st.rows == 0:
        what = "no announcements in jsonArray" if kind == "bizinfo" else (
            "header only: the file has column names but no data rows" if kind == "csv" else "the file has no rows")
        issues.add(st.file, None, None, None, what)
        return None
    return st

"""Validation of staged import files, in DuckDB SQL over whole columns (no Python loop over rows).

The rules come from the schema itself (``duckdb_columns()``, ``duckdb_constraints()``): column types
and enums, NOT NULL, defaults, primary and unique keys, foreign keys and CHECK constraints. Added on
top: the references the schema documents but does not declare (applications -> firms, programs,
channels; fingerprints and plans -> applications, programs' region and industry lists), non-negative money (``*_krw``), plausible dates
and the closed set of certification names, and :data:`VALUE_RULES` (사업자등록번호 check digit, plausible
head counts, no founding dates in the future).

Per file, :func:`build_typed` casts the raw staging table into ``_typ_<i>`` (typed, NULL where a
value does not parse) and the view ``_fin_<i>`` (defaults applied: what would be inserted).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from data.load.errors import IssueList
from data.load.files import Staged

# References the schema documents in comments (no declared key, for build speed) or holds in lists.
IMPLICIT_FKS = {
    "applications": [("firm_id", "firms", "firm_id", False),
                     ("program_id", "programs", "program_id", False),
                     ("channel_id", "channels", "channel_id", False)],
    "app_fingerprints": [("application_id", "applications", "application_id", False)],
    "business_plans": [("application_id", "applications", "application_id", False)],
    "programs": [("target_regions", "regions", "region_code", True),
                 ("target_industries", "industries", "ksic_section", True)],
}
LIST_DOMAINS = {("programs", "required_certs"): ("venture", "innobiz", "mainbiz", "women")}
# Values the schema documents but does not declare (issue 18): (table, column, condition that must hold, message).
_BIZ_DIGIT = "TRY_CAST(substr(biz_no, {i}, 1) AS INTEGER)"
_BIZ_SUM = " + ".join(f"{w} * {_BIZ_DIGIT.format(i=i + 1)}" for i, w in enumerate((1, 3, 7, 1, 3, 7, 1, 3, 5)))
VALUE_RULES = [
    ("firms", "biz_no",
     f"regexp_full_match(biz_no, '[0-9]{{10}}') AND (10 - ({_BIZ_SUM} + {_BIZ_DIGIT.format(i=9)} * 5 // 10) % 10) % 10 "
     f"= {_BIZ_DIGIT.format(i=10)}",
     "not a valid 사업자등록번호: 10 digits without dashes, the last one the check digit of the first nine"),
    ("firms", "employees", "employees <= 1000000", "implausible number of employees (more than 1,000,000)"),
    ("firms", "founded_on", "founded_on <= current_date", "founding date in the future"),
]
_INTEGER = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
_NON_NEGATIVE = re.compile(r"^\((\w+) >= 0\)$")


@dataclass
class Column:
    name: str
    type: str                       # castable SQL type: BIGINT, DATE, size_class_t, size_class_t[] ...
    nullable: bool
    default: str | None
    labels: tuple[str, ...] = ()    # enum labels (of the element for an enum list)

    @property
    def is_list(self) -> bool:
        return self.type.endswith("[]")

    @property
    def base(self) -> str:
        return self.type.removesuffix("[]")


@dataclass
class TableInfo:
    name: str
    columns: dict[str, Column]
    keys: list[list[str]] = field(default_factory=list)
    fks: list[tuple[str, str, str, bool]] = field(default_factory=list)   # column, table, column, is_list
    checks: list[tuple[str, list[str]]] = field(default_factory=list)     # SQL expression, its columns

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if not c.nullable and c.default is None]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_info(con: duckdb.DuckDBPyConnection, table: str) -> TableInfo:
    enums: dict[str, tuple[str, tuple[str, ...]]] = {}
    for (name,) in con.execute("SELECT type_name FROM duckdb_types() WHERE logical_type = 'ENUM' AND NOT internal").fetchall():
        labels: tuple[str, ...] = tuple(x[0] for x in con.execute(f"SELECT unnest(enum_range(NULL::{name}))").fetchall())
        enums["ENUM(" + ", ".join("'" + x.replace("'", "''") + "'" for x in labels) + ")"] = (name, labels)
    columns = {}
    for name, dtype, nullable, default in con.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
        "WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index", [table]
    ).fetchall():
        base, suffix = (dtype[:-2], "[]") if dtype.endswith("[]") else (dtype, "")
        enum_name, labels = enums.get(base, (base, ()))
        columns[name] = Column(name, enum_name + suffix, nullable, default, labels)
    info = TableInfo(table, columns)
    for ctype, cols, ref_table, ref_cols, expr in con.execute(
        "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names, expression "
        "FROM duckdb_constraints() WHERE table_name = ? AND schema_name = 'main'", [table]
    ).fetchall():
        if ctype in ("PRIMARY KEY", "UNIQUE"):
            info.keys.append(list(cols))
        elif ctype == "FOREIGN KEY":
            info.fks.append((cols[0], ref_table, ref_cols[0], False))
        elif ctype == "CHECK":
            info.checks.append((expr, list(dict.fromkeys(cols))))
    info.fks += IMPLICIT_FKS.get(table, [])
    checked = {m.group(1) for expr, _ in info.checks if (m := _NON_NEGATIVE.match(expr))}
    info.checks += [(f"({c} >= 0)", [c]) for c in columns if c.endswith("_krw") and c not in checked]
    return info


def _cast(col: Column, raw: str, src_type: str) -> str:
    """SQL for the typed value of a raw column: NULL where it does not parse."""
    if src_type != "VARCHAR":
        return f"TRY_CAST({raw} AS {col.type})"
    v = f"NULLIF(trim({raw}), '')"
    if col.is_list:  # CSV lists are |-joined: "micro|small"
        return f"TRY_CAST(list_filter(list_transform(string_split({v}, '|'), lambda x: trim(x)), lambda x: x <> '') AS {col.type})"
    if col.base in _INTEGER:  # thousands separators are common in Korean exports; 1.5 is not an integer
        v = f"replace({v}, ',', '')"
        return f"CASE WHEN regexp_full_match({v}, '[+-]?[0-9]+') THEN TRY_CAST({v} AS {col.base}) END"
    if col.base == "DATE":  # 2024.03.01 and 2024/03/01 are common too
        v = rf"regexp_replace({v}, '^(\d{{4}})[./](\d{{1,2}})[./](\d{{1,2}})$', '\1-\2-\3')"
    return f"TRY_CAST({v} AS {col.type})"


def _type_message(col: Column) -> str:
    if col.labels:
        prefix = "contains a value that is " if col.is_list else ""
        return f"{prefix}not one of: {', '.join(col.labels)}"
    return {"DATE": "not a date (expected YYYY-MM-DD)",
            "TIMESTAMP": "not a date-time (expected YYYY-MM-DD HH:MM:SS)",
            "BOOLEAN": "not true/false",
            "DOUBLE": "not a number"}.get(col.type, "not a whole number" if col.type in _INTEGER else f"cannot be read as {col.type}")


def source_columns(con: duckdb.DuckDBPyConnection, st: Staged) -> dict[str, str]:
    """The staged file's columns and their DuckDB types."""
    return {n: t for n, t in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND database_name = 'temp' ORDER BY column_index", [st.stg]).fetchall()}


def check_columns(st: Staged, info: TableInfo, present: dict[str, str], issues: IssueList) -> bool:
    """File-level: every required column present, no unknown columns. False when the file cannot be typed."""
    ok = True
    for name in present:
        if name not in info.columns:
            issues.add(st.file, None, name, None, f"unknown column: table {info.name} has {', '.join(info.columns)}")
            ok = False
    for name in info.required:
        if name not in present:
            issues.add(st.file, None, st.label(name), None, f"required column missing (table {info.name})")
            ok = False
    return ok


def build_typed(con: duckdb.DuckDBPyConnection, st: Staged, index: int, info: TableInfo, present: dict[str, str]) -> None:
    typed = ", ".join(
        f"{_cast(c, q(c.name), present[c.name]) if c.name in present else f'NULL::{c.type}'} AS {q(c.name)}"
        for c in info.columns.values())
    con.execute(f"CREATE TEMP TABLE _typ_{index} AS SELECT rowid + 1 AS _row, {typed} FROM {st.stg}")
    final = []
    for c in info.columns.values():
        default = f"'{st.kind}'" if c.name == "source" else c.default  # imported programs say where they came from
        expr = f"coalesce({q(c.name)}, CAST({default} AS {c.type}))" if default is not None and not c.nullable else q(c.name)
        final.append(f"{expr} AS {q(c.name)}")
    con.execute(f"CREATE TEMP VIEW _fin_{index} AS SELECT _row, {', '.join(final)} FROM _typ_{index}")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, issues: IssueList) -> list[tuple]:
    return con.execute(f"{sql} ORDER BY ALL LIMIT {issues.room}").fetchall()


def check_rows(con: duckdb.DuckDBPyConnection, st: Staged, index: int, info: TableInfo, present: dict[str, str],
               issues: IssueList) -> None:
    """Row-level checks of one file: types, enums, required values, date ranges, CHECK constraints."""
    typ, fin, f = f"_typ_{index}", f"_fin_{index}", st.file
    for c in info.columns.values():
        unparsed: set[int] = set()
        if c.name in present:
            raw = f"s.{q(c.name)}"
            non_empty = f"NULLIF(trim({raw}), '') IS NOT NULL" if present[c.name] == "VARCHAR" else f"{raw} IS NOT NULL"
            bad = f"t.{q(c.name)} IS NULL" + (f" OR list_count(t.{q(c.name)}) <> len(t.{q(c.name)})" if c.is_list else "")
            for row, value in _rows(con, f"SELECT t._row, CAST({raw} AS VARCHAR) FROM {st.stg} s JOIN {typ} t "
                                         f"ON t._row = s.rowid + 1 WHERE {non_empty} AND ({bad})", issues):
                issues.add(f, row, st.label(c.name), value, _type_message(c))
                unparsed.add(row)
        if not c.nullable:
            # a value that is there but does not parse was reported above: only flag empty ones
            for (row,) in con.execute(f"SELECT _row FROM {fin} WHERE {q(c.name)} IS NULL ORDER BY _row "
                                      f"LIMIT {issues.room + len(unparsed)}").fetchall():
                if row not in unparsed:
                    issues.add(f, row, st.label(c.name), None, "required value missing")
        if c.type in ("DATE", "TIMESTAMP"):
            for row, value in _rows(con, f"SELECT _row, {q(c.name)}::VARCHAR FROM {fin} "
                                         f"WHERE NOT year({q(c.name)}) BETWEEN 1900 AND 2100", issues):
                issues.add(f, row, st.label(c.name), value, "implausible date (year outside 1900-2100)")
        domain = LIST_DOMAINS.get((info.name, c.name))
        if domain and c.name in present:
            allowed = ", ".join(f"'{d}'" for d in domain)
            for row, value in _rows(con, f"SELECT _row, {q(c.name)}::VARCHAR FROM {fin} "
                                         f"WHERE len(list_filter({q(c.name)}, lambda x: x NOT IN ({allowed}))) > 0", issues):
                issues.add(f, row, st.label(c.name), value, f"contains a value that is not one of: {', '.join(domain)}")
    for table, column, holds, message in VALUE_RULES:
        if table == info.name and column in present:
            for row, value in _rows(con, f"SELECT _row, {q(column)}::VARCHAR FROM {fin} "
                                         f"WHERE {q(column)} IS NOT NULL AND NOT ({holds})", issues):
                issues.add(f, row, st.label(column), value, message)
    for expr, cols in info.checks:
        shown = f"{q(cols[0])}::VARCHAR" if len(cols) == 1 else \
            " || ', ' || ".join(f"'{c}=' || coalesce({q(c)}::VARCHAR, 'NULL')" for c in cols)
        m = _NON_NEGATIVE.match(expr)
        message = "must not be negative" if m else f"breaks the rule {expr}"
        for row, value in _rows(con, f"SELECT _row, {shown} FROM {fin} WHERE NOT ({expr})", issues):
            issues.add(f, row, ", ".join(st.label(c) for c in cols), value, message)


def check_table(con: duckdb.DuckDBPyConnection, table: str, info: TableInfo, staged_tables: set[str],
                issues: IssueList, *, by_key: bool = False) -> None:
    """Checks across all files of one table: keys unique in the import and new to the database, references resolve.

    ``by_key``: the table is written by key (a repeated key updates its row), so keys are not checked."""
    union = f"_all_{table}"
    for key in [] if by_key else info.keys:
        cols = ", ".join(q(k) for k in key)
        not_null = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
        shown = " || ', ' || ".join(f"{q(k)}::VARCHAR" for k in key)
        for file, row, value, first_file, first_row in _rows(con, f"""
                SELECT _file, _row, {shown}, ff, fr FROM (
                    SELECT _file, _row, {cols},
                           row_number() OVER w AS n, first_value(_file) OVER w AS ff, first_value(_row) OVER w AS fr
                    FROM {union} WHERE {not_null}
                    WINDOW w AS (PARTITION BY {cols} ORDER BY _fileno, _row))
                WHERE n > 1""", issues):
            issues.add(file, row, ", ".join(key), value, f"duplicate key: already in {first_file} row {first_row}")
        on = " AND ".join(f"u.{q(k)} = d.{q(k)}" for k in key)
        shown_u = " || ', ' || ".join(f"u.{q(k)}::VARCHAR" for k in key)
        for file, row, value in _rows(con, f"SELECT u._file, u._row, {shown_u} "
                                           f"FROM {union} u SEMI JOIN main.{q(table)} d ON {on}", issues):
            issues.add(file, row, ", ".join(key), value, f"duplicate key: a {table} row with this {', '.join(key)} is already in the database")
    for col, ref_table, ref_col, is_list in info.fks:
        refs = f"SELECT {q(ref_col)} AS k FROM main.{q(ref_table)}"
        if ref_table in staged_tables:
            refs += f" UNION ALL SELECT {q(ref_col)} FROM _all_{ref_table}"
        source = f"(SELECT _file, _row, unnest({q(col)}) AS v FROM {union})" if is_list else \
                 f"(SELECT _file, _row, {q(col)} AS v FROM {union})"
        for file, row, value in _rows(con, f"SELECT u._file, u._row, u.v::VARCHAR FROM {source} u "
                                           f"ANTI JOIN ({refs}) r ON u.v = r.k WHERE u.v IS NOT NULL", issues):
            issues.add(file, row, col, value,
                       f"unknown {ref_col}: no {ref_table} row has it (in the database or in this import)")

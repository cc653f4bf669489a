"""Program uptake (지원사업 활용 현황): headline figures, the funnel, breakdowns and time series.

Pure functions over a DuckDB connection. Every query reads the pre-joined summary tables of
``data/summaries/uptake.sql`` (one row per application, the firm population, one row per program) and
applies the shared :class:`~analytics.filters.Filters` through ``Filters.where`` plus this view's own
drill-down (a tuple of ``(dimension, value)`` pairs, hashable so it is part of the cache key).
Results are aggregates only; for the ``policy`` role every row that stands for 1-4 firms is
suppressed before it leaves here (``data.privacy.suppress_small``).

Reach and concentration live in :mod:`analytics.uptake_reach`; documents, budgets and the program
profile in :mod:`analytics.uptake_programs`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import pandas as pd

from analytics.filters import Filters
from data import access, facts, privacy

APPS = "summary_uptake_apps"
# Drill-down / breakdown dimension -> column of summary_uptake_apps. Firm age is banded at the
# time of application ('00-02' .. '20+', sorting in age order).
DIMS: dict[str, str] = {
    "ministry": "ministry",
    "agency": "agency",
    "program": "program_id",
    "category": "category",
    "region": "region_code",
    "size": "size_class",
    "industry": "ksic_section",
    "age": "age_band",
}
AGE_BANDS = ("00-02", "03-06", "07-09", "10-19", "20+")
Drill = tuple[tuple[str, str], ...]

# Firm counts need count(DISTINCT firm_id), which at 10 M applications costs seconds per query.
# Aggregating per (group, firm) first and then per group gives the same exact numbers 2-4x faster
# and lets one scan return every count, sum and firm count a view needs.
_PER_FIRM = """
    count(*) AS applications,
    count(*) FILTER (WHERE s.selected) AS selected,
    count(*) FILTER (WHERE s.agreed) AS agreed,
    count(*) FILTER (WHERE s.e_contract) AS e_contract,
    count(*) FILTER (WHERE s.paid) AS paid,
    count(*) FILTER (WHERE s.online) AS online,
    count(*) FILTER (WHERE NOT s.online) AS offline,
    sum(s.amount_awarded_krw) AS amount,
    count(*) FILTER (WHERE s.docs_submitted IS NOT NULL AND s.docs_auto_linked IS NOT NULL) AS docs_n,
    sum(s.docs_submitted) FILTER (WHERE s.docs_auto_linked IS NOT NULL) AS docs_by_firm,
    sum(s.docs_auto_linked) FILTER (WHERE s.docs_submitted IS NOT NULL) AS docs_auto"""
_PER_GROUP = """
    sum(applications)::BIGINT AS applications,
    count(*) AS applicants,
    sum(selected)::BIGINT AS selected,
    count(*) FILTER (WHERE selected > 0) AS firms_reached,
    sum(agreed)::BIGINT AS agreed,
    sum(e_contract)::BIGINT AS e_contract,
    sum(paid)::BIGINT AS paid,
    coalesce(sum(amount), 0)::BIGINT AS amount_awarded_krw,
    sum(online)::BIGINT AS online,
    sum(offline)::BIGINT AS offline,
    sum(docs_n)::BIGINT AS docs_n,
    sum(docs_by_firm)::BIGINT AS docs_by_firm_sum,
    sum(docs_auto)::BIGINT AS docs_auto_sum"""


def measures(con: duckdb.DuckDBPyConnection, where: str, params: list, key: str | None = None) -> pd.DataFrame:
    """Counts, sums and firm counts of the applications matching ``where``, per value of the SQL
    expression ``key`` over ``s`` (ordered by it: enums in their declared order) or in one row.

    Columns: grp, applications, applicants (firms), selected, firms_reached (firms selected at least
    once), agreed, e_contract, paid, amount_awarded_krw, online, offline, and the document sums over
    the docs_n applications that report both document counts. No rows when nothing matches.
    """
    return con.execute(
        f"""WITH per_firm AS (
                SELECT {key or 'NULL'} AS grp, s.firm_id, {_PER_FIRM}
                FROM {APPS} s WHERE {where} GROUP BY ALL)
            SELECT grp, {_PER_GROUP} FROM per_firm GROUP BY grp ORDER BY grp""", params).df()


def _medians(con: duckdb.DuckDBPyConnection, where: str, params: list, key: str | None = None) -> pd.DataFrame:
    """Median days from submission to decision, per value of ``key`` (a second, cheap scan)."""
    return con.execute(
        f"SELECT {key or 'NULL'} AS grp, median(s.decision_days) AS median_decision_days "
        f"FROM {APPS} s WHERE {where} GROUP BY ALL", params).df()


COUNT_COLUMNS = ["applications", "applicants", "selected", "firms_reached", "agreed", "e_contract", "paid"]
RATE_COLUMNS = ["selection_rate", "agreement_rate", "e_contract_share", "payment_rate"]
# Columns counting firms (or their selected / agreed / paid applications, one per firm each) and the
# columns each gives away: every one goes through small-cell suppression on its own (issue 18).
FIRM_COUNTS: dict[str, list[str]] = {
    "applicants": [*COUNT_COLUMNS[:1], *COUNT_COLUMNS[2:], "amount_awarded_krw", *RATE_COLUMNS],
    "selected": ["selection_rate", "agreement_rate", "amount_awarded_krw"],
    "firms_reached": ["amount_awarded_krw"],
    "agreed": ["agreement_rate", "e_contract_share", "payment_rate"],
    "e_contract": ["e_contract_share"],
    "paid": ["payment_rate"],
}


def suppress_firm_counts(df: pd.DataFrame, role: str, also: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every firm count of a :func:`measures` table, cell by cell with secondary suppression against the
    overall total (shown in the headline); ``also``: further columns derived from the applicants and
    selections (a median of decision days)."""
    counts = {c: [d for d in deps if d in df.columns] + [a for a in also if c in ("applicants", "selected")]
              for c, deps in FIRM_COUNTS.items() if c in df.columns}
    return privacy.suppress_cells(df, counts, role)


def check_role(role: str) -> None:
    """This view is for policy staff and admins; every public function checks it itself."""
    access.require(role, "uptake")


def normalize_drill(drill: Drill | dict[str, str] | None) -> Drill:
    """Drill-down pairs in a canonical order, unknown dimensions and empty values dropped."""
    items = dict(drill or {})
    return tuple((d, str(items[d])) for d in DIMS if items.get(d) not in (None, ""))


def scope_where(filters: Filters, drill: Drill = (), alias: str = "s") -> tuple[str, list]:
    """The shared filters plus the drill-down, as one predicate over ``summary_uptake_apps``."""
    where, params = filters.where(app=alias, firm=alias, program=alias)
    parts = [where]
    for dim, value in normalize_drill(drill):
        parts.append(f"{alias}.{DIMS[dim]}::VARCHAR = ?")
        params.append(value)
    return " AND ".join(parts), params


def default_period(ref: date) -> tuple[date, date]:
    """The period shown when none is chosen: the 12 months up to the data's reference date."""
    return ref - timedelta(days=364), ref


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Stage-to-stage rates of a :func:`measures` frame (NaN where the denominator is 0)."""
    def ratio(a: str, b: str) -> pd.Series:
        return (df[a] / df[b].where(df[b] > 0)).astype(float)

    df["selection_rate"] = ratio("selected", "applications")
    df["agreement_rate"] = ratio("agreed", "selected")
    df["e_contract_share"] = ratio("e_contract", "agreed")
    df["payment_rate"] = ratio("paid", "agreed")
    return df


# ---------------------------------------------------------------- headline figures
HEADLINE_METRICS = ("programs", "open_now", "applications", "firms_reached", "selection_rate",
                    "amount_awarded_krw", "median_decision_days")


@dataclass(frozen=True)
class Headline:
    """Headline figures of the current period and of the period of equal length before it.

    ``figures`` has one row per metric (``HEADLINE_METRICS``): current, previous, change (relative;
    for rates the difference in points). Values are ``"<5"`` when the slice has 1-4 firms (policy).
    """

    period_from: date | None
    period_to: date | None
    previous_from: date | None
    previous_to: date | None
    defaulted: bool  # no period was chosen: the last 12 months up to the reference date
    figures: pd.DataFrame


def _slice_figures(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill) -> dict[str, float | None]:
    where, params = scope_where(filters, drill)
    m = measures(con, where, params)
    programs, median = con.execute(
        f"SELECT count(DISTINCT s.program_id), median(s.decision_days) FROM {APPS} s WHERE {where}", params).fetchall()[0]
    if m.empty:
        return {"programs": 0, "applications": 0, "firms_reached": 0, "selection_rate": None,
                "amount_awarded_krw": 0, "median_decision_days": None, "applicants": 0, "selected": 0}
    r = m.iloc[0]
    return {"programs": programs, "applications": int(r.applications), "firms_reached": int(r.firms_reached),
            "selection_rate": r.selected / r.applications, "amount_awarded_krw": int(r.amount_awarded_krw),
            "median_decision_days": median, "applicants": int(r.applicants), "selected": int(r.selected)}


def _small_headline(fig: dict[str, float | None]) -> set[str]:
    """The headline metrics a slice's small firm counts would give away (every firm count on its own)."""
    def small(key: str) -> bool:
        return 0 < (fig.get(key) or 0) < 5
    hide: set[str] = set()
    if small("applicants"):
        hide |= set(HEADLINE_METRICS) - {"open_now"}
    if small("firms_reached"):
        hide |= {"firms_reached", "amount_awarded_krw"}
    if small("selected"):
        hide |= {"selection_rate", "amount_awarded_krw", "median_decision_days"}
    return hide


def _open_programs(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill, on: date) -> int:
    """Announcements open on a day (상시 접수 included), within the program-side filters."""
    where, params = side_where(filters, drill, "program")
    return con.execute(
        f"""SELECT count(*) FROM summary_uptake_programs p
            WHERE {where} AND (p.always_open OR (p.opens_on <= ? AND coalesce(p.closes_on, ?) >= ?))""",
        [*params, on, on, on]).fetchall()[0][0]


_SIDES = {"program": ("ministry", "agency", "category", "program"), "firm": ("region", "size", "industry", "age")}


def side_where(filters: Filters, drill: Drill, side: str, alias: str = "p") -> tuple[str, list]:
    """The program-side or firm-side part of the filters and drill-down, for a query over programs
    alone (announcements, budgets) or over firms alone (the population)."""
    where, params = filters.where(app=None, firm=alias if side == "firm" else None,
                                  program=alias if side == "program" else None)
    parts = [where]
    for dim, value in normalize_drill(drill):
        if dim in _SIDES[side]:
            parts.append(f"{alias}.{DIMS[dim]}::VARCHAR = ?")
            params.append(value)
    return " AND ".join(parts), params


def headline(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str) -> Headline:
    """Headline figures with change against the previous period of the same length."""
    check_role(role)
    drill = normalize_drill(drill)
    ref = facts.reference_date(con)
    start, end, defaulted = filters.date_from, filters.date_to, False
    if start is None and end is None:
        if not con.execute(f"SELECT count(*) FROM {APPS}").fetchall()[0][0]:  # nothing submitted yet: no period
            return Headline(None, None, None, None, True, pd.DataFrame(columns=["metric", "current", "previous", "change"]))
        (start, end), defaulted = default_period(ref), True
    if end is None:
        end = ref
    if start is None:
        start = con.execute(f"SELECT min(submitted_at)::DATE FROM {APPS}").fetchall()[0][0] or end
    days = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days - 1)
    cur = _slice_figures(con, replace(filters, date_from=start, date_to=end), drill)
    prev = _slice_figures(con, replace(filters, date_from=prev_start, date_to=prev_end), drill)
    cur["open_now"] = _open_programs(con, filters, drill, end)
    prev["open_now"] = _open_programs(con, filters, drill, prev_end)
    rows = []
    for metric in HEADLINE_METRICS:
        c, p = cur[metric], prev[metric]
        if c is None or p is None or pd.isna(c) or pd.isna(p):
            change = None
        elif metric == "selection_rate":
            change = c - p
        else:
            change = (c - p) / p if p else None
        rows.append({"metric": metric, "current": c, "previous": p, "change": change})
    figures = pd.DataFrame(rows)
    if role == privacy.AGGREGATE_ROLE:
        figures[["current", "previous", "change"]] = figures[["current", "previous", "change"]].astype(object)
        for col, fig in (("current", cur), ("previous", prev)):
            hide = _small_headline(fig)
            figures.loc[figures.metric.isin(hide), [col, "change"]] = privacy.SUPPRESSED
    return Headline(start, end, prev_start, prev_end, defaulted, figures)


# ---------------------------------------------------------------- funnel and breakdowns
def _announcements(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill, by: str | None) -> pd.DataFrame:
    """Announcements whose window overlaps the period, by a program-side dimension or overall."""
    where, params = side_where(filters, drill, "program")
    lo, hi = filters.date_from or date(1900, 1, 1), filters.date_to or date(2999, 12, 31)
    window = "(p.always_open OR (coalesce(p.opens_on, DATE '1900-01-01') <= ? AND coalesce(p.closes_on, DATE '2999-12-31') >= ?))"
    key = f"p.{DIMS[by]}::VARCHAR AS grp, " if by else ""
    group = "GROUP BY 1" if by else ""
    return con.execute(
        f"SELECT {key}count(*) AS announcements FROM summary_uptake_programs p WHERE {where} AND {window} {group}",
        [*params, hi, lo]).df()


def funnel(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str,
           by: str | None = None) -> pd.DataFrame:
    """Announcement -> application -> selection -> agreement (e-contract) -> payment.

    One row overall, or one per group of ``by`` (a key of :data:`DIMS`). Announcements are counted
    per program-side group only (a firm's region or size has no announcement count of its own).
    """
    check_role(role)
    drill = normalize_drill(drill)
    where, params = scope_where(filters, drill)
    df = measures(con, where, params, f"s.{DIMS[by]}" if by else None)
    df["grp"] = df["grp"].astype(str) if by else None
    if by is None or by in ("ministry", "agency", "category", "program"):
        ann = _announcements(con, filters, drill, by)
        df = df.merge(ann, on="grp", how="left") if by else df.assign(announcements=ann["announcements"].iloc[0] if len(df) else 0)
    else:
        df["announcements"] = pd.NA
    df = add_rates(df)
    cols = (["grp"] if by else []) + ["announcements", *COUNT_COLUMNS, "amount_awarded_krw", *RATE_COLUMNS]
    return suppress_firm_counts(df[cols], role)


def breakdown(con: duckdb.DuckDBPyConnection, filters: Filters, dim: str, drill: Drill = (), *,
              role: str) -> pd.DataFrame:
    """Uptake by one dimension, with names for display; largest groups first.

    Columns: grp (the code), name (title, region or industry name, else the code), for agencies and
    programs parent (their ministry / agency), the funnel counts and rates, the amount awarded and
    the median days to a decision. Regions also carry name_en, tile_row and tile_col (tile map).
    """
    check_role(role)
    if dim not in DIMS:
        raise ValueError(f"unknown dimension {dim!r}; one of {', '.join(DIMS)}")
    where, params = scope_where(filters, normalize_drill(drill))
    col = DIMS[dim]
    key = f"s.{col}::VARCHAR"
    df = measures(con, where, params, key).merge(_medians(con, where, params, key), on="grp", how="left")
    df = add_rates(df.sort_values(["applications", "grp"], ascending=[False, True], ignore_index=True))
    df["name"], df["parent"] = df["grp"], None
    if dim in ("program", "agency"):
        df = df.drop(columns=["name", "parent"]).merge(group_names(con, dim), on="grp", how="left")
    elif dim == "region":
        regions = con.execute("SELECT region_code AS grp, short_ko, name_en, tile_row, tile_col FROM regions").df()
        df = df.merge(regions, on="grp", how="left")
        df["name"] = df["short_ko"]
    elif dim == "industry":
        names = con.execute("SELECT ksic_section, name_ko FROM industries").df()
        df["name"] = df["grp"].map(dict(zip(names.ksic_section, names.name_ko)))
    keep = ["grp", "name", *(["parent"] if dim in ("agency", "program") else []), *COUNT_COLUMNS,
            "amount_awarded_krw", *RATE_COLUMNS, "median_decision_days"]
    if dim == "region":
        keep += ["name_en", "tile_row", "tile_col"]
    return suppress_firm_counts(df[keep], role, also=("median_decision_days",))


def group_names(con: duckdb.DuckDBPyConnection, dim: str) -> pd.DataFrame:
    """grp, name and parent of every program (title, agency) or agency (itself, ministry)."""
    col, name, parent = ("program_id", "title", "agency") if dim == "program" else ("agency", "agency", "ministry")
    return con.execute(f"SELECT {col} AS grp, any_value({name}) AS name, any_value({parent}) AS parent "
                       "FROM summary_uptake_programs GROUP BY 1").df()


def drill_options(con: duckdb.DuckDBPyConnection, filters: Filters, dim: str, drill: Drill = (), *,
                  role: str) -> pd.DataFrame:
    """The ministries, agencies or programs (code, name) one can drill into, given the program-side
    filters and the drill-down so far. Read from the small program table: choosing a level must not
    scan the applications."""
    check_role(role)
    if dim not in ("ministry", "agency", "program"):
        raise ValueError("drill options are listed for ministry, agency and program")
    rest = tuple((d, v) for d, v in normalize_drill(drill) if d != dim)
    where, params = side_where(filters, rest, "program")
    name = "p.title" if dim == "program" else f"p.{DIMS[dim]}"
    return con.execute(
        f"""SELECT p.{DIMS[dim]} AS grp, any_value({name}) AS name FROM summary_uptake_programs p
            WHERE {where} GROUP BY 1 ORDER BY sum(p.applications) DESC, 1""", params).df()


# ---------------------------------------------------------------- time
def monthly(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str) -> pd.DataFrame:
    """Per month of submission: applications, selections, online/offline channel and e-contract share."""
    check_role(role)
    where, params = scope_where(filters, normalize_drill(drill))
    df = measures(con, where, params, "s.month").rename(columns={"grp": "month"})
    df["online_share"] = (df["online"] / (df["online"] + df["offline"]).where(lambda x: x > 0)).astype(float)
    df["e_contract_share"] = (df["e_contract"] / df["agreed"].where(df["agreed"] > 0)).astype(float)
    counts = ["applications", "applicants", "selected", "online", "offline", "agreed", "e_contract"]
    return privacy.suppress_small(df[["month", *counts, "online_share", "e_contract_share"]], ["applicants"], role,
                                  derived=[*counts[:1], *counts[2:], "online_share", "e_contract_share"])


def seasonality(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str) -> pd.DataFrame:
    """Per calendar month: mean applications and selections per year, and an index (1 = average month)."""
    check_role(role)
    where, params = scope_where(filters, normalize_drill(drill))
    df = measures(con, where, params, "month(s.month)").rename(columns={"grp": "month_of_year"})
    years = con.execute(f"SELECT month(s.month) AS month_of_year, count(DISTINCT year(s.month)) AS years "
                        f"FROM {APPS} s WHERE {where} GROUP BY 1", params).df()
    df = df[["month_of_year", "applications", "applicants", "selected"]].merge(years, on="month_of_year")
    df["applications_per_year"] = df["applications"] / df["years"]
    df["selected_per_year"] = df["selected"] / df["years"]
    df["index"] = df["applications_per_year"] / df["applications_per_year"].mean() if len(df) else []
    return privacy.suppress_small(df, ["applicants"], role,
                                  derived=["applications", "selected", "applications_per_year", "selected_per_year", "index"])

"""The program catalogue (지원사업 목록): every loaded program, searchable, for every role.

Works on any database, also one that holds nothing but an imported 기업마당 catalogue: it reads the
``programs`` table alone. A program's status on a day comes from its window: dated windows are
upcoming, open, closing soon (within ``closing_days``) or closed; an open-ended call (상시, 예산
소진시까지, ...) is continuous; a window the source gives only as text (추후 공지, 사업별 상이) is
unknown and shows that text. The agency's contact (officials' work phone and e-mail) is masked for
roles that may not see contact data (:mod:`data.privacy`, ``personal.unmasked`` in :mod:`data.access`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.filters import Filters
from data import access, privacy

STATUSES: tuple[str, ...] = ("closing", "open", "continuous", "upcoming", "unknown", "closed")
# what the status filter may ask for: every program, those one can apply to on the day, or those closing soon
SHOW: tuple[str, ...] = ("all", "open", "closing")
CONTACT_KINDS = {"contact_phone": "phone", "contact_email": "email"}
SOURCES: tuple[str, ...] = ("bizinfo", "synthetic", "csv", "parquet")   # programs.source values with a label
_LIMIT = 500


@dataclass(frozen=True)
class Search:
    """What the catalogue is asked for (hashable: also the cache key)."""

    day: date
    words: str = ""
    groups: tuple[str, ...] = ()
    show: str = "all"
    closing_days: int = 14

    def __post_init__(self) -> None:
        if self.show not in SHOW:
            raise ValueError(f"show must be one of {SHOW}, got {self.show!r}")


@dataclass(frozen=True)
class Result:
    rows: pd.DataFrame   # at most the first ``limit`` programs, in catalogue order
    total: int           # how many programs match


@dataclass(frozen=True)
class Inventory:
    programs: int
    sources: tuple[tuple[str, int], ...]       # (source, programs)
    groups: tuple[str, ...]                    # target groups named by any program
    first_posted: date | None
    last_posted: date | None


def like_pattern(word: str) -> str:
    """``%word%`` for ``LIKE ... ESCAPE '\\'`` with the word's own %, _ and \\ taken literally."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def inventory(con: duckdb.DuckDBPyConnection) -> Inventory:
    """What the catalogue holds: counts by source, the target groups and the publication span."""
    sources = tuple((str(s), int(n)) for s, n in con.execute(
        "SELECT source, count(*) FROM programs GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    groups = tuple(g for (g,) in con.execute(
        "SELECT DISTINCT unnest(target_groups) AS g FROM programs ORDER BY g").fetchall())
    first, last = con.execute("SELECT min(posted_at)::DATE, max(posted_at)::DATE FROM programs").fetchall()[0]
    return Inventory(sum(n for _, n in sources), sources, groups, first, last)


# a program's status on a day (bound: day, day, day, closing days)
_STATUS = """CASE
        WHEN p.opens_on IS NULL AND p.closes_on IS NULL THEN CASE WHEN p.always_open THEN 'continuous' ELSE 'unknown' END
        WHEN p.opens_on > ?::DATE THEN 'upcoming'
        WHEN p.closes_on < ?::DATE THEN 'closed'
        WHEN p.closes_on <= ?::DATE + ?::INTEGER THEN 'closing'
        ELSE 'open' END"""


def search(con: duckdb.DuckDBPyConnection, query: Search, filters: Filters, *, role: str,
           limit: int = _LIMIT) -> Result:
    """Programs matching the words (each word in the title, summary, ministry, agency or field), the
    sidebar's ministry, agency and category filters, the regions (programs open to firms there: no
    regional restriction or one of them), the target groups and the status; ordered by deadline
    (closing first, then open-ended, closed last)."""
    access.require(role, "catalogue")
    where, params = filters.where(app=None, firm=None, program="p")
    parts, args = [where], list(params)
    for word in query.words.split():
        parts.append("concat_ws(' ', p.title, p.summary, p.ministry, p.agency, p.subcategory, p.category_raw) "
                     "ILIKE ? ESCAPE '\\'")
        args.append(like_pattern(word))
    if filters.regions:
        parts.append("(len(p.target_regions) = 0 OR list_has_any(p.target_regions, ?::VARCHAR[]))")
        args.append(list(filters.regions))
    if query.groups:
        parts.append("list_has_any(p.target_groups, ?::VARCHAR[])")
        args.append(list(query.groups))
    wanted = {"all": STATUSES, "open": ("closing", "open", "continuous"), "closing": ("closing",)}[query.show]
    sql = f"""
        WITH hits AS (SELECT p.*, {_STATUS} AS status FROM programs p WHERE {' AND '.join(parts)})
        SELECT program_id, title, ministry, agency, agency_raw, category::VARCHAR AS category, category_raw,
               subcategory, status, opens_on, closes_on, always_open, window_text,
               CASE WHEN closes_on IS NOT NULL THEN date_diff('day', ?::DATE, closes_on) END AS days_left,
               coalesce((SELECT string_agg(r.short_ko, ', ' ORDER BY r.region_code) FROM regions r
                         WHERE list_contains(h.target_regions, r.region_code)), '') AS regions,
               target_regions, target_sizes::VARCHAR[] AS target_sizes, target_industries, target_groups,
               url, summary, contact_office, contact_phone, contact_email, posted_at, source,
               count(*) OVER () AS total
        FROM hits h WHERE list_contains(?::VARCHAR[], status)
        ORDER BY status = 'closed', closes_on NULLS LAST, posted_at DESC NULLS LAST, program_id
        LIMIT ?"""
    day = query.day
    args = [day, day, day, query.closing_days, *args, day, list(wanted), limit]
    df = con.execute(sql, args).df()
    total = int(df["total"].iloc[0]) if len(df) else 0
    df = df.drop(columns="total")
    if not privacy.sees_personal(role):
        df = privacy.mask_frame(df, CONTACT_KINDS)
    return Result(df, total)

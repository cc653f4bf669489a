"""The shared filter model: one set of filters, read from the URL, applied the same way by every view.

A filter is a value of :class:`Filters` (frozen, hashable, so it is also a cache key). The shell
reads it from the query parameters with :meth:`Filters.from_params`, which never raises: anything
unknown or malformed is dropped and described in a notice. Analytics functions turn it into a SQL
predicate with bound parameters through :meth:`Filters.where`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb

# Dimension name -> (query-parameter key, Filters field). "period" uses two keys: from and to.
DIMS: tuple[str, ...] = ("period", "region", "size", "industry", "ministry", "agency", "category")
MULTI_FIELDS: dict[str, str] = {
    "region": "regions",
    "size": "sizes",
    "industry": "industries",
    "ministry": "ministries",
    "agency": "agencies",
    "category": "categories",
}
PARAM_KEYS: tuple[str, ...] = ("from", "to", *MULTI_FIELDS)
# Which table alias and column each dimension filters (table: "app", "firm" or "program").
_COLUMNS: dict[str, tuple[str, str]] = {
    "region": ("firm", "region_code"),
    "size": ("firm", "size_class"),
    "industry": ("firm", "ksic_section"),
    "ministry": ("program", "ministry"),
    "agency": ("program", "agency"),
    "category": ("program", "category"),
}
SIZES: tuple[str, ...] = ("micro", "small", "medium", "midsize", "large")
CATEGORIES: tuple[str, ...] = ("금융", "기술", "인력", "수출", "내수", "창업", "경영", "기타")


@dataclass(frozen=True)
class FilterOptions:
    """The values each filter may take in the loaded database (codes with Korean and English names)."""

    regions: tuple[tuple[str, str, str], ...] = ()      # (region_code, name_ko, name_en)
    sizes: tuple[tuple[str, str, str], ...] = ()        # (size_class, name_ko, name_en)
    industries: tuple[tuple[str, str, str], ...] = ()   # (ksic_section, name_ko, name_en)
    ministries: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    categories: tuple[str, ...] = CATEGORIES
    date_min: date | None = None
    date_max: date | None = None

    def codes(self, dim: str) -> tuple[str, ...]:
        values = getattr(self, MULTI_FIELDS[dim])
        return tuple(v[0] if isinstance(v, tuple) else v for v in values)


@dataclass(frozen=True)
class Filters:
    """Shared filters; an empty tuple or None means "all"."""

    date_from: date | None = None
    date_to: date | None = None
    regions: tuple[str, ...] = field(default=())
    sizes: tuple[str, ...] = field(default=())
    industries: tuple[str, ...] = field(default=())
    ministries: tuple[str, ...] = field(default=())
    agencies: tuple[str, ...] = field(default=())
    categories: tuple[str, ...] = field(default=())

    @classmethod
    def from_params(
        cls, params: Mapping[str, str | list[str]], options: FilterOptions | None = None, *,
        known: Iterable[str] = (),
    ) -> tuple[Filters, list[str]]:
        """Parse query parameters; never raises.

        Returns the filters and one notice per dropped parameter or value: unknown keys (other than
        ``known``, the page's own keys), malformed dates, and, when ``options`` is given, values that
        do not exist in the database. Notices are codes that the shell turns into labels:
        ``"unknown:KEY"``, ``"bad_date:KEY=VALUE"``, ``"out_of_range:KEY=VALUE"``,
        ``"bad_value:KEY=VALUE"``, ``"bad_range"``.
        """
        notices: list[str] = []
        known_keys = set(PARAM_KEYS) | set(known)
        values: dict[str, object] = {}
        for key, raw in params.items():
            items = [raw] if isinstance(raw, str) else list(raw)
            if key not in known_keys:
                notices.append(f"unknown:{key}")
                continue
            if key in known and key not in PARAM_KEYS:
                continue
            if key in ("from", "to"):
                parsed = _parse_date(items[-1]) if items else None
                if items and items[-1] != "" and parsed is None:
                    notices.append(f"bad_date:{key}={items[-1]}")
                elif parsed is not None and options is not None and options.date_min and options.date_max and not (
                        options.date_min <= parsed <= options.date_max):
                    notices.append(f"out_of_range:{key}={items[-1]}")
                    parsed = None
                values["date_from" if key == "from" else "date_to"] = parsed
                continue
            allowed = options.codes(key) if options is not None else (SIZES if key == "size" else CATEGORIES if key == "category" else None)
            kept: list[str] = []
            for item in items:
                if item == "":
                    continue
                if allowed is not None and item not in allowed:
                    notices.append(f"bad_value:{key}={item}")
                elif item not in kept:
                    kept.append(item)
            values[MULTI_FIELDS[key]] = tuple(kept)
        flt = cls(**values)  # type: ignore[arg-type]
        if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
            notices.append("bad_range")
            flt = replace(flt, date_from=None, date_to=None)
        return flt, notices

    def to_params(self) -> dict[str, list[str]]:
        """The query parameters that reproduce these filters (defaults left out)."""
        out: dict[str, list[str]] = {}
        if self.date_from:
            out["from"] = [self.date_from.isoformat()]
        if self.date_to:
            out["to"] = [self.date_to.isoformat()]
        for key, name in MULTI_FIELDS.items():
            if getattr(self, name):
                out[key] = list(getattr(self, name))
        return out

    def only(self, dims: Iterable[str]) -> Filters:
        """These filters restricted to some dimensions (the ones a page uses)."""
        keep = set(dims)
        changes: dict[str, object] = {name: () for key, name in MULTI_FIELDS.items() if key not in keep}
        if "period" not in keep:
            changes.update(date_from=None, date_to=None)
        return replace(self, **changes)  # type: ignore[arg-type]

    def active(self) -> tuple[str, ...]:
        """The dimensions that restrict anything."""
        dims = ["period"] if (self.date_from or self.date_to) else []
        return tuple(dims + [key for key, name in MULTI_FIELDS.items() if getattr(self, name)])

    def where(self, app: str | None = "a", firm: str | None = "f", program: str | None = "p") -> tuple[str, list]:
        """A SQL predicate and its bound parameters for a query over applications/firms/programs.

        Pass ``None`` for a table the query does not join: its conditions are left out (see
        :meth:`unapplied`). Lists are bound whole and tested with ``list_contains`` so the SQL text
        does not depend on how many values are selected.
        """
        aliases = {"app": app, "firm": firm, "program": program}
        parts: list[str] = []
        params: list = []
        if app is not None and self.date_from:
            parts.append(f"{app}.submitted_at >= ?")
            params.append(self.date_from)
        if app is not None and self.date_to:
            # inclusive end date on a timestamp column
            parts.append(f"{app}.submitted_at < ? + INTERVAL 1 DAY")
            params.append(self.date_to)
        for key, name in MULTI_FIELDS.items():
            table, column = _COLUMNS[key]
            values = getattr(self, name)
            if values and aliases[table] is not None:
                cast = "::VARCHAR" if key in ("size", "category") else ""
                parts.append(f"list_contains(?::VARCHAR[], {aliases[table]}.{column}{cast})")
                params.append(list(values))
        return (" AND ".join(parts) if parts else "TRUE"), params

    def unapplied(self, app: str | None = "a", firm: str | None = "f", program: str | None = "p") -> tuple[str, ...]:
        """Active dimensions that :meth:`where` with the same aliases leaves out."""
        aliases = {"app": app, "firm": firm, "program": program}
        out = ["period"] if (self.date_from or self.date_to) and app is None else []
        out += [key for key, name in MULTI_FIELDS.items() if getattr(self, name) and aliases[_COLUMNS[key][0]] is None]
        return tuple(out)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def options(con: duckdb.DuckDBPyConnection) -> FilterOptions:
    """What each filter can take in this database; the date range spans the applications."""
    def rows(sql: str) -> tuple:
        return tuple(tuple(r) if len(r) > 1 else r[0] for r in con.execute(sql).fetchall())

    dmin, dmax = con.execute(
        "SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM applications").fetchall()[0]
    return FilterOptions(
        regions=rows("SELECT region_code, short_ko, name_en FROM regions ORDER BY region_code"),
        sizes=rows("SELECT size_class::VARCHAR, name_ko, name_en FROM size_classes ORDER BY sort_order"),
        industries=rows("SELECT ksic_section, name_ko, name_en FROM industries ORDER BY ksic_section"),
        ministries=rows("SELECT DISTINCT ministry FROM programs ORDER BY ministry"),
        agencies=rows("SELECT DISTINCT agency FROM programs ORDER BY agency"),
        date_min=dmin,
        date_max=dmax,
    )


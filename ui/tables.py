"""One way to present a table: on screen (``st.dataframe``) and as its CSV download, from one spec.

A spec maps each shown column to ``(label key, kind)``. Kinds:

* ``text`` – as it is (missing shown as "–"); ``name:<dim>`` – a code shown by its name
  (ui.names: region, size, industry, category, age); ``term`` – a broker-audit term;
* ``num`` – a count, always a whole number; ``dec`` / ``dec:N`` – a measure with 1 / N decimals;
* ``money`` – an amount, every cell of the column in one unit named in the header (억원, 조원…);
* ``pct`` – a share shown in percent; ``pp`` – a difference of shares in percentage points;
* ``days`` – a number of days; ``date`` / ``datetime`` / ``month`` – a day, a moment or a month;
* ``check`` – a yes/no; ``link`` – a web address, drawn as a link (the CSV keeps the address).

The CSV carries the same columns, headers in the user's language with the column codes in a second
header row, values rounded as shown, and '#' lines naming the view, period, filters (in words),
data version and the suppression note. It is written by the one CSV writer, ``data.export``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from data import export, privacy
from ui import fmt, names
from ui.i18n import t

Spec = Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class Shown:
    """A spec applied to a frame: header labels, the values (rounded as shown, numbers kept as
    numbers where the whole column is numeric) and how Streamlit should draw each column."""

    frame: pd.DataFrame          # columns = the spec's codes, values as shown
    headers: dict[str, str]      # code -> header in the user's language (with unit)
    config: dict[str, Any]       # code -> st.column_config
    suppressed: bool             # some cell is "<5"


def _digits(kind: str) -> int:
    return int(kind.split(":")[1]) if ":" in kind else 1


def _is_suppressed(col: pd.Series) -> bool:
    return col.dtype == object and bool((col.astype(str) == privacy.SUPPRESSED).any())


def _sup(v: object) -> bool:
    """A suppressed cell ("<5"); safe for pd.NA, whose comparisons are neither true nor false."""
    return isinstance(v, str) and v == privacy.SUPPRESSED


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def shape(df: pd.DataFrame, columns: Spec, lang: str, plain: bool = False, *, csv: bool = False) -> Shown:
    """Apply ``columns`` to ``df`` (pure: no drawing). On screen a share reads "28.7%"; in the CSV
    it is the number 28.7 under a header that says (%)."""
    out = pd.DataFrame(index=df.index)
    headers: dict[str, str] = {}
    config: dict[str, Any] = {}
    any_suppressed = False
    for code, (key, kind) in columns.items():
        title = t(key, lang) if key else code
        col = df[code]
        suppressed = _is_suppressed(col)
        any_suppressed |= suppressed
        base = kind.split(":")[0]
        if base == "money":
            unit = fmt.money_unit(col, lang, plain)
            title = f"{title} ({unit[1]})"
            values = col.map(lambda v, u=unit: privacy.SUPPRESSED if _sup(v) else fmt.in_unit(v, u))
            fmt_str = "%.0f" if unit[0] == 1.0 else "%.1f"
        elif base == "num":
            values = col.map(lambda v: privacy.SUPPRESSED if _sup(v) else fmt.count(v))
            fmt_str = "%d"
        elif base in ("pct", "pp"):
            d = _digits(kind)
            if csv or base == "pp":
                title = f"{title} ({'%' if base == 'pct' else '%p'})"
            values = col.map(lambda v, d=d: v if _sup(v) or _missing(v) else round(float(v) * 100, d))
            fmt_str = f"%.{d}f" if base == "pct" else f"%+.{d}f"
        elif base in ("dec", "days"):
            d = _digits(kind) if base == "dec" else 0
            if base == "days":
                title = f"{title} ({t('common.unit_days', lang)})"
            values = col.map(lambda v, d=d: v if _sup(v) or _missing(v) else round(float(v), d))
            fmt_str = f"%.{d}f"
        else:
            fmt_str = ""
            if base == "name":
                lookup = names.names(kind.split(":")[1], lang)
                values = col.map(lambda v, n=lookup: fmt.MISSING if _missing(v) else n.get(str(v), str(v)))
            elif base == "term":
                values = col.map(lambda v: fmt.MISSING if _missing(v) else names.term(str(v), lang))
            elif base == "date":
                values = col.map(fmt.day)
            elif base == "datetime":
                values = col.map(lambda v: fmt.MISSING if _missing(v) else f"{fmt.day(v)} {v:%H:%M}")
            elif base == "month":
                values = col.map(lambda v: fmt.month(v, lang))
            elif base == "check":
                values = col.map(lambda v: False if _missing(v) else bool(v))
            else:
                values = col.map(lambda v: fmt.MISSING if _missing(v) else v)
        headers[code] = title
        if fmt_str:
            # numbers beside "<5" or a missing value: the whole column as text, for Arrow, and a missing
            # cell as "–" (a number column draws it as "None"); the CSV is text
            if suppressed or csv or bool(pd.isna(values).any()):
                sign = "%" if base == "pct" and not csv else ""
                values = values.map(lambda v, f=fmt_str, u=sign: v if isinstance(v, str) else
                                    fmt.MISSING if _missing(v) else f.replace("%d", "%.0f") % v + u)
                config[code] = st.column_config.TextColumn(title)
            else:
                values = pd.to_numeric(values, errors="coerce")
                config[code] = st.column_config.NumberColumn(
                    title, format="localized" if base in ("num", "money") and fmt_str in ("%d", "%.0f") else
                    (fmt_str + "%%" if base == "pct" else fmt_str))
        elif base == "check":
            config[code] = st.column_config.CheckboxColumn(title)
        elif base == "link":
            config[code] = st.column_config.LinkColumn(title, display_text=t("common.open_link", lang))
        else:
            config[code] = st.column_config.TextColumn(title)
        out[code] = values
    return Shown(out, headers, config, any_suppressed)


def show(df: pd.DataFrame, columns: Spec, *, lang: str, plain: bool, role: str, **kwargs: Any) -> Any:
    """Draw ``df``'s ``columns`` with ``st.dataframe`` (``kwargs`` passed on: width, selection…)."""
    shown = shape(df, columns, lang, plain)
    result = st.dataframe(shown.frame, hide_index=True, column_config=shown.config, **kwargs)
    if shown.suppressed and role == privacy.AGGREGATE_ROLE:
        st.caption(t("common.suppressed_note", lang))
    return result


def _cell(v: object, lang: str) -> object:
    if isinstance(v, bool):
        return t("common.yes" if v else "common.no", lang)
    return v


def csv_text(df: pd.DataFrame, columns: Spec, *, lang: str, comments: Sequence[str]) -> str:
    """The CSV of ``df``'s ``columns``: '#' ``comments``, headers in ``lang``, codes, values as shown
    (plain digits: a spreadsheet reads them as numbers; money in the column's unit)."""
    shown = shape(df, columns, lang, plain=False, csv=True)
    header = [[shown.headers[c] for c in columns], list(columns)]
    rows = ([_cell(None if _missing(v) or v == fmt.MISSING else v, lang) for v in row]
            for row in shown.frame[list(columns)].itertuples(index=False))
    return export.to_csv(rows, comments=comments, header=header)


def infer(df: pd.DataFrame, prefix: str) -> dict[str, tuple[str, str]]:
    """A spec for a frame shown only as a download: every column, labelled ``<prefix>.col.<code>``
    where the catalogue has it (else ``common.col.<code>``, else the code itself), kind from the
    name and dtype."""
    from ui.i18n import CATALOGUE

    spec: dict[str, tuple[str, str]] = {}
    for code in df.columns:
        key = next((k for k in (f"{prefix}.col.{code}", f"common.col.{code}") if k in CATALOGUE), "")
        col = df[code]
        values = pd.to_numeric(col[col != privacy.SUPPRESSED], errors="coerce") if col.dtype == object else col
        if code.endswith("_krw"):
            kind = "money"
        elif code.endswith(("_rate", "_share", "penetration", "uptake_ratio")) or code in ("p", "lo", "hi"):
            kind = "pct"
        elif code.endswith("_pp"):
            kind = "pp"
        elif pd.api.types.is_bool_dtype(col):
            kind = "check"
        elif pd.api.types.is_datetime64_any_dtype(col):
            kind = "month" if code == "month" else "date"
        elif pd.api.types.is_numeric_dtype(values) and values.notna().any():
            whole = bool((values.dropna() % 1 == 0).all())
            kind = "num" if whole else "dec:2"
        elif code in names.ALIASES or code in names.NAMED:
            kind = f"name:{code}"
        else:
            kind = "text"
        spec[code] = (key, kind)
    return spec

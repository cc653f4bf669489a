"""Numbers as Korean readers expect them (억원, 만원, 조원), or plain, or in English. No streamlit.

Korean amounts use the 10⁴-based units: 4,500만원, 12.3억원, 1.2조원. The plain option prints every
digit (1,234,567,890원), for users who copy figures into other documents.
"""
from __future__ import annotations

import math
from datetime import date

from typing_extensions import TypeIs

from data.privacy import SUPPRESSED

MISSING = "–"


def _missing(value: object) -> TypeIs[None]:
    # pandas' NA and NaT by type name: this module does not import pandas
    return (value is None or (isinstance(value, float) and math.isnan(value))
            or type(value).__name__ in ("NAType", "NaTType"))


def _short(value: float, unit: float, digits: int = 1) -> str:
    text = f"{value / unit:,.{digits}f}"
    return text[: -digits - 1] if text.endswith("." + "0" * digits) else text


def money(krw: float | int | None, lang: str = "ko", plain: bool = False) -> str:
    """An amount in KRW: ``12.3억원``, ``4,500만원``; in English ``KRW 1.2 bn``; plain ``1,234,567원``."""
    if _missing(krw) or krw == SUPPRESSED:
        return SUPPRESSED if krw == SUPPRESSED else MISSING
    v = float(krw)
    a = abs(v)
    if lang == "ko":
        if plain or a < 1e4:
            return f"{v:,.0f}원"
        if a >= 1e12:
            return _short(v, 1e12) + "조원"
        if a >= 1e8:
            return _short(v, 1e8) + "억원"
        return f"{v / 1e4:,.0f}만원"
    if plain or a < 1e6:
        return f"KRW {v:,.0f}"
    for unit, name in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if a >= unit:
            return f"KRW {_short(v, unit)} {name}"
    raise AssertionError("unreachable")


def num(n: float | int | None, lang: str = "ko", plain: bool = False) -> str:
    """A count: ``30.1만``, ``1.2억`` in Korean, ``8.3M`` in English, ``301,234`` plain or when small."""
    if _missing(n) or n == SUPPRESSED:
        return SUPPRESSED if n == SUPPRESSED else MISSING
    v = float(n)
    a = abs(v)
    if plain or (lang == "ko" and a < 1e5) or (lang != "ko" and a < 1e6):
        return f"{v:,.0f}"
    if lang == "ko":
        return _short(v, 1e8) + "억" if a >= 1e8 else _short(v, 1e4) + "만"
    return _short(v, 1e9) + "B" if a >= 1e9 else _short(v, 1e6) + "M"


def pct(x: float | None, digits: int = 1) -> str:
    """A share as a percentage: 0.287 -> ``28.7%``."""
    if _missing(x) or x == SUPPRESSED:
        return SUPPRESSED if x == SUPPRESSED else MISSING
    return f"{float(x) * 100:.{digits}f}%"


def pp(x: float | None, digits: int = 1) -> str:
    """A difference of two shares in percentage points: 0.012 -> ``+1.2``."""
    if _missing(x) or x == SUPPRESSED:
        return SUPPRESSED if x == SUPPRESSED else MISSING
    return f"{float(x) * 100:+.{digits}f}"


def dec(x: float | None, digits: int = 1) -> str:
    """A measured quantity that is not a count (per 1,000 firms, an index): ``12.3``."""
    if _missing(x) or x == SUPPRESSED:
        return SUPPRESSED if x == SUPPRESSED else MISSING
    return f"{float(x):,.{digits}f}"


# Units of a money column: every cell of one column in the same unit, named once in the header
# (a column where 9,800억원 sits above 1.2조원 reads wrongly at a glance).
_KO_UNITS = ((1e12, "조원"), (1e8, "억원"), (1e4, "만원"), (1.0, "원"))
_EN_UNITS = ((1e12, "KRW tn"), (1e9, "KRW bn"), (1e6, "KRW m"), (1.0, "KRW"))


def money_unit(values: object, lang: str = "ko", plain: bool = False) -> tuple[float, str]:
    """(divisor, unit name) for a column of amounts: the largest unit its median amount reaches."""
    units = _KO_UNITS if lang == "ko" else _EN_UNITS
    if plain:
        return units[-1]
    amounts = [abs(float(v)) for v in values if not _missing(v) and v != SUPPRESSED]  # type: ignore[attr-defined]
    amounts = sorted(a for a in amounts if a > 0)
    if not amounts:
        return units[-1]
    median = amounts[len(amounts) // 2]
    return next((size, name) for size, name in units if median >= size or size == 1.0)


def in_unit(krw: float | int | None, unit: tuple[float, str]) -> float | None:
    """An amount expressed in a column's unit, rounded as shown (one decimal; whole 원 in 원)."""
    if _missing(krw) or krw == SUPPRESSED:
        return None
    size = unit[0]
    return round(float(krw) / size, 1 if size > 1 else 0)


def count(n: float | int | None) -> int | None:
    """A count of firms, applications, …, as a whole number (weighted counts are estimates; a
    fractional firm is noise to the reader)."""
    return None if _missing(n) or n == SUPPRESSED else int(round(float(n)))


def month(d: date | None, lang: str = "ko") -> str:
    """A month: ``2024년 3월`` / ``2024-03`` (ISO in English: no month names to translate)."""
    if d is None or _missing(d) or str(d) in ("NaT", ""):
        return MISSING
    y, m = int(d.year), int(d.month)
    return f"{y}년 {m}월" if lang == "ko" else f"{y}-{m:02d}"


def day(d: date | None) -> str:
    """A date, ISO in both languages (``2024-03-05``)."""
    if d is None or _missing(d) or str(d) in ("NaT", ""):
        return MISSING
    return f"{int(d.year)}-{int(d.month):02d}-{int(d.day):02d}"

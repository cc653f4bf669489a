"""Numbers as Korean readers expect them (억원, 만원, 조원), or plain, or in English. No streamlit.

Korean amounts use the 10⁴-based units: 4,500만원, 12.3억원, 1.2조원. The plain option prints every
digit (1,234,567,890원), for users who copy figures into other documents.
"""
from __future__ import annotations

import math

from data.privacy import SUPPRESSED

MISSING = "–"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


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

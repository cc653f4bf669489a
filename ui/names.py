"""One names lookup: the code of a region, size class, industry, support field, firm-age band or
broker term → its name in the user's language.

Codes stay in data, URLs and CSV code rows; people read names. Region, size and industry names
come from the database (``analytics.filters.options``: code, Korean, English), the fixed
vocabularies from the label catalogue. Unknown codes show as they are.
"""
from __future__ import annotations

from analytics import filters as flt
from analytics.uptake.summary import AGE_BANDS
from ui import cache
from ui.i18n import CATALOGUE, t

# dimension -> its FilterOptions field; column names used by analytics frames are aliases
_FROM_DB = {"region": "regions", "size": "sizes", "industry": "industries"}
ALIASES = {"region_code": "region", "size_class": "size", "ksic_section": "industry"}
NAMED = ("region", "size", "industry", "category", "age")  # dimensions whose codes have names here


def names(dim: str, lang: str) -> dict[str, str]:
    """Every code of ``dim`` with its name in ``lang``, in the data's order."""
    dim = ALIASES.get(dim, dim)
    if dim in _FROM_DB:
        col = 1 if lang == "ko" else 2
        return {row[0]: row[col] for row in getattr(cache.query(flt.options), _FROM_DB[dim])}
    if dim == "category":
        return {c: t(f"category.{c}", lang) for c in flt.CATEGORIES}
    if dim == "age":
        return {a: t(f"names.age.{a}", lang) for a in AGE_BANDS}
    return {}


def name(dim: str, code: object, lang: str) -> str:
    """The name of one code (the code itself when the dimension or code is unknown)."""
    return names(dim, lang).get(str(code), str(code))


def term(word: str, lang: str) -> str:
    """A broker-audit term (evidence group, identifier kind, status, why a value did not count)."""
    key = f"names.term.{word}"
    return t(key, lang) if key in CATALOGUE else word


def terms(words: str, lang: str) -> str:
    """A ', '-joined list of terms in ``lang``."""
    return ", ".join(term(w, lang) for w in words.split(", ")) if words else words

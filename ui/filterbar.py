"""The shared filters in the sidebar and in the URL.

The truth is one :class:`Filters` value in the session (``_filters``); widgets show it and update it
through their callbacks, and the URL is rewritten from it on every run. Each page draws only the
filters it applies, yet the others keep their values across pages and stay in the URL, so a link
always reproduces the whole view.

The URL carries codes (region=11&size=micro&category=수출&from=2024-01-01), the same in both
languages. Streamlit's ``bind="query-params"`` was not used here: it writes the *displayed* option
label into the URL (서울 or Seoul, depending on the language) and drops invalid values silently,
where the user must be told that their link did not fully apply.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from analytics import filters as flt
from analytics.filters import Filters
from ui import cache, names, urlstate
from ui.i18n import DEFAULT_LANG, LANGS
from ui.i18n import t as label

_FILTERS = "_filters"         # session state: the current Filters
_URL_SEEN = "_url_seen"        # session state: the query parameters of the session's first run
_NOTICES = "_url_notices"      # session state: notices about the first URL, shown once
_DATE_KEYS = {"from": "date_from", "to": "date_to"}


def seed_from_url() -> None:
    """On a session's first run: remember its URL; language and plain numbers from it at once."""
    if _URL_SEEN in st.session_state:
        return
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    st.session_state[_URL_SEEN] = raw
    st.session_state["_url_seen_page"] = urlstate.first_page()
    notices: list[str] = []
    lang = (raw.get("lang") or [DEFAULT_LANG])[-1]
    if lang not in LANGS:
        notices.append(f"bad_value:lang={lang}")
        lang = DEFAULT_LANG
    plain = (raw.get("plain") or ["0"])[-1]
    if plain not in ("0", "1", "true", "false"):
        notices.append(f"bad_value:plain={plain}")
    st.session_state.update({"_lang": lang, "plain": plain in ("1", "true"), _NOTICES: notices})


def write_url(values: Mapping[str, list[str]], keys: Iterable[str]) -> None:
    """Make the URL's ``keys`` equal ``values`` (missing = removed); untouched when already equal."""
    for key in keys:
        want = values.get(key, [])
        if st.query_params.get_all(key) == want:
            continue
        if want:
            st.query_params[key] = want
        elif key in st.query_params:
            del st.query_params[key]


def take_notices() -> list[str]:
    """Notices about the session's first URL (returned once)."""
    return list(st.session_state.pop(_NOTICES, []))


def current() -> Filters:
    return st.session_state.get(_FILTERS, Filters())


def _store(key: str) -> None:
    """Widget callback: copy the widget's new value into the session's Filters."""
    value = st.session_state[key]
    attr = _DATE_KEYS.get(key) or flt.MULTI_FIELDS[key]
    changed: dict[str, Any] = {attr: value if key in _DATE_KEYS else tuple(value)}
    st.session_state[_FILTERS] = replace(current(), **changed)


def _reset() -> None:
    st.session_state[_FILTERS] = Filters()


def _names(lang: str) -> dict[str, dict[str, str]]:
    found = {dim: names.names(dim, lang) for dim in ("region", "size", "industry", "category")}
    found["industry"] = {code: f"{code} {name}" for code, name in found["industry"].items()}
    return found


def _namer(names: dict[str, str]) -> Callable[[str], str]:
    return lambda code: names.get(code, code)


def draw(dims: Iterable[str], lang: str) -> tuple[Filters, list[str]]:
    """Draw the filters of ``dims`` in the sidebar; the session's Filters and any notices."""
    dims = tuple(dims)
    opts = cache.query(flt.options)
    notices: list[str] = []
    if _FILTERS not in st.session_state:
        raw = st.session_state.get(_URL_SEEN, {})
        st.session_state[_FILTERS], notices = Filters.from_params(
            {k: v for k, v in raw.items() if k in flt.PARAM_KEYS}, opts)
    filters = current()
    if dims:
        shown = _names(lang)
        with st.sidebar.expander(label("side.filters", lang), expanded=True, icon=":material/filter_alt:"):
            for key, attr in _DATE_KEYS.items():
                if "period" in dims:
                    st.session_state[key] = getattr(filters, attr)
                    st.date_input(label(f"dim.{key}", lang), value=None, min_value=opts.date_min,
                                  max_value=opts.date_max, key=key, on_change=_store, args=(key,))
            for dim, attr in flt.MULTI_FIELDS.items():
                if dim in dims:
                    st.session_state[dim] = list(getattr(filters, attr))
                    st.multiselect(label(f"dim.{dim}", lang), opts.codes(dim), key=dim, on_change=_store, args=(dim,),
                                   format_func=_namer(shown.get(dim, {})),
                                   placeholder=label("dim.all", lang), select_all=False)  # its label is English only
            st.button(label("side.reset", lang), key="_reset_filters", on_click=_reset, icon=":material/restart_alt:")
    filters = current()
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        notices.append("bad_range")
        filters = replace(filters, date_from=None, date_to=None)
    write_url(filters.to_params(), flt.PARAM_KEYS)
    unused = [d for d in filters.active() if d not in dims]
    if unused:
        st.sidebar.caption(label("side.unused", lang, dims=", ".join(label(f"dim.{d}", lang) for d in unused)))
    return filters.only(dims), notices

"""One URL policy: every value in the URL is a language-independent code, and a page's own
settings (tab, breakdown, selected program, …) belong to that page alone.

* The shared filters are the sidebar's (ui.filterbar); this module is for what one page binds.
* A page's value lives in the session under that page's name (``_page_params[page][key]``), as a
  code; widgets show it through their ``format_func`` in the user's language. The URL is written
  from it on every run of the page, so a link reproduces the view, and switching language keeps it.
* The URL is read once, from the session's first address (remembered by ``filterbar.seed_from_url``),
  and only by the page that address opened: uptake's ``by`` never becomes matching's ``by``.
  A value a page does not know is dropped with a notice, as the shell does for filters.
* Streamlit's ``bind="query-params"`` is not used: it writes the shown label (규모 or Size) into the
  URL and keeps a bound value across page switches, which is how one page's setting leaked into
  another's.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlparse

import streamlit as st

from ui.i18n import LANGS, t

T = TypeVar("T")
_STORE = "_page_params"      # session state: {page: {key: code}}
_CLAIMED = "_url_claimed"    # session state: the first address has been read by a page
_OURS = "_url_keys"          # session state: every page-parameter key any page has written
_URL_SEEN = "_url_seen"      # written by ui.filterbar.seed_from_url: the session's first query parameters
_URL_PAGE = "_url_seen_page"  # written by ui.filterbar.seed_from_url: the page of the first address
_UNSET = object()


def _store(page: str) -> dict[str, Any]:
    return st.session_state.setdefault(_STORE, {}).setdefault(page, {})


def first_page() -> str | None:
    """The page part of the current address (``uptake`` of ``…/uptake``), None when unknown
    (AppTest, non-browser clients). ``filterbar.seed_from_url`` keeps it for the first address."""
    url = st.context.url
    path = urlparse(url).path.strip("/").split("/")[-1] if url else ""
    return path or None


def claim(page: str, own: Iterable[str], shared: Iterable[str]) -> list[str]:
    """On the first page run of a session: keep the first address's values of ``own`` keys for
    ``page``; returns notice codes for keys that are neither ``own`` nor ``shared``.

    Called by ``ui.shell.page`` after the role check. Later runs return no notices.
    """
    if st.session_state.get(_CLAIMED):
        return []
    path = st.session_state.get(_URL_PAGE)
    if path not in (None, page, "signin"):
        return []  # the address opened another page (sign-in landed here first): that page reads it
    st.session_state[_CLAIMED] = True
    own, shared = set(own), set(shared)
    store = _store(page)
    notices = []
    for key, values in st.session_state.get(_URL_SEEN, {}).items():
        if key in own and values:
            store[key] = values if len(values) > 1 else values[0]
            store.setdefault("_from_url", set()).add(key)
        elif key not in own and key not in shared:
            notices.append(f"unknown:{key}")
    return notices


def tidy(page: str, own: Iterable[str], shared: Iterable[str]) -> None:
    """Make the URL's page part exactly this page's settings: another page's left-overs and keys
    the first address carried (reported by :func:`claim`) go; this page's stored values (also of
    widgets not drawn in this run, e.g. on a closed tab) are written back."""
    own, keep = set(own), set(own) | set(shared)
    store = _store(page)
    for key in list(st.query_params):
        if key not in keep or (key in own and key not in store):
            del st.query_params[key]
    for key in own & set(store):
        _write(key, store[key], None)


def _write(key: str, value: Any, default: Any) -> None:
    st.session_state.setdefault(_OURS, set()).add(key)
    if value is None or value == default or value == [] or value == "":
        if key in st.query_params:
            del st.query_params[key]
        return
    want = [str(v) for v in value] if isinstance(value, list) else [value.isoformat() if isinstance(value, date) else str(value)]
    if st.query_params.get_all(key) != want:
        st.query_params[key] = want


def _bad(key: str, raw: object) -> None:
    lang = st.session_state.get("_lang", LANGS[0])
    st.warning(t("notice.bad_value", lang, detail=f"{key}={raw}"), icon=":material/link_off:")


class PageParams:
    """The URL-kept settings of one page. Each method draws a widget (passed in, e.g.
    ``st.segmented_control`` or a column's ``selectbox``) whose value is a code, and returns it."""

    def __init__(self, page: str) -> None:
        self.page = page

    def _key(self, key: str) -> str:
        return f"{self.page}.{key}"

    def _resolve(self, key: str, valid: Callable[[Any], Any], default: Any) -> Any:
        """The current code: the widget's own value if still valid, else the page's stored one
        (from the URL or an earlier visit), else ``default``. ``valid`` returns the parsed value
        or ``_UNSET``."""
        widget, store = self._key(key), _store(self.page)
        if widget in st.session_state:
            value = valid(st.session_state[widget])
            if value is not _UNSET:
                return value
        if key in store:
            value = valid(store[key])
            from_url = key in store.get("_from_url", set())
            if value is _UNSET:
                if from_url:
                    _bad(key, store[key])
                del store[key]
            else:
                return value
            store.get("_from_url", set()).discard(key)
        return default

    def _keep(self, key: str, value: Any, default: Any) -> Any:
        """Remember a non-default value for this page (a default is simply absent) and write the URL."""
        store = _store(self.page)
        if value == default or value is None:
            store.pop(key, None)
        else:
            store[key] = value
        store.get("_from_url", set()).discard(key)
        _write(key, value, default)
        return value

    def forget(self, key: str) -> None:
        """Drop a setting (its widget starts from its default on the next draw)."""
        _store(self.page).pop(key, None)
        st.session_state.pop(self._key(key), None)
        if key in st.query_params:
            del st.query_params[key]

    def choice(self, widget: Callable[..., Any], label: str, key: str, options: Sequence[T], default: T | None,
               **kwargs: Any) -> T | None:
        """One of ``options`` (codes; shown through ``format_func``) with ``widget`` (selectbox,
        segmented_control, radio). ``default=None`` allows no choice."""
        by_text = {str(o): o for o in options}

        def valid(v: Any) -> Any:
            if v is None:
                return default
            return by_text.get(str(v[-1] if isinstance(v, list) else v), _UNSET)

        current = self._resolve(key, valid, default)
        st.session_state[self._key(key)] = current
        value = widget(label, list(options), key=self._key(key), **kwargs)
        return self._keep(key, default if value is None else value, default)

    def many(self, widget: Callable[..., Any], label: str, key: str, options: Sequence[T], default: Sequence[T],
             **kwargs: Any) -> list[T]:
        """Several of ``options`` (a multiselect)."""
        by_text = {str(o): o for o in options}

        def valid(v: Any) -> Any:
            items = v if isinstance(v, (list, tuple)) else [v]
            found = [by_text.get(str(i), _UNSET) for i in items]
            return _UNSET if any(f is _UNSET for f in found) else found

        st.session_state[self._key(key)] = self._resolve(key, valid, list(default))
        value = widget(label, list(options), key=self._key(key), **kwargs)
        return self._keep(key, list(value), list(default))

    def text(self, widget: Callable[..., Any], label: str, key: str, default: str = "", **kwargs: Any) -> str:
        """Free text (a search box)."""
        st.session_state[self._key(key)] = self._resolve(key, lambda v: str(v[-1] if isinstance(v, list) else v), default)
        return self._keep(key, widget(label, key=self._key(key), **kwargs) or "", default)

    def number(self, widget: Callable[..., Any], label: str, key: str, default: int, *, lo: int, hi: int,
               **kwargs: Any) -> int:
        """A whole number within [lo, hi] (a number_input)."""
        def valid(v: Any) -> Any:
            try:
                n = int(str(v[-1] if isinstance(v, list) else v))
            except ValueError:
                return _UNSET
            return n if lo <= n <= hi else _UNSET

        st.session_state[self._key(key)] = self._resolve(key, valid, default)
        value = widget(label, min_value=lo, max_value=hi, key=self._key(key), **kwargs)
        return self._keep(key, int(value), default)

    def day(self, widget: Callable[..., Any], label: str, key: str, default: date, **kwargs: Any) -> date:
        """A date (a date_input), ISO in the URL."""
        def valid(v: Any) -> Any:
            if isinstance(v, date):
                return v
            try:
                return date.fromisoformat(str(v[-1] if isinstance(v, list) else v))
            except ValueError:
                return _UNSET

        st.session_state[self._key(key)] = self._resolve(key, valid, default)
        value = widget(label, key=self._key(key), **kwargs)
        return self._keep(key, value or default, default)

    def tabs(self, codes: Sequence[str], prefix: str, lang: str) -> dict[str, Any]:
        """``st.tabs`` whose open tab is kept as its code (``tab=reach``): {code: tab container}.

        Streamlit keeps a tab's *label* as its state; a label of either language is mapped back to
        its code, so switching language keeps the open tab. Tab ``c`` is labelled ``<prefix>.<c>``.
        """
        def labels(code: str, lg: str) -> str:
            return t(f"{prefix}.{code}", lg)

        by_label = {labels(c, lg): c for c in codes for lg in LANGS} | {c: c for c in codes}
        code = self._resolve("tab", lambda v: by_label.get(str(v[-1] if isinstance(v, list) else v), _UNSET), codes[0])
        st.session_state[self._key("tab")] = labels(code, lang)
        shown = st.tabs([labels(c, lang) for c in codes], key=self._key("tab"), on_change="rerun")
        opened = by_label.get(str(st.session_state.get(self._key("tab"))), code)
        self._keep("tab", opened, codes[0])
        return dict(zip(codes, shown))

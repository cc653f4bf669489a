"""The frame every page lives in: the role check, the shared sidebar and the page context.

``app.py`` draws the shared part of the sidebar (:func:`sidebar`: language, user, sign-out,
synthetic badge, number format) before it runs the selected page. Each page then calls
:func:`page` first, which checks sign-in and role again on the server, draws the filters that
page applies (ui.filterbar), reports dropped URL parameters and hands back a :class:`PageContext`
with everything the page needs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from analytics import filters as flt
from analytics.filters import Filters
from analytics.overview import summary as overview
from data import access, privacy
from data.db import data_version, default_db_path
from ui import cache, filterbar, fmt, names, session, tables, urlstate
from ui.i18n import DEFAULT_LANG, LANGS
from ui.i18n import t as label
from ui.session import AUTH_KEY

T = TypeVar("T")
_SHELL_KEY = "_shell"        # session state: what the sidebar computed in this run
SHELL_PARAMS = ("lang", "plain")  # query parameters of the shell itself
_LANG_KEY = "_lang"          # session state: the chosen language


@dataclass(frozen=True)
class PageSpec:
    """One registered page: its file, its key (labels ``<key>.title``, URL ``/<key>``, access policy
    ``view.<key>``) and icon."""

    path: str
    key: str
    icon: str | None = None

    def __post_init__(self) -> None:
        if not self.roles:
            raise ValueError(f"page {self.path}: no entry 'view.{self.key}' in the access policy (data/access.py)")

    @property
    def roles(self) -> frozenset[str]:
        """The roles that may open the page, from the one access policy."""
        return access.roles(f"view.{self.key}")


@dataclass(frozen=True)
class ShellState:
    """What app.py's part of the sidebar found in this run, for :func:`page`."""

    notices: tuple[str, ...]
    meta: Mapping[str, str]


def current_user() -> tuple[str, str] | None:
    """(user, role) of the signed-in session, or None."""
    auth = st.session_state.get(AUTH_KEY)
    return (auth["user"], auth["role"]) if auth else None


def current_lang() -> str:
    lang = st.session_state.get(_LANG_KEY, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def _store_lang() -> None:
    st.session_state[_LANG_KEY] = st.session_state["lang"]


def language_switch() -> str:
    """The ko/en switch (kept in the URL as ``lang=en``; Korean is the default).

    The choice lives in ``_lang``, not in the widget's own state: the sign-in page's switch and the
    app's are different widgets, and a widget's state ends with the widget.
    """
    filterbar.seed_from_url()
    st.session_state["lang"] = current_lang()
    st.sidebar.segmented_control(
        "언어 / Language", LANGS, key="lang", required=True, on_change=_store_lang,
        format_func=lambda code: {"ko": "한국어", "en": "English"}[code],
    )
    lang = current_lang()
    filterbar.write_url({"lang": [lang]} if lang != DEFAULT_LANG else {}, ["lang"])
    return lang


def sidebar(user: str, role: str) -> None:
    """The part of the sidebar every page shares (drawn by app.py before the page runs)."""
    lang = language_switch()
    st.sidebar.caption(label("signin.as", lang, user=user, role=label(f"role.{role}", lang)))
    if st.sidebar.button(label("signin.out", lang), key="_signout", icon=":material/logout:"):
        privacy.log_access(default_db_path(), user, role, "sign_out", None)
        session.end()
        st.rerun()
    cache.warm()
    meta = cache.query(overview.meta)
    if meta.get("source", "synthetic") == "synthetic":
        st.sidebar.badge(label("side.synthetic", lang), icon=":material/science:", color="orange")
    plain = st.sidebar.toggle(label("side.plain", lang), key="plain")
    filterbar.write_url({"plain": ["1"]} if plain else {}, ["plain"])
    st.session_state[_SHELL_KEY] = ShellState(tuple(filterbar.take_notices()), dict(meta))


@dataclass(frozen=True)
class PageContext:
    """What a page gets from :func:`page`: who is looking, in which language, with which filters."""

    user: str
    role: str
    lang: str
    plain: bool
    filters: Filters
    db_path: Path
    data_version: str
    meta: Mapping[str, str] = field(default_factory=dict)
    page_key: str = ""

    def t(self, key: str, **kw: object) -> str:
        return label(key, self.lang, **kw)

    def money(self, krw: float | int | None) -> str:
        return fmt.money(krw, self.lang, self.plain)

    def num(self, n: float | int | None) -> str:
        return fmt.num(n, self.lang, self.plain)

    def pct(self, x: float | None, digits: int = 1) -> str:
        return fmt.pct(x, digits)

    @property
    def sees_personal(self) -> bool:
        return privacy.sees_personal(self.role)

    def query(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(con, *args, **kwargs)`` through the cache; a role the function refuses stops the page."""
        try:
            return cache.query(fn, *args, db_path=self.db_path, **kwargs)
        except access.AccessDenied:
            st.error(self.t("common.denied_data"))
            st.stop()
            raise  # st.stop() raises; this line keeps type checkers honest

    def log(self, action: str, object: str | None = None) -> None:
        privacy.log_access(self.db_path, self.user, self.role, action, object)

    def protect(self, df: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
        """Personal-data columns masked for roles that may not see them; unmasked views are logged."""
        if self.sees_personal:
            self.log("view_personal", f"{self.page_key}: {', '.join(columns)} ({len(df)} rows)")
            return df
        return privacy.mask_frame(df, columns)

    @property
    def params(self) -> urlstate.PageParams:
        """This page's own URL-kept settings (tab, breakdown, …), as codes (ui.urlstate)."""
        return urlstate.PageParams(self.page_key)

    def table(self, df: pd.DataFrame, columns: tables.Spec, *, name: str | None = None,
              notes: Sequence[str] = (), **kwargs: Any) -> Any:
        """Show ``df``'s ``columns`` (``{column: (label_key, kind)}``, kinds in ui.tables) and,
        with ``name``, the CSV download of the same columns (``notes``: extra '#' lines)."""
        result = tables.show(df, columns, lang=self.lang, plain=self.plain, role=self.role, **kwargs)
        if name is not None:
            self.download(df, name, columns, notes=notes)
        return result

    def empty(self, key: str, **kw: object) -> None:
        st.info(self.t(key, **kw), icon=":material/info:")

    def scope(self, period: bool = True) -> str:
        """The period (unless the page has none) and filters in words (``기간: 전체 기간 · 시도: 서울``)."""
        return filter_words(self.filters, self.lang, period)

    def require_data(self, kind: str) -> None:
        """Stop the page with a plain notice when the database holds no ``kind`` ("applications" or
        "survey"), e.g. a database with nothing but an imported program catalogue."""
        loaded = self.query(overview.summary)
        if (loaded.applications if kind == "applications" else loaded.respondents) == 0:
            st.info(self.t(f"common.needs_{kind}", programs=self.num(loaded.programs)), icon=":material/info:")
            st.stop()

    def csv(self, df: pd.DataFrame, columns: tables.Spec | None = None, *, notes: Sequence[str] = ()) -> str:
        """The CSV text of a download: '#' lines with the view, period and filters in words, data
        version and notes, then the table (ui.tables: headers in the user's language, codes, values
        rounded as shown)."""
        columns = columns if columns is not None else tables.infer(df, self.page_key)
        version = f"{self.meta.get('data_version', self.data_version)} ({self.meta.get('source', '')})"
        lines = [f"{self.t('app.name')} · {self.t(f'{self.page_key}.title')}", *notes,
                 self.scope(), f"{self.t('common.csv_version')}: {version}"]
        if self.role == privacy.AGGREGATE_ROLE:
            lines.append(self.t("common.suppressed_note"))
        return tables.csv_text(df, columns, lang=self.lang, comments=lines)

    def download(self, df: pd.DataFrame, name: str, columns: tables.Spec | None = None, *,
                 notes: Sequence[str] = ()) -> None:
        """A CSV download of ``df`` (already masked/suppressed by the analytics function); the
        export is logged when clicked."""
        if st.download_button(self.t("common.download"), data="\ufeff" + self.csv(df, columns, notes=notes),
                              file_name=f"{name}.csv", mime="text/csv", key=f"_dl_{name}", icon=":material/download:"):
            self.log("export", f"{self.page_key}: {name} ({len(df)} rows)")


def _denied_text(role: str, allowed: Iterable[str], lang: str) -> str:
    allowed = set(allowed)
    return label("denied.body", lang, role=label(f"role.{role}", lang),
                 allowed=", ".join(label(f"role.{r}", lang) for r in access.ROLES if r in allowed))


def denied_page(spec: PageSpec) -> Callable[[], None]:
    """The page shown at ``/<spec.key>`` to a role that may not open it (instead of "Page not found")."""
    def denied() -> None:
        lang = current_lang()
        who = current_user()
        st.title(label("denied.title", lang))
        if who is not None:
            st.error(_denied_text(who[1], spec.roles, lang), icon=":material/block:")
            privacy.log_access(default_db_path(), who[0], who[1], "denied", spec.key)
        st.caption(label("denied.hint", lang))
    denied.__name__ = f"denied_{spec.key}"
    return denied


def filter_words(filters: Filters, lang: str, period: bool = True) -> str:
    """Period and filters in words, for captions and CSV headers (every figure says its scope)."""
    shown_period = (f"{fmt.day(filters.date_from) if filters.date_from else '…'} ~ "
              f"{fmt.day(filters.date_to) if filters.date_to else '…'}"
              if filters.date_from or filters.date_to else label("common.period_all", lang))
    parts = [f"{label('dim.period', lang)}: {shown_period}"] if period else []
    for dim, attr in flt.MULTI_FIELDS.items():
        chosen = getattr(filters, attr)
        if chosen:
            shown = names.names(dim, lang)
            parts.append(f"{label(f'dim.{dim}', lang)}: {', '.join(shown.get(c, c) for c in chosen)}")
    if len(parts) == int(period):
        parts.append(label("common.csv_none", lang))
    return " · ".join(parts)


def _notice_text(code: str, lang: str) -> str:
    kind, _, detail = code.partition(":")
    if kind == "unknown":
        return label("notice.unknown", lang, name=detail)
    return label(f"notice.{kind}", lang, detail=detail)


def page(view: str, *, filters: Iterable[str] = flt.DIMS,
         params: Iterable[str] = ()) -> PageContext:
    """Start a page: check sign-in and role on the server, then return its context.

    ``filters``: the filter dimensions this page applies (others are listed in the sidebar as not
    applying). ``params``: query-parameter keys the page binds itself; other unknown keys are
    dropped with a notice.
    """
    lang = current_lang()
    who = current_user()
    shell = st.session_state.get(_SHELL_KEY)
    if who is None or shell is None:
        st.warning(label("signin.required", lang), icon=":material/lock:")
        st.stop()
    user, role = who
    allowed = access.roles(f"view.{view}")
    if not access.may(role, f"view.{view}"):
        st.error(label("denied.title", lang), icon=":material/block:")
        st.write(_denied_text(role, allowed, lang))
        st.stop()
    chosen, notices = filterbar.draw(filters, lang)
    shared = (*flt.PARAM_KEYS, *SHELL_PARAMS)
    notices = list(shell.notices) + notices + urlstate.claim(view, params, shared)
    urlstate.tidy(view, params, shared)
    st.title(label(f"{view}.title", lang))
    for code in notices:
        st.warning(_notice_text(code, lang), icon=":material/link_off:")
    db_path = default_db_path()
    return PageContext(
        user=user, role=role, lang=lang, plain=bool(st.session_state.get("plain", False)),
        filters=chosen, db_path=db_path, data_version=data_version(db_path),
        meta=shell.meta, page_key=view,
    )

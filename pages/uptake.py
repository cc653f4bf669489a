"""Program uptake (지원사업 활용 현황): who applies, who is selected, where support does not arrive.

Policy staff and admins; aggregates only (cells under 5 firms suppressed for the policy role inside
the analytics functions). The drill-down, tab, breakdown dimension and program search are kept in
the URL next to the shared filters.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics import filters as flt
from analytics.uptake import plots
from analytics.uptake import programs as uptake_programs
from analytics.uptake import reach as uptake_reach
from analytics.uptake import summary as uptake
from data import facts
from ui.i18n import CATALOGUE
from ui.shell import page

DRILL_KEYS = {dim: f"d_{dim}" for dim in uptake.DIMS}
_OPTION_FIELDS = {"region": "regions", "size": "sizes", "industry": "industries"}
_LABELLED = {k for k in CATALOGUE if k.startswith("uptake.col.")}
TABS = ("summary", "breakdown", "reach", "docs", "time", "program")
ctx = page("uptake",
           params=(*DRILL_KEYS.values(), "tab", "by", "fby", "docs_by", "q", "prog", "pdim"))
t, role = ctx.t, ctx.role
opts = ctx.query(flt.options)


def _names(dim: str) -> dict[str, str]:
    """Display names of a dimension's codes in the page's language."""
    col = 1 if ctx.lang == "ko" else 2
    if dim in ("region", "size", "industry"):
        return {row[0]: row[col] for row in getattr(opts, _OPTION_FIELDS[dim])}
    if dim == "age":
        return {a: t(f"uptake.age.{a}") for a in uptake.AGE_BANDS}
    if dim == "category":
        return {c: t(f"category.{c}") for c in flt.CATEGORIES}
    return {}


def _cell(v: object) -> object:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "–" if pd.isna(v) else f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
    return v


def _table(df: pd.DataFrame, name: str, money: tuple[str, ...] = ("amount_awarded_krw", "budget_krw", "awarded_krw")) -> None:
    """A result table with labelled columns and 억/만원 amounts, and its CSV download."""
    shown = df.copy()
    for col in shown.columns:
        if col in money:
            shown[col] = shown[col].map(ctx.money)
        elif col.endswith(("_rate", "_share", "penetration", "uptake_ratio")):
            shown[col] = shown[col].map(ctx.pct)
        elif pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].dt.strftime("%Y-%m" if col == "month" else "%Y-%m-%d")
        elif shown[col].dtype == object:  # numbers mixed with "<5": all text, for Arrow
            shown[col] = shown[col].map(_cell)
    shown.columns = [t(f"uptake.col.{c}") if f"uptake.col.{c}" in _LABELLED else c for c in shown.columns]
    st.dataframe(shown, hide_index=True, width="stretch")
    _download(df, name)


def _download(df: pd.DataFrame, name: str) -> None:
    """CSV built only when clicked (data=callable), with the data date above the shell's header
    lines (filters, data version, "<5" note); the export is logged when the file is built."""
    def build() -> str:
        ctx.log("export", f"uptake: {name} ({len(df)} rows)")
        return "\ufeff" + f"# {t('uptake.data_date', d=ref_date)}\n" + ctx.csv(df)

    st.download_button(t("common.download"), data=build, file_name=f"uptake_{name}.csv", mime="text/csv",
                       key=f"_dl_{name}", icon=":material/download:", on_click="ignore")


def _drill_bar() -> uptake.Drill:
    """Selectboxes that narrow the whole view (ministry → agency → program, and the other groups)."""
    chosen: dict[str, str] = {}
    with st.expander(t("uptake.drill"), expanded=any(st.session_state.get(k) for k in DRILL_KEYS.values()),
                     icon=":material/account_tree:"):
        cols = st.columns(4)
        for i, dim in enumerate(uptake.DIMS):
            if dim in ("ministry", "agency", "program"):
                found = ctx.query(uptake.drill_options, ctx.filters, dim, uptake.normalize_drill(chosen), role=role)
                names = dict(zip(found["grp"], found["name"]))
            else:
                names = _names(dim)
            options = ["", *names]
            value = cols[i % 4].selectbox(t(f"uptake.dim.{dim}"), options, key=DRILL_KEYS[dim], bind="query-params",
                                          format_func=lambda c, n=names: n.get(c, c) if c else t("uptake.drill_all"))
            if value:
                chosen[dim] = value
    return uptake.normalize_drill(chosen)


drill = _drill_bar()
if drill:
    st.caption(t("uptake.drill_path", path=" › ".join(f"{t(f'uptake.dim.{d}')}: {_names(d).get(v, v)}" for d, v in drill)))
ref_date = ctx.query(facts.reference_date)
st.caption(f"{t('uptake.aggregates_only')} {t('uptake.data_date', d=ref_date)} {t('uptake.dl_note')}")
overall = ctx.query(uptake.funnel, ctx.filters, drill, role=role)
if overall.empty:
    ctx.empty("uptake.empty")
    st.stop()


def _delta(metric: str, change: object) -> str | None:
    if change is None or change == "<5" or pd.isna(change):
        return None
    return t("uptake.pp", x=100 * change) if metric == "selection_rate" else f"{change:+.1%}"


_FORMAT: dict[str, Callable[[object], str]] = {
    "selection_rate": ctx.pct, "amount_awarded_krw": ctx.money,
    "median_decision_days": lambda v: v if v == "<5" else ("–" if v is None or pd.isna(v) else t("uptake.days", n=f"{v:g}")),
}


def _summary() -> None:
    head = ctx.query(uptake.headline, ctx.filters, drill, role=role)
    if head.defaulted:
        st.caption(t("uptake.period_default"))
    st.caption(t("uptake.period", start=head.period_from, end=head.period_to, pstart=head.previous_from, pend=head.previous_to))
    cols = [*st.columns(4), *st.columns(4)]
    for col, row in zip(cols, head.figures.itertuples()):
        col.metric(t(f"uptake.m.{row.metric}"), _FORMAT.get(row.metric, ctx.num)(row.current), _delta(row.metric, row.change))
    _download(head.figures, "headline")
    st.plotly_chart(plots.plot_funnel(overall, t), key="funnel")
    first = overall.iloc[0]
    st.caption(t("uptake.funnel_note", announcements=ctx.num(first["announcements"]),
                 e_contract=ctx.num(first["e_contract"]), share=ctx.pct(first["e_contract_share"])))
    _table(overall, "funnel")
    fby = st.segmented_control(t("uptake.funnel_by"), list(uptake.DIMS), key="fby", bind="query-params",
                               format_func=lambda d: t(f"uptake.dim.{d}"))
    if fby:
        split = ctx.query(uptake.funnel, ctx.filters, drill, role=role, by=fby)
        st.plotly_chart(plots.plot_funnel_by(split, t, _names(fby)), key="funnel_by")
        _table(split, f"funnel_by_{fby}")


def _breakdown() -> None:
    st.caption(t("uptake.breakdown_note"))
    # one level below the deepest ministry → agency → program choice, unless the user picks another
    chosen = dict(drill)
    below = "program" if "agency" in chosen else "agency" if "ministry" in chosen else "ministry"
    by = st.segmented_control(t("uptake.by"), list(uptake.DIMS), key="by", bind="query-params", default=below,
                              format_func=lambda d: t(f"uptake.dim.{d}")) or below
    table = ctx.query(uptake.breakdown, ctx.filters, by, drill, role=role)
    if table.empty:
        ctx.empty("uptake.empty_section")
    else:
        if by == "region":
            st.plotly_chart(plots.plot_tiles(table, t, ctx.lang), key="tiles")
        st.plotly_chart(plots.plot_breakdown(table, t, _names(by)), key="breakdown")
        _table(table, f"by_{by}")

def _reach() -> None:
    found = ctx.query(uptake_reach.reach, ctx.filters, drill, role=role)
    if found.cells.empty:
        ctx.empty("uptake.empty_section")
    else:
        st.plotly_chart(plots.plot_penetration(found.cells, t, _names("region"), _names("size")), key="penetration")
        _table(found.cells, "penetration")
        st.subheader(t("uptake.blind_spots"))
        _table(found.blind_spots, "blind_spots")
    st.subheader(t("uptake.concentration"))
    conc = ctx.query(uptake_reach.concentration, ctx.filters, drill, role=role)
    if conc.suppressed:
        ctx.empty("uptake.conc_suppressed")
    elif conc.lorenz.empty:
        ctx.empty("uptake.empty_section")
    else:
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(t("uptake.top1"), ctx.pct(conc.top1_share))
        c2.metric(t("uptake.top10"), ctx.pct(conc.top10_share))
        c3.metric(t("uptake.gini"), f"{conc.gini:.3f}")
        share = None if pd.isna(conc.firms_3plus_share) else ctx.pct(conc.firms_3plus_share)
        c4.metric(t("uptake.multi"), ctx.num(conc.firms_3plus), share, delta_color="off")
        st.plotly_chart(plots.plot_lorenz(conc, t), key="lorenz")
        _table(conc.lorenz, "lorenz")
def _docs() -> None:
    st.subheader(t("uptake.docs"))
    docs_by = st.segmented_control(t("uptake.docs_by"), ["agency", "program"], key="docs_by", bind="query-params",
                                   default="agency", format_func=lambda d: t(f"uptake.dim.{d}")) or "agency"
    docs = ctx.query(uptake_programs.documents, ctx.filters, drill, role=role, by=docs_by)
    refs = uptake_programs.doc_references()
    if docs.empty:
        ctx.empty("uptake.empty_section")
    else:
        fig_docs, fig_link = plots.plot_documents(docs, refs, t)
        st.plotly_chart(fig_docs, key="docs")
        st.plotly_chart(fig_link, key="linkage")
        _table(docs, f"documents_by_{docs_by}")
        _table(refs, "published_references")
    months = ctx.query(uptake.monthly, ctx.filters, drill, role=role)
    st.plotly_chart(plots.plot_channels(months, t), key="channels")


def _time() -> None:
    months = ctx.query(uptake.monthly, ctx.filters, drill, role=role)
    st.plotly_chart(plots.plot_monthly(months, t), key="monthly")
    _table(months, "monthly")
    season = ctx.query(uptake.seasonality, ctx.filters, drill, role=role)
    st.plotly_chart(plots.plot_seasonality(season, t), key="seasonality")
    _table(season, "seasonality")
    st.subheader(t("uptake.below_budget", pct=ctx.pct(0.5, 0)))
    st.caption(t("uptake.below_budget_note"))
    low = ctx.query(uptake_programs.below_budget, ctx.filters, drill, role=role)
    if low.empty:
        ctx.empty("uptake.empty_section")
    else:
        _table(low, "below_budget")


def _profile() -> None:
    q = st.text_input(t("uptake.search"), key="q", bind="query-params", placeholder=t("uptake.search_hint"))
    found = ctx.query(uptake_programs.search_programs, q or "", ctx.filters, role=role)
    if found.empty:
        ctx.empty("uptake.no_match", q=q)
        return
    titles = dict(zip(found["program_id"], found["title"]))
    pid = st.selectbox(t("uptake.pick"), list(titles), key="prog", bind="query-params", format_func=lambda p: titles.get(p, p))
    prof = ctx.query(uptake_programs.program_profile, pid, ctx.filters, role=role) if pid else None
    if prof is None:
        return
    info = prof.info
    st.markdown("**" + t("uptake.profile_of", title=info["title"], ministry=info["ministry"], agency=info["agency"],
                         category=info["category"]) + "**")
    window = t("uptake.always_open") if info["always_open"] else f"{info['opens_on']:%Y-%m-%d} ~ {info['closes_on']:%Y-%m-%d}"
    st.caption(t("uptake.profile_meta", budget=ctx.money(info["budget_krw"]), window=window,
                 docs=info["docs_required"], auto=info["docs_auto_linked"]))
    if prof.funnel.empty or prof.funnel["applications"].iloc[0] == 0:
        ctx.empty("uptake.empty_section")
        return
    st.plotly_chart(plots.plot_funnel(prof.funnel, t), key="profile_funnel")
    _table(prof.funnel, f"program_{pid}_funnel")
    st.caption(t("uptake.profile_note"))
    pdim = st.segmented_control(t("uptake.profile_dim"), ["size", "region", "industry", "age"], key="pdim",
                                bind="query-params", default="size", format_func=lambda d: t(f"uptake.dim.{d}")) or "size"
    st.plotly_chart(plots.plot_composition(prof.composition, pdim, t, _names(pdim)), key="composition")
    _table(prof.composition, f"program_{pid}_composition")


tabs = dict(zip(TABS, st.tabs([t(f"uptake.tab.{k}") for k in TABS], key="tab", bind="query-params")))
# Only the open tab runs (the tabs are bound to the URL, so they track which one is open).
for name, draw in zip(TABS, (_summary, _breakdown, _reach, _docs, _time, _profile)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw()

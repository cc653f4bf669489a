"""Program uptake (지원사업 활용 현황): who applies, who is selected, where support does not arrive.

Policy staff and admins; aggregates only (cells under 5 firms suppressed for the policy role inside
the analytics functions). The drill-down, tab, breakdown dimension and program search are kept in
the URL next to the shared filters.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import streamlit as st

from analytics.uptake import plots
from analytics.uptake import programs as uptake_programs
from analytics.uptake import reach as uptake_reach
from analytics.uptake import summary as uptake
from data import facts
from data.privacy import SUPPRESSED
from ui import fmt, names, tables
from ui.shell import page

DRILL_KEYS = {dim: f"d_{dim}" for dim in uptake.DIMS}
TABS = ("summary", "breakdown", "reach", "docs", "time", "program")
ctx = page("uptake",
           params=(*DRILL_KEYS.values(), "tab", "by", "fby", "docs_by", "q", "prog", "pdim"))
ctx.require_data("applications")
t, role, url = ctx.t, ctx.role, ctx.params


def _names(dim: str) -> dict[str, str]:
    """Display names of a dimension's codes in the page's language."""
    return names.names(dim, ctx.lang)


# Columns counted in firms, applications, programs: whole numbers even when estimated (weighted).
_COUNTS = ("announcements", "applications", "applicants", "selected", "firms", "firms_reached", "agreed",
           "e_contract", "paid", "population", "reached_weighted", "eligible", "online", "offline", "years",
           "firms_3plus")


def _table(df: pd.DataFrame, name: str, by: str | None = None) -> None:
    """A result table (labels ``uptake.col.*``, kinds from the column names, one unit per money
    column) and its CSV download (period and filters in words, data date). ``by``: the dimension
    whose codes a ``grp`` column holds, shown by name."""
    # tile positions and the English name are for the tile map; a named group is shown by ui.names
    hidden = {"name_en", "tile_row", "tile_col", *(("name",) if by in names.NAMED and "grp" in df else ())}
    spec = {c: v for c, v in tables.infer(df, "uptake").items() if c not in hidden}
    for col in spec:
        if col in _COUNTS:
            spec[col] = (spec[col][0], "num")
        elif col in ("index", "vs_average", "applications_per_year", "selected_per_year"):
            spec[col] = (spec[col][0], "dec:2" if col in ("index", "vs_average") else "dec")
        elif col.startswith("docs_"):
            spec[col] = (spec[col][0], "dec")
        elif col == "median_decision_days":
            spec[col] = (spec[col][0], "days")
        elif col == "grp" and by in names.NAMED:
            spec[col] = (f"uptake.dim.{by}", f"name:{by}")
    ctx.table(df, spec, name=f"uptake_{name}", width="stretch", notes=_notes())


def _drill_bar() -> uptake.Drill:
    """Selectboxes that narrow the whole view (ministry → agency → program, and the other groups)."""
    chosen: dict[str, str] = {}
    with st.expander(t("uptake.drill"), expanded=any(st.session_state.get(f"uptake.{k}") for k in DRILL_KEYS.values()),
                     icon=":material/account_tree:"):
        cols = st.columns(4)
        for i, dim in enumerate(uptake.DIMS):
            if dim in ("ministry", "agency", "program"):
                found = ctx.query(uptake.drill_options, ctx.filters, dim, uptake.normalize_drill(chosen), role=role)
                shown = dict(zip(found["grp"], found["name"]))
            else:
                shown = _names(dim)
            value = url.choice(cols[i % 4].selectbox, t(f"uptake.dim.{dim}"), DRILL_KEYS[dim], ["", *shown], "",
                               format_func=lambda c, n=shown: n.get(c, c) if c else t("uptake.drill_all"))
            if value:
                chosen[dim] = value
    return uptake.normalize_drill(chosen)


def _notes() -> tuple[str, ...]:
    """Extra '#' lines of every CSV of the page: the drill-down and the data date."""
    return ((drill_words,) if drill else ()) + (t("uptake.data_date", d=ref_date),)


# One period and one set of filters for every figure of the page: the chosen period, or the last
# 12 months up to the data date (the headline's comparison needs a bounded period).
ref_date = ctx.query(facts.reference_date)
if ref_date is not None and ctx.filters.date_from is None and ctx.filters.date_to is None:
    start, end = uptake.default_period(ref_date)
    ctx = replace(ctx, filters=replace(ctx.filters, date_from=start, date_to=end))
    st.caption(t("uptake.period_default"))
drill = _drill_bar()
drill_words = t("uptake.drill_path", path=" › ".join(f"{t(f'uptake.dim.{d}')}: {_names(d).get(v, v)}" for d, v in drill))
st.info(t("common.scope", scope=ctx.scope()) + (f" · {drill_words}" if drill else ""), icon=":material/filter_alt:")
st.caption(f"{t('uptake.aggregates_only')} {t('uptake.data_date', d=ref_date)} {t('uptake.dl_note')}")
overall = ctx.query(uptake.funnel, ctx.filters, drill, role=role)
if overall.empty:
    ctx.empty("uptake.empty")
    st.stop()


def _delta(metric: str, change: object) -> str | None:
    if change is None or change == "<5" or pd.isna(change):
        return None
    return t("uptake.pp", x=100 * change) if metric == "selection_rate" else f"{change:+.1%}"


def _days(v: object) -> str:
    """Days in the page's language ("1 day", "12 days", "12일")."""
    if v == SUPPRESSED or v is None or pd.isna(v):
        return SUPPRESSED if v == SUPPRESSED else fmt.MISSING
    n = float(v)
    return t("uptake.days", n=int(n) if n.is_integer() else round(n, 1))


_FORMAT: dict[str, Callable[[object], str]] = {
    "selection_rate": ctx.pct, "amount_awarded_krw": ctx.money,
    "median_decision_days": _days,
}

def _summary() -> None:
    head = ctx.query(uptake.headline, ctx.filters, drill, role=role)
    st.caption(t("uptake.period", start=head.period_from, end=head.period_to, pstart=head.previous_from, pend=head.previous_to))
    cols = [*st.columns(4), *st.columns(4)]
    for col, row in zip(cols, head.figures.itertuples()):
        col.metric(t(f"uptake.m.{row.metric}"), _FORMAT.get(row.metric, ctx.num)(row.current), _delta(row.metric, row.change),
                   help=t(f"uptake.m_help.{row.metric}"))
    shown = head.figures.assign(
        metric=[t(f"uptake.m.{m}") for m in head.figures["metric"]],
        current=[_FORMAT.get(m, ctx.num)(v) for m, v in zip(head.figures["metric"], head.figures["current"])],
        previous=[_FORMAT.get(m, ctx.num)(v) for m, v in zip(head.figures["metric"], head.figures["previous"])],
        change=[_delta(m, c) or fmt.MISSING for m, c in zip(head.figures["metric"], head.figures["change"])])
    ctx.download(shown, "uptake_headline", {c: (f"uptake.col.{c}", "text") for c in ("metric", "current", "previous", "change")},
                 notes=_notes())
    st.plotly_chart(plots.plot_funnel(overall, t), key="funnel")
    first = overall.iloc[0]
    st.caption(t("uptake.funnel_note", announcements=ctx.num(first["announcements"]),
                 e_contract=ctx.num(first["e_contract"]), share=ctx.pct(first["e_contract_share"])))
    _table(overall, "funnel")
    fby = url.choice(st.segmented_control, t("uptake.funnel_by"), "fby", list(uptake.DIMS), None,
                     format_func=lambda d: t(f"uptake.dim.{d}"))
    if fby:
        split = ctx.query(uptake.funnel, ctx.filters, drill, role=role, by=fby)
        st.plotly_chart(plots.plot_funnel_by(split, t, _names(fby)), key="funnel_by")
        _table(split, f"funnel_by_{fby}", by=fby)

def _breakdown() -> None:
    st.caption(t("uptake.breakdown_note"))
    # one level below the deepest ministry → agency → program choice, unless the user picks another
    chosen = dict(drill)
    below = "program" if "agency" in chosen else "agency" if "ministry" in chosen else "ministry"
    by = url.choice(st.segmented_control, t("uptake.by"), "by", list(uptake.DIMS), below,
                    format_func=lambda d: t(f"uptake.dim.{d}")) or below
    table = ctx.query(uptake.breakdown, ctx.filters, by, drill, role=role)
    if table.empty:
        ctx.empty("uptake.empty_section")
    else:
        if by == "region":
            st.plotly_chart(plots.plot_tiles(table, t, _names("region")), key="tiles")
        st.plotly_chart(plots.plot_breakdown(table, t, _names(by)), key="breakdown")
        _table(table, f"by_{by}", by=by)

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
    docs_by = url.choice(st.segmented_control, t("uptake.docs_by"), "docs_by", ["agency", "program"], "agency",
                         format_func=lambda d: t(f"uptake.dim.{d}")) or "agency"
    docs = ctx.query(uptake_programs.documents, ctx.filters, drill, role=role, by=docs_by)
    refs = uptake_programs.doc_references()
    refs = refs.assign(source=[t("uptake.ref_source_mss") if str(x).startswith("MSS reform plan") else x
                               for x in refs["source"]])
    if docs.empty:
        ctx.empty("uptake.empty_section")
    else:
        fig_docs, fig_link = plots.plot_documents(docs, refs, t)
        st.plotly_chart(fig_docs, key="docs")
        st.plotly_chart(fig_link, key="linkage")
        _table(docs, f"documents_by_{docs_by}")
        shown = refs.assign(key=[t(f"uptake.ref.{k}") for k in refs["key"]],
                            value=[ctx.pct(v, 0) if u == "share" else fmt.dec(v) for v, u in zip(refs["value"], refs["unit"])])
        ctx.table(shown, {"key": ("uptake.col.metric", "text"), "value": ("uptake.col.value", "text"),
                          "year": ("uptake.col.year", "text"), "source": ("uptake.col.source", "text")},
                  name="uptake_published_references", width="stretch")
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
    q = url.text(st.text_input, t("uptake.search"), "q", placeholder=t("uptake.search_hint"))
    found = ctx.query(uptake_programs.search_programs, q, ctx.filters, role=role)
    if found.empty:
        ctx.empty("uptake.no_match", q=q)
        return
    titles = dict(zip(found["program_id"], found["title"]))
    pid = url.choice(st.selectbox, t("uptake.pick"), "prog", list(titles), next(iter(titles)),
                     format_func=lambda p: titles.get(p, p))
    prof = ctx.query(uptake_programs.program_profile, pid, ctx.filters, role=role) if pid else None
    if prof is None:
        return
    info = prof.info
    st.markdown("**" + t("uptake.profile_of", title=info["title"], ministry=info["ministry"], agency=info["agency"],
                         category=names.name("category", info["category"], ctx.lang)) + "**")
    window = t("uptake.always_open") if info["always_open"] else f"{fmt.day(info['opens_on'])} ~ {fmt.day(info['closes_on'])}"
    st.caption(t("uptake.profile_meta", budget=ctx.money(info["budget_krw"]), window=window,
                 docs=info["docs_required"], auto=info["docs_auto_linked"]))
    if prof.funnel.empty or prof.funnel["applications"].iloc[0] == 0:
        ctx.empty("uptake.empty_section")
        return
    st.plotly_chart(plots.plot_funnel(prof.funnel, t), key="profile_funnel")
    _table(prof.funnel, f"program_{pid}_funnel")
    st.caption(t("uptake.profile_note"))
    pdim = url.choice(st.segmented_control, t("uptake.profile_dim"), "pdim", ["size", "region", "industry", "age"], "size",
                      format_func=lambda d: t(f"uptake.dim.{d}")) or "size"
    st.plotly_chart(plots.plot_composition(prof.composition, pdim, t, _names(pdim)), key="composition")
    comp = prof.composition[prof.composition["dim"] == pdim]
    _table(comp.drop(columns=["dim"]), f"program_{pid}_composition_{pdim}", by=pdim)

tabs = url.tabs(TABS, "uptake.tab", ctx.lang)
# Only the open tab runs (the tabs track which one is open).
for name, draw in zip(TABS, (_summary, _breakdown, _reach, _docs, _time, _profile)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw()

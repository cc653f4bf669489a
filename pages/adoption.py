"""AI adoption gap (AI 활용 격차): weighted adoption, gaps and their split, map, 2027 target,
barriers and wishes, support reach, published figures (policy, admin)."""
import pandas as pd
import streamlit as st

from analytics.adoption import estimates as adoption
from analytics.adoption import plots
from analytics.adoption import reach as adoption_reach
from data import privacy
from ui import fmt, names
from ui.shell import page

SECTIONS = ("estimates", "gaps", "map", "targets", "barriers", "reach", "published")
BREAKDOWNS = ("size_class", "size_group", "region_code", "capital_region", "ksic_section", "capital_region+size_class",
              "region_code+size_class", "size_group+ksic_section", "region_code+ksic_section")
REACH_BY = {"region_code": ("region_code",), "size_class": ("size_class",), "both": ("region_code", "size_class")}

ctx = page("adoption", filters=("region", "size", "industry"), params=("year", "view", "by"))
ctx.require_data("survey")
t, lang, url = ctx.t, ctx.lang, ctx.params
label = f"label_{lang}"  # the domain's name in the user's language (both come with every frame)
EST = {label: ("adoption.col_domain", "text"), "indicator": ("adoption.col_indicator", "text"),
       "p": ("adoption.col_p", "pct"), "lo": ("adoption.col_lo", "pct"), "hi": ("adoption.col_hi", "pct"),
       "n": ("adoption.col_n", "num"), "low_n": ("adoption.col_low_n", "check")}
st.caption(t("adoption.intro"))
st.caption(t("adoption.filters_note"))

years = ctx.query(adoption.survey_years)
if not years:
    ctx.empty("adoption.empty")
    st.stop()
left, right = st.columns([1, 5])
year = url.choice(left.selectbox, t("adoption.year"), "year", tuple(years), years[0])
view = url.choice(right.segmented_control, t("adoption.view"), "view", SECTIONS, SECTIONS[0],
                  format_func=lambda s: t(f"adoption.view_{s}"), required=True)
if st.session_state.get("_adoption_view", view) != view:
    url.forget("by")  # each section has its own breakdowns: a new section starts from its default one
st.session_state["_adoption_view"] = view
flt, role, sel = ctx.filters, ctx.role, (year,)
st.info(t("common.scope", scope=t("adoption.scope", year=year) + " · " + ctx.scope(period=False)),
        icon=":material/filter_alt:")


def choose_by(options: tuple[str, ...], name) -> str:
    """The breakdown of the current section (each section has its own choices; URL key 'by')."""
    return url.choice(st.selectbox, t("adoption.by"), "by", options, options[0], format_func=name)


def show(df: pd.DataFrame, columns: dict[str, tuple[str, str]], name: str) -> None:
    """A table of the view and its CSV: indicators and published figures by their names."""
    shown = df.copy()
    if "indicator" in shown:
        shown["indicator"] = [t(f"adoption.ind_{i}") for i in shown["indicator"]]
    if "key" in shown:
        shown["key"] = [t(f"adoption.pub_{k}") for k in shown["key"]]
    ctx.table(shown, columns, name=name)


if view == "estimates":
    by = choose_by(BREAKDOWNS, lambda b: t(f"adoption.by_{b}"))
    df = ctx.query(adoption.estimates, flt, role=role, by=tuple(by.split("+")), years=sel)
    if df.empty:
        ctx.empty("adoption.empty")
        st.stop()
    st.plotly_chart(plots.plot_estimates(df, t=t, lang=lang, title=t("adoption.estimates_title")))
    show(df, EST | {"published": ("adoption.col_published", "pct")}, f"adoption_{by.replace('+', '_')}_{year}")
    st.caption(t("adoption.published_mark"))

elif view == "gaps":
    for kind in ("size", "region"):
        st.subheader(t(f"adoption.gap_{kind}_title"))
        g = ctx.query(adoption.gap, flt, role=role, kind=kind, years=sel)
        if g is None:
            ctx.empty("adoption.gap_missing")
            continue
        c1, c2 = st.columns([1, 3])
        c1.metric(t("adoption.gap_metric"), fmt.pp(g.gap))
        c1.caption(t("adoption.gap_ci", lo=fmt.pp(g.lo), hi=fmt.pp(g.hi)))
        c2.plotly_chart(plots.plot_gap(g, t=t), key=f"gap_{kind}")
        st.markdown(t(f"adoption.gap_explain_{kind}", a=t(f"adoption.gap_{kind}_a"), b=t(f"adoption.gap_{kind}_b"),
                      gap=fmt.pp(g.gap), comp=fmt.pp(g.composition), within=fmt.pp(g.within)))
        with st.expander(t("adoption.gap_cells")):
            show(g.cells, {label: ("adoption.col_domain", "text"), "share_a": ("adoption.col_share_a", "pct"),
                           "share_b": ("adoption.col_share_b", "pct"), "p_a": ("adoption.col_p_a", "pct"),
                           "p_b": ("adoption.col_p_b", "pct"), "composition_pp": ("adoption.col_composition", "dec"),
                           "within_pp": ("adoption.col_within", "dec")}, f"adoption_gap_{kind}_{year}")

elif view == "map":
    df = ctx.query(adoption.tile_map, flt, role=role, years=sel)
    st.plotly_chart(plots.plot_tile_map(df, t=t, names=names.names("region", lang)))
    ctx.download(df, f"adoption_map_{year}", {"region_code": ("adoption.col_domain", "name:region"),
                                             "p": ("adoption.col_p", "pct"), "lo": ("adoption.col_lo", "pct"),
                                             "hi": ("adoption.col_hi", "pct"), "n": ("adoption.col_n", "num"),
                                             "low_n": ("adoption.col_low_n", "check")})

elif view == "targets":
    tg = ctx.query(adoption.targets, flt, role=role, year=year)
    path_now = tg.standing["path"].iloc[0] if not tg.standing.empty else tg.baseline
    st.plotly_chart(plots.plot_targets(tg, t=t, lang=lang))
    st.caption(t("adoption.targets_note", base=ctx.pct(tg.baseline), goal=ctx.pct(tg.target), year=year,
                 step=fmt.dec((tg.target - tg.baseline) * 100 / (tg.target_year - tg.baseline_year)),
                 path=ctx.pct(path_now)))
    show(tg.standing, {k: v for k, v in EST.items() if k != "indicator"} | {
        "path": ("adoption.col_path", "pct"), "gap_pp": ("adoption.col_gap_pp", "dec"),
        "needed_pp_per_year": ("adoption.col_needed", "dec")}, f"adoption_targets_{year}")

elif view == "barriers":
    by = choose_by(("size_class", "region_code", "size_group", "capital_region"), lambda b: t(f"adoption.by_{b}"))
    df = ctx.query(adoption.barriers, flt, role=role, by=(by,), years=sel)
    if df.empty:
        ctx.empty("adoption.empty")
        st.stop()
    st.subheader(t("adoption.barriers_title"))
    st.plotly_chart(plots.plot_barriers(df, t=t, lang=lang, indicators=adoption.BARRIERS), key="barriers")
    st.subheader(t("adoption.wishes_title"))
    st.plotly_chart(plots.plot_barriers(df, t=t, lang=lang, indicators=adoption.WISHES), key="wishes")
    show(df, EST | {"reference": ("adoption.col_reference", "pct")}, f"adoption_barriers_{by}_{year}")

elif view == "reach":
    by = choose_by(tuple(REACH_BY), lambda b: t(f"adoption.reach_by_{b}"))
    df = ctx.query(adoption_reach.support_reach, flt, role=role, by=REACH_BY[by], years=sel)
    if df.empty:
        ctx.empty("adoption.empty")
        st.stop()
    st.plotly_chart(plots.plot_reach(df, t=t, lang=lang))
    st.caption(t("adoption.reach_note"))
    show(df, {label: ("adoption.col_domain", "text"), "laggard": ("adoption.reach_laggard", "check"),
              "p": ("adoption.col_p", "pct"), "lo": ("adoption.col_lo", "pct"), "hi": ("adoption.col_hi", "pct"),
              "n": ("adoption.col_n", "num"), "applications_per_1000": ("adoption.reach_apps", "dec"),
              "awards_per_1000": ("adoption.reach_awards", "dec"), "firms": ("adoption.col_firms", "num")},
         f"adoption_reach_{by}_{year}")

else:
    st.caption(t("adoption.published_intro"))
    df = ctx.query(adoption.published_comparison, role=role, year=None)
    show(df, {"key": ("adoption.col_scope", "text"), "published": ("adoption.col_published", "pct"),
              "published_year": ("adoption.col_pub_year", "text"), "p": ("adoption.col_p", "pct"),
              "lo": ("adoption.col_lo", "pct"), "hi": ("adoption.col_hi", "pct"), "diff_pp": ("adoption.col_diff", "dec"),
              "inside_ci": ("adoption.col_inside", "check"), "year": ("adoption.col_year", "text"),
              "n": ("adoption.col_n", "num"), "source": ("adoption.col_source", "text")}, "adoption_published")

st.caption(t("adoption.low_n_note") + (" " + t("common.suppressed_note") if role == privacy.AGGREGATE_ROLE else ""))
with st.expander(t("adoption.method_title")):
    st.markdown(t("adoption.method_body"))

"""AI adoption gap (AI 활용 격차): weighted adoption, gaps and their split, map, 2027 target,
barriers and wishes, support reach, published figures (policy, admin)."""
import streamlit as st

from analytics.adoption import estimates as adoption
from analytics.adoption import plots
from analytics.adoption import reach as adoption_reach
from data import privacy
from ui.shell import page

SECTIONS = ("estimates", "gaps", "map", "targets", "barriers", "reach", "published")
BREAKDOWNS = ("size_class", "size_group", "region_code", "capital_region", "ksic_section", "capital_region+size_class",
              "region_code+size_class", "size_group+ksic_section", "region_code+ksic_section")
REACH_BY = {"region_code": ("region_code",), "size_class": ("size_class",), "both": ("region_code", "size_class")}
EST_COLUMNS = {"label_ko": "adoption.col_domain", "indicator": "adoption.col_indicator", "p": "adoption.col_p",
               "lo": "adoption.col_lo", "hi": "adoption.col_hi", "n": "adoption.col_n", "low_n": "adoption.col_low_n"}



def from_url(key: str, options: tuple, default: object) -> None:
    """Seed a page option from the URL by its code (not its shown label, which depends on the
    language); an unknown value is dropped with a notice, like the shell does for filters."""
    if key in st.session_state and st.session_state[key] in options:
        return
    first = key not in st.session_state  # later misses are another section's choice, not a bad link
    raw = st.query_params.get(key)
    chosen = next((o for o in options if str(o) == raw), None)
    if first and raw is not None and chosen is None:
        st.warning(ctx.t("notice.bad_value", detail=f"{key}={raw}"), icon=":material/link_off:")
    st.session_state[key] = default if chosen is None else chosen


def to_url(key: str, value: object, default: object) -> None:
    """Keep the URL equal to the option (defaults left out)."""
    if value == default:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)


ctx = page("adoption", filters=("region", "size", "industry"), params=("year", "view", "by"))
t, lang = ctx.t, ctx.lang
label = f"label_{lang}"
est_columns = {(label if c == "label_ko" else c): k for c, k in EST_COLUMNS.items()}
st.caption(t("adoption.intro"))
st.caption(t("adoption.filters_note"))

years = ctx.query(adoption.survey_years)
if not years:
    ctx.empty("adoption.empty")
    st.stop()
left, right = st.columns([1, 5])
from_url("year", tuple(years), years[0])
from_url("view", SECTIONS, SECTIONS[0])
year = left.selectbox(t("adoption.year"), years, key="year")
view = right.segmented_control(t("adoption.view"), SECTIONS, format_func=lambda s: t(f"adoption.view_{s}"),
                               key="view", required=True)
to_url("year", year, years[0])
to_url("view", view, SECTIONS[0])
if st.session_state.get("_adoption_view", view) != view:
    # each section has its own breakdowns: a new section starts from its default one
    st.query_params.pop("by", None)
    st.session_state.pop("by", None)
st.session_state["_adoption_view"] = view
flt, role, sel = ctx.filters, ctx.role, (year,)


def choose_by(options: tuple[str, ...], name) -> str:
    """The breakdown of the current section (each section has its own choices; URL key 'by')."""
    from_url("by", options, options[0])
    by = st.selectbox(t("adoption.by"), options, format_func=name, key="by")
    to_url("by", by, options[0])
    return by

if view == "estimates":
    by = choose_by(BREAKDOWNS, lambda b: t(f"adoption.by_{b}"))
    df = ctx.query(adoption.estimates, flt, role=role, by=tuple(by.split("+")), years=sel)
    if df.empty:
        ctx.empty("adoption.empty")
        st.stop()
    st.plotly_chart(plots.plot_estimates(df, t=t, lang=lang, title=t("adoption.estimates_title")))
    st.dataframe(plots.display_table(df, est_columns | {"published": "adoption.col_published"}, t=t, lang=lang,
                                     pct=("p", "lo", "hi", "published")), hide_index=True)
    st.caption(t("adoption.published_mark"))
    ctx.download(df, f"adoption_{by.replace('+', '_')}_{year}")

elif view == "gaps":
    for kind in ("size", "region"):
        st.subheader(t(f"adoption.gap_{kind}_title"))
        g = ctx.query(adoption.gap, flt, role=role, kind=kind, years=sel)
        if g is None:
            ctx.empty("adoption.gap_missing")
            continue
        c1, c2 = st.columns([1, 3])
        c1.metric(t("adoption.gap_metric"), f"{g.gap * 100:+.1f}")
        c1.caption(t("adoption.gap_ci", lo=f"{g.lo * 100:+.1f}", hi=f"{g.hi * 100:+.1f}"))
        c2.plotly_chart(plots.plot_gap(g, t=t), key=f"gap_{kind}")
        st.markdown(t(f"adoption.gap_explain_{kind}", a=t(f"adoption.gap_{kind}_a"), b=t(f"adoption.gap_{kind}_b"),
                      gap=f"{g.gap * 100:+.1f}", comp=f"{g.composition * 100:+.1f}", within=f"{g.within * 100:+.1f}"))
        with st.expander(t("adoption.gap_cells")):
            st.dataframe(plots.display_table(
                g.cells, {label: "adoption.col_domain", "share_a": "adoption.col_share_a",
                          "share_b": "adoption.col_share_b", "p_a": "adoption.col_p_a", "p_b": "adoption.col_p_b",
                          "composition_pp": "adoption.col_composition", "within_pp": "adoption.col_within"},
                t=t, lang=lang, pct=("share_a", "share_b", "p_a", "p_b"), pp=("composition_pp", "within_pp")),
                hide_index=True)
            ctx.download(g.cells, f"adoption_gap_{kind}_{year}")

elif view == "map":
    df = ctx.query(adoption.tile_map, flt, role=role, years=sel)
    st.plotly_chart(plots.plot_tile_map(df, t=t, lang=lang))
    ctx.download(df, f"adoption_map_{year}")

elif view == "targets":
    tg = ctx.query(adoption.targets, flt, role=role, year=year)
    path_now = tg.standing["path"].iloc[0] if not tg.standing.empty else tg.baseline
    st.plotly_chart(plots.plot_targets(tg, t=t, lang=lang))
    st.caption(t("adoption.targets_note", base=ctx.pct(tg.baseline), goal=ctx.pct(tg.target), year=year,
                 step=f"{(tg.target - tg.baseline) * 100 / (tg.target_year - tg.baseline_year):.1f}",
                 path=ctx.pct(path_now)))
    st.dataframe(plots.display_table(
        tg.standing, {label: "adoption.col_domain", "p": "adoption.col_p", "lo": "adoption.col_lo",
                      "hi": "adoption.col_hi", "n": "adoption.col_n", "low_n": "adoption.col_low_n",
                      "path": "adoption.col_path", "gap_pp": "adoption.col_gap_pp",
                      "needed_pp_per_year": "adoption.col_needed"},
        t=t, lang=lang, pct=("p", "lo", "hi", "path"), pp=("gap_pp", "needed_pp_per_year")), hide_index=True)
    ctx.download(tg.standing, f"adoption_targets_{year}")

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
    st.dataframe(plots.display_table(df, est_columns | {"reference": "adoption.col_reference"}, t=t, lang=lang,
                                     pct=("p", "lo", "hi", "reference")), hide_index=True)
    ctx.download(df, f"adoption_barriers_{by}_{year}")

elif view == "reach":
    by = choose_by(tuple(REACH_BY), lambda b: t(f"adoption.reach_by_{b}"))
    df = ctx.query(adoption_reach.support_reach, flt, role=role, by=REACH_BY[by], years=sel)
    if df.empty:
        ctx.empty("adoption.empty")
        st.stop()
    st.plotly_chart(plots.plot_reach(df, t=t, lang=lang))
    st.caption(t("adoption.reach_note"))
    st.dataframe(plots.display_table(
        df, {label: "adoption.col_domain", "laggard": "adoption.reach_laggard", "p": "adoption.col_p",
             "lo": "adoption.col_lo", "hi": "adoption.col_hi", "n": "adoption.col_n",
             "applications_per_1000": "adoption.reach_apps", "awards_per_1000": "adoption.reach_awards",
             "firms": "adoption.col_firms"}, t=t, lang=lang, pct=("p", "lo", "hi"),
        dec=("applications_per_1000", "awards_per_1000"), ints=("firms",)), hide_index=True)
    ctx.download(df, f"adoption_reach_{by}_{year}")

else:
    st.caption(t("adoption.published_intro"))
    df = ctx.query(adoption.published_comparison, role=role, year=None)
    st.dataframe(plots.display_table(
        df, {"key": "adoption.col_scope", "published": "adoption.col_published", "published_year": "adoption.col_pub_year",
             "p": "adoption.col_p", "lo": "adoption.col_lo", "hi": "adoption.col_hi", "diff_pp": "adoption.col_diff",
             "inside_ci": "adoption.col_inside", "year": "adoption.col_year", "n": "adoption.col_n",
             "source": "adoption.col_source"}, t=t, lang=lang, pct=("published", "p", "lo", "hi"), pp=("diff_pp",)),
        hide_index=True)
    ctx.download(df, "adoption_published")

st.caption(t("adoption.low_n_note") + (" " + t("common.suppressed_note") if role == privacy.AGGREGATE_ROLE else ""))
with st.expander(t("adoption.method_title")):
    st.markdown(t("adoption.method_body"))

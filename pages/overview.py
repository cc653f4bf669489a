"""Overview (every role): what is loaded, whether it is synthetic, and a first filtered look."""
import streamlit as st

from analytics.overview import plots as overview_plots
from analytics.overview import summary as overview
from ui.shell import page

ctx = page("overview")
s = ctx.query(overview.summary)
meta = ctx.meta

if meta.get("source", "synthetic") == "synthetic":
    with st.container(border=True):
        st.badge(ctx.t("side.synthetic"), icon=":material/science:", color="orange")
        st.markdown(f"**{ctx.t('overview.synthetic_title')}.** {ctx.t('overview.synthetic_body')}")
else:
    st.caption(ctx.t("overview.imported", source=meta.get("source", "?")))
if meta.get("imported_files"):
    st.caption(ctx.t("overview.imported_files", files=meta["imported_files"], at=meta.get("imported_at", "–")))

st.subheader(ctx.t("overview.loaded"))
c1, c2, c3, c4 = st.columns(4)
c1.metric(ctx.t("overview.firms"), ctx.num(s.firms),
          help=ctx.t("overview.firms_help", weighted=ctx.num(s.firms_weighted)))
c1.caption(f"{ctx.t('overview.firms_weighted')}: {ctx.num(s.firms_weighted)}")
c2.metric(ctx.t("overview.programs"), ctx.num(s.programs))
c3.metric(ctx.t("overview.applications"), ctx.num(s.applications))
c3.caption(ctx.t("overview.applications_help", first=s.first_application or "–", last=s.last_application or "–",
                 firms=ctx.num(s.applicant_firms), selected=ctx.num(s.selected)))
c4.metric(ctx.t("overview.respondents"), ctx.num(s.respondents))
c4.caption(ctx.t("overview.respondents_help", weighted=ctx.num(s.respondents_weighted)))
if meta.get("source", "synthetic") == "synthetic":
    st.caption(ctx.t("overview.build_line", built_at=meta.get("built_at", "–"), scale=meta.get("scale", "–"),
                     seed=meta.get("seed", "–"), as_of=meta.get("as_of", "–"))
               + " · " + ctx.t("overview.version", version=meta.get("data_version", ctx.data_version)[:12]))
else:
    st.caption(ctx.t("overview.version", version=meta.get("data_version", ctx.data_version)[:12]))

if s.applications == 0:
    ctx.empty("overview.no_applications", programs=ctx.num(s.programs))
    st.stop()

act = ctx.query(overview.activity, ctx.filters, role=ctx.role)
st.subheader(ctx.t(f"overview.activity.{act.unit}"))
if act.frame.empty:
    ctx.empty("overview.empty")
    st.stop()
if act.hidden == len(act.frame):
    ctx.empty("overview.all_hidden", n=act.hidden)
else:
    partial = ctx.t("overview.partial", until=f"{act.partial_until:%Y-%m-%d}") if act.partial_until else ""
    st.plotly_chart(overview_plots.plot_activity(act, x_title=ctx.t(f"overview.unit.{act.unit}"), y_title=ctx.t("overview.count"),
                                           names=(ctx.t("overview.applications"), ctx.t("overview.selected")),
                                           partial_note=partial))
notes = [ctx.t(f"overview.coarser.{act.unit}")] if act.unit != "month" else []
notes += [ctx.t("overview.hidden", n=act.hidden)] if 0 < act.hidden < len(act.frame) else []
notes += [ctx.t("overview.partial_note", until=f"{act.partial_until:%Y-%m-%d}")] if act.partial_until else []
if notes:
    st.caption(" ".join(notes))

st.subheader(ctx.t("overview.coverage"))
st.caption(ctx.t("common.scope", scope=ctx.scope()))
cells = ctx.query(overview.coverage, ctx.filters, role=ctx.role)
ctx.table(cells, {
    "region_code": ("overview.col_region", "name:region"), "size_class": ("overview.col_size", "name:size"),
    "firms": ("overview.col_firms", "num"), "applications": ("overview.applications", "num"),
    "selected": ("overview.selected", "num"), "selection_rate": ("overview.col_rate", "pct"),
    "awarded_krw": ("overview.col_awarded", "money"),
}, name="overview_coverage")

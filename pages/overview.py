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
st.caption(ctx.t("overview.build_line", built_at=meta.get("built_at", "–"), scale=meta.get("scale", "–"),
                 seed=meta.get("seed", "–"), as_of=meta.get("as_of", "–"))
           + " · " + ctx.t("overview.version", version=meta.get("data_version", ctx.data_version)[:12]))

if s.applications == 0:
    ctx.empty("overview.no_applications")
    st.stop()

st.subheader(ctx.t("overview.monthly"))
months = ctx.query(overview.monthly, ctx.filters, role=ctx.role)
if months.empty:
    ctx.empty("overview.empty")
    st.stop()
st.plotly_chart(overview_plots.plot_monthly(months, x_title=ctx.t("overview.month"), y_title=ctx.t("overview.count"),
                                      names=(ctx.t("overview.applications"), ctx.t("overview.selected"))))

st.subheader(ctx.t("overview.coverage"))
cells = ctx.query(overview.coverage, ctx.filters, role=ctx.role)
name = "ko" if ctx.lang == "ko" else "en"
ctx.table(cells, {
    f"region_{name}": ("overview.col_region", "text"), f"size_{name}": ("overview.col_size", "text"),
    "firms": ("overview.col_firms", "num"), "applications": ("overview.applications", "num"),
    "selected": ("overview.selected", "num"), "selection_rate": ("overview.col_rate", "pct"),
    "awarded_krw": ("overview.col_awarded", "money"),
})
ctx.download(cells, "overview_coverage")

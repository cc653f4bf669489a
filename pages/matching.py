"""Program matching (맞춤형 지원사업 추천): ranked programs for a firm profile with reasons, the offline
evaluation of the ranker against baselines, and blind spots (policy, evaluator, admin).

Policy staff enter a profile by hand and see aggregates; evaluators and admins may also pick a firm
of the database (contact data masked). Profile, day, tab and grouping are kept in the URL.
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import filters as flt
from analytics.matching import eligibility as matching
from analytics.matching import evaluation as matching_eval
from analytics.matching import gaps as matching_gaps
from analytics.matching import rank as matching_rank
from data import access, facts
from ui.shell import page

PROFILE_KEYS = ("p_region", "p_size", "p_ind", "p_age", "p_sales", "p_emp", "p_cert")
TABS = ("recommend", "evaluation", "gaps")
ctx = page("matching",
           filters=("region", "size", "industry", "ministry", "agency", "category"),
           params=("tab", "on", "src", "q", "firm", "by", *PROFILE_KEYS))
t, role = ctx.t, ctx.role
opts = ctx.query(flt.options)
col = 1 if ctx.lang == "ko" else 2
NAMES = {dim: {row[0]: row[col] for row in getattr(opts, field)}
         for dim, field in (("region_code", "regions"), ("size_class", "sizes"), ("ksic_section", "industries"))}
ref = ctx.query(facts.reference_date)
day: date = st.date_input(t("matching.day"), value=ref, key="on", bind="query-params") or ref
st.caption(t("matching.filters_note"))


def _reason_text(reasons: tuple) -> str:
    """Reasons as one line in the page's language (certifications and fields by their names)."""
    parts = []
    for code, value in reasons:
        if code == "cert":
            value = ", ".join(t(f"matching.cert.{c}") for c in str(value).split(","))
        elif code in ("history", "similar_field"):
            value = t(f"category.{value}")
        elif code in ("sales_max", "sales_min"):
            value = ctx.money(value)
        parts.append(t(f"matching.reason.{code}", v=value))
    return " · ".join(parts)


def _hand_profile() -> matching.Profile:
    c1, c2, c3 = st.columns(3)
    region = c1.selectbox(t("matching.region"), list(NAMES["region_code"]), key="p_region", bind="query-params",
                          format_func=NAMES["region_code"].get)
    size = c2.selectbox(t("matching.size"), list(NAMES["size_class"]), key="p_size", bind="query-params",
                        format_func=NAMES["size_class"].get)
    industry = c3.selectbox(t("matching.industry"), list(NAMES["ksic_section"]), key="p_ind", bind="query-params",
                            index=list(NAMES["ksic_section"]).index("G"),
                            format_func=lambda s: f"{s} {NAMES['ksic_section'][s]}")
    c4, c5, c6, c7 = st.columns(4)
    age = c4.number_input(t("matching.age"), min_value=0, max_value=150, value=3, step=1, key="p_age", bind="query-params")
    sales = c5.selectbox(t("matching.sales"), list(matching.SALES_BANDS), key="p_sales", bind="query-params",
                         format_func=lambda b: t(f"matching.sales.{b}"))
    employees = c6.number_input(t("matching.employees"), min_value=0, max_value=100_000, value=3, step=1, key="p_emp",
                                bind="query-params")
    certs = c7.multiselect(t("matching.certs"), list(matching.CERTS), key="p_cert", bind="query-params",
                           format_func=lambda c: t(f"matching.cert.{c}"))
    return matching.Profile(region_code=region, size_class=size, ksic_section=industry, age_years=int(age),
                            certs=tuple(c for c in matching.CERTS if c in certs),
                            revenue_krw=matching.SALES_BANDS[sales][1], employees=int(employees))


def _firm_profile() -> matching.Profile | None:
    q = st.text_input(t("matching.search"), key="q", bind="query-params", placeholder=t("matching.search_hint"))
    if not q:
        ctx.empty("matching.search_first")
        return None
    found = ctx.query(matching.find_firms, q, role=role)
    if found.empty:
        ctx.empty("matching.no_firm", q=q)
        return None
    labels = {int(r.firm_id): f"#{r.firm_id} · {r.biz_no} · {r.name} · {NAMES['region_code'].get(r.region_code, '')}"
              for r in found.itertuples()}
    firm_id = st.selectbox(t("matching.pick"), list(labels), key="firm", bind="query-params", format_func=labels.get)
    profile = ctx.query(matching.firm_profile, int(firm_id), day, role=role)
    if profile is None:
        ctx.empty("matching.not_founded")
        return None
    st.caption(t("matching.firm_profile", desc=labels[int(firm_id)]) + " " + t("matching.history_note"))
    return profile


def _recommend() -> None:
    st.caption(t("matching.intro", day=day))
    if access.may(role, "matching.firm"):
        src = st.segmented_control(t("matching.source"), ["hand", "firm"], key="src", bind="query-params", default="hand",
                                   format_func=lambda s: t(f"matching.source.{s}")) or "hand"
    else:
        src = "hand"
        st.caption(t("matching.policy_hand_only"))
    profile = _hand_profile() if src == "hand" else _firm_profile()
    if profile is None:
        return
    certs = ", ".join(t(f"matching.cert.{c}") for c in profile.certs) or t("matching.none")
    st.caption(t("matching.profile_desc", region=NAMES["region_code"].get(profile.region_code), certs=certs,
                 size=NAMES["size_class"].get(profile.size_class), age=profile.age_years,
                 industry=NAMES["ksic_section"].get(profile.ksic_section), employees=ctx.num(profile.employees),
                 sales=t(f"matching.sales.{matching.sales_band(profile.revenue_krw)}")))
    with st.spinner(t("matching.computing")):
        recs = ctx.query(matching_rank.recommend, profile, day, ctx.filters, role=role)
    if recs.empty:
        ctx.empty("matching.empty", day=day)
        return
    st.caption(t("matching.found", day=day, n=len(recs)))
    shown = recs.assign(
        category=[t(f"category.{c}") for c in recs["category"]],
        window=[t("matching.always") if a else t("matching.until", date=f"{c:%Y-%m-%d}", n=int(n))
                for a, c, n in zip(recs["always_open"], recs["closes_on"], recs["days_left"])],
        reasons=[_reason_text(r) for r in recs["reasons"]])
    ctx.table(shown, {"rank": ("matching.col.rank", "num"), "title": ("matching.col.title", "text"),
                      "category": ("matching.col.category", "text"), "agency": ("matching.col.agency", "text"),
                      "window": ("matching.col.window", "text"), "max_award_krw": ("matching.col.award", "money"),
                      "score": ("matching.col.score", "pct"), "reasons": ("matching.col.reasons", "text")},
              width="stretch")
    ctx.download(shown.drop(columns=["opens_on", "closes_on"]), "matching_recommendations")


def _evaluation() -> None:
    with st.spinner(t("matching.computing")):
        ev = ctx.query(matching_eval.evaluate, role=role)
    fig = ev.figures.set_index("method")
    st.caption(t("matching.eval_intro", train=ev.train_cut, cut=ev.eval_cut, end=ev.end,
                 n=ctx.num(int(fig.loc["learned", "queries"])), k=ev.k))
    cols = st.columns(len(matching_eval.METHODS))
    for c, m in zip(cols, matching_eval.METHODS):
        c.metric(t(f"matching.method.{m}"), f"NDCG@{ev.k} {fig.loc[m, 'ndcg']:.3f}",
                 f"Recall@{ev.k} {ctx.pct(fig.loc[m, 'recall'])}", delta_color="off", delta_arrow="off")
    a, b = (fig.loc["learned", "ndcg"] - fig.loc[m, "ndcg"] for m in ("popular", "newest"))
    if min(a, b) > 0:
        st.success(t("matching.beats", a=f"{a:.3f}", b=f"{b:.3f}", k=ev.k))
    else:
        st.warning(t("matching.not_beats"))
    table = ev.figures.assign(method=[t(f"matching.method.{m}") for m in ev.figures["method"]])
    ctx.table(table, {"method": ("matching.col.method", "text"), "recall": ("matching.col.recall", "pct"),
                      "recall_selected": ("matching.col.recall_selected", "pct"), "ndcg": ("matching.col.ndcg", "num"),
                      "queries": ("matching.col.queries", "num")})
    st.caption(t("matching.eval_note", c=f"{ev.mean_candidates:.0f}", u=ctx.pct(ev.unreachable)))
    ctx.download(ev.figures, "matching_evaluation")
    st.subheader(t("matching.importance"))
    ctx.table(ev.importance.head(12), {"feature": ("matching.col.feature", "text"),
                                       "ndcg_drop": ("matching.col.ndcg_drop", "num")})


def _gaps() -> None:
    st.caption(t("matching.gaps_intro", day=day))
    by = st.multiselect(t("matching.by"), list(matching_gaps.GROUP_DIMS), default=list(matching_gaps.GROUP_DIMS),
                        key="by", bind="query-params", format_func=lambda d: t(f"matching.col.{d}"))
    st.subheader(t("matching.groups"))
    with st.spinner(t("matching.computing")):
        groups = ctx.query(matching_gaps.group_gaps, day, ctx.filters, tuple(by), role=role)
    if groups.empty:
        ctx.empty("matching.gaps_empty")
    else:
        dims = [d for d in matching_gaps.GROUP_DIMS if d in groups.columns]
        shown = groups.assign(**{d: groups[d].map(NAMES[d]).fillna(groups[d]) for d in dims})
        ctx.table(shown, {**{d: (f"matching.col.{d}", "text") for d in dims},
                          "n_firms": ("matching.col.n_firms", "num"), "firms": ("matching.col.firms", "num"),
                          "eligible": ("matching.col.eligible", "num"), "well_matched": ("matching.col.well_matched", "num"),
                          "gap_firms": ("matching.col.gap_firms", "num")}, width="stretch")
        ctx.download(groups, "matching_blind_spot_groups")
    st.subheader(t("matching.programs"))
    st.caption(t("matching.programs_note"))
    progs = ctx.query(matching_gaps.program_gaps, day, ctx.filters, role=role)
    if progs.empty:
        ctx.empty("matching.programs_empty", day=day)
        return
    flags = [", ".join(([t("matching.flag.rec")] if r else []) + ([t("matching.flag.app")] if a else []))
             for r, a in zip(progs["rarely_recommended"], progs["rarely_applied"])]
    shown = progs.assign(category=[t(f"category.{c}") for c in progs["category"]], flag=flags)
    ctx.table(shown, {"title": ("matching.col.title", "text"), "category": ("matching.col.category", "text"),
                      "agency": ("matching.col.agency", "text"), "eligible_share": ("matching.col.eligible_share", "pct"),
                      "recommended_share": ("matching.col.recommended_share", "pct"),
                      "applications": ("matching.col.applications", "num"),
                      "applicants": ("matching.col.applicants", "num"), "flag": ("matching.col.flag", "text")},
              width="stretch")
    ctx.download(progs, "matching_blind_spot_programs")


tabs = dict(zip(TABS, st.tabs([t(f"matching.tab.{k}") for k in TABS], key="tab", bind="query-params")))
# Only the open tab runs (tabs bound to the URL know which one is open).
for name, draw in zip(TABS, (_recommend, _evaluation, _gaps)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw()

"""Program matching (맞춤형 지원사업 추천): ranked programs for a firm profile with reasons, the offline
evaluation of the ranker against baselines, and blind spots (policy, evaluator, admin).

Policy staff enter a profile by hand and see aggregates; evaluators and admins may also pick a firm
of the database (contact data masked). Profile, day, tab and grouping are kept in the URL.
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from analytics.matching import eligibility as matching
from analytics.matching import gaps as matching_gaps
from analytics.matching import store as matching_store
from analytics.matching.recommend import recommend
from analytics.overview import summary as overview
from data import access, facts
from ui import jobs as job_view
from ui import names
from ui.shell import page

PROFILE_KEYS = ("p_region", "p_size", "p_ind", "p_age", "p_sales", "p_emp", "p_cert")
TABS = ("recommend", "evaluation", "gaps")
ctx = page("matching",
           filters=("region", "size", "industry", "ministry", "agency", "category"),
           params=("tab", "on", "src", "q", "firm", "by", *PROFILE_KEYS))
t, role, url = ctx.t, ctx.role, ctx.params
NAMES = {dim: names.names(dim, ctx.lang) for dim in ("region_code", "size_class", "ksic_section")}
# without applications (an imported catalogue alone) there is no history to rank or evaluate with
has_apps = ctx.query(overview.summary).applications > 0
ref = ctx.query(facts.reference_date)
day: date = url.day(st.date_input, t("matching.day"), "on", ref)
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
        # n picks the English plural ("Closes in 1 day", "3 days")
        parts.append(t(f"matching.reason.{code}", v=value, n=value if isinstance(value, int) else None))
    return " · ".join(parts)


def _hand_profile() -> matching.Profile:
    c1, c2, c3 = st.columns(3)
    region = url.choice(c1.selectbox, t("matching.region"), "p_region", list(NAMES["region_code"]),
                        next(iter(NAMES["region_code"])), format_func=NAMES["region_code"].get)
    size = url.choice(c2.selectbox, t("matching.size"), "p_size", list(NAMES["size_class"]),
                      next(iter(NAMES["size_class"])), format_func=NAMES["size_class"].get)
    industry = url.choice(c3.selectbox, t("matching.industry"), "p_ind", list(NAMES["ksic_section"]), "G",
                          format_func=lambda s: f"{s} {NAMES['ksic_section'][s]}")
    c4, c5, c6, c7 = st.columns(4)
    age = url.number(c4.number_input, t("matching.age"), "p_age", 3, lo=0, hi=150, step=1)
    sales = url.choice(c5.selectbox, t("matching.sales"), "p_sales", list(matching.SALES_BANDS),
                       next(iter(matching.SALES_BANDS)), format_func=lambda b: t(f"matching.sales.{b}"))
    employees = url.number(c6.number_input, t("matching.employees"), "p_emp", 3, lo=0, hi=100_000, step=1)
    certs = url.many(c7.multiselect, t("matching.certs"), "p_cert", list(matching.CERTS), [],
                     format_func=lambda c: t(f"matching.cert.{c}"), placeholder=t("matching.none"), select_all=False)
    return matching.Profile(region_code=region, size_class=size, ksic_section=industry, age_years=int(age),
                            certs=tuple(c for c in matching.CERTS if c in certs),
                            revenue_krw=matching.SALES_BANDS[sales][1], employees=int(employees))


def _firm_profile() -> matching.Profile | None:
    q = url.text(st.text_input, t("matching.search"), "q", placeholder=t("matching.search_hint"))
    if not q:
        ctx.empty("matching.search_first")
        return None
    found = ctx.query(matching.find_firms, q, role=role)
    if found.empty:
        ctx.empty("matching.no_firm", q=q)
        return None
    labels = {int(r.firm_id): f"#{r.firm_id} · {r.biz_no} · {r.name} · {NAMES['region_code'].get(r.region_code, '')}"
              for r in found.itertuples()}
    firm_id = url.choice(st.selectbox, t("matching.pick"), "firm", list(labels), next(iter(labels)), format_func=labels.get)
    profile = ctx.query(matching.firm_profile, int(firm_id), day, role=role)
    if profile is None:
        ctx.empty("matching.not_founded")
        return None
    st.caption(t("matching.firm_profile", desc=labels[int(firm_id)]) + " " + t("matching.history_note"))
    return profile


def _recommend() -> None:
    if has_apps:
        st.caption(t("matching.intro", day=day))
    if access.may(role, "matching.firm"):
        src = url.choice(st.segmented_control, t("matching.source"), "src", ["hand", "firm"], "hand",
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
    if not has_apps:
        _catalogue_only(profile)
        return
    with st.spinner(t("matching.computing")):
        recs = ctx.query(recommend, profile, day, ctx.filters, role=role)
    if recs.empty:
        ctx.empty("matching.empty", day=day)
        return
    ev = ctx.query(matching_store.latest, role=role)
    st.caption(t("matching.found", day=day, n=len(recs)) + " " + (
        t("matching.ranked_by", m=t(f"matching.method.{recs['method'].iloc[0]}"), at=f"{ev.created_at:%Y-%m-%d}")
        if ev is not None else t("matching.ranked_fallback")))
    shown = recs.assign(
        category=[t(f"category.{c}") for c in recs["category"]],
        window=[t("matching.always") if a else t("matching.until", date=f"{c:%Y-%m-%d}", n=int(n))
                for a, c, n in zip(recs["always_open"], recs["closes_on"], recs["days_left"])],
        reasons=[_reason_text(r) for r in recs["reasons"]])
    ctx.table(shown, {"rank": ("matching.col.rank", "num"), "title": ("matching.col.title", "text"),
                      "category": ("matching.col.category", "text"), "agency": ("matching.col.agency", "text"),
                      "window": ("matching.col.window", "text"), "max_award_krw": ("matching.col.award", "money"),
                      "reasons": ("matching.col.reasons", "text")},
              name="matching_recommendations", width="stretch")


def _catalogue_only(profile: matching.Profile) -> None:
    """Eligible programs of the catalogue by deadline: no application history to rank with."""
    st.info(t("matching.catalogue_only"), icon=":material/info:")
    recs = ctx.query(matching.eligible_programs, profile, day, ctx.filters, role=role)
    if recs.empty:
        ctx.empty("matching.empty", day=day)
        return
    st.caption(t("matching.found_eligible", day=day, n=len(recs)))
    shown = recs.assign(
        category=[t(f"category.{c}") for c in recs["category"]],
        window=[(w or t("matching.always")) if a else t("matching.until", date=f"{c:%Y-%m-%d}", n=int(n))
                for a, c, n, w in zip(recs["always_open"], recs["closes_on"], recs["days_left"], recs["window_text"])],
        groups=[", ".join(g) if len(g) else "" for g in recs["target_groups"]])
    ctx.table(shown, {"rank": ("matching.col.rank", "num"), "title": ("matching.col.title", "text"),
                      "category": ("matching.col.category", "text"), "agency": ("matching.col.agency", "text"),
                      "window": ("matching.col.window", "text"), "groups": ("matching.col.groups", "text"),
                      "url": ("matching.col.url", "link")}, name="matching_eligible_programs", width="stretch")


def _interval(lo: float, hi: float, signed: bool = False) -> str:
    return f"[{lo:+.3f}, {hi:+.3f}]" if signed else f"[{lo:.3f}, {hi:.3f}]"


def _evaluation() -> None:
    ctx.require_data("applications")
    ev = ctx.query(matching_store.latest, role=role)
    if ev is None:
        job_view.wait_for(ctx, "evaluation")   # stops here: the job's progress, or who can start it
        return
    if ev.stale:
        st.warning(t("matching.eval_stale", at=f"{ev.created_at:%Y-%m-%d %H:%M}"))
    s, fig = ev.summary, ev.figures.set_index("method")
    name = {m: t(f"matching.method.{m}") for m in fig.index}
    st.caption(t("matching.eval_intro", train=ev.train_cut, cut=ev.eval_cut, end=ev.end, n=ctx.num(s["queries"]),
                 k=s["k"], at=f"{ev.created_at:%Y-%m-%d %H:%M}"))
    best, base = fig.loc[s["best_learned"]], s["strongest_baseline"]
    margin = dict(m=name[s["best_learned"]], b=name[base], d=f"{best['margin']:+.3f}",
                  ci=_interval(best["margin_lo"], best["margin_hi"], signed=True), k=s["k"])
    if s["winner"] == s["best_learned"]:
        st.success(t("matching.beats", **margin))
    else:
        st.warning(t("matching.not_beats", **margin))
    st.caption(t("matching.metrics_caption", k=s["k"]))
    cols = st.columns(len(fig))
    for c, (m, row) in zip(cols, fig.iterrows()):   # the value alone fits a fifth of the page; the name on hover
        c.metric(name[m], f"{row['ndcg']:.3f}", f"Recall@{s['k']} {ctx.pct(row['recall'])}",
                 delta_color="off", delta_arrow="off", help=name[m])
    table = ev.figures.assign(method=[name[m] for m in ev.figures["method"]],
                              ndcg_ci=[_interval(a, b) for a, b in zip(ev.figures["ndcg_lo"], ev.figures["ndcg_hi"])],
                              margin_ci=[_interval(a, b, True) for a, b in zip(ev.figures["margin_lo"], ev.figures["margin_hi"])])
    ctx.table(table, {"method": ("matching.col.method", "text"), "ndcg": ("matching.col.ndcg", "dec:3"),
                      "ndcg_ci": ("matching.col.ci", "text"), "recall": ("matching.col.recall", "pct"),
                      "recall_all": ("matching.col.recall_all", "pct"),
                      "recall_selected": ("matching.col.recall_selected", "pct"),
                      "margin": ("matching.col.margin", "dec:3"), "margin_ci": ("matching.col.ci_margin", "text")},
              name="matching_evaluation")
    st.caption(t("matching.eval_note", c=f"{s['mean_candidates']:.0f}", u=ctx.pct(s["unreachable"]), b=name[base]))
    st.subheader(t("matching.importance", m=name[s["best_learned"]]))
    importance = ev.importance.head(12)
    importance = importance.assign(feature=[t(f"matching.feature.{f}") for f in importance["feature"]])
    ctx.table(importance, {"feature": ("matching.col.feature", "text"),
                                       "ndcg_drop": ("matching.col.ndcg_drop", "dec:3")})


def _gaps() -> None:
    ctx.require_data("applications")
    st.caption(t("matching.gaps_intro", day=day))
    by = url.many(st.multiselect, t("matching.by"), "by", list(matching_gaps.GROUP_DIMS), list(matching_gaps.GROUP_DIMS),
                  format_func=lambda d: t(f"matching.col.{d}"), placeholder=t("common.choose"), select_all=False)
    st.subheader(t("matching.groups"))
    with st.spinner(t("matching.gaps_computing")):
        cov = ctx.query(matching_gaps.coverage, day, ctx.filters, role=role)
    if cov.stored_at is not None:
        st.caption(t("matching.gaps_stored", at=f"{cov.stored_at:%Y-%m-%d %H:%M}", day=day))
    else:
        st.caption(t("matching.gaps_live", ref=ref))
    groups = matching_gaps.group_gaps(cov, tuple(by), role=role)
    if groups.empty:
        ctx.empty("matching.gaps_empty")
    else:
        dims = [d for d in matching_gaps.GROUP_DIMS if d in groups.columns]
        shown = groups.assign(**{d: groups[d].map(NAMES[d]).fillna(groups[d]) for d in dims})
        ctx.table(shown, {**{d: (f"matching.col.{d}", "text") for d in dims},
                          "n_firms": ("matching.col.n_firms", "num"), "firms": ("matching.col.firms", "num"),
                          "eligible": ("matching.col.eligible", "num"), "well_matched": ("matching.col.well_matched", "num"),
                          "gap_firms": ("matching.col.gap_firms", "num")}, name="matching_blind_spot_groups", width="stretch")
    st.subheader(t("matching.programs"))
    st.caption(t("matching.programs_note"))
    progs = matching_gaps.program_gaps(cov, role=role)
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
              name="matching_blind_spot_programs", width="stretch")


tabs = url.tabs(TABS, "matching.tab", ctx.lang)
# Only the open tab runs (the tabs track which one is open).
for name, draw in zip(TABS, (_recommend, _evaluation, _gaps)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw()

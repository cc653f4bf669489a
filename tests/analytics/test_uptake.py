"""Program uptake analytics checked against an independent pandas computation on the raw tables of
the generator's tiny database (not on the summary tables the functions read)."""
from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.uptake import plots as plots_uptake
from analytics.uptake import programs as uptake_programs
from analytics.uptake import reach as uptake_reach
from analytics.uptake import summary as uptake
from data.access import AccessDenied
from data.db import create_schema, refresh_summaries
from data.privacy import SUPPRESSED

PERIOD = Filters(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
CASES = [Filters(), PERIOD, Filters(regions=("11", "41"), sizes=("micro", "small")),
         Filters(categories=("기술", "금융"), industries=("C",)),
         Filters(ministries=("중소벤처기업부",), date_from=date(2025, 6, 1))]


def _age_band(founded: pd.Series, on: pd.Series) -> pd.Series:
    on, founded = pd.to_datetime(on), pd.to_datetime(founded)
    years = on.dt.year - founded.dt.year - ((on.dt.month * 100 + on.dt.day) < (founded.dt.month * 100 + founded.dt.day))
    # below 0 when a planted ring's burst moved a submission before the firm's founding: 00-02, as in SQL
    return pd.cut(years.clip(lower=0), [-1, 2, 6, 9, 19, 10_000], labels=list(uptake.AGE_BANDS)).astype(str)


@pytest.fixture(scope="module")
def con(tiny_db):
    with duckdb.connect(str(tiny_db), read_only=True) as c:
        yield c


@pytest.fixture(scope="module")
def raw(con) -> dict[str, pd.DataFrame]:
    """The raw tables, joined in pandas: one row per application with its firm and program."""
    firms = con.execute("SELECT * REPLACE (size_class::VARCHAR AS size_class) FROM firms").df()
    programs = con.execute("SELECT * REPLACE (category::VARCHAR AS category) FROM programs").df()
    apps = con.execute("SELECT * REPLACE (status::VARCHAR AS status) FROM applications").df()
    channels = con.execute("SELECT channel_id, online FROM channels").df()
    a = (apps.merge(firms[["firm_id", "region_code", "size_class", "ksic_section", "founded_on", "weight"]], on="firm_id")
         .merge(programs[["program_id", "ministry", "agency", "category", "title"]], on="program_id")
         .merge(channels, on="channel_id", how="left"))
    a["age_band"] = _age_band(a["founded_on"], a["submitted_at"].dt.normalize())
    a["selected"] = a["status"] == "selected"
    a["decision_days"] = (a["decided_at"].dt.normalize() - a["submitted_at"].dt.normalize()).dt.days
    as_of = pd.Timestamp(con.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchone()[0])
    return {"apps": a, "firms": firms, "programs": programs, "as_of": as_of}


def _slice(a: pd.DataFrame, f: Filters, drill: dict | None = None) -> pd.DataFrame:
    m = pd.Series(True, index=a.index)
    if f.date_from:
        m &= a.submitted_at >= pd.Timestamp(f.date_from)
    if f.date_to:
        m &= a.submitted_at < pd.Timestamp(f.date_to) + pd.Timedelta(days=1)
    for values, col in ((f.regions, "region_code"), (f.sizes, "size_class"), (f.industries, "ksic_section"),
                        (f.ministries, "ministry"), (f.agencies, "agency"), (f.categories, "category")):
        if values:
            m &= a[col].isin(values)
    for dim, value in (drill or {}).items():
        m &= a[uptake.DIMS[dim]].astype(str) == value
    return a[m]


def _measures(g: pd.DataFrame) -> dict:
    sel = g[g.selected]
    return {"applications": len(g), "applicants": g.firm_id.nunique(), "selected": len(sel),
            "firms_reached": sel.firm_id.nunique(), "agreed": int(g.agreed_at.notna().sum()),
            "e_contract": int((g.agreed_at.notna() & g.e_contract).sum()), "paid": int(g.paid_at.notna().sum()),
            "amount_awarded_krw": int(g.amount_awarded_krw.sum())}


@pytest.mark.parametrize("flt", CASES)
def test_funnel_overall_matches_pandas(con, raw, flt):
    got = uptake.funnel(con, flt, role="admin")
    want = _measures(_slice(raw["apps"], flt))
    assert len(got) == 1
    for key, value in want.items():
        assert got[key].iloc[0] == value, key
    assert got["selection_rate"].iloc[0] == pytest.approx(want["selected"] / want["applications"])
    assert got["e_contract_share"].iloc[0] == pytest.approx(want["e_contract"] / want["agreed"])


def test_announcements_overlap_the_period(con, raw):
    p = raw["programs"]
    lo, hi = pd.Timestamp(PERIOD.date_from), pd.Timestamp(PERIOD.date_to)
    opens = pd.to_datetime(p.opens_on).fillna(pd.Timestamp("1900-01-01"))
    closes = pd.to_datetime(p.closes_on).fillna(pd.Timestamp("2999-12-31"))
    want = int((p.always_open | ((opens <= hi) & (closes >= lo))).sum())
    assert uptake.funnel(con, PERIOD, role="admin")["announcements"].iloc[0] == want
    by = uptake.funnel(con, PERIOD, role="admin", by="ministry").set_index("grp")["announcements"]
    assert by.sum() <= want  # ministries without applications in the period have no row


@pytest.mark.parametrize("dim", list(uptake.DIMS))
def test_breakdown_matches_pandas(con, raw, dim):
    flt = Filters(date_from=date(2024, 7, 1))
    got = uptake.breakdown(con, flt, dim, role="admin").set_index("grp")
    a = _slice(raw["apps"], flt)
    col = uptake.DIMS[dim]
    want = {str(k): {**_measures(g), "median_decision_days": g.decision_days.median()} for k, g in a.groupby(col, observed=True)}
    assert set(got.index) == set(want)
    for key, w in want.items():
        for m, value in w.items():
            if m == "median_decision_days" and pd.isna(value):
                assert pd.isna(got.loc[key, m])
            else:
                assert got.loc[key, m] == pytest.approx(value), (key, m)
    assert list(got["applications"]) == sorted(got["applications"], reverse=True)
    if dim == "region":
        assert {"tile_row", "tile_col"} <= set(got.columns) and got["tile_row"].notna().all()


def test_drill_down_narrows_like_a_filter(con, raw):
    a = raw["apps"]
    ministry = a.ministry.value_counts().index[0]
    agency = a[a.ministry == ministry].agency.value_counts().index[0]
    drill = uptake.normalize_drill({"agency": agency, "ministry": ministry, "size": "micro", "age": "03-06"})
    assert [d for d, _ in drill] == ["ministry", "agency", "size", "age"]
    got = uptake.funnel(con, Filters(), drill, role="admin")
    want = _measures(_slice(a, Filters(), dict(drill)))
    assert got["applications"].iloc[0] == want["applications"]
    assert got["firms_reached"].iloc[0] == want["firms_reached"]
    options = uptake.drill_options(con, Filters(), "agency", (("ministry", ministry),), role="admin")
    programs = raw["programs"]
    assert set(options["grp"]) == set(programs[programs.ministry == ministry].agency)
    titles = uptake.drill_options(con, Filters(), "program", (("agency", agency),), role="admin")
    assert set(titles["grp"]) == set(programs[programs.agency == agency].program_id)
    assert set(titles["name"]) == set(programs[programs.agency == agency].title)


def test_headline_against_previous_period(con, raw):
    a = raw["apps"]
    flt = Filters(date_from=date(2025, 7, 1), date_to=date(2025, 12, 31))
    h = uptake.headline(con, flt, role="admin")
    assert (h.previous_from, h.previous_to) == (date(2024, 12, 29), date(2025, 6, 30))  # 184 days each
    fig = h.figures.set_index("metric")
    for col, f in (("current", flt), ("previous", Filters(date_from=h.previous_from, date_to=h.previous_to))):
        s = _slice(a, f)
        assert fig.loc["applications", col] == len(s)
        assert fig.loc["programs", col] == s.program_id.nunique()
        assert fig.loc["firms_reached", col] == s[s.selected].firm_id.nunique()
        assert fig.loc["amount_awarded_krw", col] == s.amount_awarded_krw.sum()
        assert fig.loc["selection_rate", col] == pytest.approx(s.selected.mean())
        assert fig.loc["median_decision_days", col] == pytest.approx(s.decision_days.median())
    assert fig.loc["applications", "change"] == pytest.approx(fig.loc["applications", "current"] / fig.loc["applications", "previous"] - 1)
    p = raw["programs"]
    on = pd.Timestamp(flt.date_to)
    open_now = p.always_open | ((pd.to_datetime(p.opens_on) <= on) & (pd.to_datetime(p.closes_on).fillna(on) >= on))
    assert fig.loc["open_now", "current"] == int(open_now.sum())


def test_headline_defaults_to_last_twelve_months(con, raw):
    h = uptake.headline(con, Filters(), role="admin")
    assert h.defaulted and h.period_to == raw["as_of"].date()
    assert (h.period_to - h.period_from).days == 364


def test_monthly_and_seasonality(con, raw):
    a = raw["apps"]
    got = uptake.monthly(con, Filters(), role="admin")
    month = a.submitted_at.dt.to_period("M").dt.to_timestamp()
    want = a.groupby(month).agg(applications=("firm_id", "size"), selected=("selected", "sum"),
                                online=("online", lambda s: int((s == True).sum())))  # noqa: E712
    assert list(got["applications"]) == list(want["applications"])
    assert list(got["selected"]) == list(want["selected"])
    assert list(got["online"]) == list(want["online"])
    season = uptake.seasonality(con, Filters(), role="admin").set_index("month_of_year")
    per = a.groupby(a.submitted_at.dt.month).agg(n=("firm_id", "size"), years=("submitted_at", lambda s: s.dt.year.nunique()))
    avg = per.n / per.years
    assert season["applications_per_year"].to_numpy() == pytest.approx(avg.to_numpy())
    assert season["index"].to_numpy() == pytest.approx((avg / avg.mean()).to_numpy())


def test_penetration_weighted_by_population(con, raw):
    flt = Filters(date_from=date(2025, 1, 1), categories=("기술", "금융", "창업"))
    found = uptake_reach.reach(con, flt, role="admin", n=5)
    got = found.cells.set_index(["region_code", "size_class"])
    firms = raw["firms"]
    pop = firms.groupby(["region_code", "size_class"]).weight.sum()
    reached = _slice(raw["apps"], flt)
    reached = reached[reached.selected].drop_duplicates("firm_id")
    rw = reached.groupby(["region_code", "size_class"]).weight.sum()
    assert len(got) == len(pop)
    for key, population in pop.items():
        assert got.loc[key, "population"] == pytest.approx(population)
        assert got.loc[key, "penetration"] == pytest.approx(rw.get(key, 0.0) / population)
    applicants = _slice(raw["apps"], flt).groupby(["region_code", "size_class"]).firm_id.nunique()
    assert got["applicants"].sum() == applicants.sum()
    for key, value in applicants.items():
        assert got.loc[key, "applicants"] == value
    blind = found.blind_spots
    assert len(blind) == 5 and list(blind["penetration"]) == sorted(blind["penetration"])
    assert blind["population"].min() >= 0.002 * pop.sum()


def test_penetration_population_follows_firm_filters_only(con, raw):
    got = uptake_reach.reach(con, Filters(regions=("11",), ministries=("중소벤처기업부",)), role="admin").cells
    firms = raw["firms"]
    assert set(got["region_code"]) == {"11"}
    assert got["population"].sum() == pytest.approx(firms[firms.region_code == "11"].weight.sum())


def test_concentration_matches_pandas(con, raw):
    a = raw["apps"]
    sel = a[a.selected]
    amounts = np.sort(sel.groupby("firm_id").amount_awarded_krw.sum().to_numpy().astype(float))
    n, total = len(amounts), amounts.sum()
    c = uptake_reach.concentration(con, Filters(), role="admin")
    assert c.firms == n and c.amount_krw == total
    assert c.top1_share == pytest.approx(amounts[-math.ceil(n * 0.01):].sum() / total)
    assert c.top10_share == pytest.approx(amounts[-math.ceil(n * 0.10):].sum() / total)
    # Gini by the mean-absolute-difference formula, independent of the Lorenz trapezoids
    gini = np.abs(amounts[:, None] - amounts[None, :]).sum() / (2 * n * n * amounts.mean())
    assert c.gini == pytest.approx(gini, rel=1e-9)
    per_year = sel.assign(year=sel.submitted_at.dt.year).groupby(["firm_id", "year"]).program_id.nunique()
    assert c.firms_3plus == per_year[per_year >= 3].index.get_level_values(0).nunique()
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0] and c.lorenz.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert c.lorenz["amount_share"].is_monotonic_increasing


@pytest.mark.parametrize("by", ["agency", "program"])
def test_documents_match_pandas(con, raw, by):
    got = uptake_programs.documents(con, Filters(), role="admin", by=by).set_index("grp")
    a = raw["apps"]
    g = a.groupby("agency" if by == "agency" else "program_id")
    assert got["docs_by_firm"].to_dict() == pytest.approx(g.docs_submitted.mean().to_dict())
    linkage = g.docs_auto_linked.sum() / (g.docs_submitted.sum() + g.docs_auto_linked.sum())
    assert got["linkage_rate"].to_dict() == pytest.approx(linkage.to_dict())


def test_doc_references_are_the_published_figures():
    refs = uptake_programs.doc_references().set_index("key")["value"]
    assert refs.to_dict() == {"documents_per_application_now": 9, "documents_per_application_target": 4.4,
                              "admin_data_linkage_rate_now": 0.43, "admin_data_linkage_rate_target": 0.96}


def test_document_figures_are_horizontal_readable_bars(con):
    """Long program names on a horizontal axis were rotated and overlapped: the bars lie flat, one
    row per group (largest on top), names cut on the axis but whole on hover, stack = required."""
    docs = uptake_programs.documents(con, Filters(), role="admin", by="program")
    refs = uptake_programs.doc_references()
    fig_docs, fig_link = plots_uptake.plot_documents(docs, refs, lambda k: k)
    bars = [t for t in fig_docs.data if t.type == "bar"]
    top = docs.head(25)
    assert all(b.orientation == "h" for b in bars) and fig_docs.layout.barmode == "stack"
    assert list(bars[0].customdata) == [str(n) for n in top["name"]][::-1]
    assert len(set(bars[0].y)) == len(top) and max(len(y) for y in bars[0].y) <= 22 + len(top)
    stacked = np.array(bars[0].x, dtype=float) + np.array(bars[1].x, dtype=float)
    assert stacked == pytest.approx(top["docs_required"].to_numpy()[::-1])
    assert fig_link.data[0].orientation == "h"
    assert list(fig_link.data[0].x) == pytest.approx(top["linkage_rate"].to_list()[::-1])
    assert fig_docs.layout.height >= 26 * len(top)
    assert plots_uptake._short_unique(["가" * 30, "가" * 30 + "나"]) == ["가" * 21 + "…", "가" * 21 + "…\u200b"]


def test_below_budget_matches_pandas(con, raw):
    got = uptake_programs.below_budget(con, Filters(), role="admin", threshold=0.5)
    p, a = raw["programs"], raw["apps"]
    awarded = a.groupby("program_id").amount_awarded_krw.sum().reindex(p.program_id).fillna(0).to_numpy()
    closes = pd.to_datetime(p.closes_on)
    want = p[(p.budget_krw > 0) & ~p.always_open & closes.notna() & (closes <= raw["as_of"])
             & (awarded < 0.5 * p.budget_krw.fillna(0))]
    assert set(got["grp"]) == set(want.program_id)
    assert list(got["uptake_ratio"]) == sorted(got["uptake_ratio"])


def test_program_search_and_profile(con, raw):
    a, p, firms = raw["apps"], raw["programs"], raw["firms"]
    pid = a.program_id.value_counts().index[0]
    title = p.set_index("program_id").loc[pid, "title"]
    found = uptake_programs.search_programs(con, title[2:8], role="admin")
    assert pid in set(found["program_id"])
    assert found["title"].str.contains(title[2:8], regex=False).all()
    prof = uptake_programs.program_profile(con, pid, role="admin")
    mine = a[a.program_id == pid]
    assert prof.funnel["applications"].iloc[0] == len(mine)
    comp = prof.composition.set_index(["dim", "grp"])
    want = mine.groupby("size_class").firm_id.nunique()
    for size, n in want.items():
        assert comp.loc[("size", size), "applicants"] == n
    sel = mine[mine.selected].groupby("region_code").firm_id.nunique()
    for region, n in sel.items():
        assert comp.loc[("region", region), "selected"] == n
    # eligible population: the program's target lists and age band, weighted
    g = p.set_index("program_id").loc[pid]
    ok = pd.Series(True, index=firms.index)
    if len(g.target_sizes):
        ok &= firms.size_class.isin(list(g.target_sizes))
    if len(g.target_regions):
        ok &= firms.region_code.isin(list(g.target_regions))
    if len(g.target_industries):
        ok &= firms.ksic_section.isin(list(g.target_industries))
    age = _age_band(firms.founded_on, pd.Series(raw["as_of"], index=firms.index))
    years = raw["as_of"].year - pd.to_datetime(firms.founded_on).dt.year  # only used when bounds exist
    if not pd.isna(g.min_age_years) or not pd.isna(g.max_age_years):
        full = years - ((raw["as_of"].month * 100 + raw["as_of"].day) < (pd.to_datetime(firms.founded_on).dt.month * 100 + pd.to_datetime(firms.founded_on).dt.day))
        ok &= full.between(g.min_age_years if not pd.isna(g.min_age_years) else -1,
                           g.max_age_years if not pd.isna(g.max_age_years) else 10_000)
    elig = firms[ok].groupby(age[ok]).weight.sum()
    for band, w in elig.items():
        assert comp.loc[("age", band), "eligible"] == pytest.approx(w)
    assert uptake_programs.program_profile(con, "no-such-program", role="admin") is None


def test_policy_role_sees_small_cells_suppressed(con, raw):
    admin = uptake.breakdown(con, Filters(), "program", role="admin")
    policy = uptake.breakdown(con, Filters(), "program", role="policy")
    small = admin["applicants"].between(1, 4)
    assert small.any(), "the tiny database should have programs with 1-4 applicant firms"
    assert (policy.loc[small, "applicants"] == SUPPRESSED).all()
    assert (policy.loc[small, "amount_awarded_krw"] == SUPPRESSED).all()
    assert (policy.loc[~small, "applicants"] == admin.loc[~small, "applicants"]).all()


def test_concentration_hides_few_multi_program_firms_from_policy(con, raw):
    a = raw["apps"]
    sel = a[a.selected].assign(year=lambda d: d.submitted_at.dt.year)
    per = sel.groupby(["region_code", "year", "firm_id"]).program_id.nunique()
    multi = per[per >= 3].groupby(level=[0, 1]).size()
    region, year = next(k for k, n in multi.items() if 1 <= n <= 4)
    flt = Filters(regions=(region,), date_from=date(year, 1, 1), date_to=date(year, 12, 31))
    assert uptake_reach.concentration(con, flt, role="policy").firms_3plus == SUPPRESSED
    assert uptake_reach.concentration(con, flt, role="admin").firms_3plus == multi[(region, year)]


@pytest.mark.parametrize("role", ["evaluator", "auditor", "nobody"])
def test_other_roles_are_refused(con, role):
    for call in (lambda: uptake.funnel(con, Filters(), role=role),
                 lambda: uptake_reach.concentration(con, Filters(), role=role),
                 lambda: uptake_programs.search_programs(con, "", role=role)):
        with pytest.raises(AccessDenied):
            call()


def test_summaries_work_on_an_empty_database():
    c = duckdb.connect()
    create_schema(c)
    assert "uptake.sql" in refresh_summaries(c)
    assert uptake.funnel(c, Filters(), role="admin").empty
    assert uptake.breakdown(c, Filters(), "region", role="admin").empty
    assert uptake.headline(c, Filters(), role="admin").figures.empty
    assert uptake_reach.concentration(c, Filters(), role="admin").firms == 0

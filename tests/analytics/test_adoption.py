"""AI-adoption analytics checked against independent computations: a respondent-level hand
linearisation, statsmodels' weighted statistics, decompositions whose answer is known in advance,
and, on the generator's tiny database, the published figures it was calibrated to."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.weightstats import DescrStatsW

from analytics.adoption import estimates as adoption
from analytics.adoption import reach as adoption_reach
from analytics.adoption.decompose import decompose
from analytics.adoption.design import Z95, cell_sums, estimate
from analytics.filters import Filters
from data.db import create_schema
from data.privacy import SUPPRESSED

STATUSES = np.array(["uses", "plans", "none"])


def _survey_frame(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(STATUSES, n, p=[0.3, 0.2, 0.5])
    return pd.DataFrame({
        "respondent_id": np.arange(n), "survey_year": 2024,
        "region_code": rng.choice(["11", "41", "26", "50"], n),
        "size_class": rng.choice(["micro", "small", "large"], n, p=[0.5, 0.3, 0.2]),
        "ksic_section": rng.choice(["C", "G", "J"], n),
        "weight": rng.uniform(1, 80, n), "ai_status": status,
        "uses_ai": status == "uses", "plans_ai": status == "plans",
        "barrier_cost": rng.random(n) < 0.6, "wish_training": rng.random(n) < 0.4,
    })


def _db(survey: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_schema(con)
    con.register("survey_df", survey)
    con.execute(f"INSERT INTO ai_survey ({', '.join(survey.columns)}) SELECT * FROM survey_df")
    return con


def _hand(df: pd.DataFrame, y: pd.Series, x: pd.Series) -> tuple[float, float]:
    """Ratio estimate and linearised SE, respondent by respondent; lonely strata centred at 0."""
    big_x = float((df["weight"] * x).sum())
    r = float((df["weight"] * y).sum()) / big_x
    z = df["weight"] * (y.astype(float) - r * x.astype(float)) / big_x
    strata = df["region_code"] + df["size_class"] + df["survey_year"].astype(str)  # industry: a domain
    var = 0.0
    for _, zh in z.groupby(strata):
        n_h = len(zh)
        var += float((zh**2).sum()) if n_h == 1 else n_h / (n_h - 1) * float(((zh - zh.mean()) ** 2).sum())
    return r, float(np.sqrt(var))


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    df = _survey_frame(3)
    df.loc[df.index[-1], ["region_code", "size_class", "ksic_section"]] = ["50", "medium", "A"]  # a lonely stratum
    return df


def test_estimates_match_respondent_level_linearisation(survey: pd.DataFrame) -> None:
    con = _db(survey)
    got = adoption.estimates(con, role="admin", by=("region_code",), indicators=("uses", "barrier_cost"))
    for region in ["11", "26", "41", "50"]:
        d = survey["region_code"] == region
        for indicator, y, x in [("uses", survey["uses_ai"] & d, d),
                                ("barrier_cost", survey["barrier_cost"] & ~survey["uses_ai"] & d, ~survey["uses_ai"] & d)]:
            p, se = _hand(survey, y, x)
            row = got[(got["region_code"] == region) & (got["indicator"] == indicator)].iloc[0]
            assert row["p"] == pytest.approx(p, rel=1e-12)
            assert row["se"] == pytest.approx(se, rel=1e-9)
            assert row["lo"] == pytest.approx(max(p - Z95 * se, 0), rel=1e-9)
            assert row["n"] == int(x.sum())


def test_single_stratum_matches_statsmodels(survey: pd.DataFrame) -> None:
    one = survey.assign(region_code="11", size_class="micro", ksic_section="C")
    row = estimate(cell_sums(_db(one)), (), ("uses",)).iloc[0]
    y = one["uses_ai"].astype(float)
    # WLS on a constant = the weighted mean; HC1 is the with-replacement linearised variance n/(n-1).
    fit = sm.WLS(y, np.ones(len(y)), weights=one["weight"]).fit(cov_type="HC1")
    assert row["p"] == pytest.approx(fit.params.iloc[0], rel=1e-12)
    assert row["se"] == pytest.approx(fit.bse.iloc[0], rel=1e-9)
    # with equal weights it is the textbook s / sqrt(n)
    flat = one.assign(weight=1.0)
    row = estimate(cell_sums(_db(flat)), (), ("uses",)).iloc[0]
    stats = DescrStatsW(y.to_numpy(), ddof=1)
    assert row["se"] == pytest.approx(stats.std_mean, rel=1e-9)
    assert row["n_eff"] == pytest.approx(len(y))


def test_crossings_and_status_shares_add_up(survey: pd.DataFrame) -> None:
    got = adoption.estimates(_db(survey), role="admin", by=("capital_region", "size_class"))
    totals = got.groupby(["capital_region", "size_class"])["p"].sum()
    assert np.allclose(totals, 1.0)
    d = (survey["region_code"].isin(["11", "41"])) & (survey["size_class"] == "small")
    p, se = _hand(survey, survey["plans_ai"] & d, d)
    row = got[got["capital_region"] & (got["size_class"] == "small") & (got["indicator"] == "plans")].iloc[0]
    assert (row["p"], row["se"]) == (pytest.approx(p), pytest.approx(se))
    assert row["label_ko"] == "수도권 · 소기업" and row["label_en"] == "Capital region · Small"


def test_filters_restrict_the_domain(survey: pd.DataFrame) -> None:
    got = adoption.estimates(_db(survey), Filters(regions=("26",), industries=("J",)), role="admin", by=())
    d = (survey["region_code"] == "26") & (survey["ksic_section"] == "J")
    row = got[got["indicator"] == "uses"].iloc[0]
    assert row["n"] == int(d.sum())
    # industry is a domain inside the strata: the whole strata's respondents still count
    p, se = _hand(survey, survey["uses_ai"] & d, d)
    assert (row["p"], row["se"]) == (pytest.approx(p, rel=1e-12), pytest.approx(se, rel=1e-9))
    wrong = _hand(survey[d], survey["uses_ai"][d], d[d])[1]  # subsetting rows first understates it
    assert abs(row["se"] - wrong) > 1e-6


def test_policy_role_suppresses_under_five_and_flags_under_thirty(survey: pd.DataFrame) -> None:
    got = adoption.estimates(_db(survey), role="policy", by=("region_code", "size_class"))
    lonely = got[(got["region_code"] == "50") & (got["size_class"] == "medium")]
    assert (lonely["n"] == SUPPRESSED).all() and (lonely["p"] == SUPPRESSED).all()
    shown = got[got["n"] != SUPPRESSED]
    assert (shown["low_n"] == (shown["n"].astype(int) < 30)).all()
    admin = adoption.estimates(_db(survey), role="admin", by=("region_code", "size_class"))
    assert admin.loc[(admin["region_code"] == "50") & (admin["size_class"] == "medium"), "n"].iloc[0] == 1


# ---------------------------------------------------------------- decomposition
def _cells(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group", "cell", "weight", "p"])


def test_pure_composition_gap_has_zero_within_part() -> None:
    # same rate per industry in both groups; group a simply has more of the high-adoption industry
    parts = decompose(_cells([("a", "J", 80, 0.6), ("a", "G", 20, 0.1), ("b", "J", 20, 0.6), ("b", "G", 80, 0.1)]))
    assert parts.gap == pytest.approx(0.5 - 0.2)
    assert parts.within == pytest.approx(0.0, abs=1e-15)
    assert parts.composition == pytest.approx(0.3)


def test_pure_within_gap_has_zero_composition_part() -> None:
    parts = decompose(_cells([("a", "J", 50, 0.7), ("a", "G", 50, 0.3), ("b", "J", 5, 0.5), ("b", "G", 5, 0.1)]))
    assert parts.composition == pytest.approx(0.0, abs=1e-15)
    assert parts.within == pytest.approx(0.2)


def test_parts_add_up_to_the_gap_with_cells_seen_in_one_group_only() -> None:
    rng = np.random.default_rng(11)
    rows = [(g, c, rng.uniform(1, 100), rng.uniform()) for g in "ab" for c in "CGJKLM"]
    rows += [("a", "X", 30.0, 0.9)]  # only in group a: counts as composition
    parts = decompose(_cells(rows))
    df = _cells(rows)
    rate = {g: np.average(d["p"], weights=d["weight"]) for g, d in df.groupby("group")}
    assert parts.gap == pytest.approx(rate["a"] - rate["b"], rel=1e-12)
    assert parts.composition + parts.within == pytest.approx(parts.gap, rel=1e-12)
    only_a = parts.cells[parts.cells["cell"] == "X"].iloc[0]
    assert only_a["within"] == 0 and only_a["composition"] == pytest.approx(only_a["share_a"] * 0.9)


def test_gap_interval_and_decomposition_on_survey(survey: pd.DataFrame) -> None:
    con = _db(survey)
    got = adoption.gap(con, role="admin", kind="region")
    cap = survey["region_code"].isin(["11", "41"])
    (p_a, se_a), (p_b, se_b) = _hand(survey, survey["uses_ai"] & cap, cap), _hand(survey, survey["uses_ai"] & ~cap, ~cap)
    assert got.gap == pytest.approx(p_a - p_b)
    assert got.se == pytest.approx(np.hypot(se_a, se_b))
    assert got.composition + got.within == pytest.approx(got.gap, rel=1e-12)
    assert set(got.cells.columns) >= {"ksic_section", "size_class", "label_ko", "n_a", "n_b"}
    size = adoption.gap(con, role="admin", kind="size")
    large = survey["size_class"] == "large"
    assert size.gap == pytest.approx(_hand(survey, survey["uses_ai"] & large, large)[0]
                                     - _hand(survey, survey["uses_ai"] & ~large, ~large)[0])
    assert got.cells["composition_pp"].sum() / 100 == pytest.approx(got.composition)
    assert adoption.gap(con, Filters(sizes=("micro",)), role="admin", kind="size") is None


def test_gap_hidden_from_policy_when_a_group_has_under_five(survey: pd.DataFrame) -> None:
    few_large = pd.concat([survey[survey["size_class"] != "large"], survey[survey["size_class"] == "large"].head(3)])
    con = _db(few_large)
    assert adoption.gap(con, role="policy", kind="size") is None
    assert adoption.gap(con, role="admin", kind="size").n_a == 3


# ---------------------------------------------------------------- targets, barriers, reach
def test_target_path_and_standing(survey: pd.DataFrame) -> None:
    path = adoption.target_path(0.28, 2024, 0.50, 2027)
    assert path["path"].round(4).tolist() == [0.28, 0.3533, 0.4267, 0.5]
    got = adoption.targets(_db(survey), role="admin", year=2024)
    assert (got.baseline, got.target) == (0.28, 0.50)
    overall = got.standing[got.standing["dimension"] == "all"].iloc[0]
    sme = survey["size_class"] != "large"
    p, _ = _hand(survey, survey["uses_ai"] & sme, sme)
    assert overall["p"] == pytest.approx(p)
    assert overall["gap_pp"] == pytest.approx((p - 0.28) * 100)
    assert overall["needed_pp_per_year"] == pytest.approx((0.5 - p) * 100 / 3)
    assert set(got.standing.loc[got.standing["dimension"] == "size_class", "code"]) == {"micro", "small", "medium"}


def test_barriers_carry_published_reference_marks(survey: pd.DataFrame) -> None:
    got = adoption.barriers(_db(survey), role="admin", by=("size_class",))
    ref = got.drop_duplicates("indicator").set_index("indicator")["reference"]
    assert ref["barrier_cost"] == 0.690 and ref["wish_training"] == 0.477 and ref["wish_education"] == 0.303
    assert np.isnan(ref["barrier_security"])


def _reach_db() -> duckdb.DuckDBPyConnection:
    con = _db(_survey_frame(5, 300))
    con.execute("""
        INSERT INTO firms (firm_id, biz_no, name, region_code, ksic_section, size_class, founded_on,
                           employees, revenue_krw, weight)
        SELECT i, lpad(i::VARCHAR, 10, '0'), 'f' || i, CASE WHEN i < 6 THEN '11' ELSE '26' END, 'C',
               'micro', DATE '2020-01-01', 1, 1, CASE WHEN i < 6 THEN 10.0 ELSE 40.0 END
        FROM range(12) t(i)""")
    con.execute("""INSERT INTO programs (program_id, title, ministry, agency, category, ai_related) VALUES
        ('ai', 'AI 바우처', '과기정통부', 'NIPA', '기술', true), ('other', '수출', '중기부', '중진공', '수출', false)""")
    apps = [(0, "ai", "selected"), (1, "ai", "rejected"), (1, "other", "selected"), (2, "ai", "selected"),
            (7, "ai", "rejected"), (7, "other", "selected")]
    for i, (firm, program, status) in enumerate(apps):
        con.execute("INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status) "
                    "VALUES (?, ?, ?, TIMESTAMP '2024-05-01', ?)", [i, firm, program, status])
    return con


def test_support_reach_rates_per_thousand_firms() -> None:
    got = adoption_reach.support_reach(_reach_db(), role="admin", by=("region_code",)).set_index("region_code")
    # Seoul: 6 firms x 10 = 60 firms; 3 AI applications (weight 10 each), 2 awards
    assert got.loc["11", "applications_per_1000"] == pytest.approx(30 / 60 * 1000)
    assert got.loc["11", "awards_per_1000"] == pytest.approx(20 / 60 * 1000)
    assert got.loc["26", "applications_per_1000"] == pytest.approx(40 / 240 * 1000)
    assert got.loc["26", "awards_per_1000"] == 0


def test_support_reach_lists_laggards_first() -> None:
    got = adoption_reach.support_reach(_reach_db(), role="admin", by=("region_code",))
    flags = got["laggard"].tolist()
    assert flags == sorted(flags, reverse=True)
    lag = got[got["laggard"]]
    assert (lag["p"] < got["p"].median()).all() and (lag["applications_per_1000"] < got["applications_per_1000"].median()).all()
    policy = adoption_reach.support_reach(_reach_db(), role="policy", by=("region_code",)).set_index("region_code")
    assert policy.loc["26", "applications_per_1000"] == SUPPRESSED  # one applicant firm


# ---------------------------------------------------------------- the generator's calibration
CALIBRATED = ["ai_adoption_large_firms", "ai_adoption_smes", "ai_adoption_capital_region",
              "ai_adoption_non_capital_region"]


def test_published_figures_come_back_on_tiny_db(tiny_db) -> None:
    from data.db import connect_read_only

    con = connect_read_only(tiny_db)
    got = adoption.published_comparison(con, role="admin").set_index("key")
    for key in CALIBRATED:
        assert abs(got.at[key, "diff_pp"]) <= 1.0, (key, got.loc[key].to_dict())
    assert set(got.columns) >= {"published", "p", "lo", "hi", "source", "inside_ci"}


def test_estimates_chart_legend_has_the_status_colours_when_a_small_group_comes_first(survey: pd.DataFrame) -> None:
    """A group of under 30 answers is drawn grey; the legend takes a trace's first bar's colour, so
    well-measured groups come first in each trace while the rows keep their order."""
    from analytics.adoption import plots

    df = adoption.estimates(_db(survey), role="admin", by=("size_class",))
    uses = df[df["indicator"] == "uses"].sort_values("p")
    df.loc[df["label_ko"] == uses["label_ko"].iloc[0], "low_n"] = True    # the lowest row: too few answers
    fig = plots.plot_estimates(df, t=lambda key, **kw: key, lang="ko", title="")
    for trace, status in zip(fig.data, ("uses", "plans", "none")):
        assert trace.marker.color[0] == plots.STATUS_COLORS[status], status
        assert plots.GREY in trace.marker.color
    assert list(fig.layout.yaxis.categoryarray)[0] == uses["label_ko"].iloc[0] + plots.LOW_MARK

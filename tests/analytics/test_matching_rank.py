"""Program matching: the metrics on a hand-computed example, the paired bootstrap against a direct
numpy loop, training labels never decided after the cut, the visit-day queries, each baseline's
ranking against an independent pandas computation, determinism of the rankers, the stored
evaluation, reasons, and the blind-spot aggregates checked against an independent computation."""
from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.matching import baselines, store, training
from analytics.matching import eligibility as matching
from analytics.matching import evaluation as matching_eval
from analytics.matching import gaps as matching_gaps
from analytics.matching import rank as matching_rank
from analytics.matching.recommend import recommend
from data import facts
from data.privacy import SUPPRESSED
from ui.i18n import CATALOGUE

PROFILE = matching.Profile(region_code="11", size_class="micro", ksic_section="G", age_years=2)


# ---------------------------------------------------------------- metrics (known answers)
RANKED = ["a", "b", "c", "d"]
GRADES = {"b": 2, "d": 1, "e": 1}  # e was applied to but not ranked at all


def test_recall_at_k_by_hand() -> None:
    assert matching_eval.recall_at_k(RANKED, GRADES, k=2) == pytest.approx(1 / 3)
    assert matching_eval.recall_at_k(RANKED, GRADES, k=4) == pytest.approx(2 / 3)
    assert matching_eval.recall_at_k(RANKED, GRADES, k=2, min_grade=2) == 1.0
    assert matching_eval.recall_at_k(RANKED, {}, k=2) is None


def test_ndcg_at_k_by_hand() -> None:
    # DCG@3 = 0/log2(2) + 2/log2(3) + 0/log2(4) = 1.2618595
    # IDCG@3 = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5 = 3.1309298
    assert matching_eval.ndcg_at_k(RANKED, GRADES, k=3) == pytest.approx(1.2618595 / 3.1309298, abs=1e-7)
    assert matching_eval.ndcg_at_k(["b", "d", "e"], GRADES, k=3) == pytest.approx(1.0)
    assert matching_eval.ndcg_at_k(["x"], GRADES, k=3) == 0.0


def test_rank_by_breaks_ties_by_program_id_and_metrics_average() -> None:
    cands = pd.DataFrame({"query_id": [0, 0, 0, 1, 1], "program_id": ["c", "a", "b", "y", "x"],
                          "s": [1.0, 1.0, 2.0, np.nan, 0.5]})
    assert matching_eval.rank_by(cands, "s") == {0: ["b", "a", "c"], 1: ["x", "y"]}
    m = matching_eval.metrics({0: ["b", "a", "c"], 1: ["x", "y"]}, {0: {"c": 1}, 1: {"y": 2}}, k=1)
    assert m["recall"] == 0.0 and m["recall_selected"] == 0.0 and m["queries"] == 2 and m["queries_selected"] == 1
    m = matching_eval.metrics({0: ["b", "a", "c"], 1: ["x", "y"]}, {0: {"c": 1}, 1: {"y": 2}}, k=3)
    assert m["recall"] == 1.0 and m["ndcg"] == pytest.approx((1 / 2 + 2 / math.log2(3) / 2) / 2)


# ---------------------------------------------------------------- ranker on the tiny database
@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


def test_learned_rankers_are_deterministic(con) -> None:
    frame = training.training_frame(con, matching_rank.SEED)
    a, b = training.fit_models(frame, matching_rank.SEED), training.fit_models(frame.copy(), matching_rank.SEED)
    day = facts.reference_date(con)
    cands = matching.candidates(con, matching.queries_frame([PROFILE], [day]))
    live = matching_rank.stats(con, day)
    feats = matching_rank.features(cands, live, matching_rank.history(con, [], day))
    for m in training.LEARNED:
        ra, rb = (matching_rank.Ranker(models=x, method=m, train_cut=day, eval_cut=day, end=day, live=live, seed=7)
                  for x in (a, b))
        np.testing.assert_array_equal(ra.score(feats), rb.score(feats))
        assert np.isfinite(ra.score(feats)).all() and ra.score(feats).std() > 0


def test_recommendations_rank_with_the_stored_winner(matching_db: Path) -> None:
    with duckdb.connect(str(matching_db), read_only=True) as c:
        day = facts.reference_date(c)
        r = store.load_ranker(c)
        ev = store.latest(c, role="policy")
        assert r is not None and ev is not None and r.method == ev.winner
        first = recommend(c, PROFILE, day, role="policy")
        assert (first["method"] == ev.winner).all()
        pd.testing.assert_frame_equal(first, recommend(c, PROFILE, day, role="policy"))
        assert list(first["rank"]) == list(range(1, len(first) + 1))
        assert first["score"].is_monotonic_decreasing
        # the order is the stored ranker's own scores of the candidates
        cands = matching.candidates(c, matching.queries_frame([PROFILE], [day]))
        feats = matching_rank.features(cands, r.live, matching_rank.history(c, [], day)).assign(s=lambda f: r.score(f))
        want = feats.sort_values(["s", "program_id"], ascending=[False, True], kind="mergesort")["program_id"].head(20)
        assert list(first["program_id"]) == list(want)


def test_without_a_stored_run_recommendations_rank_by_popularity(con) -> None:
    day = facts.reference_date(con)
    assert store.load_ranker(con) is None and store.latest(con, role="policy") is None
    recs = recommend(con, PROFILE, day, role="policy", k=50)
    assert (recs["method"] == "popular").all()
    feats = matching_rank.features(matching.candidates(con, matching.queries_frame([PROFILE], [day])),
                                   matching_rank.stats(con, day + timedelta(days=1)), matching_rank.history(con, [], day))
    feats["s"] = baselines.popular(feats)
    assert list(recs["program_id"]) == matching_eval.rank_by(feats, "s")[0][:50]


def test_reasons_have_labels_in_both_languages(con) -> None:
    day = facts.reference_date(con)
    recs = recommend(con, PROFILE, day, role="policy", k=50)
    codes = {code for reasons in recs["reasons"] for code, _ in reasons}
    assert codes, "no reasons at all"
    for code in codes:
        ko, en = CATALOGUE[f"matching.reason.{code}"]
        assert ko and en
    deadline = recs[[any(c == "deadline" for c, _ in r) for r in recs["reasons"]]]
    for _, row in deadline.iterrows():
        assert ("deadline", int(row["days_left"])) in row["reasons"] and row["days_left"] <= 14


def test_band_limits_are_reasons() -> None:
    # a candidate with nothing else to say for it: only its limits (which the firm meets) are reasons
    row = {"firm_cat_share": 0.0, "sel_ind": 0.1, "prog_sel": 0.4, "pop_top": 0.9, "lift_ind": 0.0, "cat_lift": 0.0,
           "always_open": False, "days_left": 30, "days_open": 30, "local_only": False, "max_age_years": np.nan,
           "cert_required": 0.0, "lift_size": 0.0, "category": "금융", "required_certs": "",
           "min_revenue_krw": pd.NA, "max_revenue_krw": 1_000_000_000, "min_employees": 5, "max_employees": pd.NA}
    assert matching_rank.reasons(row) == (("sales_max", 1_000_000_000), ("emp_min", 5))
    assert matching_rank.reasons({**row, "max_revenue_krw": pd.NA, "min_employees": pd.NA}) == ()
    for code in ("sales_max", "sales_min", "emp_max", "emp_min"):
        assert all(CATALOGUE[f"matching.reason.{code}"])


def test_features_use_only_applications_before_the_cut(con) -> None:
    cut = date(2025, 1, 1)
    st = matching_rank.stats(con, cut)
    n_before = con.execute("SELECT program_id, count(*) AS n FROM applications WHERE submitted_at < ? GROUP BY 1",
                           [cut]).df().set_index("program_id")["n"]
    got = st.programs.set_index("program_id")["n_apps"]
    assert (got[got > 0] == n_before.reindex(got[got > 0].index)).all() and got.sum() == n_before.sum()


# ---------------------------------------------------------------- blind spots
def test_group_gaps_match_an_independent_count(con) -> None:
    day = facts.reference_date(con)
    g = matching_gaps.group_gaps(matching_gaps.coverage(con, day, role="admin"), by=("region_code",), role="admin")
    firms = con.execute(matching.FIRM_SQL + " ORDER BY firm_id").df()
    assert g["firms"].sum() == pytest.approx(firms["weight"].sum())
    # eligible programs per firm in Seoul, weighted, from candidates() of every Seoul firm (no history)
    seoul = firms[firms["region_code"] == "11"]
    q = matching.firm_queries(seoul.assign(firm_id=None), [day] * len(seoul))
    counts = matching.candidates(con, q).groupby("query_id").size().reindex(q["query_id"], fill_value=0).to_numpy()
    want = float(np.average(counts, weights=seoul["weight"].to_numpy()))
    assert g.set_index("region_code").loc["11", "eligible"] == pytest.approx(want)
    assert g["gap_firms"].is_monotonic_decreasing


def test_group_gaps_suppressed_for_policy(con) -> None:
    day = facts.reference_date(con)
    cov = matching_gaps.coverage(con, day, role="policy")
    full = matching_gaps.group_gaps(cov, role="admin")
    pol = matching_gaps.group_gaps(cov, role="policy")
    small = full["n_firms"].between(1, 4)
    assert small.any() and (pol.loc[small, "n_firms"] == SUPPRESSED).all()
    assert (pol.loc[small, "gap_firms"] == SUPPRESSED).all()
    assert (pol.loc[~small, "n_firms"] == full.loc[~small, "n_firms"]).all()


def test_program_gaps(con) -> None:
    day = facts.reference_date(con)
    p = matching_gaps.program_gaps(matching_gaps.coverage(con, day, role="admin"), role="admin")
    open_ids = {r[0] for r in con.execute(
        "SELECT program_id FROM programs WHERE always_open OR (opens_on <= ? AND closes_on >= ?)", [day, day]).fetchall()}
    assert set(p["program_id"]) == open_ids
    assert p["recommended_share"].is_monotonic_increasing and p["eligible_share"].between(0, 1).all()
    # top-10 of every sampled firm: the shares add up to 10 recommendations per firm at most
    assert p["recommended_share"].sum() <= matching_gaps.TOP_K + 1e-9
    year = con.execute("""SELECT program_id, count(DISTINCT firm_id) FROM applications
                          WHERE submitted_at >= ?::DATE - INTERVAL 365 DAY AND submitted_at < ?::DATE + INTERVAL 1 DAY
                          GROUP BY 1""", [day, day]).fetchall()
    want = dict(year)
    assert all(int(r.applicants) == want.get(r.program_id, 0) for r in p.itertuples())
    assert (p["rarely_applied"] == (p["applicants"] < matching_gaps.RARE_APPLICANTS)).all()
    narrowed = matching_gaps.program_gaps(matching_gaps.coverage(con, day, Filters(categories=("금융",)), role="admin"),
                                          role="admin")
    assert set(narrowed["category"]) <= {"금융"}

"""Program matching evaluation: the paired bootstrap against a direct numpy loop, training labels
never decided after the evaluation cut, visit days drawn inside the firm's active span, each
baseline's scores and ranking against an independent pandas computation from the raw applications,
and the stored evaluation (figures, winner rule, staleness)."""
from __future__ import annotations

import math
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.matching import baselines, evaluation, rank, store, training
from data import facts
from data.access import AccessDenied
from data.db import writer


@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


# ---------------------------------------------------------------- paired bootstrap
def test_paired_bootstrap_equals_a_direct_numpy_loop() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.random(137), rng.random(137) * 0.9
    got = evaluation.paired_bootstrap(a, b, n_boot=500, seed=3)
    # the same resamples drawn one at a time: the same queries for both methods in each
    draw = np.random.default_rng(3).integers(0, len(a), size=(500, len(a)))
    means = np.array([a[idx].mean() - b[idx].mean() for idx in draw])
    assert got[0] == pytest.approx(a.mean() - b.mean())
    assert got[1] == pytest.approx(np.percentile(means, 2.5)) and got[2] == pytest.approx(np.percentile(means, 97.5))
    assert got[1] < got[0] < got[2]
    # pairing matters: a shared per-query effect cancels, so the interval is far narrower than unpaired
    shared = rng.random(137) * 10
    lo, hi = evaluation.paired_bootstrap(a + shared, b + shared, n_boot=500, seed=3)[1:]
    assert (lo, hi) == pytest.approx(got[1:])
    assert evaluation.paired_bootstrap(np.full(5, 0.3), np.full(5, 0.1), n_boot=50)[1:] == pytest.approx((0.2, 0.2))


def test_recall_all_counts_unreachable_applications_as_misses() -> None:
    pq = evaluation.per_query({0: ["a", "b"], 1: ["x"]}, {0: {"a": 1, "c": 2}, 1: {"x": 1}}, k=2, applied={0: 4, 1: 1})
    assert list(pq["recall"]) == [0.5, 1.0] and list(pq["recall_all"]) == [0.25, 1.0]
    assert pq["recall_selected"].iloc[0] == 0.0 and math.isnan(pq["recall_selected"].iloc[1])


# ---------------------------------------------------------------- training labels and visit days
def test_training_labels_are_decided_before_the_evaluation_cut(con) -> None:
    train_cut, eval_cut, _ = training.split_dates(con)
    frame = training.training_frame(con, rank.SEED)
    selected = frame[frame["grade"] == 2]
    assert len(selected) > 20 and (selected["decided_at"] < pd.Timestamp(eval_cut)).all()
    assert frame.loc[frame["grade"] < 2, "decided_at"].isna().all()
    # the tiny data does have selections in the label window decided after the cut: they count as applied only
    apps = con.execute("""SELECT firm_id, program_id, submitted_at::DATE AS submitted, decided_at < ? AS in_time
                          FROM applications WHERE status = 'selected' AND submitted_at >= ? AND submitted_at < ?""",
                       [eval_cut, train_cut, eval_cut]).df()
    sel = frame[["query_id", "firm_id", "program_id", "day", "grade"]].merge(apps, on=["firm_id", "program_id"])
    sel = sel[sel["submitted"] >= sel["day"]].groupby(["query_id", "program_id"]).agg(
        grade=("grade", "first"), in_time=("in_time", "any"))
    late = sel[~sel["in_time"]]
    assert len(late) > 10 and (late["grade"] == 1).all()
    assert (sel.loc[sel["in_time"], "grade"] == 2).all()
    # features come from before train_cut only
    assert (frame["day"] >= pd.Timestamp(train_cut)).all() and (frame["day"] < pd.Timestamp(eval_cut)).all()


def test_visit_days_fall_in_the_active_span_and_not_on_the_first_application(con) -> None:
    train_cut, eval_cut, _ = training.split_dates(con)
    q, rel, before = training.window_queries(con, train_cut, eval_cut, 400, seed=5)
    spans = con.execute("""SELECT firm_id, min(submitted_at)::DATE AS first_day, max(submitted_at)::DATE AS last_day
                           FROM applications WHERE submitted_at >= ? AND submitted_at < ? GROUP BY 1""",
                        [train_cut, eval_cut]).df()
    firms = con.execute("SELECT firm_id, founded_on FROM firms").df()
    d = q.astype({"firm_id": "int64"}).merge(spans, on="firm_id").merge(firms, on="firm_id")
    assert len(d) == len(q) == 400
    lo = np.maximum(pd.to_datetime(d["founded_on"]), pd.Timestamp(train_cut))
    assert (d["day"] >= lo).all() and (d["day"] <= pd.to_datetime(d["last_day"])).all()
    assert (d["day"] != pd.to_datetime(d["first_day"])).mean() > 0.5   # not the outcome-conditioned day
    # every query keeps its last application as relevant; earlier ones are "before", never both
    assert set(rel["query_id"]) == set(q["query_id"])
    both = rel.merge(before, on=["query_id", "program_id"])
    assert both.empty or (both["grade"] > 0).all()  # applied again later: relevant, and not a candidate
    # same seed, same queries (every method is asked the same thing)
    q2 = training.window_queries(con, train_cut, eval_cut, 400, seed=5)[0]
    pd.testing.assert_frame_equal(q, q2)


# ---------------------------------------------------------------- baselines against pandas
def _pandas_popularity(apps: pd.DataFrame, programs: pd.DataFrame, cut: pd.Timestamp, first_day: pd.Timestamp
                       ) -> pd.Series:
    n = apps.groupby("program_id").size().reindex(programs["program_id"], fill_value=0).to_numpy()
    opens, closes = pd.to_datetime(programs["opens_on"]), pd.to_datetime(programs["closes_on"])
    open_days = np.where(programs["always_open"], max((cut - first_day).days, 1),
                         np.where(opens < cut, ((closes + pd.Timedelta(days=1)).clip(upper=cut) - opens).dt.days, 0))
    p = programs.assign(n=n, open_days=open_days)
    known = p[p["open_days"] > 0]
    back = known.groupby(["agency", "category"])[["n", "open_days"]].sum()
    back = np.log1p(back["n"] / back["open_days"].clip(lower=1) * 30)
    overall = np.log1p(known["n"].sum() / max(known["open_days"].sum(), 1) * 30)
    rate = np.log1p(p["n"] / p["open_days"].clip(lower=1) * 30)
    fallback = [back.get((a, c), overall) for a, c in zip(p["agency"], p["category"])]
    return pd.Series(np.where(p["open_days"] > 0, rate, fallback), index=p["program_id"])


def _pandas_lift(apps: pd.DataFrame, col: str) -> tuple[dict, pd.Series, pd.Series]:
    """(applications of (program, key), each key's smoothed share, applications per program)."""
    by_key = apps.groupby(col).size()
    share = (by_key + 1) / (by_key.sum() + len(by_key))
    return apps.groupby(["program_id", col]).size().to_dict(), share, apps.groupby("program_id").size()


def test_baselines_rank_as_an_independent_pandas_computation(con) -> None:
    _, cut, end = training.split_dates(con)
    apps = con.execute("""SELECT a.program_id, f.size_class::VARCHAR AS size_class, f.ksic_section, f.region_code
                          FROM applications a JOIN firms f USING (firm_id) WHERE a.submitted_at < ?""", [cut]).df()
    programs = con.execute("SELECT program_id, agency, category::VARCHAR AS category, opens_on, closes_on, always_open "
                           "FROM programs ORDER BY program_id").df()
    first_day = pd.Timestamp(con.execute("SELECT min(submitted_at)::DATE FROM applications").fetchall()[0][0])
    pop = _pandas_popularity(apps, programs, pd.Timestamp(cut), first_day)
    lifts = {col: _pandas_lift(apps, col) for col in ("size_class", "ksic_section", "region_code")}

    feats, _ = training.labelled(con, cut, end + timedelta(days=1), rank.stats(con, cut), 60, seed=2)
    want_pop = feats["program_id"].map(pop).to_numpy()
    seg = want_pop.copy()
    for col, (n_pk, share, n_p) in lifts.items():
        n = np.array([n_pk.get((p, k), 0) for p, k in zip(feats["program_id"], feats[col])], dtype=float)
        s = feats[col].map(share).to_numpy(float)
        npr = feats["program_id"].map(n_p).fillna(0).to_numpy(float)
        seg += np.where(n > 0, np.log((n + rank.PRIOR * s) / (npr + rank.PRIOR) / s), np.log(rank.PRIOR / (npr + rank.PRIOR)))
    opened = pd.to_datetime(feats["opens_on"])
    newest = np.where(feats["always_open"].astype(bool), np.nan, (opened - pd.Timestamp(0)).dt.days)
    assert feats["query_id"].nunique() > 30 and (feats["pop_rate"].isna()).any()  # new programs take the fallback
    for name, want in (("popular", want_pop), ("segment", seg), ("newest", newest)):
        got = baselines.SCORERS[name](feats)
        np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True, err_msg=name)
        # the ranking: by the independent score (rounded against float noise), then program id
        ranked = feats.assign(_w=np.round(want, 9), _g=np.round(got, 9))
        assert evaluation.rank_by(ranked, "_g") == evaluation.rank_by(ranked, "_w"), name


# ---------------------------------------------------------------- the stored evaluation
def test_stored_evaluation_figures_and_winner_rule(matching_db: Path) -> None:
    with duckdb.connect(str(matching_db), read_only=True) as c:
        ev = store.latest(c, role="policy")
        assert ev is not None and not ev.stale
        fig = ev.figures.set_index("method")
        assert list(ev.figures["method"]) == list(evaluation.METHODS)
        assert ev.train_cut < ev.eval_cut <= ev.end and ev.summary["queries"] >= 200
        assert (fig["ndcg_lo"] <= fig["ndcg"]).all() and (fig["ndcg"] <= fig["ndcg_hi"]).all()
        assert (fig["recall_all"] <= fig["recall"] + 1e-12).all() and 0 < ev.summary["unreachable"] < 1
        base = ev.summary["strongest_baseline"]
        assert fig.loc[base, "ndcg"] == fig.loc[list(baselines.BASELINES), "ndcg"].max()
        assert fig.loc[base, "margin"] == 0
        best = ev.summary["best_learned"]
        assert fig.loc[best, "ndcg"] == fig.loc[list(training.LEARNED), "ndcg"].max()
        assert ev.winner == (best if fig.loc[best, "margin_lo"] > 0 else base)
        assert set(ev.importance["feature"]) == set(rank.FEATURES)
        # the margin is the paired difference of the two methods' NDCG means
        assert fig.loc[best, "margin"] == pytest.approx(fig.loc[best, "ndcg"] - fig.loc[base, "ndcg"])


def test_stored_evaluation_turns_stale_when_the_applications_change(matching_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(matching_db, path)
    with writer(path) as c:   # the writer renews data_version: a run is not stale for that alone
        pass
    with duckdb.connect(str(path), read_only=True) as c:
        assert not store.latest(c, role="policy").stale
    with writer(path) as c:
        c.execute("DELETE FROM applications WHERE application_id = (SELECT max(application_id) FROM applications)")
    with duckdb.connect(str(path), read_only=True) as c:
        assert store.latest(c, role="policy").stale


def test_batch_step_stores_the_reference_days_blind_spots(matching_db: Path) -> None:
    """The evaluate step stores the blind spots of the reference day with no filters, computed with
    its own ranker; coverage() reads them back equal to a fresh computation; other views compute."""
    from analytics.filters import Filters
    from analytics.matching import gaps

    with duckdb.connect(str(matching_db), read_only=True) as c:
        day = facts.reference_date(c)
        stored = gaps.coverage(c, day, role="policy")
        assert stored.stored_at is not None
        assert c.execute("SELECT count(*) FROM matching_gap_runs").fetchall()[0][0] == 1
        fresh = gaps.compute(c, day)
        assert fresh.stored_at is None and stored.bar == pytest.approx(fresh.bar)
        keys = ["region_code", "size_class", "ksic_section", "n_eligible"]
        pd.testing.assert_frame_equal(stored.firms.sort_values(keys).reset_index(drop=True),
                                      fresh.firms.sort_values(keys).reset_index(drop=True), check_dtype=False)
        assert sorted(stored.sample["n_good"]) == sorted(fresh.sample["n_good"])
        cols = list(store.GAP_PROGRAM_COLUMNS)
        pd.testing.assert_frame_equal(stored.programs[cols].reset_index(drop=True),
                                      fresh.programs[cols].reset_index(drop=True), check_dtype=False)
        # another day or any filter is not the stored view
        assert store.stored_gaps(c, day - timedelta(days=1)) is None
        assert gaps.coverage(c, day, Filters(regions=("11",)), role="policy").stored_at is None


def test_blind_spots_stored_in_a_file_made_before_their_tables(matching_db: Path, tmp_path: Path) -> None:
    """A data file from before the blind-spot tables gets them on the next store, and a stale run's
    blind spots are not read (the applications changed since)."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(matching_db, path)
    with duckdb.connect(str(matching_db), read_only=True) as c:
        day = facts.reference_date(c)
        cov = store.stored_gaps(c, day)
        run_id = c.execute("SELECT run_id FROM matching_gap_runs").fetchall()[0][0]
    assert cov is not None
    with writer(path) as c:
        for table in reversed(store.GAP_TABLES):
            c.execute(f"DROP TABLE {table}")
    with duckdb.connect(str(path), read_only=True) as c:
        assert store.stored_gaps(c, day) is None
    with writer(path) as c:
        store.write_gaps(c, run_id, day, cov)
    with duckdb.connect(str(path), read_only=True) as c:
        again = store.stored_gaps(c, day)
        assert again is not None and len(again.programs) == len(cov.programs)
    with writer(path) as c:
        c.execute("DELETE FROM applications WHERE application_id = (SELECT max(application_id) FROM applications)")
    with duckdb.connect(str(path), read_only=True) as c:
        assert store.stored_gaps(c, day) is None


def test_stored_evaluation_is_for_the_page_roles(matching_db: Path) -> None:
    with duckdb.connect(str(matching_db), read_only=True) as c:
        with pytest.raises(AccessDenied):
            store.latest(c, role="auditor")
        assert facts.reference_date(c) == store.latest(c, role="admin").end


def test_batch_step_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analytics.matching.__main__ import main

    assert main(["evaluate", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "no database" in capsys.readouterr().err
    (tmp_path / "x.duckdb").touch()
    assert main(["evaluate", "--db", str(tmp_path / "x.duckdb"), "--queries", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err

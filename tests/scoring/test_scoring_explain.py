"""Reason codes, points and what-if on the trained tiny database."""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.access import AccessDenied
from scoring import counterfactual, explain, grades, store
from scoring.features import DRIVER_BY_NAME
from ui import i18n

T = partial(i18n.t, lang="ko")
LABELS = tuple((k, i18n.t(k, "ko")) for k in i18n.CATALOGUE if k.startswith("scoring."))
LABELS_EN = tuple((k, i18n.t(k, "en")) for k in i18n.CATALOGUE if k.startswith("scoring."))


@pytest.fixture(scope="module")
def ctx(trained_tiny: tuple[Path, dict]):
    con = duckdb.connect(str(trained_tiny[0]), read_only=True)
    out = {}
    for model in ("ktop", "kvalue"):
        v = store.current_version(con, model)
        out[model] = {"version": v, "sm": store.load_model(con, model, v.version),
                      "sample": store.shap_sample(con, model, v.version, 500, role="evaluator"),
                      "apps": [store.applicant(con, i, model, v.version, role="evaluator") for i in (1, 2, 3, 50, 400)]}
    yield con, out
    con.close()


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_points_add_up_to_the_score_and_reasons_use_only_used_drivers(ctx, model: str) -> None:
    _, out = ctx
    v = out[model]["version"]
    used = explain.used_drivers(v.metrics)
    for a in out[model]["apps"]:
        row = a.frame.iloc[0]
        table = explain.driver_table(model, v.driver_names, a.contrib, row, T)
        total = explain.base_points(model, v.base) + table["points"].sum()
        assert total == pytest.approx(float(grades.points(model, a.log_odds)), abs=1e-8)
        assert a.score == pytest.approx(min(max(total, 0), 1000), abs=1e-8)
        for key in ("block", "part"):   # grouped contributions add up to the same total
            groups = explain.group_points(table, v.features, key)
            assert groups["points"].sum() == pytest.approx(table["points"].sum(), abs=1e-9)
        assert set(explain.group_points(table, v.features, "block")["group"]) <= {"경영주 역량", "기술성", "시장성", "사업성"}
        reasons = explain.reason_codes(model, table, out[model]["sample"], row, used, T)
        assert set(reasons["driver"]) <= used
        assert reasons["code"].map(lambda c: re.fullmatch(rf"{model.upper()}-\d\d", c) is not None).all()
        for role, cmp in (("principal", np.less), ("context", np.less), ("strength", np.greater)):
            part = reasons[reasons["role"] == role]
            assert len(part) <= explain.MAX_REASONS and cmp(part["points"], 0).all()
        # principal reasons: the largest actionable drivers that lowered the score; context never among them
        actionable = table["driver"].map(lambda n: DRIVER_BY_NAME[n].actionable)
        lowering = table[(table["points"] < -explain.MIN_POINTS) & table["driver"].isin(used) & actionable]
        assert list(reasons[reasons["role"] == "principal"]["driver"]) == list(lowering["driver"].head(4))
        assert all(DRIVER_BY_NAME[n].actionable for n in reasons[reasons["role"] == "principal"]["driver"])
        assert not any(DRIVER_BY_NAME[n].actionable for n in reasons[reasons["role"] == "context"]["driver"])
        assert all(s.endswith("다.") for s in reasons["sentence"])


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_sentences_state_value_peer_median_and_direction(ctx, model: str) -> None:
    _, out = ctx
    v = out[model]["version"]
    sample = out[model]["sample"]
    for a in out[model]["apps"]:
        row = a.frame.iloc[0]
        table = explain.driver_table(model, v.driver_names, a.contrib, row, T)
        reasons = explain.reason_codes(model, table, sample, row, explain.used_drivers(v.metrics), T)
        peers = explain.peers_of(sample, row)
        for r in reasons.itertuples():
            assert r.value_text in r.sentence and f"{abs(r.points):.0f}점" in r.sentence
            assert ("낮아졌습니다" in r.sentence) == (r.points < 0) and ("높아졌습니다" in r.sentence) == (r.points > 0)
            value = row[r.driver]
            if DRIVER_BY_NAME[r.driver].categorical or r.driver.startswith("cert_") or pd.isna(value):
                continue
            median = float(pd.to_numeric(peers[r.driver], errors="coerce").median())   # independent: pandas
            assert r.median_text in r.sentence
            if value < median:
                assert "보다 낮아" in r.sentence, r.sentence
            elif value > median:
                assert "보다 높아" in r.sentence, r.sentence


def test_sentence_of_the_issue_reads_lower_not_higher() -> None:
    r = {"driver": "rnd_intensity", "label": "R&D 집약도", "value": 0.0, "value_text": "0.0%", "median": 0.016,
         "median_text": "1.6%", "points": -17.0}
    assert explain.sentence(r, T) == "R&D 집약도 0.0%: 동종업계 중앙값(1.6%)보다 낮아 점수가 17점 낮아졌습니다."
    en = explain.sentence(r, partial(i18n.t, lang="en"))
    assert "below the peers' median (1.6%)" in en and "lowered the score by 17 points" in en


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_every_offered_what_if_driver_is_monotone_on_a_grid(ctx, model: str) -> None:
    _, out = ctx
    sm = out[model]["sm"]
    offered = explain.what_if_drivers(sm.driver_names)
    assert offered and "sales_growth" not in offered and "firm_age_years" not in offered
    cols = out[model]["apps"][0].frame.columns
    rows = pd.concat([a.frame for a in out[model]["apps"]] + [out[model]["sample"].head(40)[cols]], ignore_index=True)
    for name in offered:
        d = DRIVER_BY_NAME[name]
        grid = np.linspace(d.lo, min(d.hi, d.lo + 50) if name == "patents" else d.hi, 25)
        pts = []
        for x in grid:
            r = rows.copy()
            r[name] = x
            pts.append(grades.points(model, sm.log_odds(r)))
        steps = np.diff(np.asarray(pts), axis=0) * d.good     # rows: grid steps, columns: applicants
        assert (steps >= -1e-9).all(), (model, name)


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_counterfactuals_reach_the_grade_they_promise(ctx, model: str) -> None:
    con, out = ctx
    v = out[model]["version"]
    sm = out[model]["sm"]
    ladder = v.ladder
    offered = set(explain.what_if_drivers(v.driver_names))
    ids = [r[0] for r in con.execute("SELECT application_id FROM scores WHERE model = ? AND model_version = ? "
                                     "ORDER BY hash(application_id) LIMIT 12", [model, v.version]).fetchall()]
    reached = 0
    for i in ids:
        a = store.applicant(con, i, model, v.version, role="evaluator")
        target = counterfactual.next_grade(ladder, a.grade)
        if target is None:
            continue
        adv = counterfactual.advise(sm, a.frame, ladder, target, explain.peers_of(out[model]["sample"], a.frame.iloc[0]))
        if not adv.reached:
            continue
        reached += 1
        assert adv.changes and set(adv.changes) <= offered
        for n, (x0, x1) in adv.changes.items():
            d = DRIVER_BY_NAME[n]
            assert d.lo <= x1 <= d.hi and (x1 - x0) * d.good > 0      # within range, in the good direction
        wi = explain.what_if(sm, a.frame, {n: x1 for n, (_, x1) in adv.changes.items()}, ladder)
        assert grades.rank(wi["grade"]) <= grades.rank(target) and wi["grade"] == adv.grade_after
        # the trimmed advice is minimal per driver: undoing any one change misses the target
        for n in adv.changes:
            rest = {m: x1 for m, (_, x1) in adv.changes.items() if m != n}
            assert grades.rank(explain.what_if(sm, a.frame, rest, ladder)["grade"]) > grades.rank(target)
    assert reached >= 3


def test_multi_driver_what_if_redraws_an_additive_waterfall(ctx) -> None:
    _, out = ctx
    sm, v = out["ktop"]["sm"], out["ktop"]["version"]
    a = out["ktop"]["apps"][0]
    changes = {"debt_ratio": 0.5, "patents": 5.0, "cert_innobiz": 1.0}
    table, pts = explain.what_if_table(sm, a.frame, changes, T)
    wi = explain.what_if(sm, a.frame, changes, v.ladder)
    assert pts == pytest.approx(wi["points"], abs=1e-8)
    assert explain.base_points("ktop", v.base) + table["points"].sum() == pytest.approx(pts, abs=1e-8)
    assert table.set_index("driver").loc["patents", "value"] == 5.0


def test_model_built_from_the_artifact_reproduces_stored_scores(ctx) -> None:
    _, out = ctx
    for model in ("ktop", "kvalue"):
        for a in out[model]["apps"]:
            assert out[model]["sm"].log_odds(a.frame)[0] == pytest.approx(a.log_odds, abs=1e-12)


def test_what_if_moves_in_the_known_direction(ctx) -> None:
    _, out = ctx
    sm = out["ktop"]["sm"]
    for a in out["ktop"]["apps"]:
        scores = [explain.what_if(sm, a.frame, {"debt_ratio": d})["points"] for d in (0.1, 0.5, 1, 2, 5, 10)]
        assert all(np.diff(scores) <= 1e-9)   # more debt never raises the score
        pats = [explain.what_if(sm, a.frame, {"patents": p})["points"] for p in (0, 1, 3, 10, 50)]
        assert all(np.diff(pats) >= -1e-9)    # more patents never lower it
    ladder = out["ktop"]["version"].ladder
    wi = explain.what_if(sm, out["ktop"]["apps"][0].frame, {"debt_ratio": 999}, ladder)  # clipped to the valid range
    assert wi == explain.what_if(sm, out["ktop"]["apps"][0].frame, {"debt_ratio": 20}, ladder)
    assert wi["grade"] == grades.grade("ktop", np.array([wi["probability"]]), ladder)[0]


def test_peer_percentile_against_pandas(ctx) -> None:
    _, out = ctx
    sample = out["kvalue"]["sample"]
    row = out["kvalue"]["apps"][0].frame.iloc[0]
    pct = explain.peer_percentiles(sample, row, ["debt_ratio"])["debt_ratio"]
    peers = sample[sample["ksic_section"] == row["ksic_section"]]
    peers = peers if len(peers) >= explain.MIN_PEERS else sample
    col = peers["debt_ratio"].to_numpy()
    expected = 100 * ((col < row["debt_ratio"]).sum() + 0.5 * (col == row["debt_ratio"]).sum()) / len(col)
    assert pct == pytest.approx(expected)


def test_value_text_and_josa() -> None:
    assert explain.value_text("debt_ratio", 2.5, T) == "2.5배"
    assert explain.value_text("cert_venture", 1.0, T) == "있음"
    assert explain.value_text("operating_margin", 0.123, T) == "12.3%"
    assert explain.value_text("patent_grade", 0.0, T) == "특허 없음"
    assert explain._josa("부채비율", ("이", "가")) == "이"
    assert explain._josa("특허 수", ("이", "가")) == "가"


def test_value_text_words_and_units_come_from_the_catalogue_in_either_language() -> None:
    en = partial(i18n.t, lang="en")
    revenue = float(np.log1p(4.3e8))
    assert (explain.value_text("log_revenue", revenue, T), explain.value_text("log_revenue", revenue, en)) == (
        "4.3억원", "KRW 430M")
    assert (explain.value_text("patents", 12.0, T), explain.value_text("patents", 12.0, en)) == ("12건", "12")
    assert (explain.value_text("cert_venture", 0.0, en), explain.value_text("debt_ratio", None, en)) == ("no", "missing")
    assert explain.label(DRIVER_BY_NAME["debt_ratio"], en) == "Debt ratio"
    assert (explain.block_name("기술성", T), explain.block_name("기술성", en)) == ("기술성", "Technology")


def test_store_refuses_policy_and_masks_business_numbers(ctx) -> None:
    con, out = ctx
    v = out["ktop"]["version"]
    with pytest.raises(AccessDenied):
        store.applicant(con, 1, "ktop", v.version, role="policy")
    with pytest.raises(AccessDenied):
        store.find_applicants(con, "1", role="policy")
    a = out["ktop"]["apps"][0]
    assert a.info["biz_no"].endswith("*****")
    raw = con.execute("SELECT biz_no FROM firms JOIN applications USING (firm_id) WHERE application_id = 1").fetchone()[0]
    found = store.find_applicants(con, a.info["biz_no"], role="evaluator")
    assert 1 in found["application_id"].tolist() and raw not in found["biz_no"].tolist()
    assert store.find_applicants(con, "1", role="evaluator")["application_id"].tolist() == [1]


def test_similar_applicants_share_the_program(ctx) -> None:
    con, out = ctx
    v = out["ktop"]["version"]
    sim = store.similar(con, 1, "ktop", v.version, 5, role="evaluator")
    prog = con.execute("SELECT program_id FROM applications WHERE application_id = 1").fetchone()[0]
    ids = sim["application_id"].tolist()
    if ids:
        progs = con.execute("SELECT DISTINCT program_id FROM applications WHERE application_id IN (SELECT unnest(?))", [ids]).fetchall()
        assert progs == [(prog,)] and 1 not in ids
        table = explain.compare_table(sim, "ktop", v.driver_names, T)
        assert "contrib" not in table and table["top_factors"].str.len().gt(0).all()
    assert isinstance(sim, pd.DataFrame)


def test_cached_views_are_plain_figure_dicts_of_the_current_version(ctx) -> None:
    from scoring import views

    con, out = ctx
    v = out["ktop"]["version"]
    g = views.global_figures(con, "ktop", v.version, LABELS, role="evaluator")
    assert g["names"] == v.driver_names and len(g["dependence"]) == len(v.driver_names)
    assert isinstance(g["beeswarm"], dict) and g["beeswarm"]["data"]
    card = views.card_figures(con, "ktop", v.version, "en", LABELS_EN)
    assert set(card) >= {"calibration", "grades", "confusion", "fair_region", "fair_size", "fair_table"}
    with pytest.raises(LookupError):
        views.card_figures(con, "ktop", "ktop-old", "ko", LABELS)
    with pytest.raises(AccessDenied):
        views.global_figures(con, "ktop", v.version, LABELS, role="policy")

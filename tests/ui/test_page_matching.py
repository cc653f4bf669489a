"""The program matching page in AppTest on the tiny database: roles (policy cannot pick a real firm,
an evaluator can, masked), a hand-entered profile, the stored evaluation's figures and the method it
chose, the empty state before the batch step, blind spots with suppression, empty states and CSV."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics.matching import eligibility as matching
from analytics.matching import rank, store
from analytics.matching.recommend import recommend
from bench.harness import signed_in_app
from data import facts
from data.privacy import SUPPRESSED
from tests.ui.helpers import NOT_IN_MENU, opened_link, texts
from ui.i18n import t

PAGE = "pages/matching.py"


@pytest.fixture
def db(matching_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny database with a stored evaluation (the batch step has run)."""
    monkeypatch.setenv("MADANG_DB", str(matching_db))
    return matching_db


@pytest.fixture
def bare_db(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny database before the batch step."""
    monkeypatch.setenv("MADANG_DB", str(tiny_db))
    return tiny_db


def _open(role: str):  # noqa: ANN202
    at = signed_in_app(role, PAGE, timeout=120)
    assert not at.exception, at.exception
    return at


def _titles(at) -> list[str]:  # noqa: ANN001
    return list(at.dataframe[0].value["title"]) if at.dataframe else []


def test_policy_ranks_a_hand_entered_profile_but_cannot_pick_a_firm(db: Path) -> None:
    at = _open("policy")
    assert t("matching.policy_hand_only", "ko") in texts(at)
    assert not [w for w in at.segmented_control if w.key == "matching.src"]   # no switch to a real firm
    assert not [w for w in at.text_input if w.key == "matching.q"]
    # the default profile (서울, 소상공인, G, 3 years): the table is the analytics' ranking
    with duckdb.connect(str(db), read_only=True) as con:
        day = facts.reference_date(con)
        want = recommend(con, matching.Profile("11", "micro", "G", 3), day, role="policy")
    assert _titles(at) == list(want["title"])
    assert at.get("download_button")
    # a hand-entered change of profile reruns the ranking for it
    at.selectbox(key="matching.p_region").set_value("26")
    at.number_input(key="matching.p_age").set_value(1)
    at.multiselect(key="matching.p_cert").set_value(["venture"])
    at.run()
    assert not at.exception
    with duckdb.connect(str(db), read_only=True) as con:
        want = recommend(con, matching.Profile("26", "micro", "G", 1, ("venture",)), day, role="policy")
    assert _titles(at) == list(want["title"])


def test_policy_url_cannot_force_a_firm(db: Path) -> None:
    at = opened_link("policy", PAGE, {"src": "firm", "q": "5", "firm": "5"}, timeout=120)
    assert not at.exception
    assert t("matching.policy_hand_only", "ko") in texts(at)
    assert not [w for w in at.selectbox if w.key == "matching.firm"]


def test_evaluator_picks_a_firm_with_masked_contact_data(db: Path) -> None:
    at = _open("evaluator")
    at.segmented_control(key="matching.src").set_value("firm").run()
    assert t("matching.search_first", "ko") in texts(at)
    with duckdb.connect(str(db), read_only=True) as con:
        biz, name = con.execute("SELECT biz_no, name FROM firms WHERE firm_id = 5").fetchall()[0]
        day = facts.reference_date(con)
        prof = matching.firm_profile(con, 5, day, role="evaluator")
        want = recommend(con, prof, day, role="evaluator")
    at.text_input(key="matching.q").input("5").run()
    assert not at.exception
    shown = texts(at)
    assert f"{biz[:3]}-{biz[3:5]}-*****" in shown and biz not in shown and name not in shown
    assert _titles(at) == list(want["title"])


def test_evaluation_tab_shows_the_stored_figures_and_the_chosen_method(db: Path) -> None:
    at = _open("policy")
    with duckdb.connect(str(db), read_only=True) as con:
        ev = store.latest(con, role="policy")
    assert ev is not None
    # the recommendations say which method ranked them: the evaluation's winner
    winner = t(f"matching.method.{ev.winner}", "ko")
    assert any(winner in c.value for c in at.caption)
    at.session_state["matching.tab"] = t("matching.tab.evaluation", "ko")
    at.run()
    assert not at.exception
    fig = ev.figures.set_index("method")
    metrics = {m.label: m.value for m in at.metric}
    for m in fig.index:
        assert metrics[t(f"matching.method.{m}", "ko")] == f"{fig.loc[m, 'ndcg']:.3f}"
    assert t("matching.metrics_caption", "ko", k=10) in [c.value for c in at.caption]
    # the importance table names the features in the page's language, not by their codes
    features = list(at.dataframe[1].value["feature"])
    assert features and not [f for f in features if f in rank.FEATURES or f.startswith("[")]
    table = at.dataframe[0].value
    assert list(table["ndcg"]) == pytest.approx(list(ev.figures["ndcg"]), abs=5e-4)
    s, best = ev.summary, fig.loc[ev.summary["best_learned"]]
    verdict = at.success if ev.winner == s["best_learned"] else at.warning
    assert len(verdict) == 1 and f"{best['margin']:+.3f}" in verdict[0].value
    assert t(f"matching.method.{s['strongest_baseline']}", "ko") in verdict[0].value


def test_before_the_batch_step_the_page_says_who_can_run_it(bare_db: Path) -> None:
    at = _open("policy")
    assert any(t("matching.ranked_fallback", "ko") in c.value for c in at.caption)
    at.session_state["matching.tab"] = t("matching.tab.evaluation", "ko")
    at.run()
    assert not at.exception
    assert t("jobs.missing.evaluation", "ko") in [i.value for i in at.info]
    assert t("jobs.ask_admin", "ko") in [c.value for c in at.caption]
    assert not at.metric
    shown = texts(at) + "".join(c.value for c in at.caption)
    assert str(bare_db) not in shown and "python -m" not in shown   # no server paths, no commands


def test_blind_spots_tab_suppresses_small_groups_for_policy(db: Path) -> None:
    at = _open("policy")
    at.session_state["matching.tab"] = t("matching.tab.gaps", "ko")
    at.run()
    assert not at.exception
    groups = at.dataframe[0].value
    assert (groups["n_firms"].astype(str) == SUPPRESSED).any()
    assert len(at.dataframe) == 2 and len(at.get("download_button")) == 2


def test_blind_spots_tab_reads_the_stored_table(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default view (reference day, no filters) is the batch step's stored result: nothing is
    computed on the visit; a filtered view is computed and says so."""
    from analytics.matching import gaps
    from ui import cache

    cache.clear()
    calls: list[object] = []
    real = gaps.compute
    monkeypatch.setattr(gaps, "compute", lambda *a, **k: calls.append(a) or real(*a, **k))
    at = opened_link("admin", PAGE, {"tab": "gaps"}, timeout=120)
    assert not at.exception
    with duckdb.connect(str(db), read_only=True) as con:
        day = facts.reference_date(con)
        stored = store.stored_gaps(con, day)
        ran = con.execute("SELECT max(created_at) FROM matching_runs").fetchall()[0][0]
    assert stored is not None and calls == []
    assert t("matching.gaps_stored", "ko", at=f"{ran:%Y-%m-%d %H:%M}", day=day) in [c.value for c in at.caption]
    shown = at.dataframe[1].value   # the programs table: the stored programs, rarely recommended first
    assert set(shown["title"]) == set(stored.programs["title"])
    at = opened_link("admin", PAGE, {"tab": "gaps", "region": "11"}, timeout=120)
    assert not at.exception and len(calls) == 1
    assert t("matching.gaps_live", "ko", ref=day) in [c.value for c in at.caption]


def test_empty_state_explains_itself(db: Path) -> None:
    # 창업 programs take firms of 7 years at most: none for a firm of 50 years
    at = signed_in_app("admin", PAGE, query={"category": ["창업"]}, timeout=120)
    at.number_input(key="matching.p_age").set_value(50).run()
    assert not at.exception
    with duckdb.connect(str(db), read_only=True) as con:
        day = facts.reference_date(con)
    assert t("matching.empty", "ko", day=day) in [i.value for i in at.info]


@pytest.mark.parametrize("role", ["auditor"])
def test_other_roles_cannot_open_it(db: Path, role: str) -> None:
    at = signed_in_app(role)
    with pytest.raises(ValueError, match=NOT_IN_MENU):
        at.switch_page(PAGE).run()

"""The AI-adoption page in AppTest on the generator's tiny database: roles, suppression, URL state,
and every section drawing without an exception."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench.harness import signed_in_app
from data.privacy import SUPPRESSED
from tests.ui.helpers import NOT_IN_MENU, denied, opened_link, page_alone, texts

PAGE = "pages/adoption.py"
SECTIONS = ("estimates", "gaps", "map", "targets", "barriers", "reach", "published")


@pytest.fixture
def env(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MADANG_DB", str(tiny_db))
    return tiny_db


def _open(role: str, query: dict[str, str] | None = None) -> AppTest:
    """The page opened from a URL: the shell reads its filters (and language) from the session's
    first URL, the page its own keys (view, by, year) from the URL it is opened with."""
    return opened_link(role, PAGE, query or {})


def _frames(at: AppTest) -> list:
    """The tables as shown: columns by their headers (the frames keep codes, the headers are labels)."""
    frames = []
    for d in at.dataframe:
        config = json.loads(d.proto.columns) if d.proto.columns else {}
        frames.append(d.value.rename(columns={c: cfg.get("label") or c for c, cfg in config.items()}))
    return frames


def test_policy_sees_the_estimates(env: Path) -> None:
    at = _open("policy")
    assert not at.exception
    assert "AI 활용 격차" in texts(at)
    assert at.get("plotly_chart")
    table = _frames(at)[0]
    assert {"구분", "추정치", "95% 하한", "95% 상한", "응답 수"} <= set(table.columns)


def test_evaluator_cannot_open_the_page(env: Path) -> None:
    at = signed_in_app("evaluator")
    with pytest.raises(ValueError, match=NOT_IN_MENU):
        at.switch_page(PAGE).run()
    # Opened directly with the shell in place, the page checks the role itself and shows no data.
    direct = page_alone(PAGE, "evaluator")
    assert denied(direct)
    assert not direct.get("plotly_chart") and not direct.dataframe
    assert not denied(page_alone(PAGE, "policy"))   # the same call as a role that may see it


def test_small_cells_suppressed_for_policy_only(env: Path) -> None:
    query = {"by": "region_code+ksic_section"}
    policy = _open("policy", query)
    assert not policy.exception
    table = _frames(policy)[0]
    assert (table["응답 수"] == SUPPRESSED).any()
    assert (table.loc[table["응답 수"] == SUPPRESSED, "추정치"] == SUPPRESSED).all()
    admin = _open("admin", query)
    assert not (_frames(admin)[0]["응답 수"] == SUPPRESSED).any()


def test_filters_and_view_come_from_the_url(env: Path) -> None:
    at = _open("admin", {"region": "11", "by": "region_code", "view": "estimates"})
    assert not at.exception
    assert set(_frames(at)[0]["구분"]) == {"서울"}
    gaps = _open("admin", {"view": "gaps", "lang": "en"})
    assert "Large firms − SMEs" in texts(gaps) and "Capital − non-capital" in texts(gaps)
    assert gaps.query_params.get("view") in ("gaps", ["gaps"])


def test_bad_url_values_are_dropped_with_a_notice(env: Path) -> None:
    at = _open("admin", {"year": "1999", "view": "nonsense"})
    assert not at.exception
    assert "year=1999" in texts(at) and "view=nonsense" in texts(at)
    assert at.get("plotly_chart")  # fell back to the default view


@pytest.mark.parametrize("view", SECTIONS)
def test_every_section_draws(env: Path, view: str) -> None:
    at = _open("policy", {"view": view})
    assert not at.exception, view
    assert at.session_state["adoption.view"] == view
    assert at.get("plotly_chart") or at.dataframe, view



def test_every_label_the_view_builds_exists() -> None:
    """Keys put together at run time (sections, breakdowns, indicators) are all in the catalogue."""
    import re

    from analytics.adoption.design import INDICATORS
    from analytics.adoption.estimates import PUBLISHED_DOMAINS
    from ui.i18n import CATALOGUE

    root = Path(__file__).resolve().parents[2]
    source = "".join((root / f).read_text(encoding="utf-8") for f in (PAGE, "analytics/adoption/plots.py"))
    literal = set(re.findall(r'"(adoption\.[a-z_+]+)"', source))
    built = ({f"adoption.view_{s}" for s in SECTIONS} | {f"adoption.ind_{i}" for i in INDICATORS}
             | {f"adoption.status_{s}" for s in ("uses", "plans", "none")}
             | {f"adoption.gap_{k}_{g}" for k in ("size", "region") for g in ("a", "b", "title")}
             | {f"adoption.gap_explain_{k}" for k in ("size", "region")}
             | {f"adoption.target_{d}" for d in ("all", "parts")}
             | {f"adoption.by_{b}" for b in ("size_class", "size_group", "region_code", "capital_region", "ksic_section",
                                             "capital_region+size_class", "region_code+size_class",
                                             "size_group+ksic_section", "region_code+ksic_section")}
             | {f"adoption.reach_by_{b}" for b in ("region_code", "size_class", "both")}
             | {f"adoption.pub_{k}" for k in PUBLISHED_DOMAINS})
    assert len(literal) > 40
    missing = sorted(k for k in literal | built if k not in CATALOGUE)
    assert missing == []

"""The overview page in AppTest on the hand-made database: a filter too narrow for the policy role
explains itself instead of drawing an empty chart."""
from __future__ import annotations

from pathlib import Path

from bench.harness import signed_in_app
from ui.i18n import t

PAGE = "pages/overview.py"


def test_policy_sees_why_the_chart_of_a_small_filter_is_hidden(app_env: Path) -> None:
    # region 26 holds 3 applicant firms (Jan and Mar 2024): fewer than 5 in every month, quarter, year
    at = signed_in_app("policy", PAGE, query={"region": "26"})
    assert not at.exception
    infos = [i.value for i in at.info]
    assert t("overview.all_hidden", "ko", n=1) in infos
    assert not at.get("plotly_chart")
    assert t("overview.activity.year", "ko") in [s.value for s in at.subheader]


def test_other_roles_see_the_months_of_the_same_filter(app_env: Path) -> None:
    at = signed_in_app("evaluator", PAGE, query={"region": "26"})
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and t("overview.activity.month", "ko") in [s.value for s in at.subheader]
    assert not [i.value for i in at.info if "5개 미만" in i.value]


def test_policy_keeps_months_that_are_large_enough(app_env: Path) -> None:
    # region 11 holds 10 firms: Jan and Mar 2024 show 10 each, February is empty (zero hides no one)
    at = signed_in_app("policy", PAGE, query={"region": "11"})
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert t("overview.activity.month", "ko") in [s.value for s in at.subheader]
    # the data ends on 10 March: that month is marked as incomplete
    assert t("overview.partial_note", "ko", until="2024-03-10") in " ".join(c.value for c in at.caption)

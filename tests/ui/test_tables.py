"""One table + CSV renderer (ui/tables.py) and the one CSV writer (data/export.py): values rounded as
shown, one unit per money column, headers in the language with codes below, formula cells
neutralised, no literal None."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from data.export import safe_cell, to_csv
from ui import fmt, tables
from ui.i18n import t

FRAME = pd.DataFrame({
    "name": ["=HYPERLINK(\"x\")", None, "부산"],
    "firms": [132_806.295, 3.0, "<5"],
    "awarded_krw": [120_000_000, 980_000_000_000, 1_500_000_000_000],
    "selection_rate": [0.5599447394551655, None, 0.25],
})
SPEC = {"name": ("uptake.col.name", "text"), "firms": ("uptake.col.firms", "num"),
        "awarded_krw": ("uptake.col.awarded_krw", "money"), "selection_rate": ("uptake.col.selection_rate", "pct")}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))


def test_csv_headers_codes_and_values_as_shown() -> None:
    rows = _rows(tables.csv_text(FRAME, SPEC, lang="ko", comments=("기간: 전체 기간",)))
    # the median amount (9,800억원) picks 억원 for the whole column, not 억 here and 조 there
    assert rows[0] == ["이름", "기업 수(데이터)", "지원 금액 (억원)", "선정률 (%)"]
    assert rows[1] == list(SPEC)
    assert rows[2] == ["'=HYPERLINK(\"x\")", "132806", "1.2", "56.0"]   # formula neutralised, whole firms
    assert rows[3] == ["", "3", "9800.0", ""]                             # missing is empty, never "None"
    assert rows[4] == ["부산", "<5", "15000.0", "25.0"]


def test_english_headers_and_units() -> None:
    rows = _rows(tables.csv_text(FRAME, SPEC, lang="en", comments=()))
    assert rows[0] == [t("uptake.col.name", "en"), t("uptake.col.firms", "en"), "Awarded (KRW bn)", "Selection rate (%)"]
    assert [r[2] for r in rows[2:]] == ["0.1", "980.0", "1500.0"]


def test_screen_frame_has_no_none_and_whole_counts() -> None:
    shown = tables.shape(FRAME, SPEC, "ko")
    assert shown.frame["name"].tolist()[1] == fmt.MISSING
    assert shown.frame["firms"].tolist() == ["132806", "3", "<5"]   # "<5" makes the column text
    # a missing number makes the column text too: a number column would draw it as "None"
    assert shown.frame["selection_rate"].tolist() == ["56.0%", fmt.MISSING, "25.0%"]
    full = tables.shape(FRAME.iloc[[0, 2]], {"selection_rate": SPEC["selection_rate"]}, "ko")
    assert full.frame["selection_rate"].tolist() == [56.0, 25.0]   # numbers stay numbers when none is missing
    assert shown.suppressed


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("plain", "plain"), (-3, -3), (None, ""), (float("nan"), ""),
])
def test_formula_cells_are_neutralised_and_numbers_kept(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_to_csv_comment_lines_stay_comments() -> None:
    text = to_csv([[1, "a"]], comments=("line one\nline two",), header=[["x", "y"]])
    assert text.splitlines() == ["# line one line two", "x,y", "1,a"]


def test_money_unit_follows_the_median() -> None:
    assert fmt.money_unit([5e7, 2e8, 3e8], "ko") == (1e8, "억원")
    assert fmt.money_unit([2e12, 3e12], "ko") == (1e12, "조원")
    assert fmt.money_unit([2e12, 3e12], "ko", plain=True) == (1.0, "원")
    assert fmt.money_unit([], "en") == (1.0, "KRW")
    assert fmt.in_unit(123_456_789, (1e8, "억원")) == 1.2


def test_english_plurals_come_from_the_catalogue() -> None:
    assert t("uptake.days", "en", n=1) == "1 day"
    assert t("uptake.days", "en", n=12) == "12 days"
    assert t("uptake.days", "ko", n=1) == "1일"


def test_every_broker_code_shown_has_its_term_in_the_catalogue() -> None:
    """The broker words live in the catalogue alone (``names.term.*``, read by ui.names.term): every
    evidence kind and group, status, suppression kind, why-not-counted note, weight term and
    related-firm basis the broker analytics emit has its entry."""
    from analytics.brokers import suppressions
    from analytics.brokers.links import GROUPS
    from analytics.brokers.views import GROUP_COLOURS, STATUS_COLOURS
    from ui.i18n import CATALOGUE

    notes = ("over_cap", "same_firm", "suppressed", "namesake", "in_burst", "same_group")
    codes = {*GROUPS, *GROUPS.values(), *GROUP_COLOURS, *STATUS_COLOURS, *suppressions.KINDS, *notes,
             "prior", "agree", "disagree", "total", "home", "representative", "home+representative"}
    assert sorted(c for c in codes if f"names.term.{c}" not in CATALOGUE) == []

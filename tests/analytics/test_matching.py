"""Program matching: every eligibility rule on a hand-made database, a property check over many
firms of the tiny database against an independent Python implementation of the rules, and the
privacy rules of the firm lookups."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.matching import eligibility as matching
from analytics.matching.recommend import recommend
from data.access import AccessDenied
from data.db import create_schema

DAY = date(2026, 1, 15)
# program_id -> (opens_on, closes_on, always_open, sizes, regions, industries, min_age, max_age, certs)
RULES = {
    "P_OPEN": (date(2026, 1, 1), date(2026, 1, 31), False, [], [], [], None, None, []),
    "P_FIRSTDAY": (DAY, date(2026, 2, 28), False, [], [], [], None, None, []),
    "P_LASTDAY": (date(2025, 12, 1), DAY, False, [], [], [], None, None, []),
    "P_CLOSED": (date(2025, 12, 1), date(2026, 1, 14), False, [], [], [], None, None, []),
    "P_FUTURE": (date(2026, 1, 16), date(2026, 2, 28), False, [], [], [], None, None, []),
    "P_ALWAYS": (None, None, True, [], [], [], None, None, []),
    "P_UNANNOUNCED": (None, None, False, [], [], [], None, None, []),
    "P_SIZE": (None, None, True, ["small", "medium"], [], [], None, None, []),
    "P_REGION": (None, None, True, [], ["26"], [], None, None, []),
    "P_IND": (None, None, True, [], [], ["C", "J"], None, None, []),
    "P_AGE": (None, None, True, [], [], [], 3, 7, []),
    "P_YOUNG": (None, None, True, [], [], [], None, 2, []),
    "P_CERT": (None, None, True, [], [], [], None, None, ["venture", "innobiz"]),
    "P_SEL": (None, None, True, [], [], [], None, None, []),
    "P_SEL_LATE": (None, None, True, [], [], [], None, None, []),
    "P_REJ": (None, None, True, [], [], [], None, None, []),
}
# always-open programs with a sales or employee band: program_id -> (min/max revenue, min/max employees)
BANDS = {
    "P_SALES_MAX": (None, 1_000_000_000, None, None),   # 매출 10억원 이하
    "P_SALES_MIN": (5_000_000_000, None, None, None),   # 매출 50억원 이상
    "P_EMP_MAX": (None, None, None, 4),                 # 상시근로자 5인 미만
    "P_EMP_BAND": (None, None, 5, 49),                  # 5-49명
}
BASE_ELIGIBLE = {"P_OPEN", "P_FIRSTDAY", "P_LASTDAY", "P_ALWAYS", "P_AGE", "P_SEL", "P_SEL_LATE", "P_REJ",
                 "P_SALES_MAX", "P_EMP_MAX"}
BASE = matching.Profile(region_code="11", size_class="micro", ksic_section="G", age_years=5,
                        revenue_krw=200_000_000, employees=3)


@pytest.fixture(scope="module")
def rules_con(tmp_path_factory: pytest.TempPathFactory):
    """One program per rule; firm 1 was selected by P_SEL (decided before DAY), selected by
    P_SEL_LATE only after DAY, and rejected by P_REJ."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("rules") / "rules.duckdb"))
    create_schema(con)
    for pid, (o, c, always, sizes, regions, inds, lo, hi, certs) in RULES.items():
        con.execute("""INSERT INTO programs (program_id, title, ministry, agency, category, opens_on, closes_on,
                       always_open, target_sizes, target_regions, target_industries, min_age_years, max_age_years,
                       required_certs, max_award_krw) VALUES (?, ?, '중소벤처기업부', '중소벤처기업진흥공단', '금융',
                       ?, ?, ?, ?, ?, ?, ?, ?, ?, 100000000)""",
                    [pid, pid, o, c, always, sizes, regions, inds, lo, hi, certs])
    for pid, limits in BANDS.items():
        con.execute("""INSERT INTO programs (program_id, title, ministry, agency, category, always_open, max_award_krw,
                       min_revenue_krw, max_revenue_krw, min_employees, max_employees)
                       VALUES (?, ?, '중소벤처기업부', '소상공인시장진흥공단', '금융', true, 100000000, ?, ?, ?, ?)""",
                    [pid, pid, *limits])
    con.execute("""INSERT INTO firms (firm_id, biz_no, name, region_code, ksic_section, size_class, founded_on,
                   employees, revenue_krw) VALUES (1, '1234567890', '테스트상사', '11', 'G', 'micro', DATE '2020-01-01', 3, 100000000)""")
    for i, (pid, status, decided) in enumerate([("P_SEL", "selected", datetime(2025, 6, 1)),
                                                 ("P_SEL_LATE", "selected", datetime(2026, 1, 20)),
                                                 ("P_REJ", "rejected", datetime(2025, 6, 1))], start=1):
        con.execute("""INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status,
                       amount_awarded_krw, decided_at) VALUES (?, 1, ?, TIMESTAMP '2025-05-01 10:00:00', ?, ?, ?)""",
                    [i, pid, status, 1_000_000 if status == "selected" else 0, decided])
    yield con
    con.close()


def _eligible(con: duckdb.DuckDBPyConnection, profile: matching.Profile, day: date = DAY,
              filters: Filters = Filters()) -> set[str]:
    return set(matching.candidates(con, matching.queries_frame([profile], [day]), filters)["program_id"])


def _with(**changes: object) -> matching.Profile:
    return matching.Profile(**{**BASE.__dict__, **changes})


@pytest.mark.parametrize(("profile", "added", "removed"), [
    (BASE, set(), set()),
    (_with(size_class="small"), {"P_SIZE"}, set()),          # size in the list
    (_with(size_class="midsize"), set(), set()),             # size not in the list
    (_with(region_code="26"), {"P_REGION"}, set()),          # region in the list
    (_with(ksic_section="J"), {"P_IND"}, set()),             # industry in the list
    (_with(age_years=3), set(), set()),                      # age band inclusive at its lower end
    (_with(age_years=7), set(), set()),                      # ... and at its upper end
    (_with(age_years=8), set(), {"P_AGE"}),                  # too old
    (_with(age_years=2), {"P_YOUNG"}, {"P_AGE"}),            # too young for 3-7, young enough for <= 2
    (_with(age_years=0), {"P_YOUNG"}, {"P_AGE"}),
    (_with(certs=("venture",)), set(), set()),               # one of two required certifications
    (_with(certs=("venture", "innobiz")), {"P_CERT"}, set()),  # both
    (_with(certs=("venture", "innobiz", "women")), {"P_CERT"}, set()),
    (_with(firm_id=1), set(), {"P_SEL"}),                    # already selected (decided before the day)
    (_with(revenue_krw=1_000_000_000), set(), set()),        # sales cap inclusive
    (_with(revenue_krw=1_000_000_001), set(), {"P_SALES_MAX"}),
    (_with(revenue_krw=5_000_000_000), {"P_SALES_MIN"}, {"P_SALES_MAX"}),  # sales floor inclusive
    (_with(revenue_krw=4_999_999_999), set(), {"P_SALES_MAX"}),
    (_with(employees=0), set(), set()),                      # no employees: under every cap
    (_with(employees=4), set(), set()),                      # headcount cap inclusive
    (_with(employees=5), {"P_EMP_BAND"}, {"P_EMP_MAX"}),     # headcount band inclusive at both ends
    (_with(employees=49), {"P_EMP_BAND"}, {"P_EMP_MAX"}),
    (_with(employees=50), set(), {"P_EMP_MAX"}),
])
def test_every_eligibility_rule(rules_con, profile: matching.Profile, added: set[str], removed: set[str]) -> None:
    assert _eligible(rules_con, profile) == (BASE_ELIGIBLE | added) - removed


def test_window_rules_on_other_days(rules_con) -> None:
    # closed programs reopen on their days; unannounced ones are never open
    assert "P_CLOSED" in _eligible(rules_con, BASE, date(2026, 1, 14))
    assert "P_FUTURE" in _eligible(rules_con, BASE, date(2026, 1, 16))
    assert not any("P_UNANNOUNCED" in _eligible(rules_con, BASE, d) for d in (date(2024, 1, 1), DAY, date(2030, 1, 1)))
    # firm 1 is still offered P_SEL before it was decided
    assert "P_SEL" in _eligible(rules_con, _with(firm_id=1), date(2025, 5, 31))


def test_program_filters_narrow_candidates(rules_con) -> None:
    assert _eligible(rules_con, BASE, filters=Filters(categories=("기술",))) == set()
    assert _eligible(rules_con, BASE, filters=Filters(categories=("금융",), regions=("26",))) == BASE_ELIGIBLE


def test_profile_validation() -> None:
    with pytest.raises(ValueError):
        _with(size_class="huge")
    with pytest.raises(ValueError):
        _with(certs=("iso9001",))
    assert matching.sales_band(4e8) == "lt5" and matching.sales_band(3e10) == "ge300"


# ---------------------------------------------------------------- property check on the tiny database
@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


def _within(value: int, low: object, high: object) -> bool:
    return (pd.isna(low) or value >= low) and (pd.isna(high) or value <= high)


def _program_rows(programs: pd.DataFrame) -> list[dict]:
    """The programs as plain rows, their dates and target lists converted once (not once per firm and day)."""
    rows = programs.to_dict("records")
    for p in rows:
        p["opens_on"], p["closes_on"] = pd.Timestamp(p["opens_on"]), pd.Timestamp(p["closes_on"])
        for col in ("target_sizes", "target_regions", "target_industries", "required_certs"):
            p[col] = list(p[col])
    return rows


def _python_eligible(firm: dict, day: date, programs: list[dict],
                     selected: set[tuple[int, str]]) -> tuple[set[str], set[str]]:
    """The rules written again, row by row, without SQL: the programs ``firm`` may apply to on ``day``,
    and the same ignoring the sales and employee bands (one pass gives both)."""
    when = pd.Timestamp(day)
    days = (when - pd.Timestamp(firm["founded_on"])).days
    age = math.floor(days / 365.25)
    held = {c for c in matching.CERTS if firm[f"cert_{c}"]}
    eligible: set[str] = set()
    without_bands: set[str] = set()
    for p in programs:
        if p["always_open"]:
            is_open = True
        else:
            is_open = pd.notna(p["opens_on"]) and pd.notna(p["closes_on"]) and p["opens_on"] <= when <= p["closes_on"]
        ok = (is_open and days >= 0
              and (len(p["target_sizes"]) == 0 or firm["size_class"] in p["target_sizes"])
              and (len(p["target_regions"]) == 0 or firm["region_code"] in p["target_regions"])
              and (len(p["target_industries"]) == 0 or firm["ksic_section"] in p["target_industries"])
              and (pd.isna(p["min_age_years"]) or age >= p["min_age_years"])
              and (pd.isna(p["max_age_years"]) or age <= p["max_age_years"])
              and set(p["required_certs"]) <= held
              and (int(firm["firm_id"]), p["program_id"]) not in selected)
        if ok:
            without_bands.add(p["program_id"])
            if (_within(firm["revenue_krw"], p["min_revenue_krw"], p["max_revenue_krw"])
                    and _within(firm["employees"], p["min_employees"], p["max_employees"])):
                eligible.add(p["program_id"])
    return eligible, without_bands


def test_never_offered_a_program_it_cannot_apply_to(con) -> None:
    """400 firms x 3 days: the SQL candidates equal an independent implementation exactly."""
    firms = con.execute("SELECT * REPLACE (size_class::VARCHAR AS size_class) FROM firms ORDER BY firm_id").df()
    programs = _program_rows(con.execute("SELECT * REPLACE (target_sizes::VARCHAR[] AS target_sizes) FROM programs").df())
    rng = np.random.default_rng(3)
    firms = firms.iloc[np.sort(rng.choice(len(firms), 400, replace=False))].reset_index(drop=True)
    firm_rows = {int(f["firm_id"]): f for f in firms.to_dict("records")}
    days = [date(2024, 3, 1), date(2025, 7, 15), date(2026, 10, 31)]
    rows = pd.concat([firms.assign(day=d) for d in days], ignore_index=True)
    fq = con.execute(matching.FIRM_SQL + " ORDER BY firm_id").df()
    fq = fq.set_index("firm_id").loc[rows["firm_id"]].reset_index()
    q = matching.firm_queries(fq, list(rows["day"]))
    got = matching.candidates(con, q)
    by_query = got.groupby("query_id")["program_id"].agg(set).to_dict()
    sel = con.execute("SELECT firm_id, program_id, decided_at FROM applications WHERE status = 'selected'").df()
    sel_by_firm = {fid: g for fid, g in sel.groupby("firm_id")}
    checked = offered = banned_by_bands = 0
    for qrow in q.itertuples():
        d = qrow.day.date()
        mine = sel_by_firm.get(qrow.firm_id, sel.iloc[:0])
        selected = {(int(r.firm_id), r.program_id) for r in mine.itertuples() if r.decided_at < pd.Timestamp(d)}
        want, without_bands = _python_eligible(firm_rows[int(qrow.firm_id)], d, programs, selected)
        assert by_query.get(qrow.query_id, set()) == want, (qrow.firm_id, d)
        checked += 1
        offered += len(want)
        banned_by_bands += len(without_bands - want)
    assert checked >= 1000 and offered > 5000  # the check is not vacuous
    assert banned_by_bands > 100                # ... and the sales and employee bands bite


def test_firm_lookup_is_for_evaluators_and_masked(con) -> None:
    with pytest.raises(AccessDenied):
        matching.find_firms(con, "1", role="policy")
    with pytest.raises(AccessDenied):
        matching.firm_profile(con, 1, DAY, role="policy")
    biz = con.execute("SELECT biz_no FROM firms WHERE firm_id = 5").fetchall()[0][0]
    found = matching.find_firms(con, biz, role="evaluator")
    assert list(found["firm_id"]) == [5]
    assert found["biz_no"].iloc[0] == f"{biz[:3]}-{biz[3:5]}-*****"
    assert matching.find_firms(con, "5", role="admin")["firm_id"].iloc[0] == 5  # the exact id first
    assert matching.find_firms(con, "", role="admin").empty


def test_firm_profile_and_age(con) -> None:
    row = con.execute("SELECT founded_on, size_class::VARCHAR, cert_venture FROM firms WHERE firm_id = 5").fetchall()[0]
    day = date(2026, 10, 31)
    prof = matching.firm_profile(con, 5, day, role="evaluator")
    assert prof is not None and prof.firm_id == 5 and prof.size_class == row[1]
    assert prof.age_years == math.floor((day - row[0]).days / 365.25)
    assert ("venture" in prof.certs) == row[2]
    assert matching.firm_profile(con, 5, row[0] - timedelta(days=1), role="evaluator") is None
    assert matching.age_years(date(2020, 1, 1), date(2023, 1, 1)) == 3 and matching.age_years(date(2020, 1, 2), date(2020, 1, 1)) == -1


def test_policy_may_not_rank_a_real_firm(con) -> None:
    prof = matching.firm_profile(con, 5, date(2026, 10, 31), role="admin")
    with pytest.raises(AccessDenied):
        recommend(con, prof, date(2026, 10, 31), role="policy")
    with pytest.raises(AccessDenied):
        recommend(con, BASE, date(2026, 10, 31), role="auditor")

"""The synthetic build: determinism, referential integrity, valid 사업자등록번호, a sane funnel,
eligibility and windows respected. Runs on the session's scale-0.01 database (seed 7)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data.build import AS_OF, build, main

# meta rows that record when and as what a file was written, not what it contains
_VOLATILE_META = ("built_at", "data_version", "lineage", "written_at")


def _content_hashes(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            where = f"WHERE key NOT IN {_VOLATILE_META}" if t == "meta" else ""
            out[t] = con.execute(
                f'SELECT count(*) || \':\' || coalesce(md5(string_agg(CAST(x AS VARCHAR), chr(10) '
                f'ORDER BY CAST(x AS VARCHAR))), \'\') FROM "{t}" AS x {where}').fetchone()[0]
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_same_seed_same_content_other_seed_differs(tiny_db: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again.duckdb", tmp_path / "other.duckdb"
    build(again, scale=0.01, seed=7)
    build(other, scale=0.01, seed=8)
    first, second, third = _content_hashes(tiny_db), _content_hashes(again), _content_hashes(other)
    assert first == second
    for table in ("firms", "programs", "applications", "ai_survey", "truth_outcomes"):
        assert first[table] != third[table], table


def test_sizes_at_tiny_scale(con: duckdb.DuckDBPyConnection) -> None:
    assert 2_900 <= _one(con, "SELECT count(*) FROM firms") <= 3_100
    assert 9_500 <= _one(con, "SELECT count(*) FROM applications") <= 10_000
    assert _one(con, "SELECT count(*) FROM ai_survey") >= 2_000
    n_programs = _one(con, "SELECT count(*) FROM programs")
    assert 60 <= n_programs < 2_700
    assert _one(con, "SELECT count(DISTINCT category) FROM programs") == 8
    assert _one(con, "SELECT count(*) FROM channels WHERE mss") == 37
    assert 10 <= _one(con, "SELECT count(*) FROM channels WHERE NOT mss") <= 20
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert (meta["source"], meta["scale"], meta["seed"], meta["as_of"]) == ("synthetic", "0.01", "7", AS_OF.isoformat())


# (child table, column, parent table, key): every value must exist in the parent
_REFERENCES = [
    ("applications", "firm_id", "firms", "firm_id"), ("applications", "program_id", "programs", "program_id"),
    ("applications", "channel_id", "channels", "channel_id"), ("programs", "channel_id", "channels", "channel_id"),
    ("firms", "region_code", "regions", "region_code"), ("firms", "ksic_section", "industries", "ksic_section"),
    ("ai_survey", "region_code", "regions", "region_code"), ("ai_survey", "ksic_section", "industries", "ksic_section"),
    ("truth_outcomes", "application_id", "applications", "application_id"),
    ("applications", "application_id", "truth_outcomes", "application_id"),
]


def test_referential_integrity(con: duckdb.DuckDBPyConnection) -> None:
    orphans = {f"{child}.{col}": _one(con, f"SELECT count(*) FROM {child} WHERE {col} IS NULL "
                                           f"OR {col} NOT IN (SELECT {key} FROM {parent})")
               for child, col, parent, key in _REFERENCES}
    assert orphans == {k: 0 for k in orphans}


def test_funnel_is_consistent(con: duckdb.DuckDBPyConnection) -> None:
    bad = {
        "award without selection": "amount_awarded_krw > 0 AND status <> 'selected'",
        "selected without award": "status = 'selected' AND amount_awarded_krw = 0",
        "award above request": "amount_awarded_krw > amount_requested_krw",
        "decided before submitted": "decided_at < submitted_at",
        "pending with decision": "(status = 'submitted') <> (decided_at IS NULL)",
        "agreed not selected": "agreed_at IS NOT NULL AND status <> 'selected'",
        "agreed before decided": "agreed_at < decided_at",
        "paid before agreed": "paid_at < agreed_at OR (paid_at IS NOT NULL AND agreed_at IS NULL)",
        "e-contract without agreement": "e_contract AND agreed_at IS NULL",
        "after as_of": f"greatest(submitted_at, decided_at, agreed_at, paid_at) >= DATE '{AS_OF}' + 1",
        "before the 3 years": f"submitted_at < DATE '{AS_OF}' - INTERVAL 3 YEAR",
    }
    counts = {k: _one(con, f"SELECT count(*) FROM applications WHERE {w}") for k, w in bad.items()}
    assert counts == {k: 0 for k in bad}
    assert set(r[0] for r in con.execute("SELECT DISTINCT status FROM applications").fetchall()) == {
        "submitted", "selected", "rejected", "withdrawn"}
    median_days = _one(con, "SELECT median(date_diff('day', submitted_at, decided_at)) FROM applications "
                            "WHERE status IN ('selected', 'rejected')")
    assert 25 <= median_days <= 65
    # e-contracts become common over time
    early, late = con.execute(
        "SELECT avg(e_contract::INT) FILTER (WHERE submitted_at < DATE '2024-11-01'), "
        "avg(e_contract::INT) FILTER (WHERE submitted_at >= DATE '2025-11-01') "
        "FROM applications WHERE agreed_at IS NOT NULL").fetchone()
    assert 0.45 < early < late < 0.95
    # a firm may apply several times
    assert _one(con, "SELECT max(n) FROM (SELECT count(*) AS n FROM applications GROUP BY firm_id)") >= 5


def _check_digit_ok(b: str) -> bool:
    d = [int(c) for c in b]
    s = sum(x * w for x, w in zip(d[:9], (1, 3, 7, 1, 3, 7, 1, 3, 5))) + d[8] * 5 // 10
    return (10 - s % 10) % 10 == d[9]


def test_plans_and_fingerprints_are_stored_in_intake_order(con: duckdb.DuckDBPyConnection) -> None:
    """A day's applications lie together in the file, as a real import appends them: screening a day
    reads one row group of plans, not all of its chunk's (1.3 GB of text at scale 10 when the three
    kinds of plan were written one after another)."""
    for table in ("business_plans", "app_fingerprints"):
        back = _one(con, f"""SELECT count(*) FROM (SELECT application_id < lag(application_id) OVER (ORDER BY rowid)
                                                   AS back FROM {table}) WHERE back""")
        assert back == 0, table


def test_biz_no_are_valid_and_unique(con: duckdb.DuckDBPyConnection) -> None:
    nums = [r[0] for r in con.execute("SELECT biz_no FROM firms").fetchall()]
    assert all(len(b) == 10 and b.isdigit() and _check_digit_ok(b) for b in nums)
    assert len(set(nums)) == len(nums)
    assert _check_digit_ok("1248100998")  # a well-known published number


def test_applications_respect_eligibility_and_windows(con: duckdb.DuckDBPyConnection) -> None:
    age = "floor(date_diff('day', f.founded_on, a.submitted_at::DATE) / 365.25)"
    violations = _one(con, f"""
        SELECT count(*) FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
        WHERE NOT (
            (len(p.target_sizes) = 0 OR list_contains(p.target_sizes, f.size_class))
            AND (len(p.target_regions) = 0 OR list_contains(p.target_regions, f.region_code))
            AND (len(p.target_industries) = 0 OR list_contains(p.target_industries, f.ksic_section))
            AND f.founded_on <= a.submitted_at
            AND (p.min_age_years IS NULL OR {age} >= p.min_age_years)
            AND (p.max_age_years IS NULL OR {age} <= p.max_age_years)
            AND f.revenue_krw BETWEEN coalesce(p.min_revenue_krw, 0) AND coalesce(p.max_revenue_krw, f.revenue_krw)
            AND f.employees BETWEEN coalesce(p.min_employees, 0) AND coalesce(p.max_employees, f.employees)
            AND (NOT list_contains(p.required_certs, 'venture') OR f.cert_venture)
            AND (NOT list_contains(p.required_certs, 'innobiz') OR f.cert_innobiz)
            AND (NOT list_contains(p.required_certs, 'mainbiz') OR f.cert_mainbiz)
            AND (NOT list_contains(p.required_certs, 'women') OR f.cert_women)
            AND (p.always_open OR a.submitted_at::DATE BETWEEN p.opens_on AND p.closes_on))
            -- the ring planter moves some members' submissions into bursts; the generator's own rows obey
            AND application_id NOT IN (SELECT application_id FROM truth_broker_rings)""")
    assert violations == 0
    # the rules bite: restricted programs exist and get applications
    assert _one(con, "SELECT count(*) FROM applications JOIN programs USING (program_id) "
                     "WHERE len(target_regions) > 0 OR max_age_years IS NOT NULL") > 1000
    # ... including the sales and employee bands, which most programs leave open
    banded, total = con.execute("""SELECT count(*) FILTER (WHERE coalesce(min_revenue_krw, max_revenue_krw,
                                       min_employees, max_employees) IS NOT NULL), count(*) FROM programs""").fetchone()
    assert 0.05 * total < banded < 0.4 * total
    assert _one(con, "SELECT count(*) FROM applications JOIN programs USING (program_id) "
                     "WHERE coalesce(min_revenue_krw, max_revenue_krw, min_employees, max_employees) IS NOT NULL") > 200


def test_cli_help_and_bad_scale(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "--scale" in capsys.readouterr().out
    assert main(["--db", str(tmp_path / "x.duckdb"), "--scale", "0"]) == 1
    assert not (tmp_path / "x.duckdb").exists()

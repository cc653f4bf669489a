"""A hand-made database with known counts, for shell, filter and overview tests (built in ~0.3 s)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from data.db import writer

# (region, size, applicant firms): the 26/small cell has 3 firms, so policy users see "<5" there.
CELLS = [("11", "micro", 10), ("26", "small", 3), ("41", "medium", 6)]
PROGRAMS = [("P1", "중소벤처기업부", "중소벤처기업진흥공단", "금융"),
            ("P2", "중소벤처기업부", "창업진흥원", "창업"),
            ("P3", "경기도", "경기도경제과학진흥원", "수출")]


def build_mini_db(path: Path) -> None:
    """19 firms, 3 programs, 2 applications per firm (Jan and Mar 2024), a few survey rows."""
    with writer(path, create=True) as con:
        firm_id = 0
        app_id = 0
        for region, size, n in CELLS:
            for _ in range(n):
                firm_id += 1
                con.execute(
                    "INSERT INTO firms (firm_id, biz_no, name, ceo_name, region_code, ksic_section, size_class, "
                    "founded_on, employees, revenue_krw, weight) VALUES (?, ?, ?, ?, ?, 'C', ?, DATE '2015-01-01', 5, 100000000, 10)",
                    [firm_id, f"{1000000000 + firm_id}", f"테스트{firm_id}", "홍길동", region, size])
        for pid, ministry, agency, category in PROGRAMS:
            con.execute("INSERT INTO programs (program_id, title, ministry, agency, category) VALUES (?, ?, ?, ?, ?)",
                        [pid, f"{pid} 사업", ministry, agency, category])
        for fid in range(1, firm_id + 1):
            for month, pid in ((1, "P1"), (3, "P2" if fid % 2 else "P3")):
                app_id += 1
                selected = fid % 3 == 0 and month == 1
                con.execute(
                    "INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status, "
                    "amount_awarded_krw) VALUES (?, ?, ?, ?, ?, ?)",
                    [app_id, fid, pid, datetime(2024, month, 10, 9), "selected" if selected else "submitted",
                     50_000_000 if selected else 0])
                con.execute("INSERT INTO app_fingerprints VALUES (?, 'phone', '010-1234-5678')", [app_id])
        for rid, (region, size, _) in enumerate(CELLS, start=1):
            con.execute("INSERT INTO ai_survey (respondent_id, survey_year, region_code, size_class, ksic_section, "
                        "weight, ai_status, uses_ai, plans_ai) VALUES (?, 2024, ?, ?, 'C', 100, 'uses', true, false)",
                        [rid, region, size])
        con.execute("INSERT INTO meta VALUES ('source', 'synthetic'), ('scale', '0'), ('seed', '1'), "
                    "('built_at', '2026-01-01T00:00:00'), ('as_of', '2024-12-31')")

"""Builders of import files for tests/data/test_load.py: small valid files of every format, written in
code inside a test's tmp_path (nothing binary is committed), and known rows added to the database
the tests import into. Ids sit far above the synthetic generator's so they never collide."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data.db import writer

EXIST_FIRM, EXIST_BIZNO, EXIST_PROGRAM, EXIST_APP = 9_000_000_001, "1138612349", "P-EXIST", 9_000_000_001
NEW_FIRMS = (9_000_000_101, 9_000_000_102, 9_000_000_103)
FIRMS_HEADER = ["firm_id", "biz_no", "name", "ceo_name", "region_code", "ksic_section", "size_class",
                "founded_on", "employees", "revenue_krw", "cert_venture"]
FIRMS_ROWS = [
    [NEW_FIRMS[0], "1234567891", "한빛정밀", "김민수", "11", "C", "small", "2015-03-02", 12, 2_500_000_000, "true"],
    [NEW_FIRMS[1], "2208162517", "부산해양식품", "이영희", "26", "C", "micro", "2019-07-15", 4, 380_000_000, "false"],
    [NEW_FIRMS[2], "1018212348", "제주감귤농원", "", "50", "A", "micro", "2011-11-30", 2, 95_000_000, ""],
]
PROGRAMS_HEADER = ["program_id", "title", "ministry", "agency", "category", "opens_on", "closes_on",
                   "target_sizes", "target_regions", "budget_krw"]
PROGRAMS_ROWS = [
    ["P-T1", "스마트공장 보급확산", "중소벤처기업부", "중소기업기술정보진흥원", "기술", "2024-02-01", "2024-03-15",
     "micro|small|medium", "", 5_000_000_000],
    ["P-T2", "수출바우처", "중소벤처기업부", "중소벤처기업진흥공단", "수출", "2024-01-10", "2024-02-10",
     "small|medium", "26|48", 3_000_000_000],
]
APPS_HEADER = ["application_id", "firm_id", "program_id", "submitted_at", "status", "amount_requested_krw",
               "amount_awarded_krw"]
APPS_ROWS = [
    [9_000_009_001, NEW_FIRMS[0], "P-T1", "2024-02-10 10:15:00", "selected", 100_000_000, 80_000_000],
    [9_000_009_002, NEW_FIRMS[1], "P-T2", "2024-01-20 09:00:00", "rejected", 30_000_000, 0],
    [9_000_009_003, EXIST_FIRM, EXIST_PROGRAM, "2024-01-21 09:00:00", "submitted", "", ""],
]


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def write_parquet(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    columns = {h: [r[i] if r[i] != "" else None for r in rows] for i, h in enumerate(header)}
    pq.write_table(pa.table(columns), path)
    return path


def bizinfo_items() -> list[dict]:
    return [
        {"pblancId": "PBLN_000000000121282", "pblancNm": "2024년 AI 바우처 지원사업 공고",
         "pblancUrl": "/web/lay1/bbs/S1T122C128/AS/74/view.do?pblancId=PBLN_000000000121282",
         "jrsdInsttNm": "과학기술정보통신부", "excInsttNm": "정보통신산업진흥원",
         "bsnsSumryCn": "<p>AI 솔루션 도입&nbsp;지원</p>", "pldirSportRealmLclasCodeNm": "기술",
         "pldirSportRealmMlsfcCodeNm": "기술사업화", "trgetNm": "중소기업",
         "reqstBeginEndDe": "2024-03-04 ~ 2024-04-05", "hashtags": "기술,서울,부산,정보통신산업진흥원",
         "industNm": "제조업(10~34)"},
        {"pblancId": "PBLN_000000000121300", "pblancNm": "소상공인 정책자금 상시 접수",
         "jrsdInsttNm": "중소벤처기업부", "excInsttNm": "소상공인시장진흥공단",
         "pldirSportRealmLclasCodeNm": "금융@경영", "trgetNm": "소상공인",
         "reqstBeginEndDe": "상시", "hashtags": "금융,전국"},
        {"pblancId": "PBLN_000000000121301", "pblancNm": "지역특화 수출지원", "jrsdInsttNm": "경상남도",
         "pldirSportRealmLclasCodeNm": "수출", "reqstBeginEndDe": "추후 공지", "hashtags": "경남@부산"},
    ]


def write_bizinfo(path: Path, items: list[dict] | None = None) -> Path:
    path.write_text(json.dumps({"jsonArray": bizinfo_items() if items is None else items}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def add_known_rows(path: Path) -> Path:
    """Add one channel, firm, program and application with known ids (creating the database if needed)."""
    with writer(path, create=not path.exists()) as con:
        con.execute("INSERT INTO channels VALUES ('CH-TEST', '중소벤처24', '중소벤처기업부', true, true)")
        con.execute("""INSERT INTO firms (firm_id, biz_no, name, region_code, ksic_section, size_class, founded_on,
                       employees, revenue_krw) VALUES (?, ?, '기존상사', '41', 'G', 'micro', '2010-01-01', 3, 100000000)""",
                    [EXIST_FIRM, EXIST_BIZNO])
        con.execute("""INSERT INTO programs (program_id, title, ministry, agency, category)
                       VALUES (?, '기존 사업', '중소벤처기업부', '소상공인시장진흥공단', '금융')""", [EXIST_PROGRAM])
        con.execute("""INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status)
                       VALUES (?, ?, ?, '2023-05-01 10:00:00', 'submitted')""", [EXIST_APP, EXIST_FIRM, EXIST_PROGRAM])
    return path

"""The validated import (data/load.py): valid files of every format land in the database with the
right values; every broken file is refused with a message naming file, row, column and value, and
the database file stays byte-for-byte as it was (or stays absent)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from data.load.importer import ImportValidationError, load_dir, main
from tests.data.fixtures_load import (
    APPS_HEADER,
    APPS_ROWS,
    EXIST_BIZNO,
    EXIST_FIRM,
    EXIST_PROGRAM,
    FIRMS_HEADER,
    FIRMS_ROWS,
    PROGRAMS_HEADER,
    PROGRAMS_ROWS,
    add_known_rows,
    bizinfo_items,
    csv_text,
    write_bizinfo,
    write_csv,
    write_parquet,
)


@pytest.fixture(scope="module")
def seeded(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    return add_known_rows(path)


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> Path:
    """A private copy of the small synthetic database plus rows with known ids (tiny_db_copy, seeded once)."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(seeded, path)
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "import"
    path.mkdir()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def refused(src: Path, db: Path, *expected: str, max_errors: int = 50) -> ImportValidationError:
    """Run an import that must fail; check the message and that the database did not change."""
    existed = db.exists()
    before = digest(db) if existed else None
    with pytest.raises(ImportValidationError) as info:
        load_dir(src, db, max_errors=max_errors)
    message = str(info.value)
    assert "nothing was written" in message
    for text in expected:
        assert text in message, f"{text!r} not in:\n{message}"
    assert db.exists() == existed
    if existed:
        assert digest(db) == before
    return info.value


# ---------------------------------------------------------------- valid files

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_valid_csv_in_korean_encodings(src: Path, db: Path, encoding: str) -> None:
    write_csv(src / "firms.csv", FIRMS_HEADER, FIRMS_ROWS, encoding)
    assert load_dir(src, db).rows == {"firms": 3}
    got = query(db, "SELECT firm_id, biz_no, name, ceo_name, region_code, size_class, founded_on::VARCHAR, "
                    "employees, revenue_krw, cert_venture FROM firms WHERE firm_id > 9000000100 ORDER BY firm_id")
    want = [(r[0], r[1], r[2], r[3] or None, r[4], r[6], r[7], r[8], r[9], r[10] == "true") for r in FIRMS_ROWS]
    assert got == want
    meta = dict(query(db, "SELECT key, value FROM meta"))
    assert meta["source"] == "synthetic" and meta["imported_files"] == "firms.csv"


def test_valid_parquet_with_lists(src: Path, db: Path) -> None:
    write_parquet(src / "programs.parquet", PROGRAMS_HEADER, PROGRAMS_ROWS)
    assert load_dir(src, db).rows == {"programs": 2}
    got = query(db, "SELECT program_id, category::VARCHAR, opens_on::VARCHAR, closes_on::VARCHAR, "
                    "target_sizes::VARCHAR[], target_regions, budget_krw, source FROM programs "
                    "WHERE program_id LIKE 'P-T%' ORDER BY 1")
    want = [(r[0], r[4], r[5], r[6], r[7].split("|"), [x for x in r[8].split("|") if x], r[9], "parquet")
            for r in PROGRAMS_ROWS]
    assert got == want


BANDS_HEADER = [*PROGRAMS_HEADER, "min_revenue_krw", "max_revenue_krw", "min_employees", "max_employees"]


def test_valid_sales_and_employee_bands(src: Path, db: Path) -> None:
    """The band columns are optional (the files above have none) and empty cells mean "no limit"."""
    rows = [PROGRAMS_ROWS[0] + ["", "1,000,000,000", "", "4"], PROGRAMS_ROWS[1] + ["5000000000", "", "5", "49"]]
    write_csv(src / "programs.csv", BANDS_HEADER, rows)
    assert load_dir(src, db).rows == {"programs": 2}
    assert query(db, "SELECT program_id, min_revenue_krw, max_revenue_krw, min_employees, max_employees "
                     "FROM programs WHERE program_id LIKE 'P-T%' ORDER BY 1") == [
        ("P-T1", None, 1_000_000_000, None, 4), ("P-T2", 5_000_000_000, None, 5, 49)]


def test_valid_bizinfo_json(src: Path, db: Path) -> None:
    write_bizinfo(src / "bizinfo_2024.json")
    assert load_dir(src, db).rows == {"programs": 3}
    rows = {r[0]: r[1:] for r in query(db, """
        SELECT program_id, title, ministry, agency, category::VARCHAR, opens_on::VARCHAR, closes_on::VARCHAR,
               always_open, window_text, target_sizes::VARCHAR[], target_regions, target_industries, source,
               ai_related, summary
        FROM programs WHERE source = 'bizinfo'""")}
    dated = rows["PBLN_000000000121282"]
    assert dated[3:8] == ("기술", "2024-03-04", "2024-04-05", False, "2024-03-04 ~ 2024-04-05")
    assert dated[8:] == (["micro", "small", "medium"], ["11", "26"], ["C"], "bizinfo", True, "AI 솔루션 도입 지원")
    always = rows["PBLN_000000000121300"]
    assert always[3:9] == ("금융", None, None, True, "상시", ["micro"])  # 금융@경영: the first field is the category
    later = rows["PBLN_000000000121301"]
    assert later[1:2] == ("경상남도",) and later[2] == "경상남도"       # no excInsttNm: the ministry runs it
    assert later[4:10] == (None, None, False, "추후 공지", [], ["48", "26"])  # 경남@부산


def test_new_database_and_cross_file_references(src: Path, tmp_path: Path) -> None:
    """Applications may reference firms and programs of the same import; the new DB says 'imported'."""
    db = tmp_path / "new" / "fresh.duckdb"
    db.parent.mkdir()
    write_csv(src / "firms.csv", FIRMS_HEADER, FIRMS_ROWS)
    write_parquet(src / "programs.parquet", PROGRAMS_HEADER, PROGRAMS_ROWS)
    write_csv(src / "applications.csv", APPS_HEADER, APPS_ROWS[:2])
    assert load_dir(src, db).rows == {"firms": 3, "programs": 2, "applications": 2}
    assert query(db, "SELECT application_id, firm_id, program_id, status::VARCHAR, amount_awarded_krw "
                     "FROM applications ORDER BY 1") == [tuple(r[i] for i in (0, 1, 2, 4, 6)) for r in APPS_ROWS[:2]]
    assert dict(query(db, "SELECT key, value FROM meta"))["source"] == "imported"
    assert query(db, "SELECT count(*) FROM regions") == [(17,)]


def test_references_to_existing_rows(src: Path, db: Path) -> None:
    write_csv(src / "applications.csv", APPS_HEADER, APPS_ROWS[2:])
    assert load_dir(src, db).rows == {"applications": 1}


# ---------------------------------------------------------------- broken files

def test_missing_column(src: Path, db: Path) -> None:
    header = [h for h in FIRMS_HEADER if h != "founded_on"]
    rows = [[v for h, v in zip(FIRMS_HEADER, r) if h != "founded_on"] for r in FIRMS_ROWS]
    write_csv(src / "firms.csv", header, rows)
    refused(src, db, "firms.csv, column founded_on: required column missing")


def test_bad_dates_reported_together(src: Path, db: Path) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[1][7] = "2023-02-30"
    rows[2][7] = "작년"
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    err = refused(src, db, "firms.csv, row 2, column founded_on: not a date (expected YYYY-MM-DD) (value '2023-02-30')",
                  "firms.csv, row 3, column founded_on")
    assert [(e.file, e.row, e.column, e.value) for e in err.errors] == [
        ("firms.csv", 2, "founded_on", "2023-02-30"), ("firms.csv", 3, "founded_on", "작년")]


def test_implausible_date_and_window_order(src: Path, db: Path) -> None:
    rows = [list(r) for r in PROGRAMS_ROWS]
    rows[0][5], rows[0][6] = "2024-05-01", "2024-04-01"   # closes before it opens
    rows[1][5] = "1024-01-10"
    write_csv(src / "programs.csv", PROGRAMS_HEADER, rows)
    refused(src, db, "programs.csv, row 1, column closes_on, opens_on: breaks the rule",
            "programs.csv, row 2, column opens_on: implausible date")


def test_bad_sales_and_employee_bands(src: Path, db: Path) -> None:
    rows = [PROGRAMS_ROWS[0] + ["5000000000", "1000000000", "", "3.5"],   # floor above the cap; half a person
            PROGRAMS_ROWS[1] + ["-1", "", "10", "9"]]                     # negative sales; floor above the cap
    write_csv(src / "programs.csv", BANDS_HEADER, rows)
    refused(src, db, "programs.csv, row 1, column max_revenue_krw, min_revenue_krw: breaks the rule",
            "(value 'max_revenue_krw=1000000000, min_revenue_krw=5000000000')",
            "programs.csv, row 1, column max_employees: not a whole number (value '3.5')",
            "programs.csv, row 2, column min_revenue_krw: must not be negative (value '-1')",
            "programs.csv, row 2, column max_employees, min_employees: breaks the rule")


def test_duplicate_key_within_file(src: Path, db: Path) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[2][0] = rows[0][0]
    rows[2][1] = "9999999999"
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    refused(src, db, f"firms.csv, row 3, column firm_id: duplicate key: already in firms.csv row 1 (value '{rows[0][0]}')")


def test_duplicate_key_against_database(src: Path, db: Path) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[0][0] = EXIST_FIRM             # already in the database
    rows[1][1] = EXIST_BIZNO            # so is this 사업자등록번호 (a UNIQUE key)
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    refused(src, db, "firms.csv, row 1, column firm_id: duplicate key: a firms row with this firm_id is already in the database",
            "firms.csv, row 2, column biz_no: duplicate key")


def test_unknown_region_code(src: Path, db: Path) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[1][4] = "99"
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    refused(src, db, "firms.csv, row 2, column region_code: unknown region_code: no regions row has it", "(value '99')")


def test_unknown_reference_and_list_code(src: Path, db: Path) -> None:
    rows = [list(r) for r in PROGRAMS_ROWS]
    rows[1][8] = "26|77"
    write_csv(src / "programs.csv", PROGRAMS_HEADER, rows)
    write_csv(src / "applications.csv", APPS_HEADER, [[9_000_009_005, 555_555_555, "P-T1", "2024-02-11 10:00:00", "submitted", 1, 0]])
    refused(src, db, "programs.csv, row 2, column target_regions: unknown region_code", "(value '77')",
            "applications.csv, row 1, column firm_id: unknown firm_id", "(value '555555555')")


def test_bad_enum_and_negative_amount(src: Path, db: Path) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[0][6] = "tiny"
    rows[2][9] = -5
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    refused(src, db, "firms.csv, row 1, column size_class: not one of: micro, small, medium, midsize, large (value 'tiny')",
            "firms.csv, row 3, column revenue_krw: must not be negative (value '-5')")


def test_bad_number_and_rule_across_columns(src: Path, db: Path) -> None:
    write_csv(src / "applications.csv", APPS_HEADER, [
        [9_000_009_010, EXIST_FIRM, EXIST_PROGRAM, "2024-01-01 09:00:00", "rejected", "1.5", 500],
        [9_000_009_011, EXIST_FIRM, EXIST_PROGRAM, "2024-01-01 09:00:00", "accepted", 10, 0]])
    refused(src, db, "row 1, column amount_requested_krw: not a whole number (value '1.5')",
            "row 1, column status, amount_awarded_krw: breaks the rule",
            "row 2, column status: not one of: submitted, selected, rejected, withdrawn (value 'accepted')")


def test_truncated_csv(src: Path, db: Path) -> None:
    text = csv_text(FIRMS_HEADER, FIRMS_ROWS)
    (src / "firms.csv").write_text(text[: text.rindex(",20")], encoding="utf-8")   # cut in the last row
    refused(src, db, "firms.csv, row 3: the CSV is malformed or cut off", "Expected Number of Columns")


def test_truncated_csv_inside_quotes(src: Path, db: Path) -> None:
    (src / "firms.csv").write_text(csv_text(FIRMS_HEADER, FIRMS_ROWS[:1]) + '104,"1234', encoding="utf-8")
    refused(src, db, "firms.csv, row 2: the CSV is malformed or cut off")


def test_truncated_json(src: Path, db: Path) -> None:
    text = json.dumps({"jsonArray": bizinfo_items()}, ensure_ascii=False)
    (src / "bizinfo.json").write_text(text[: len(text) // 2], encoding="utf-8")
    refused(src, db, "bizinfo.json: invalid JSON, cut off or damaged at line 1")


def test_truncated_parquet(src: Path, db: Path) -> None:
    data = write_parquet(src / "programs.parquet", PROGRAMS_HEADER, PROGRAMS_ROWS).read_bytes()
    (src / "programs.parquet").write_bytes(data[: len(data) // 2])
    refused(src, db, "programs.parquet: not a readable Parquet file (cut off or damaged)")


def test_utf8_cut_inside_a_character(src: Path, db: Path) -> None:
    data = csv_text(FIRMS_HEADER, FIRMS_ROWS).encode("utf-8") + "104,1,가".encode("utf-8")[:-1]
    (src / "firms.csv").write_bytes(data)
    refused(src, db, "firms.csv: invalid UTF-8 at byte", "cut off")


@pytest.mark.parametrize(("data", "expected"), [
    (csv_text(FIRMS_HEADER, FIRMS_ROWS).encode("utf-16"), "firms.csv: the file is UTF-16"),
    (bytes(range(128, 256)) * 8, "firms.csv: unknown text encoding: neither UTF-8 nor CP949/EUC-KR"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "firms.csv: not a text file"),
])
def test_wrong_encoding(src: Path, db: Path, data: bytes, expected: str) -> None:
    (src / "firms.csv").write_bytes(data)
    refused(src, db, expected)


def test_empty_files_say_which(src: Path, db: Path) -> None:
    (src / "firms.csv").write_bytes(b"")
    (src / "programs.csv").write_text(",".join(PROGRAMS_HEADER) + "\n", encoding="utf-8")
    (src / "channels.csv").write_text("\n\n", encoding="utf-8")
    write_bizinfo(src / "bizinfo.json", [])
    refused(src, db, "firms.csv: empty file (0 bytes)", "programs.csv: header only",
            "channels.csv: empty file (only blank lines)", "bizinfo.json: no announcements")


def test_unknown_file_name_and_column(src: Path, db: Path) -> None:
    write_csv(src / "firm.csv", FIRMS_HEADER, FIRMS_ROWS)
    write_csv(src / "programs.csv", PROGRAMS_HEADER + ["budjet"], [r + [1] for r in PROGRAMS_ROWS])
    refused(src, db, "firm.csv: unknown file name", "did you mean firms.csv", "programs.csv, column budjet: unknown column")


def test_bizinfo_errors_use_source_field_names(src: Path, db: Path) -> None:
    items = bizinfo_items()
    items[0]["reqstBeginEndDe"] = "2024-02-30 ~ 2024-03-31"
    items[1]["hashtags"] = None
    items[1]["areaNm"] = "서울@화성"
    items[2]["industNm"] = "제조업(10~34)@우주항공업"
    del items[2]["pblancId"]
    write_bizinfo(src / "bizinfo.json", items)
    # the source's own values are quoted: the whole window text, the region and the industry token
    refused(src, db, "bizinfo.json, row 1, column opens_on (reqstBeginEndDe): not a date",
            "(value '2024-02-30 ~ 2024-03-31')",
            "bizinfo.json, row 2, column target_regions (areaNm): not a 시도 name", "(value '화성')",
            "bizinfo.json, row 3, column target_industries (industNm): cannot map", "(value '우주항공업')",
            "bizinfo.json, row 3, column program_id (pblancId): required value missing")


def test_one_bad_file_blocks_the_others(src: Path, db: Path) -> None:
    write_csv(src / "firms.csv", FIRMS_HEADER, FIRMS_ROWS)
    write_csv(src / "applications.csv", APPS_HEADER,
              [[9_000_009_001, FIRMS_ROWS[0][0], "P-NONE", "2024-01-01 10:00:00", "submitted", 0, 0]])
    refused(src, db, "applications.csv, row 1, column program_id: unknown program_id")
    assert query(db, f"SELECT count(*) FROM firms WHERE firm_id = {FIRMS_ROWS[0][0]}") == [(0,)]


def test_error_cap_and_new_db_left_absent(src: Path, tmp_path: Path) -> None:
    rows = [[200 + i, f"{i:010d}", "x", "", "11", "C", "huge", "2020-01-01", 1, 1, ""] for i in range(30)]
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    err = refused(src, tmp_path / "never.duckdb", "there are more", max_errors=5)
    assert len(err.errors) == 5 and err.truncated
    assert [e.row for e in err.errors] == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------- command line

def test_cli_failure_and_success(src: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [list(r) for r in FIRMS_ROWS]
    rows[0][4] = "99"
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    before = digest(db)
    assert main([str(src), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "\nImport failed: 1 problem(s) found" in err and "firms.csv, row 1, column region_code" in err
    assert digest(db) == before
    write_csv(src / "firms.csv", FIRMS_HEADER, FIRMS_ROWS)
    assert main([str(src), "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "firms 3" in out.out and "firms.csv: 3 rows for firms (utf-8)" in out.err


def test_cli_help() -> None:
    done = subprocess.run([sys.executable, "-m", "data.load", "--help"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=True)
    assert "DIR" in done.stdout.upper() and "--db" in done.stdout and "기업마당" in done.stdout

"""Real 기업마당 exports as they are (issue 17): every field generation imports, fallbacks keep the
original and are counted, a re-import updates by pblancId and says what it changed."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from data.load import load_dir
from tests.data.fixtures_bizinfo import newer_item, real_items

_REPO = Path(__file__).resolve().parents[2]
# ../shared/real beside the checkout (or beside the folder of worktrees); MADANG_REAL_DIR overrides
REAL = next((d / "bizinfo_2020-12_2021-06.json" for d in (
    [Path(os.environ["MADANG_REAL_DIR"])] if "MADANG_REAL_DIR" in os.environ else
    [_REPO.parent / "shared" / "real", _REPO.parent.parent / "shared" / "real"])
    if (d / "bizinfo_2020-12_2021-06.json").exists()), Path("absent"))
SMES = ["micro", "small", "medium"]
ALL_BUT_K_L = [s for s in "ABCDEFGHIJKLMNOPQRSTU" if s not in "KL"]
# pblancId -> category, category_raw, agency, agency_raw, always_open, opens, closes, sizes, groups, regions, industries
WANT = {
    "PBLN_000000000066695": ("금융", "제도@금융@경영", "국세청", "직접수행", True, None, None, SMES, [], [], []),
    "PBLN_000000000066530": ("기타", "제도", "국세청", "직접수행", True, None, None, [], ["창업벤처"], [], []),
    "PBLN_000000000064961": ("경영", "동반성장@경영@경영", "대중소기업농어업협력재단", "대중소기업농어업협력재단", True, None,
                             None, SMES, [], [], []),
    "PBLN_000000000061170": ("금융", "금융@경영", "소상공인시장진흥공단", "소상공인시장진흥공단", True, None, None, ["micro"],
                             [], [], ALL_BUT_K_L),
    "PBLN_000000000060034": ("수출", "수출", "한국G-PASS기업 수출진흥협회", "한국G-PASS기업 수출진흥협회", False, "2021-01-01",
                             "2021-12-31", [*SMES, "midsize"], [], [], []),
    "PBLN_000000000065298": ("내수", "내수", "전라남도", "기초자치단체", True, None, None, SMES, [], [], ["R"]),
    "PBLN_000000000066405": ("경영", "경영@인력", "세종특별자치시", "직접수행", False, None, None, [], ["사회적기업"], ["36"], []),
    "PBLN_000000000121282": ("기술", "기술", "정보통신산업진흥원", "정보통신산업진흥원", False, "2024-03-04", "2024-04-05", SMES,
                             [], ["11", "26"], []),
}
FALLBACKS = {"category_next_field": 2, "category_other": 1, "window_always": 5, "window_unknown": 1,
             "agency_ministry_runs_it": 3, "agency_local_governments": 1, "target_groups": 2,
             "regions_every": 6, "industries_every": 5}


def write(folder: Path, items: list[dict], name: str = "bizinfo.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps({"jsonArray": items}, ensure_ascii=False), encoding="utf-8")
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def programs(db: Path) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""
            SELECT program_id, category::VARCHAR, category_raw, agency, agency_raw, always_open, opens_on::VARCHAR,
                   closes_on::VARCHAR, target_sizes::VARCHAR[], target_groups, target_regions, target_industries
            FROM programs WHERE source = 'bizinfo'""").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_real_records_every_generation(tmp_path: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    summary = load_dir(write(tmp_path / "in", [*real_items(), newer_item()]), db)
    assert summary.rows == {"programs": 8} and (summary.added, summary.updated, summary.unchanged) == (8, 0, 0)
    got = programs(db)
    assert {k: (*v[:7], sorted(v[7]), v[8], sorted(v[9]), sorted(v[10])) for k, v in got.items()} == \
        {k: (*v[:7], sorted(v[7]), v[8], sorted(v[9]), sorted(v[10])) for k, v in WANT.items()}
    assert dict(summary.fallbacks) == FALLBACKS
    with duckdb.connect(str(db), read_only=True) as con:
        one = con.execute("SELECT url, summary, contact_phone, contact_email, contact_office, window_text, posted_at::VARCHAR "
                          "FROM programs WHERE program_id = 'PBLN_000000000064961'").fetchone()
        newer = con.execute("SELECT contact_office FROM programs WHERE program_id = 'PBLN_000000000121282'").fetchone()
        tax = con.execute("SELECT summary FROM programs WHERE program_id = 'PBLN_000000000066695'").fetchone()
    assert one == ("https://www.bizinfo.go.kr/see/seea/selectSEEA140Detail.do?pblancId=PBLN_000000000064961&menuId=80001001001",
                   "협력 중소기업 간 공급망 차원의 지속가능성 확보를 위해 ESG 교육", "02-2183-5877", "kbrand@koipa.re.kr",
                   "K-브랜드 분쟁대응팀", "상시 접수", "2021-05-14 15:57:13")
    assert newer == ("정보통신산업진흥원 AI바우처팀",)
    assert tax == ("투자금액의 10%에 상당하는 금액을 법인세(소득세)에서 세액공제",)  # &#40; unescaped
    assert any("fallback agency_ministry_runs_it: 3 rows" in line for line in summary.lines())


def test_reimport_updates_by_pblancid(tmp_path: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    load_dir(write(tmp_path / "week1", real_items()), db)
    with duckdb.connect(str(db)) as con:  # enriched by hand after the first import: must survive a re-import
        con.execute("UPDATE programs SET budget_krw = 5000000000 WHERE program_id = 'PBLN_000000000060034'")
    before = digest(db)
    again = load_dir(write(tmp_path / "week1b", real_items()), db)
    assert (again.added, again.updated, again.unchanged, again.written) == (0, 0, 7, False)
    assert "nothing changed: the database was left as it was" in again.lines()
    assert digest(db) == before
    week2 = real_items()
    week2[4]["reqstBeginEndDe"] = "20210101 ~ 20220131"      # re-published with a longer window
    week2.append({**newer_item()})
    done = load_dir(write(tmp_path / "week2", week2, "bizinfo_week2.json"), db)
    assert (done.added, done.updated, done.unchanged, done.written) == (1, 1, 6, True)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT closes_on::VARCHAR, budget_krw FROM programs "
                           "WHERE program_id = 'PBLN_000000000060034'").fetchone() == ("2022-01-31", 5_000_000_000)
        assert con.execute("SELECT count(*) FROM programs").fetchone() == (8,)
        files = dict(con.execute("SELECT key, value FROM meta").fetchall())["imported_files"]
    assert files == "bizinfo.json, bizinfo_week2.json"


def test_same_id_twice_in_one_import_keeps_the_later(tmp_path: Path) -> None:
    first = real_items()[:2]
    later = [dict(first[1], pblancNm="과세특례 (정정 공고)")]
    folder = write(tmp_path / "in", first, "a.json")
    write(folder, later, "b.json")
    summary = load_dir(folder, tmp_path / "db.duckdb")
    assert (summary.added, summary.superseded) == (2, 1)
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        assert con.execute("SELECT title FROM programs WHERE program_id = 'PBLN_000000000066530'").fetchone() == \
            ("과세특례 (정정 공고)",)


def test_reimport_of_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    load_dir(write(tmp_path / "ok", real_items()), db)
    before = digest(db)
    bad = real_items()
    bad[0]["pblancNm"] = "바뀐 제목"
    bad[1]["areaNm"] = "서울@해외"
    with pytest.raises(Exception, match="해외"):
        load_dir(write(tmp_path / "bad", bad), db)
    assert digest(db) == before


def _raw_counts(items: list[dict]) -> Counter:
    """Independent counts from the raw JSON of what the fallbacks must catch."""
    every_region = set("서울 부산 대구 인천 광주 대전 울산 세종 경기 강원 충북 충남 전북 전남 경북 경남 제주".split())
    return Counter({
        "agency_ministry_runs_it": sum(i.get("excInsttNm") == "직접수행" for i in items),
        "agency_local_governments": sum(i.get("excInsttNm") == "기초자치단체" for i in items),
        "regions_every": sum(set((i.get("areaNm") or "").split("@")) >= every_region for i in items),
        "industries_every": sum((i.get("industNm") or "").count("@") == 20 for i in items),
        "dated": sum(bool(re.search(r"~\s*(\d{8}|\d{4}[-.]\d{2}[-.]\d{2})", i.get("reqstBeginEndDe") or "")) for i in items),
    })


@pytest.mark.skipif(not REAL.exists(), reason="the shared real export (../shared/real) is not on this machine")
@pytest.mark.parametrize("into", ["fresh", "synthetic"])
def test_shared_real_export(tmp_path: Path, tiny_db: Path, into: str) -> None:
    items = json.loads(REAL.read_text(encoding="utf-8"))["jsonArray"]
    db = tmp_path / "madang.duckdb"
    existing = 0
    if into == "synthetic":
        shutil.copyfile(tiny_db, db)
        with duckdb.connect(str(db), read_only=True) as con:
            existing = con.execute("SELECT count(*) FROM programs").fetchone()[0]
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(REAL, folder / REAL.name)
    summary = load_dir(folder, db)
    assert summary.rows == {"programs": len(items)} and summary.added == len(items)
    raw = _raw_counts(items)
    for rule in ("agency_ministry_runs_it", "agency_local_governments", "regions_every", "industries_every"):
        assert summary.fallbacks[rule] == raw[rule], rule
    with duckdb.connect(str(db), read_only=True) as con:
        n, dated, groups = con.execute("""SELECT count(*), count(closes_on), count(*) FILTER (len(target_groups) > 0)
                                          FROM programs WHERE source = 'bizinfo'""").fetchone()
        total = con.execute("SELECT count(*) FROM programs").fetchone()[0]
    assert (n, dated, total) == (len(items), raw["dated"], existing + len(items))
    assert groups == summary.fallbacks["target_groups"]
    again = load_dir(folder, db)
    assert (again.added, again.updated, again.unchanged, again.written) == (0, 0, len(items), False)

"""``data.build --programs``: the synthetic world built around a real catalogue (issue 17)."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from data.build import build, main
from tests.data.fixtures_bizinfo import newer_item, real_items


@pytest.fixture(scope="module")
def around_real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    folder = tmp_path_factory.mktemp("around")
    items = [*real_items(), newer_item()]
    export = folder / "bizinfo_2021.json"
    export.write_text(json.dumps({"jsonArray": items}, ensure_ascii=False), encoding="utf-8")
    db = folder / "madang.duckdb"
    build(db, scale=0.003, seed=5, programs=[export])
    return db, items


def test_the_programs_are_the_real_ones(around_real: tuple[Path, list[dict]]) -> None:
    db, items = around_real
    with duckdb.connect(str(db), read_only=True) as con:
        got = dict(con.execute("SELECT program_id, title FROM programs").fetchall())
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        per_program = dict(con.execute("SELECT program_id, count(*) FROM applications GROUP BY 1").fetchall())
        orphans = con.execute("SELECT count(*) FROM applications ANTI JOIN programs USING (program_id)").fetchone()[0]
        dated = con.execute("SELECT program_id, opens_on::VARCHAR, closes_on::VARCHAR, always_open, window_text "
                            "FROM programs WHERE program_id IN ('PBLN_000000000060034', 'PBLN_000000000066695', "
                            "'PBLN_000000000066405')").fetchall()
    assert got == {i["pblancId"]: i["pblancNm"] for i in items}
    assert meta["programs_from"] == "bizinfo_2021.json" and meta["source"] == "synthetic"
    assert orphans == 0 and sum(per_program.values()) > 1000 and len(per_program) >= 6
    by_id = {r[0]: r[1:] for r in dated}
    # 2021-01-01 ~ 2021-12-31 moved by whole years into the 3 years before the reference date (2023-11 .. 2026-10)
    opens, closes, always, text = by_id["PBLN_000000000060034"]
    assert (opens[4:], closes[4:], always, text) == ("-01-01", "-12-31", False, "20210101 ~ 20211231")
    assert 2024 <= int(opens[:4]) <= 2026 and int(closes[:4]) == int(opens[:4])
    assert by_id["PBLN_000000000066695"][:3] == (None, None, True)        # 상시 접수 stays open-ended
    assert by_id["PBLN_000000000066405"][0] is not None                   # 세부사업별 상이: the donor's dates


def test_applications_obey_the_real_targets_and_windows(around_real: tuple[Path, list[dict]]) -> None:
    db, _ = around_real
    with duckdb.connect(str(db), read_only=True) as con:
        bad = con.execute("""
            SELECT count(*) FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)
            WHERE NOT ((len(p.target_sizes) = 0 OR list_contains(p.target_sizes, f.size_class))
                   AND (len(p.target_regions) = 0 OR list_contains(p.target_regions, f.region_code))
                   AND (len(p.target_industries) = 0 OR list_contains(p.target_industries, f.ksic_section))
                   AND (p.always_open OR a.submitted_at::DATE BETWEEN p.opens_on AND p.closes_on))
              AND application_id NOT IN (SELECT application_id FROM truth_broker_rings)""").fetchone()[0]
        sejong = con.execute("""SELECT DISTINCT f.region_code FROM applications a JOIN firms f USING (firm_id)
                                WHERE a.program_id = 'PBLN_000000000066405'""").fetchall()
    assert bad == 0
    assert sejong in ([], [("36",)])   # [세종] program: firms of 세종 only


def test_cli_refuses_a_bad_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = real_items()[:1]
    bad[0]["areaNm"] = "서울@해외"
    export = tmp_path / "bad.json"
    export.write_text(json.dumps({"jsonArray": bad}, ensure_ascii=False), encoding="utf-8")
    assert main(["--db", str(tmp_path / "x.duckdb"), "--scale", "0.002", "--programs", str(export)]) == 1
    err = capsys.readouterr().err
    assert "the program files were refused" in err and "'해외'" in err
    assert not (tmp_path / "x.duckdb").exists()

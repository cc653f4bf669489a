"""The importer refuses what the schema forbids but DuckDB does not declare (issue 18): 사업자등록번호
that are not 10 digits with the right check digit, absurd head counts, founding dates in the future,
and links to files outside the import folder."""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from data import bizno
from data.load.importer import ImportValidationError, load_dir
from tests.data.fixtures_load import FIRMS_HEADER, FIRMS_ROWS, write_csv


def _refused(src: Path, db: Path) -> str:
    with pytest.raises(ImportValidationError) as info:
        load_dir(src, db)
    assert not db.exists()                                   # nothing written, not even a new file
    return str(info.value)


@pytest.mark.parametrize(("column", "value"), [
    (1, "ABCDEFGHIJ"), (1, "12345678901234567890"), (1, "123-45-67891"),
    (1, "1234567890"),                                        # 10 digits, wrong check digit
    (8, 2_000_000_000), (7, "2099-01-01"), (7, (date.today() + timedelta(days=2)).isoformat()),
])
def test_values_the_schema_forbids_are_refused(tmp_path: Path, column: int, value: object) -> None:
    src = tmp_path / "in"
    src.mkdir()
    rows = [list(r) for r in FIRMS_ROWS]
    rows[1][column] = value
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    message = _refused(src, tmp_path / "madang.duckdb")
    assert f"firms.csv, row 2, column {FIRMS_HEADER[column]}" in message, message


def test_valid_values_pass(tmp_path: Path) -> None:
    assert all(bizno.is_valid(r[1]) for r in FIRMS_ROWS)     # the fixture itself is valid
    src = tmp_path / "in"
    src.mkdir()
    rows = [list(r) for r in FIRMS_ROWS]
    rows[0][8], rows[0][7] = 1_000_000, date.today().isoformat()
    write_csv(src / "firms.csv", FIRMS_HEADER, rows)
    assert load_dir(src, tmp_path / "madang.duckdb").rows == {"firms": 3}


def test_a_link_to_a_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    src, elsewhere = tmp_path / "in", tmp_path / "private"
    src.mkdir()
    elsewhere.mkdir()
    write_csv(elsewhere / "firms.csv", FIRMS_HEADER, FIRMS_ROWS)
    os.symlink(elsewhere / "firms.csv", src / "firms.csv")
    assert "outside the import folder" in _refused(src, tmp_path / "madang.duckdb")
    inside = tmp_path / "in2"                                 # a link inside the folder is fine
    inside.mkdir()
    write_csv(inside / "firms_real.csv", FIRMS_HEADER, FIRMS_ROWS)
    os.symlink(inside / "firms_real.csv", inside / "firms.csv")
    (inside / "firms_real.csv").rename(inside / ".firms_real.csv")
    os.remove(inside / "firms.csv")
    os.symlink(inside / ".firms_real.csv", inside / "firms.csv")
    assert load_dir(inside, tmp_path / "ok.duckdb").rows == {"firms": 3}

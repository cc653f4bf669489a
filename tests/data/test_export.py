"""CSV formula injection (OWASP): no text cell of any export may start a spreadsheet formula."""
from __future__ import annotations

import csv
import io

import pandas as pd

from analytics.brokers import pack as evidence_pack
from data import export
from data.export import FORMULA_START

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "정상 이름"]


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")) for c in row]


def test_text_cells_are_neutralised_and_numbers_kept() -> None:
    df = pd.DataFrame({"name": PAYLOADS, "n": [-5, 1, 2, 3, 4, 5, 6], "=col": ["a"] * 7})
    text = export.csv_text(df, ["filters: region=11,=1+2", "v1"])
    cells = _cells(text)
    assert not [c for c in cells if c.startswith(FORMULA_START) and c != "-5"], cells
    assert "'\r=1" in cells and "'\t=1" in cells
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'@SUM(A1)" in cells and "정상 이름" in cells
    assert "-5" in cells                                   # a negative number stays a number
    assert "# filters: region=11,=1+2" in cells            # a comment stays one cell


def test_evidence_pack_neutralises_case_notes() -> None:
    history = pd.DataFrame({"event_id": [1], "note": ["=cmd|' /C calc'!A0"]})
    members = pd.DataFrame({"name": ["+8210****5678"], "risk": [0.9]})
    text = evidence_pack.pack_csv({"members": members}, history, header=["case 1"]).decode("utf-8-sig")
    cells = _cells(text)
    assert "'=cmd|' /C calc'!A0" in cells and "'+8210****5678" in cells
    assert not [c for c in cells if c.startswith(FORMULA_START)], cells

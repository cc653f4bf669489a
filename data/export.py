"""The one CSV writer of every export (page downloads, evidence packs, the broker job's file); no
streamlit.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula, so a firm name, a case note or a URL filter could carry ``=HYPERLINK(...)`` into an
auditor's Excel. As OWASP recommends, such text cells get a leading ``'`` (shown by spreadsheets as
text, not computed); numbers stay numbers, so ``-5`` remains a negative count.
"""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as written to a CSV cell: formula-like text neutralised, missing values empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[Sequence[object]], *, comments: Sequence[str] = (),
           header: Sequence[Sequence[object]] = ()) -> str:
    """CSV text: one ``# comment`` line each (a single cell, so a comma in a comment, e.g. a filter
    value from the URL, cannot start a cell of its own), the ``header`` rows, then ``rows``; every
    cell through :func:`safe_cell`."""
    buf = io.StringIO()
    # CRLF as RFC 4180 says: the writer then also quotes a cell holding a lone CR, which readers would
    # otherwise take for the end of the row
    writer = csv.writer(buf, lineterminator="\r\n")
    for line in comments:
        writer.writerow([safe_cell("# " + " ".join(str(line).splitlines()))])
    for row in (*header, *rows):
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def csv_text(df: pd.DataFrame, comments: Sequence[str] = ()) -> str:
    """``df`` as CSV text (its column names the header row), through :func:`to_csv`."""
    header = [[str(c) for c in df.columns]] if len(df.columns) else []
    return to_csv(df.itertuples(index=False, name=None), comments=comments, header=header)


def write_csv(df: pd.DataFrame, path: Path | str) -> None:
    """``df`` as a CSV file (UTF-8, owner-only: exports are about firms), through :func:`csv_text`."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(csv_text(df))

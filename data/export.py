"""The one CSV writer of every export (page downloads, evidence packs, the broker job's file).

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula, so a firm name, a case note or a URL filter could carry ``=HYPERLINK(...)`` into an
auditor's Excel. As OWASP recommends, such text cells get a leading ``'`` (shown by spreadsheets as
text, not computed); numbers stay numbers, so ``-5`` remains a negative count.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(df: pd.DataFrame, comments: Sequence[str] = ()) -> str:
    """``df`` as CSV text, preceded by one ``# comment`` line each (a single quoted cell, so a comma
    in a comment, e.g. a filter value from the URL, cannot start a cell of its own)."""
    buf = io.StringIO()
    # CRLF as RFC 4180 says: the writer then also quotes a cell holding a lone CR, which readers would
    # otherwise take for the end of the row
    w = csv.writer(buf, lineterminator="\r\n")
    for line in comments:
        w.writerow([f"# {line}"])
    if df.columns.empty:
        return buf.getvalue()
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_datetime64_any_dtype(out[column])):
            out[column] = out[column].map(neutralise)
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue()


def write_csv(df: pd.DataFrame, path: Path | str) -> None:
    """``df`` as a CSV file (UTF-8, owner-only: exports are about firms), through :func:`csv_text`."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(csv_text(df))

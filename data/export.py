"""The one CSV writer of downloads: comment lines, header rows, then the rows; no streamlit.

Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return; OWASP "CSV injection") get a leading apostrophe. Numbers stay numbers: a negative amount is
a value, not a formula.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as written to a CSV cell: formula-like text neutralised, missing values empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[Sequence[object]], *, comments: Sequence[str] = (), header: Sequence[Sequence[str]] = ()) -> str:
    """CSV text: ``comments`` as '# ' lines, the ``header`` rows, then ``rows`` (every cell through
    :func:`safe_cell`)."""
    buf = io.StringIO()
    for line in comments:
        buf.write("# " + " ".join(str(line).splitlines()) + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    for row in (*header, *rows):
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()

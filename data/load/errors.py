"""The structured errors of the validated import (data/load.py).

Every problem names the file, the row (1-based data row: the first row under the header is row 1,
as a spreadsheet user counts records; for 기업마당 JSON the position in ``jsonArray``), the column
and the offending value, so that the person who exported the file can find and fix it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportIssue:
    file: str
    row: int | None          # None: the problem concerns the whole file or a whole column
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{value}"


class ImportValidationError(Exception):
    """The import was refused; nothing was written. ``errors`` lists every problem found (up to the cap)."""

    def __init__(self, errors: list[ImportIssue], *, truncated: bool = False) -> None:
        self.errors = errors
        self.truncated = truncated
        more = " (showing the first ones; there are more)" if truncated else ""
        lines = [f"Import failed: {len(errors)} problem(s) found{more}; nothing was written, the database is unchanged."]
        lines += [f"  - {e}" for e in errors]
        super().__init__("\n".join(lines))


class IssueList:
    """Collects issues up to a cap, so a file with a million bad rows reports N, not a million."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[ImportIssue] = []
        self.truncated = False

    def add(self, file: str, row: int | None, column: str | None, value: object, message: str) -> None:
        if len(self.items) >= self.cap:
            self.truncated = True
            return
        self.items.append(ImportIssue(file, row, column, None if value is None else str(value), message))

    @property
    def room(self) -> int:
        """How many more issues are wanted (used as a SQL LIMIT, plus one to notice truncation)."""
        return max(self.cap - len(self.items), 0) + 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportValidationError(self.items, truncated=self.truncated)

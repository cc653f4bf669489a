"""사업자등록번호 (Korean business registration number): check digit and vectorised generation.

Ten digits ``XXX-YY-ZZZZC``: a 3-digit tax-office code, a 2-digit type code (01-79 individual
business, 81/86/87/88 corporations), a 4-digit serial and the check digit C computed from the
first nine with the weights 1,3,7,1,3,7,1,3,5 plus floor(d9 * 5 / 10).
"""
from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([1, 3, 7, 1, 3, 7, 1, 3, 5], dtype=np.int64)


def check_digit(first9: str) -> int:
    """The check digit of the first nine digits of a 사업자등록번호."""
    if len(first9) != 9 or not first9.isdigit():
        raise ValueError(f"need 9 digits, got {first9!r}")
    d = np.array([int(c) for c in first9], dtype=np.int64)
    total = int((d * _WEIGHTS).sum()) + d[8] * 5 // 10
    return (10 - total % 10) % 10


def is_valid(biz_no: str) -> bool:
    """True for a 10-digit number (dashes allowed) whose last digit is the right check digit."""
    digits = biz_no.replace("-", "")
    return len(digits) == 10 and digits.isdigit() and check_digit(digits[:9]) == int(digits[9])


def check_digits(first9: np.ndarray) -> np.ndarray:
    """Vectorised check digits for an int64 array of 9-digit numbers."""
    d = (first9[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64)) % 10
    total = (d * _WEIGHTS).sum(axis=1) + d[:, 8] * 5 // 10
    return (10 - total % 10) % 10


def generate(rng: np.random.Generator, corporate: np.ndarray) -> np.ndarray:
    """Unique, valid 10-digit numbers as strings, one per element of ``corporate`` (bool)."""
    n = len(corporate)
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        office = rng.integers(101, 900, len(todo))
        kind = np.where(corporate[todo], rng.choice([81, 86, 87, 88], len(todo)), rng.integers(1, 80, len(todo)))
        first9 = office * 1_000_000 + kind * 10_000 + rng.integers(0, 10000, len(todo))
        out[todo] = first9 * 10 + check_digits(first9)
        # keep the first occurrence of each number and redraw the duplicates
        _, first = np.unique(out, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        todo = np.flatnonzero(~keep)
    return np.char.zfill(out.astype(str), 10)

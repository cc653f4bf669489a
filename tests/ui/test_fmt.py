"""Korean number conventions (억원, 만원), English, and the plain-number option."""
from __future__ import annotations

import pytest

from ui.fmt import money, num, pct


@pytest.mark.parametrize(("krw", "ko", "en", "plain"), [
    (0, "0원", "KRW 0", "0원"),
    (9_000, "9,000원", "KRW 9,000", "9,000원"),
    (45_000_000, "4,500만원", "KRW 45 m", "45,000,000원"),
    (100_000_000, "1억원", "KRW 100 m", "100,000,000원"),
    (1_234_567_890, "12.3억원", "KRW 1.2 bn", "1,234,567,890원"),
    (2_500_000_000_000, "2.5조원", "KRW 2.5 tn", "2,500,000,000,000원"),
    (-300_000_000, "-3억원", "KRW -300 m", "-300,000,000원"),
])
def test_money(krw: int, ko: str, en: str, plain: str) -> None:
    assert money(krw, "ko") == ko
    assert money(krw, "en") == en
    assert money(krw, "ko", plain=True) == plain


@pytest.mark.parametrize(("n", "ko", "en"), [
    (3_012, "3,012", "3,012"),
    (301_234, "30.1만", "301,234"),
    (8_300_000, "830만", "8.3M"),
    (123_456_789, "1.2억", "123.5M"),
    (2_000_000_000, "20억", "2B"),
])
def test_num(n: int, ko: str, en: str) -> None:
    assert num(n, "ko") == ko
    assert num(n, "en") == en
    assert num(n, "ko", plain=True) == f"{n:,}"


def test_missing_and_suppressed_values() -> None:
    assert money(None) == num(float("nan")) == pct(None) == "–"
    assert money("<5") == num("<5") == pct("<5") == "<5"
    assert pct(0.287) == "28.7%" and pct(0.5, 0) == "50%"

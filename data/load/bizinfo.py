"""기업마당 (bizinfo.go.kr) announcement exports -> rows of ``programs``.

The open API answers ``{"jsonArray": [...]}``, one object per announcement (field names in
``shared/facts/programs_and_brokers.md``). This module only translates fields; values come out as
text in the same shape as a programs CSV (lists ``|``-joined), so that load.py types and validates
them with the same SQL as any other file and reports errors under the source's field names.

Translation rules:
* ``reqstBeginEndDe``: ``YYYY-MM-DD ~ YYYY-MM-DD`` (also ``YYYY.MM.DD`` or ``YYYYMMDD``) gives the
  window; free text (상시, 추후 공지, 사업별 상이) leaves the dates empty; 상시 sets always_open. The
  original text is always kept in window_text.
* Older exports join multi-values with ``@`` (``기술@금융``): the first support field is the category.
* Region short names (서울, 부산, ...) among ``hashtags`` (and ``areaNm`` when present) become
  target_regions; other hashtags (fields, agencies) are ignored. 전국 means no restriction.
* ``industNm`` like ``제조업(10~34)`` maps to the KSIC sections whose divisions overlap the range.
"""
from __future__ import annotations

import html
import json
import re

from data.load.errors import IssueList

# programs column -> the 기업마당 field it comes from (used in error messages)
SOURCE_FIELDS = {
    "program_id": "pblancId", "title": "pblancNm", "ministry": "jrsdInsttNm", "agency": "excInsttNm",
    "category": "pldirSportRealmLclasCodeNm", "subcategory": "pldirSportRealmMlsfcCodeNm",
    "opens_on": "reqstBeginEndDe", "closes_on": "reqstBeginEndDe", "window_text": "reqstBeginEndDe",
    "target_sizes": "trgetNm", "target_regions": "hashtags", "target_industries": "industNm",
    "url": "pblancUrl", "summary": "bsnsSumryCn",
}
COLUMNS = ("program_id", "title", "ministry", "agency", "category", "subcategory", "ai_related", "opens_on",
           "closes_on", "always_open", "window_text", "target_sizes", "target_regions", "target_industries",
           "url", "summary", "source")
_CATEGORY_CODES = {f"PLD000{i + 1}": c for i, c in enumerate(("금융", "기술", "인력", "수출", "내수", "창업", "경영", "기타"))}
_SIZES = {"소상공인": ["micro"], "소기업": ["small"], "중기업": ["medium"], "중소기업": ["micro", "small", "medium"],
          "중견기업": ["midsize"], "대기업": ["large"]}
_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})|(\d{4})(\d{2})(\d{2})")
_DIVISIONS = re.compile(r"\(\s*(\d{1,2})\s*(?:[~\-]\s*(\d{1,2})\s*)?\)")
_AI = re.compile(r"(?<![A-Za-z])AI(?![A-Za-z])|인공지능")
_SITE = "https://www.bizinfo.go.kr"


def _text(item: dict, key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _split(value: str | None, seps: str = "@") -> list[str]:
    if not value:
        return []
    return [t.strip().lstrip("#") for t in re.split(f"[{re.escape(seps)}]", value) if t.strip().lstrip("#")]


def _dates(window: str | None) -> tuple[str | None, str | None]:
    """(opens_on, closes_on) as YYYY-MM-DD text; SQL checks that they are real dates."""
    if not window:
        return None, None
    found = []
    for m in _DATE.finditer(window):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        found.append(f"{y}-{int(mo):02d}-{int(d):02d}")
    if "~" in window:
        before, after = window.split("~", 1)
        opens = found[0] if found and _DATE.search(before) else None
        closes = found[-1] if _DATE.search(after) else None
        return opens, closes
    return (found[0], found[0]) if len(found) == 1 else (None, None)


def _industries(value: str | None, sections: list[tuple], row: int, file: str, issues: IssueList) -> list[str]:
    out: list[str] = []
    for token in _split(value, "@,"):
        m = _DIVISIONS.search(token)
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2) or lo)
            hits = [s for s, _, a, b in sections if a <= hi and b >= lo]
        else:
            name = token.strip()
            hits = [s for s, ko, _, _ in sections if name in (s, ko)]
        if not hits:
            issues.add(file, row, "target_industries (industNm)", token,
                       "cannot map to a KSIC section (expected e.g. 제조업(10~34) or a section name)")
        out += [s for s in hits if s not in out]
    return out


def _row(item: dict, row: int, file: str, regions: dict[str, str], sections: list[tuple], issues: IssueList) -> dict:
    window = _text(item, "reqstBeginEndDe")
    opens, closes = _dates(window)
    fields = _split(_text(item, "pldirSportRealmLclasCodeNm"))
    category = _CATEGORY_CODES.get(fields[0], fields[0]) if fields else None
    region_tokens = _split(_text(item, "hashtags"), ",@") + _split(_text(item, "areaNm"), ",@")
    region_codes = list(dict.fromkeys(regions[t] for t in region_tokens if t in regions))
    sizes = [s for t in _split(_text(item, "trgetNm"), "@,/·") for s in _SIZES.get(t, [])]
    summary = _text(item, "bsnsSumryCn")
    if summary:
        summary = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", summary))).strip() or None
    title = _text(item, "pblancNm")
    url = _text(item, "pblancUrl")
    sub = _text(item, "pldirSportRealmMlsfcCodeNm")
    return {
        "program_id": _text(item, "pblancId"),
        "title": title,
        "ministry": _text(item, "jrsdInsttNm"),
        # Many announcements name no separate executing agency: the ministry runs them itself.
        "agency": _text(item, "excInsttNm") or _text(item, "jrsdInsttNm"),
        "category": category,
        "subcategory": ", ".join(_split(sub)) or None,
        "ai_related": "true" if _AI.search(f"{title or ''} {summary or ''}") else "false",
        "opens_on": opens,
        "closes_on": closes,
        "always_open": "true" if window and "상시" in window else "false",
        "window_text": window,
        "target_sizes": "|".join(dict.fromkeys(sizes)),
        "target_regions": "|".join(region_codes),
        "target_industries": "|".join(_industries(_text(item, "industNm"), sections, row, file, issues)),
        "url": _SITE + url if url and url.startswith("/") else url,
        "summary": summary,
        "source": "bizinfo",
    }


def parse(text: str, file: str, regions: dict[str, str], sections: list[tuple], issues: IssueList) -> list[dict] | None:
    """Rows for ``programs`` from an export's text, or None when the file is not usable JSON.

    ``regions`` maps short and full Korean names to region codes; ``sections`` holds
    (ksic_section, name_ko, division_from, division_to) from the industries table.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        issues.add(file, None, None, None,
                   f"invalid JSON, cut off or damaged at line {err.lineno}, column {err.colno}: {err.msg}")
        return None
    items = doc.get("jsonArray") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        issues.add(file, None, None, None, 'not a 기업마당 export: expected an object with a "jsonArray" list')
        return None
    bad = [n for n, item in enumerate(items, start=1) if not isinstance(item, dict)]
    for number in bad:
        issues.add(file, number, None, str(items[number - 1])[:40], "an announcement must be a JSON object")
    if bad:
        return None
    return [_row(item, number, file, regions, sections, issues) for number, item in enumerate(items, start=1)]

"""기업마당 (bizinfo.go.kr) announcement exports, as published -> rows of ``programs``.

The open API answers ``{"jsonArray": [...]}``, one object per announcement (field names in
``shared/facts/programs_and_brokers.md``). Two generations of the field set exist: older exports
carry ``areaNm``, ``industNm``, ``trgetNm`` (and sometimes ``entrprsStle``) with ``@``-joined
values; newer ones carry ``hashtags`` (a comma list mixing support fields, region short names and
agencies) instead of ``areaNm``. Both are read. This module only translates fields; values come out
as text in the same shape as a programs CSV (lists ``|``-joined), so that load.py types and
validates them with the same SQL as any other file and reports errors under the source's field names.

A value that has a sensible reading but not the one the schema asks for is not an error: it becomes a
documented fallback, the original is kept, and the row is counted under the rule's name
(:data:`FALLBACKS`; the import summary reports the counts). Only what cannot be read at all is an
error (an impossible date, an unknown region in ``areaNm``, an industry that names no KSIC section),
and the error quotes the source's own value.
"""
from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from data.load.errors import IssueList

# report(column, message, value=None): record an issue for the current row, quoting the source's value
Report = Callable[..., None]

# programs column -> the 기업마당 field it comes from (used in error messages); target_regions is
# areaNm in older exports and hashtags in newer ones (see :func:`parse`).
SOURCE_FIELDS = {
    "program_id": "pblancId", "title": "pblancNm", "ministry": "jrsdInsttNm", "agency": "excInsttNm",
    "agency_raw": "excInsttNm", "category": "pldirSportRealmLclasCodeNm",
    "category_raw": "pldirSportRealmLclasCodeNm", "subcategory": "pldirSportRealmMlsfcCodeNm",
    "opens_on": "reqstBeginEndDe", "closes_on": "reqstBeginEndDe", "window_text": "reqstBeginEndDe",
    "always_open": "reqstBeginEndDe", "target_sizes": "trgetNm", "target_groups": "trgetNm",
    "target_regions": "areaNm", "target_industries": "industNm", "url": "pblancUrl", "summary": "bsnsSumryCn",
    "contact_office": "rceptInsttChargerDeptNm", "contact_phone": "rceptInsttTelno",
    "contact_email": "rceptInsttEmailAdres", "posted_at": "creatPnttm",
}
COLUMNS = ("program_id", "title", "ministry", "agency", "agency_raw", "category", "category_raw", "subcategory",
           "ai_related", "opens_on", "closes_on", "always_open", "window_text", "target_sizes", "target_groups",
           "target_regions", "target_industries", "url", "summary", "contact_office", "contact_phone",
           "contact_email", "posted_at", "source")

# The fallback rules, by the name the import summary counts them under.
FALLBACKS: dict[str, str] = {
    "category_next_field": "지원분야 starts with a field outside the eight (제도, 동반성장, ...): the first of the "
                           "eight in the list is the category; the whole original is kept in category_raw",
    "category_other": "지원분야 names none of the eight (or none at all): category 기타, original kept in category_raw",
    "window_always": "reqstBeginEndDe is free text for an open-ended call (상시, 수시, 연중, 예산 소진시까지, "
                     "선착순, 모집 완료시까지): always_open, no dates, text kept in window_text",
    "window_unknown": "reqstBeginEndDe is free text without dates (추후 공지, 사업별 상이, 익월 10일까지, ...): "
                      "no dates, not open-ended, text kept in window_text",
    "window_one_side": "reqstBeginEndDe dates only one end of the window: the other end stays empty",
    "agency_ministry_runs_it": "excInsttNm is the placeholder 직접수행 (the ministry runs it): the agency is the "
                               "ministry, the placeholder kept in agency_raw",
    "agency_local_governments": "excInsttNm is the placeholder 기초자치단체 (the 시군구 of the ministry's region): the "
                                "agency is the ministry (the 시도), the placeholder kept in agency_raw",
    "agency_missing": "no excInsttNm: the agency is the ministry",
    "target_groups": "trgetNm / entrprsStle name target groups that are not sizes (창업벤처, 사회적기업, 여성기업, "
                     "협동조합, ...): kept in target_groups; sizes come from the size names alone",
    "regions_every": "the regions list every 시도 (or 전국): no regional restriction (empty target_regions)",
    "industries_every": "industNm lists every KSIC section: no industry restriction (empty target_industries)",
}

_CATEGORIES = ("금융", "기술", "인력", "수출", "내수", "창업", "경영", "기타")
_CATEGORY_CODES = {f"PLD000{i + 1}": c for i, c in enumerate(_CATEGORIES)}
_SIZES = {"소상공인": ["micro"], "소기업": ["small"], "중기업": ["medium"], "중소기업": ["micro", "small", "medium"],
          "중견기업": ["midsize"], "대기업": ["large"]}
# Placeholders that excInsttNm holds instead of an agency's name, and the fallback each one counts as.
_AGENCY_PLACEHOLDERS = {"직접수행": "agency_ministry_runs_it", "기초자치단체": "agency_local_governments"}
# Region names older exports (and older 시도 names) use besides regions.short_ko / name_ko.
_REGION_ALIASES = {"강원도": "51", "전라북도": "52", "제주도": "50", "세종시": "36"}
_NATIONWIDE = {"전국"}
# Free-text windows that mean "open until further notice" (the call runs until its budget or quota is used).
_OPEN_ENDED = re.compile(r"상시|수시|연중|소진|선착순|완료\s*시|마감\s*시")
_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_DIVISIONS = re.compile(r"\(\s*(\d{1,2})\s*(?:[~\-]\s*(\d{1,2})\s*)?\)")
_AI = re.compile(r"(?<![A-Za-z])AI(?![A-Za-z])|인공지능")
_SITE = "https://www.bizinfo.go.kr"


@dataclass
class Parsed:
    """An export's rows and how many of them used each fallback rule."""

    rows: list[dict]
    fallbacks: Counter = field(default_factory=Counter)
    region_field: str = "areaNm"


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


def _window(window: str | None, used: set[str], report: Report) -> tuple[str | None, str | None, bool]:
    """(opens_on, closes_on, always_open) from reqstBeginEndDe; impossible dates are reported."""
    if not window:
        return None, None, False
    found: list[tuple[int, str | None]] = []
    for m in _DATE.finditer(window):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        try:
            found.append((m.start(), date(int(y), int(mo), int(d)).isoformat()))
        except ValueError:
            report("opens_on", "not a date (expected YYYY-MM-DD ~ YYYY-MM-DD)")
            return None, None, False
    if not found:
        if _OPEN_ENDED.search(window):
            used.add("window_always")
            return None, None, True
        used.add("window_unknown")
        return None, None, False
    tilde = window.find("~")
    if tilde < 0:
        opens = closes = found[0][1] if len(found) == 1 else None
        if len(found) > 1:
            opens, closes = found[0][1], found[-1][1]
    else:
        opens = next((d for pos, d in found if pos < tilde), None)
        closes = next((d for pos, d in reversed(found) if pos > tilde), None)
    if opens is None or closes is None:
        used.add("window_one_side")
    return opens, closes, False


def _category(value: str | None, used: set[str]) -> str:
    fields = [_CATEGORY_CODES.get(f, f) for f in _split(value, "@,")]
    known = [f for f in fields if f in _CATEGORIES]
    if fields and known and fields[0] == known[0]:
        return known[0]
    used.add("category_next_field" if known else "category_other")
    return known[0] if known else "기타"


def _industries(value: str | None, sections: list[tuple], used: set[str], report: Report) -> list[str]:
    """KSIC sections of industNm. Official section names contain commas (농업, 임업 및 어업), so the
    division ranges ("(01~03)") are read first; a token without one is matched by name."""
    if not value:
        return []
    names = {re.sub(r"\s+", "", ko): s for s, ko, _, _ in sections}
    out: list[str] = []
    for token in _split(value, "@"):
        ranges = _DIVISIONS.findall(token)
        if ranges:
            for lo_text, hi_text in ranges:
                lo, hi = int(lo_text), int(hi_text or lo_text)
                hits = [s for s, _, a, b in sections if a <= hi and b >= lo]
                if not hits:
                    report("target_industries", "cannot map to a KSIC section (no section has these divisions)", token)
                out += hits
            continue
        parts, pending = [p.strip() for p in token.split(",")], ""
        for part in parts:  # rejoin comma pieces until they form a section name
            pending = f"{pending}, {part}" if pending else part
            key = re.sub(r"\s+", "", pending)
            if key in names or pending in names.values():
                out.append(names.get(key, pending))
                pending = ""
        if pending:
            report("target_industries", "cannot map to a KSIC section (expected e.g. 제조업(10~34) or a section name)",
                   pending)
    out = list(dict.fromkeys(out))
    if len(out) == len(sections):
        used.add("industries_every")
        return []
    return out


def _regions(item: dict, regions: dict[str, str], used: set[str], report: Report) -> list[str]:
    codes: list[str] = []
    nationwide = False
    for token in _split(_text(item, "areaNm"), "@,"):  # older exports: every token must be a region
        if token in _NATIONWIDE:
            nationwide = True
        elif token in regions:
            codes.append(regions[token])
        else:
            report("target_regions", "not a 시도 name (expected e.g. 서울, 경기, 전국)", token)
    for token in _split(_text(item, "hashtags"), ",@"):  # newer: hashtags mix fields, agencies and regions
        if token in _NATIONWIDE:
            nationwide = True
        elif token in regions:
            codes.append(regions[token])
    codes = list(dict.fromkeys(codes))
    if nationwide or len(codes) == len(set(regions.values())):
        used.add("regions_every")
        return []
    return codes


def _targets(item: dict, used: set[str]) -> tuple[list[str], list[str]]:
    """(sizes, groups): size names become size classes, every other target name is a target group."""
    sizes: list[str] = []
    groups: list[str] = []
    for token in _split(_text(item, "trgetNm"), "@,/·") + _split(_text(item, "entrprsStle"), "@,/·"):
        if token in _SIZES:
            sizes += _SIZES[token]
        else:
            groups.append(token)
    if groups:
        used.add("target_groups")
    return list(dict.fromkeys(sizes)), list(dict.fromkeys(groups))


def _clean_list(values: list[str]) -> str:
    # CSV-shaped lists are |-joined; a | inside a source value would split it
    return "|".join(v.replace("|", "/") for v in values)


def _row(item: dict, number: int, file: str, regions: dict[str, str], sections: list[tuple], issues: IssueList,
         counts: Counter, region_field: str) -> dict:
    used: set[str] = set()

    def report(column: str, message: str, value: str | None = None) -> None:
        src = SOURCE_FIELDS[column] if column != "target_regions" else region_field
        issues.add(file, number, f"{column} ({src})", value if value is not None else _text(item, src), message)

    window = _text(item, "reqstBeginEndDe")
    opens, closes, always = _window(window, used, report)
    category_raw = _text(item, "pldirSportRealmLclasCodeNm")
    sizes, groups = _targets(item, used)
    summary = _text(item, "bsnsSumryCn")
    if summary:
        summary = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", summary))).strip() or None
    title = _text(item, "pblancNm")
    ministry = _text(item, "jrsdInsttNm")
    agency_raw = _text(item, "excInsttNm")
    if agency_raw in _AGENCY_PLACEHOLDERS:
        used.add(_AGENCY_PLACEHOLDERS[agency_raw])
        agency = ministry
    elif agency_raw is None:
        used.add("agency_missing")
        agency = ministry
    else:
        agency = agency_raw
    url = _text(item, "pblancUrl")
    row = {
        "program_id": _text(item, "pblancId"),
        "title": title,
        "ministry": ministry,
        "agency": agency,
        "agency_raw": agency_raw,
        "category": _category(category_raw, used),
        "category_raw": category_raw,
        "subcategory": ", ".join(_split(_text(item, "pldirSportRealmMlsfcCodeNm"))) or None,
        "ai_related": "true" if _AI.search(f"{title or ''} {summary or ''}") else "false",
        "opens_on": opens,
        "closes_on": closes,
        "always_open": "true" if always else "false",
        "window_text": window,
        "target_sizes": _clean_list(sizes),
        "target_groups": _clean_list(groups),
        "target_regions": _clean_list(_regions(item, regions, used, report)),
        "target_industries": _clean_list(_industries(_text(item, "industNm"), sections, used, report)),
        "url": _SITE + url if url and url.startswith("/") else url,
        "summary": summary,
        "contact_office": _text(item, "rceptInsttChargerDeptNm") or _text(item, "refrncNm"),
        "contact_phone": _text(item, "rceptInsttTelno"),
        "contact_email": _text(item, "rceptInsttEmailAdres"),
        "posted_at": _text(item, "creatPnttm"),
        "source": "bizinfo",
    }
    counts.update(used)
    return row


def parse(text: str, file: str, regions: dict[str, str], sections: list[tuple], issues: IssueList) -> Parsed | None:
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
    regions = {**_REGION_ALIASES, **regions}
    region_field = "areaNm" if any("areaNm" in item for item in items) or not any("hashtags" in item for item in items) \
        else "hashtags"
    out = Parsed([], Counter(), region_field)
    out.rows = [_row(item, number, file, regions, sections, issues, out.fallbacks, region_field)
                for number, item in enumerate(items, start=1)]
    return out

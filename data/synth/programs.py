"""Synthetic support programs (지원사업 공고) of the ministries, their agencies and the 17 지자체.

2,700 programs at scale >= 1 (the number of national programs does not grow with the data); fewer,
but every agency kind and category, at small scales. Titles reuse the real program names in
``data/facts/program_examples.csv`` and read like 기업마당 announcements. Besides the table the
generator returns each program's popularity (how many applications it attracts), which the
application generator uses and which is not stored.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from data import facts
from data.synth.firms import SECTIONS

CATEGORIES = ["금융", "기술", "인력", "수출", "내수", "창업", "경영", "기타"]
FULL_PROGRAMS = 2700
# Applications cover the 3 years before as_of; program windows start from here.
WINDOW_START = date(2023, 11, 1)

# (ministry, agency, relative number of programs, category mix, channel, eligible sizes)
_SME = ["micro", "small", "medium"]
_AGENCIES = [
    ("중소벤처기업부", "중소벤처기업진흥공단", 10, {"금융": .45, "수출": .2, "경영": .15, "인력": .1, "기술": .1}, "MSS03", _SME),
    ("중소벤처기업부", "소상공인시장진흥공단", 9, {"금융": .3, "경영": .35, "내수": .25, "창업": .1}, "MSS09", ["micro"]),
    ("중소벤처기업부", "기술보증기금", 4, {"금융": .85, "기술": .15}, "MSS15", _SME),
    ("금융위원회", "신용보증기금", 3, {"금융": 1.0}, "GOV07", _SME + ["midsize"]),
    ("중소벤처기업부", "창업진흥원", 6, {"창업": .85, "기술": .1, "수출": .05}, "MSS02", _SME),
    ("중소벤처기업부", "중소기업기술정보진흥원(TIPA)", 7, {"기술": .9, "경영": .1}, "MSS17", _SME),
    ("중소벤처기업부", "중소기업유통센터", 3, {"내수": .8, "수출": .2}, "MSS21", _SME),
    ("중소벤처기업부", "지방중소벤처기업청", 4, {"기타": .5, "경영": .3, "기술": .2}, "MSS34", _SME),
    ("중소벤처기업부", "신용보증재단중앙회", 3, {"금융": 1.0}, "MSS29", ["micro", "small"]),
    ("중소벤처기업부", "대·중소기업·농어업협력재단", 2, {"기타": .5, "기술": .3, "경영": .2}, "MSS25", []),
    ("중소벤처기업부", "한국엔젤투자협회", 1, {"기술": .7, "창업": .3}, "MSS02", _SME),
    ("과학기술정보통신부", "정보통신산업진흥원(NIPA)", 4, {"기술": .8, "창업": .1, "수출": .1}, "GOV03", _SME),
    ("과학기술정보통신부", "한국데이터산업진흥원", 2, {"기술": 1.0}, "GOV04", _SME),
    ("산업통상자원부", "KOTRA", 4, {"수출": 1.0}, "GOV05", _SME + ["midsize"]),
    ("산업통상자원부", "한국산업기술기획평가원(KEIT)", 4, {"기술": 1.0}, "GOV06", []),
    ("고용노동부", "한국산업인력공단", 3, {"인력": 1.0}, "GOV01", []),
    ("고용노동부", "고용노동부", 3, {"인력": 1.0}, "GOV01", _SME),
    ("농림축산식품부", "농업정책보험금융원", 1, {"창업": .6, "금융": .4}, "GOV08", _SME),
    ("문화체육관광부", "한국관광공사", 1, {"창업": .6, "경영": .4}, "GOV09", _SME),
    ("문화체육관광부", "한국콘텐츠진흥원", 1, {"금융": .5, "창업": .5}, "GOV10", _SME),
]
_LOCAL_SHARE = 0.45  # programs of the 17 시도 and their agencies
_LOCAL_MIX = {"금융": .22, "경영": .2, "창업": .15, "내수": .15, "수출": .1, "기술": .1, "인력": .05, "기타": .03}
_LOCAL_AGENCY = {"금융": "신용보증재단", "수출": "경제진흥원", "기술": "테크노파크", "창업": "창조경제혁신센터"}

_TOPICS = {
    "금융": ["경영안정자금 융자", "시설자금 융자", "특례보증", "이차보전 지원", "긴급경영안정자금", "창업기업 보증"],
    "기술": ["기술개발 지원", "R&D 바우처", "스마트공장 보급확산", "시제품 제작 지원", "디지털 전환 지원", "특허 기술사업화"],
    "인력": ["청년 인턴 채용 지원", "기술인력 양성", "재직자 직무교육", "일자리 안정 지원"],
    "수출": ["해외시장 개척 지원", "수출 바우처", "해외 전시회 참가 지원", "글로벌 온라인몰 입점 지원", "해외 인증 획득 지원"],
    "내수": ["판로 개척 지원", "온라인 판로 지원", "공공구매 상담회", "라이브커머스 지원", "전통시장 활성화 지원"],
    "창업": ["창업 사업화 지원", "청년 창업 지원", "창업보육센터 입주기업 모집", "예비창업자 지원", "재도전 창업 지원"],
    "경영": ["경영 컨설팅 지원", "소상공인 경영 개선", "디지털 전환 컨설팅", "ESG 경영 지원", "스마트상점 기술 보급"],
    "기타": ["지역특화산업 육성", "상생협력 지원", "작업환경 개선 지원", "안전·환경 개선 지원"],
}
_AI_TOPICS = ["AI 바우처", "AI 솔루션 도입 지원", "제조AI 특화 스마트공장", "생성형 AI 활용 지원", "AI 활용 역량 교육"]
_SUFFIX = ["", " 공고", " 참여기업 모집", " (2차) 공고", " 지원사업 공고", " 모집 공고"]
_MAX_AWARD = {"금융": [1e8, 2e8, 3e8, 5e8, 1e9], "기술": [5e7, 1e8, 2e8, 3e8, 5e8], "창업": [3e7, 5e7, 1e8],
              "수출": [1e7, 3e7, 5e7, 1e8], "인력": [5e6, 1e7, 2e7], "내수": [5e6, 1e7, 3e7],
              "경영": [3e6, 5e6, 1e7, 2e7], "기타": [1e7, 3e7]}
_DOCS_MEAN = {"금융": 9.6, "기술": 10.6, "창업": 8.7, "수출": 7.8, "인력": 6.3, "내수": 6.3, "경영": 6.8, "기타": 7.3}
_POPULARITY = {"금융": 2.0, "창업": 1.3, "경영": 1.2, "내수": 1.0, "기술": 0.8, "수출": 0.7, "인력": 0.8, "기타": 0.5}
# Opening months peak in the first quarter, when most annual programs are announced.
_MONTH_WEIGHT = np.array([3.0, 2.4, 2.0, 1.2, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.6, 0.4])


def _examples() -> pd.DataFrame:
    return pd.read_csv(facts.PROGRAM_EXAMPLES_CSV)


def n_programs(scale: float) -> int:
    return max(64, round(FULL_PROGRAMS * min(1.0, scale) ** 0.5))


def _opening_dates(rng: np.random.Generator, n: int, as_of: date) -> np.ndarray:
    """Opening dates from WINDOW_START to two months after as_of, weighted by month."""
    days = np.arange(np.datetime64(WINDOW_START), np.datetime64(as_of) + 61)
    month = days.astype("datetime64[M]").astype(int) % 12
    w = _MONTH_WEIGHT[month]
    return rng.choice(days, n, p=w / w.sum())


def generate(rng: np.random.Generator, scale: float, as_of: date,
             regions: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(programs table, popularity per program)."""
    n = n_programs(scale)
    examples = _examples()
    n_local = round(n * _LOCAL_SHARE)
    ag_w = np.array([a[2] for a in _AGENCIES], float)
    ag_idx = rng.choice(len(_AGENCIES), n - n_local, p=ag_w / ag_w.sum())
    # the first programs cycle through every national agency and category so small builds cover all
    ag_idx[: len(_AGENCIES)] = np.arange(len(_AGENCIES))
    reg = regions.sort_values("region_code").reset_index(drop=True)
    reg_rows = reg.to_dict("records")
    by_agency_cat = examples.groupby(["agency", "category"])["title"].agg(list).to_dict()
    reg_w = reg["smes_2021"].to_numpy(float) ** 0.5
    loc_idx = rng.choice(len(reg), n_local, p=reg_w / reg_w.sum())
    loc_idx[: len(reg)] = np.arange(len(reg))

    opens = _opening_dates(rng, n, as_of)
    tau = (opens - np.datetime64(WINDOW_START)).astype(int) / 1096.0  # 0..1 over the 3 years
    rows = []
    for i in range(n):
        local = i >= n - n_local
        if local:
            r = reg_rows[loc_idx[i - (n - n_local)]]
            cats = _LOCAL_MIX
            ministry = r["name_ko"]
            sizes, channel = _SME, ("LOC03" if rng.random() < 0.3 else "LOC02" if rng.random() < 0.6 else "LOC01")
        else:
            ministry, agency, _, cats, channel, sizes = _AGENCIES[ag_idx[i]]
        cat_names = list(cats)
        cat_p = np.array([cats[c] for c in cat_names])
        cat = CATEGORIES[i % 8] if i < 8 and not local else cat_names[rng.choice(len(cat_names), p=cat_p / cat_p.sum())]
        if local:
            agency = f"{r['short_ko']}{_LOCAL_AGENCY.get(cat, '경제진흥원')}" if rng.random() < 0.7 else ministry
            if cat == "금융":
                channel = "LOC03"
        ai = rng.random() < (0.22 if cat == "기술" else 0.05 if cat in ("경영", "인력", "창업") else 0.0)
        ex = by_agency_cat.get((agency, cat), [])
        year = int(str(opens[i])[:4])
        if ai:
            topic = _AI_TOPICS[rng.integers(len(_AI_TOPICS))]
        elif len(ex) and rng.random() < 0.6:
            topic = ex[rng.integers(len(ex))]
        else:
            topic = _TOPICS[cat][rng.integers(len(_TOPICS[cat]))]
        where = f"{r['short_ko']} " if local else ""
        title = f"{year}년 {where}{topic}{_SUFFIX[rng.integers(len(_SUFFIX))]}"

        always = cat == "금융" and rng.random() < 0.35 or rng.random() < 0.04
        length = int(rng.integers(30, 120) if cat == "금융" else rng.integers(14, 60))
        o = None if always else opens[i]
        c = None if always else opens[i] + np.timedelta64(length, "D")

        target_industries: list[str] = []
        min_age = max_age = None
        certs: list[str] = []
        if cat == "창업":
            min_age, max_age = [(None, 7), (None, 3), (3, 7), (None, 7)][rng.integers(4)]
        if cat == "기술" and rng.random() < 0.25:
            target_industries = ["C"] if rng.random() < 0.5 else ["C", "J", "M"]
        if agency == "한국관광공사":
            target_industries = ["I", "R"]
        if cat in ("기술", "금융", "수출") and rng.random() < 0.08:
            certs = ["venture" if rng.random() < 0.6 else "innobiz"]
        if cat in ("인력", "경영") and rng.random() < 0.05:
            certs = ["women"]
        docs = int(np.clip(round(rng.normal(_DOCS_MEAN[cat], 1.5)), 4, 16))
        link_rate = float(np.clip(rng.normal(0.43, 0.12) + 0.16 * (tau[i] - 0.5), 0.05, 0.9))
        max_award = int(_MAX_AWARD[cat][rng.integers(len(_MAX_AWARD[cat]))])
        rows.append({
            "program_id": f"PBLN_{100001 + i:012d}", "title": title, "ministry": ministry, "agency": agency,
            "category": cat, "subcategory": topic if topic in _TOPICS[cat] else None, "ai_related": ai,
            "budget_krw": int(max_award * rng.integers(20, 400) * (1 if local else 3)),
            "opens_on": o, "closes_on": c, "always_open": always,
            "window_text": "상시" if always else f"{o} ~ {c}", "channel_id": channel,
            "docs_required": docs, "docs_auto_linked": round(docs * link_rate), "max_award_krw": max_award,
            "target_sizes": [] if rng.random() < 0.25 and "micro" not in sizes[:1] else list(sizes),
            "target_regions": [r["region_code"]] if local else [],
            "target_industries": target_industries, "min_age_years": min_age, "max_age_years": max_age,
            "required_certs": certs,
            "url": f"https://www.bizinfo.go.kr/web/lay1/bbs/S1T122C128/AS/74/view.do?pblancId=PBLN_{100001 + i:012d}",
            "summary": f"{ministry} {agency}의 {cat} 분야 지원사업: {topic}", "source": "synthetic",
        })
    table = pd.DataFrame(rows)
    for col in ("opens_on", "closes_on"):
        table[col] = pd.to_datetime(table[col]).astype("datetime64[s]")
    pop = np.exp(rng.normal(0, 0.9, n)) * table["category"].map(_POPULARITY).to_numpy() \
        * np.where(table["target_regions"].str.len() > 0, 0.9, 1.5) * np.where(table["always_open"], 2.0, 1.0)
    assert set(SECTIONS) >= {s for lst in table["target_industries"] for s in lst}
    # drawn after everything else, so that the other columns and the popularity keep their values
    table = pd.concat([table, _bands(rng, table)], axis=1)
    return table, pop


def _bands(rng: np.random.Generator, table: pd.DataFrame) -> pd.DataFrame:
    """Sales and employee limits (NULL = none; most programs have none), at the sales-band edges of
    the announcements (5억, 10억, 50억, 100억, 300억) so that a band picked on the page decides alike.

    Small-merchant programs are capped (상시근로자 5인 미만, 매출 10억원 이하), as are some local loans;
    hiring programs need staff (5인 이상); some export and technology programs want a track record
    (매출 10억 / 50억원 이상), and programs open to 중견기업 sometimes stop at 300억원.
    """
    n = len(table)
    cat, agency = table["category"].to_numpy(), table["agency"].to_numpy()
    local = (table["target_regions"].str.len() > 0).to_numpy()
    merchant = np.isin(agency, ["소상공인시장진흥공단", "신용보증재단중앙회"])
    midsize = table["target_sizes"].map(lambda s: "midsize" in s).to_numpy()
    u = rng.random((5, n))
    none = np.full(n, np.nan)
    max_emp = np.where(merchant & (u[0] < 0.5), 4, np.where(local & (cat == "금융") & (u[0] < 0.3), 9, none))
    min_emp = np.where((cat == "인력") & (u[1] < 0.4), 5, none)
    max_rev = np.select([merchant & (u[2] < 0.3), local & (cat == "금융") & (u[2] < 0.25), midsize & (u[2] < 0.3)],
                        [1e9, 5e9, 3e10], np.nan)
    min_rev = np.select([(cat == "수출") & (u[3] < 0.3), (cat == "기술") & ~midsize & (u[4] < 0.1)], [1e9, 5e9], np.nan)
    # a capped program never asks for more than its cap (a small-merchant loan that is also an export or
    # hiring program keeps the cap): without this, some seeds drew min > max and broke the table's check
    min_rev = np.where(min_rev > max_rev, np.nan, min_rev)
    min_emp = np.where(min_emp > max_emp, np.nan, min_emp)
    return pd.DataFrame({"min_revenue_krw": min_rev, "max_revenue_krw": max_rev,
                         "min_employees": min_emp, "max_employees": max_emp}).astype("Int64")


# What a real announcement does not say and the synthetic world needs: drawn from a synthetic program
# of the same field (its "donor").
_DONOR_COLUMNS = ("channel_id", "docs_required", "docs_auto_linked", "budget_krw", "max_award_krw")


def around_real(rng: np.random.Generator, real: pd.DataFrame, synthetic: pd.DataFrame, popularity: np.ndarray,
                as_of: date) -> tuple[pd.DataFrame, np.ndarray]:
    """A real catalogue (rows of ``programs``, e.g. an imported 기업마당 export) made ready for the
    synthetic world, with each program's popularity.

    The real names, agencies, fields, targets and texts are kept. Each real program takes its channel,
    documents, budget, award and popularity from a synthetic program of the same field (any field
    when there is none). Applications span the 3 years before ``as_of``, so dated windows are moved by
    whole years into that period (same months and days), and windows the source gives only as text
    (추후 공지, 사업별 상이) take the donor's dates; open-ended calls stay open-ended.
    """
    out = real.reset_index(drop=True).copy()
    cats = synthetic["category"].to_numpy()
    donors = np.array([rng.choice(np.flatnonzero(cats == c)) if (cats == c).any() else rng.integers(len(cats))
                       for c in out["category"].astype(str)])
    for col in _DONOR_COLUMNS:
        out[col] = synthetic[col].to_numpy()[donors]
    opens = pd.to_datetime(out["opens_on"])
    closes = pd.to_datetime(out["closes_on"])
    dated = opens.notna() & closes.notna() & ~out["always_open"].astype(bool)
    start = pd.Timestamp(WINDOW_START)
    years = np.where(dated, np.ceil((start - opens).dt.days.fillna(0) / 365.25).clip(lower=0), 0).astype(int)
    # not past as_of either: a window moved beyond it would have no applications
    years = np.where(dated & (opens + pd.to_timedelta(years * 365.25, "D") > pd.Timestamp(as_of)), years - 1, years)
    shift = pd.Series([pd.DateOffset(years=int(y)) for y in years])
    moved_o = [o + s if d else None for o, s, d in zip(opens, shift, dated)]
    moved_c = [c + s if d else None for c, s, d in zip(closes, shift, dated)]
    textual = ~dated & ~out["always_open"].astype(bool)
    # datetime64 with NaT for open-ended calls, as the application generator reads windows
    out["opens_on"] = pd.to_datetime([synthetic["opens_on"].iloc[k] if t else o
                                      for o, k, t in zip(moved_o, donors, textual)])
    out["closes_on"] = pd.to_datetime([synthetic["closes_on"].iloc[k] if t else c
                                       for c, k, t in zip(moved_c, donors, textual)])
    for col in ("target_sizes", "target_regions", "target_industries", "required_certs", "target_groups"):
        out[col] = [list(v) if v is not None else [] for v in out[col]]
    return out, popularity[donors]

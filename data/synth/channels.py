"""Application channels: the ministry's 37 (MSS) channels that are being linked to the integrated
platform, and the other ministries', local governments' and offline (visit, post) channels."""
from __future__ import annotations

import pandas as pd

# (channel_id, name, agency, online). The first 37 are the MSS channels.
_MSS = [
    ("MSS01", "중소벤처24", "중소벤처기업부", True),
    ("MSS02", "K-Startup 창업지원포털", "창업진흥원", True),
    ("MSS03", "중진공 정책자금 온라인 신청", "중소벤처기업진흥공단", True),
    ("MSS04", "수출바우처 사업관리시스템", "중소벤처기업진흥공단", True),
    ("MSS05", "혁신바우처 사업관리시스템", "중소벤처기업진흥공단", True),
    ("MSS06", "청년창업사관학교 모집", "중소벤처기업진흥공단", True),
    ("MSS07", "내일채움공제", "중소벤처기업진흥공단", True),
    ("MSS08", "글로벌 강소기업 육성", "중소벤처기업진흥공단", True),
    ("MSS09", "소상공인24", "소상공인시장진흥공단", True),
    ("MSS10", "소상공인 정책자금 온라인 신청", "소상공인시장진흥공단", True),
    ("MSS11", "희망리턴패키지", "소상공인시장진흥공단", True),
    ("MSS12", "소상공인 스마트상점", "소상공인시장진흥공단", True),
    ("MSS13", "전통시장 육성 지원", "소상공인시장진흥공단", True),
    ("MSS14", "백년가게·백년소공인", "소상공인시장진흥공단", True),
    ("MSS15", "기보 디지털지점", "기술보증기금", True),
    ("MSS16", "벤처확인종합관리시스템", "기술보증기금", True),
    ("MSS17", "SMTECH 중소기업 기술개발사업", "중소기업기술정보진흥원(TIPA)", True),
    ("MSS18", "스마트공장 사업관리시스템", "중소기업기술정보진흥원(TIPA)", True),
    ("MSS19", "이노비즈 확인", "중소기업기술혁신협회", True),
    ("MSS20", "메인비즈 확인", "중소기업경영혁신협회", True),
    ("MSS21", "판판대로 판로지원", "중소기업유통센터", True),
    ("MSS22", "공공구매종합정보망", "중소기업유통센터", True),
    ("MSS23", "해외전시회 참가 지원", "중소기업중앙회", True),
    ("MSS24", "기술보호울타리", "대·중소기업·농어업협력재단", True),
    ("MSS25", "상생협력 지원", "대·중소기업·농어업협력재단", True),
    ("MSS26", "여성기업종합지원센터", "여성기업종합지원센터", True),
    ("MSS27", "장애인기업종합지원센터", "장애인기업종합지원센터", True),
    ("MSS28", "창업보육센터 네트워크시스템", "창업진흥원", True),
    ("MSS29", "보증드림 (지역신용보증)", "신용보증재단중앙회", True),
    ("MSS30", "한국벤처투자 모태펀드", "한국벤처투자", True),
    ("MSS31", "연구인력 지원", "한국산업기술진흥협회", True),
    ("MSS32", "참 괜찮은 중소기업 (인력 매칭)", "중소벤처기업진흥공단", True),
    ("MSS33", "제조AI 24", "중소기업기술정보진흥원(TIPA)", True),
    ("MSS34", "지역특화산업 지원시스템", "지방중소벤처기업청", True),
    ("MSS35", "지방중소벤처기업청 방문 접수", "지방중소벤처기업청", False),
    ("MSS36", "소상공인지원센터 방문 접수", "소상공인시장진흥공단", False),
    ("MSS37", "중진공 지역본부 방문 상담", "중소벤처기업진흥공단", False),
]
_OTHER = [
    ("GOV01", "고용24", "고용노동부", True),
    ("GOV02", "IRIS 범부처통합연구지원시스템", "과학기술정보통신부", True),
    ("GOV03", "AI바우처 사업관리시스템", "정보통신산업진흥원(NIPA)", True),
    ("GOV04", "데이터바우처 지원포털", "한국데이터산업진흥원", True),
    ("GOV05", "무역투자24", "KOTRA", True),
    ("GOV06", "산업기술 R&D 종합정보시스템", "한국산업기술기획평가원(KEIT)", True),
    ("GOV07", "신용보증기금 온라인 보증", "신용보증기금", True),
    ("GOV08", "농식품 벤처창업 지원", "농업정책보험금융원", True),
    ("GOV09", "관광기업지원센터", "한국관광공사", True),
    ("GOV10", "콘텐츠 기업 지원", "한국콘텐츠진흥원", True),
    ("LOC01", "보조금24·e나라도움 (지자체 보조사업)", "지방자치단체", True),
    ("LOC02", "지역 경제진흥원 온라인 접수", "지역 경제진흥원", True),
    ("LOC03", "지역 신용보증재단 온라인 보증", "지역 신용보증재단", True),
    ("LOC04", "시·군·구청 방문 접수", "지방자치단체", False),
    ("OFF01", "우편 접수", "각 수행기관", False),
    ("OFF02", "전자우편 접수", "각 수행기관", True),
]


def generate() -> pd.DataFrame:
    rows = [(*r, True) for r in _MSS] + [(*r, False) for r in _OTHER]
    return pd.DataFrame(rows, columns=["channel_id", "name", "agency", "online", "mss"])

"""Korean firm and CEO names that read like real ones (vectorised string assembly)."""
from __future__ import annotations

import numpy as np

# Surnames with their approximate population shares (2015 census), most common first.
SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권",
             "황", "안", "송", "류", "전", "홍", "고", "문", "양", "손", "배", "백", "허", "유", "남"]
_SURNAME_P = np.array([21.5, 14.7, 8.4, 4.7, 4.3, 2.4, 2.1, 2.1, 2.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.4,
                       1.4, 1.3, 1.3, 1.2, 1.1, 1.1, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.6, 0.6, 0.5])
GIVEN_FIRST = list("민서지현영준성수정우진동상은혜경하윤재승태연도희광형미선")
GIVEN_SECOND = list("호수민준영희진우아원석철훈숙경빈현연율자규환희식주")

_STEMS = ["한빛", "대성", "삼정", "우리", "미래", "그린", "동방", "태양", "한솔", "세진", "신화", "대원",
          "화성", "금강", "백두", "청솔", "새롬", "다온", "한결", "누리", "가온", "푸른", "행복", "정직",
          "동일", "성원", "제일", "대한", "유성", "해오름", "나래", "바른", "온새미", "하늘", "청림", "진성",
          "경원", "영진", "현대", "보람", "참좋은", "늘푸른", "한마음", "소망", "대양", "동신", "명성", "부강",
          "새한", "일신", "코리아", "에이스", "스마트", "넥스트", "비전", "제이", "케이", "에스", "하이", "뉴"]
# Words that tell the trade, by KSIC section; a firm's name ends with one of its section's words.
_TRADE = {
    "A": ["농산", "영농조합", "수산", "농원"], "B": ["광업", "자원"], "C": ["정밀", "산업", "테크", "기계", "화학", "전자", "금속", "식품"],
    "D": ["에너지", "태양광발전소", "전력"], "E": ["환경", "자원순환", "리사이클"], "F": ["건설", "종합건설", "인테리어", "토건"],
    "G": ["마트", "상사", "유통", "상회", "트레이딩", "몰"], "H": ["물류", "운수", "익스프레스", "로지스"],
    "I": ["식당", "카페", "분식", "치킨", "숙박", "펜션"], "J": ["소프트", "시스템즈", "네트웍스", "랩스", "미디어", "정보기술"],
    "K": ["파트너스", "인베스트", "캐피탈", "보험대리점"], "L": ["부동산", "공인중개사사무소", "개발", "임대"],
    "M": ["엔지니어링", "디자인", "연구소", "컨설팅", "바이오"], "N": ["서비스", "렌탈", "아웃소싱", "시설관리"],
    "O": ["행정서비스"], "P": ["학원", "에듀", "교육원"], "Q": ["의원", "약국", "요양원", "한의원"],
    "R": ["스튜디오", "엔터테인먼트", "스포츠", "피트니스"], "S": ["세탁소", "미용실", "수리센터", "협회"],
    "T": ["가사서비스"], "U": ["대표부"],
}


def ceo_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=_SURNAME_P / _SURNAME_P.sum())]
    g1 = np.array(GIVEN_FIRST)[rng.integers(0, len(GIVEN_FIRST), n)]
    g2 = np.array(GIVEN_SECOND)[rng.integers(0, len(GIVEN_SECOND), n)]
    return np.char.add(np.char.add(sur, g1), g2)


def firm_names(rng: np.random.Generator, sections: np.ndarray, corporate: np.ndarray) -> np.ndarray:
    """'주식회사 한빛정밀', '(주)넥스트소프트', '행복마트': a stem, a trade word of the section, a legal form."""
    n = len(sections)
    stem = np.array(_STEMS)[rng.integers(0, len(_STEMS), n)]
    trade = np.empty(n, dtype=object)
    pick = rng.random(n)
    for sec, words in _TRADE.items():
        m = sections == sec
        trade[m] = np.array(words)[(pick[m] * len(words)).astype(int)]
    base = np.char.add(stem, trade.astype(str))
    form = np.where(rng.random(n) < 0.5, "주식회사 ", "(주)")
    return np.where(corporate, np.char.add(form, base), base)

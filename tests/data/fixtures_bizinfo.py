"""A handful of real 기업마당 announcements (2021, the older field set), rebuilt from their facts:
ids, names, agencies, fields, targets and windows as published; summaries shortened. Each carries
one of the things a real export holds that a tidy one does not (see the comments)."""
from __future__ import annotations

ALL_REGIONS = "서울@부산@대구@인천@광주@대전@울산@세종@경기@강원@충북@충남@전북@전남@경북@경남@제주"
_SECTIONS = ["농업, 임업 및 어업(01~03)", "광업(05~08)", "제조업(10~34)", "전기, 가스, 증기 및 공기 조절 공급업(35)",
             "수도, 하수 및 폐기물 처리, 원료 재생업(36~39)", "건설업(41~42)", "도매 및 소매업(45~47)", "운수 및 창고업(49~52)",
             "숙박 및 음식점업(55~56)", "정보통신업(58~63)", "금융 및 보험업(64~66)", "부동산업(68)",
             "전문, 과학 및 기술 서비스업(70~73)", "사업시설 관리, 사업 지원 및 임대 서비스업(74~76)",
             "공공 행정, 국방 및 사회보장 행정(84)", "교육 서비스업(85)", "보건업 및 사회복지 서비스업(86~87)",
             "예술, 스포츠 및 여가관련 서비스업(90~91)", "협회 및 단체, 수리 및 기타 개인 서비스업(94~96)",
             "가구 내 고용활동 및 달리 분류되지 않은 자가 소비 생산활동(97~98)", "국제 및 외국기관(99)"]
ALL_INDUSTRIES = "@".join(_SECTIONS)
# every section but 금융 및 보험업 and 부동산업: a real restriction (K and L left out)
NO_FINANCE_REALTY = "@".join(s for s in _SECTIONS if not s.startswith(("금융", "부동산")))


def _url(pid: str) -> str:
    return f"/see/seea/selectSEEA140Detail.do?pblancId={pid}&menuId=80001001001"


def real_items() -> list[dict]:
    return [
        # 제도 is not one of the eight fields; 직접수행 is not an agency; every region and section
        {"pblancId": "PBLN_000000000066695", "pblancNm": "신성장기술 사업화를 위한 시설투자에 대한 세액공제(2021년 중소기업 조세지원 안내)",
         "pblancUrl": _url("PBLN_000000000066695"), "jrsdInsttNm": "국세청", "excInsttNm": "직접수행",
         "pldirSportRealmLclasCodeNm": "제도@금융@경영", "pldirSportRealmMlsfcCodeNm": "조세@펀드/투자@시설/입지지원",
         "trgetNm": "중소기업", "reqstBeginEndDe": "상시 접수", "areaNm": ALL_REGIONS, "industNm": ALL_INDUSTRIES,
         "bsnsSumryCn": "투자금액의 10%에 상당하는 금액을 법인세&#40;소득세&#41;에서 세액공제",
         "rceptInsttTelno": None, "rceptInsttEmailAdres": None, "rceptInsttChargerDeptNm": None,
         "creatPnttm": "2021-06-30 16:10:13", "inqireCo": 6236},
        # a target group (창업벤처) and no size; 제도 alone
        {"pblancId": "PBLN_000000000066530", "pblancNm": "기업(주식)매각 후 벤처기업 등 재투자에 대한 과세특례(2021년 중소기업 조세지원)",
         "pblancUrl": _url("PBLN_000000000066530"), "jrsdInsttNm": "국세청", "excInsttNm": "직접수행",
         "pldirSportRealmLclasCodeNm": "제도", "pldirSportRealmMlsfcCodeNm": "조세", "trgetNm": "창업벤처",
         "reqstBeginEndDe": "상시 접수", "areaNm": ALL_REGIONS, "industNm": ALL_INDUSTRIES,
         "bsnsSumryCn": "벤처기업 등 최대주주가 양도대금 중 50%이상을 재투자하는 경우 과세특례",
         "creatPnttm": "2021-06-25 16:08:31"},
        # 동반성장 first; contact fields of an official
        {"pblancId": "PBLN_000000000064961", "pblancNm": "2021년 협력사 ESG 지원사업 참여기업 모집 공고",
         "pblancUrl": _url("PBLN_000000000064961"), "jrsdInsttNm": "중소벤처기업부", "excInsttNm": "대중소기업농어업협력재단",
         "pldirSportRealmLclasCodeNm": "동반성장@경영@경영", "pldirSportRealmMlsfcCodeNm": "동반성장@컨설팅@디자인/상품화/사업화",
         "trgetNm": "중소기업", "reqstBeginEndDe": "상시 접수", "areaNm": ALL_REGIONS, "industNm": ALL_INDUSTRIES,
         "bsnsSumryCn": "협력 중소기업 간 공급망 차원의 지속가능성 확보를 위해 ESG 교육",
         "rceptInsttTelno": "02-2183-5877", "rceptInsttEmailAdres": "kbrand@koipa.re.kr",
         "rceptInsttChargerDeptNm": "K-브랜드 분쟁대응팀", "creatPnttm": "2021-05-14 15:57:13"},
        # 19 of 21 sections; 예산 소진시까지; entrprsStle adds nothing new; phone field holds free text
        {"pblancId": "PBLN_000000000061170", "pblancNm": "소공인특화자금(직접대출)(2021년 중소벤처기업부 소관 소상공인 정책자금 융자계획 공고)",
         "pblancUrl": _url("PBLN_000000000061170"), "jrsdInsttNm": "중소벤처기업부", "excInsttNm": "소상공인시장진흥공단",
         "pldirSportRealmLclasCodeNm": "금융@경영", "pldirSportRealmMlsfcCodeNm": "융자@디자인/상품화/사업화",
         "trgetNm": "소상공인", "entrprsStle": "소상공인", "reqstBeginEndDe": "예산 소진시까지", "areaNm": ALL_REGIONS,
         "industNm": NO_FINANCE_REALTY, "rceptInsttTelno": "하단의 첨부파일 참조",
         "rceptInsttChargerDeptNm": "전국 지역본부 및 센터", "creatPnttm": "2021-02-10 18:13:03"},
        # dates as YYYYMMDD; entrprsStle adds 중견기업
        {"pblancId": "PBLN_000000000060034", "pblancNm": "해외조달시장 진출유망기업(G-PASS기업) 선정 공고",
         "pblancUrl": _url("PBLN_000000000060034"), "jrsdInsttNm": "조달청", "excInsttNm": "한국G-PASS기업 수출진흥협회",
         "pldirSportRealmLclasCodeNm": "수출", "pldirSportRealmMlsfcCodeNm": "해외진출", "trgetNm": "중소기업",
         "entrprsStle": "중소기업@중견기업", "reqstBeginEndDe": "20210101 ~ 20211231", "areaNm": ALL_REGIONS,
         "industNm": ALL_INDUSTRIES, "rceptInsttTelno": "02-6203-7732", "creatPnttm": "2021-01-11 16:36:55"},
        # 기초자치단체; one section
        {"pblancId": "PBLN_000000000065298", "pblancNm": "2021년 전남 장흥군 단체관광객 유치 인센티브 지원사업 공고",
         "pblancUrl": _url("PBLN_000000000065298"), "jrsdInsttNm": "전라남도", "excInsttNm": "기초자치단체",
         "pldirSportRealmLclasCodeNm": "내수", "pldirSportRealmMlsfcCodeNm": "홍보지원", "trgetNm": "중소기업",
         "reqstBeginEndDe": "예산 소진시까지", "areaNm": ALL_REGIONS, "industNm": "예술, 스포츠 및 여가관련 서비스업(90~91)",
         "creatPnttm": "2021-05-25 17:08:34"},
        # one region; a target group alone; 사업별 상이 is no window at all
        {"pblancId": "PBLN_000000000066405", "pblancNm": "[세종] 전문인력 및 사회보험료 지원사업(2021년 2차 (예비)사회적기업 지정 및 재정지원 공고)",
         "pblancUrl": _url("PBLN_000000000066405"), "jrsdInsttNm": "세종특별자치시", "excInsttNm": "직접수행",
         "pldirSportRealmLclasCodeNm": "경영@인력", "pldirSportRealmMlsfcCodeNm": "디자인/상품화/사업화@고용유지",
         "trgetNm": "사회적기업", "reqstBeginEndDe": "세부사업별 상이", "areaNm": "세종", "industNm": ALL_INDUSTRIES,
         "creatPnttm": "2021-06-22 16:08:16"},
    ]


def newer_item() -> dict:
    """The newer field set: hashtags instead of areaNm / industNm, ISO dates."""
    return {"pblancId": "PBLN_000000000121282", "pblancNm": "2024년 AI 바우처 지원사업 공고",
            "pblancUrl": "/web/lay1/bbs/S1T122C128/AS/74/view.do?pblancId=PBLN_000000000121282",
            "jrsdInsttNm": "과학기술정보통신부", "excInsttNm": "정보통신산업진흥원", "pldirSportRealmLclasCodeNm": "기술",
            "trgetNm": "중소기업", "reqstBeginEndDe": "2024-03-04 ~ 2024-04-05",
            "hashtags": "기술,서울,부산,정보통신산업진흥원", "refrncNm": "정보통신산업진흥원 AI바우처팀",
            "creatPnttm": "2024-02-20 10:00:00"}

"""Synthetic Korean business plans (사업계획서), one per application, generated in DuckDB SQL.

A plan has five sections (사업 개요, 기술 및 제품, 시장 분석, 추진 계획, 기대 효과) of two sentences each.
Every sentence is a concatenation of fragments drawn from phrase pools (generic and per industry
group) plus firm-specific words (name, region, numbers). Each fragment is chosen by a hash of a
*sentence key*, so copying a plan is a matter of sharing keys:

* an honest plan keys half of its sentences by the firm (a firm re-uses its own plan across
  applications) and the rest by the application;
* a broker's template ring or a franchise keys a share (``keep``) of sentences by the template, so
  members share whole sentences except their own name and region (character-3-gram Jaccard ~0.45-0.65);
* a copier of a public sample plan takes one of :data:`PUBLIC_TEMPLATES` verbatim or with its name filled in.

Everything is SQL over hashes: multi-threaded, deterministic by seed, and chunked by application id.
"""
from __future__ import annotations

import hashlib

import duckdb

# Public sample business plans (K-Startup 예시 사업계획서 style) that many honest firms copy. A detector
# may import this list as "known public templates" for its suppression list: copying a public sample
# is not a ring. '○○' is the placeholder a light-edit copier replaces with its own name.
PUBLIC_TEMPLATES: tuple[str, ...] = (
    "■ 사업 개요 ○○은(는) 고객의 불편을 해결하는 혁신적인 제품과 서비스를 개발하는 창업기업입니다. 창업 아이템의 개발 동기와 "
    "목적을 명확히 하고 시장의 문제를 정의합니다. ■ 기술 및 제품 아이템의 핵심 기능과 차별성을 기존 제품 대비 구체적으로 제시하며 "
    "개발 현황과 지식재산권 확보 계획을 기술합니다. ■ 시장 분석 목표 시장의 규모와 성장성, 주요 경쟁사 현황을 분석하고 고객 "
    "세그먼트별 진입 전략을 수립합니다. ■ 추진 계획 협약 기간 내 시제품 제작, 시장 검증, 판로 개척을 단계별로 추진하며 "
    "정부지원금과 자부담을 효율적으로 집행합니다. ■ 기대 효과 매출 창출과 신규 고용을 통해 지역 경제 활성화에 기여하고 "
    "후속 투자 유치를 통해 지속 성장을 도모합니다.",
    "■ 사업 개요 ○○은(는) 소상공인의 경쟁력 강화를 위해 경영 환경을 개선하고자 본 사업에 신청합니다. 현재 사업장의 운영 현황과 "
    "개선이 필요한 과제를 정리하였습니다. ■ 기술 및 제품 주력 상품의 품질을 높이고 온라인 판매 채널을 구축하여 고객 접점을 "
    "확대합니다. ■ 시장 분석 상권 분석 결과 유동 인구와 경쟁 점포 현황을 고려할 때 차별화된 서비스가 필요합니다. ■ 추진 계획 "
    "시설 개선, 홍보 마케팅, 디지털 전환을 순차적으로 추진합니다. ■ 기대 효과 매출 증대와 고객 만족도 향상, 안정적인 일자리 "
    "유지를 기대합니다.",
    "■ 사업 개요 ○○은(는) 보유 기술을 바탕으로 신시장에 진출하고자 하는 중소기업입니다. 본 과제는 기술 개발을 통해 제품 "
    "경쟁력을 확보하는 것을 목표로 합니다. ■ 기술 및 제품 개발 목표와 주요 성능 지표를 정량적으로 제시하고 국내외 기술 수준과 "
    "비교합니다. ■ 시장 분석 국내외 시장 동향과 수요처를 분석하여 사업화 가능성을 검토하였습니다. ■ 추진 계획 연구 인력과 "
    "장비를 확보하고 1차년도 핵심 기술 개발, 2차년도 시제품 검증을 수행합니다. ■ 기대 효과 수입 대체와 수출 확대, 기술 "
    "인력 양성에 기여할 것으로 기대됩니다.",
)

# Industry groups: KSIC section -> index into the per-industry pools below.
_GROUP_OF_SECTION = {
    "C": 0, "B": 0, "D": 0, "E": 0, "J": 1, "G": 2, "I": 3, "M": 4, "N": 4, "K": 4,
    "F": 5, "L": 5, "H": 6, "A": 7, "P": 8, "Q": 8, "R": 8, "S": 8, "O": 8, "T": 8, "U": 8,
}

# Per industry group (same order as the group indices): what the firm does, its products and
# technologies, customers and market words.
_BUSINESS = (
    ("정밀 부품 제조", "친환경 소재 생산", "산업용 장비 제조", "금속 가공", "전자 부품 생산", "식품 가공", "화장품 제조", "플라스틱 성형"),
    ("소프트웨어 개발", "클라우드 서비스", "모바일 앱 개발", "데이터 분석 솔루션", "인공지능 서비스", "정보보안 솔루션", "콘텐츠 플랫폼", "사물인터넷 서비스"),
    ("온라인 유통", "생활용품 도매", "농산물 유통", "식자재 납품", "의류 판매", "전자제품 판매", "수입 잡화 유통", "반려동물 용품 판매"),
    ("한식 음식점", "베이커리 카페", "프랜차이즈 외식", "게스트하우스", "밀키트 제조 판매", "디저트 전문점", "로컬 푸드 식당", "숙박 서비스"),
    ("경영 컨설팅", "디자인 서비스", "엔지니어링 서비스", "연구개발 서비스", "광고 대행", "시험 분석", "측량 설계", "인력 지원 서비스"),
    ("실내 건축", "전문 건설", "친환경 리모델링", "설비 공사", "부동산 개발", "스마트 시공", "조경 공사", "건축 설계"),
    ("화물 운송", "물류 대행", "냉장 배송", "창고 운영", "라스트마일 배송", "국제 물류", "택배 집하", "공유 모빌리티"),
    ("스마트팜 재배", "친환경 농산물 생산", "수산물 양식", "버섯 재배", "농산물 가공", "축산물 생산", "임산물 가공", "곤충 사육"),
    ("교육 서비스", "돌봄 서비스", "헬스케어 서비스", "문화 콘텐츠 제작", "스포츠 시설 운영", "미용 서비스", "수리 서비스", "공연 기획"),
)
_PRODUCT = (
    ("고정밀 가공 부품", "생분해성 포장재", "자동화 설비 모듈", "경량 합금 프레임", "전력 제어 보드", "기능성 식품", "천연 원료 화장품", "재생 플라스틱 용기"),
    ("업무 자동화 플랫폼", "AI 수요 예측 솔루션", "모바일 주문 앱", "보안 관제 시스템", "데이터 대시보드", "스마트 공장 MES", "온라인 교육 플랫폼", "IoT 원격 모니터링"),
    ("자사몰 통합 판매 시스템", "친환경 생활용품 브랜드", "산지 직송 농산물", "B2B 식자재 주문 서비스", "온라인 의류 브랜드", "리퍼브 가전 판매", "해외 직구 대행", "반려동물 정기배송"),
    ("지역 특산물 메뉴", "비건 베이커리", "가정간편식", "체험형 숙박 상품", "배달 전용 메뉴", "수제 디저트", "건강 도시락", "전통주 페어링 코스"),
    ("중소기업 맞춤 컨설팅", "브랜드 아이덴티티 디자인", "설비 진단 서비스", "시제품 설계 서비스", "디지털 광고 패키지", "품질 인증 시험", "드론 측량 서비스", "전문 인력 매칭"),
    ("모듈러 주택", "단열 리모델링 공법", "스마트 조명 시공", "에너지 절감 설비", "공유 오피스 개발", "BIM 설계 서비스", "옥상 녹화 시스템", "층간소음 저감재"),
    ("실시간 배차 시스템", "콜드체인 배송", "공동 물류 센터", "당일 배송 서비스", "수출입 통관 대행", "전기 화물차 운송", "무인 보관함", "화물 중개 앱"),
    ("수경 재배 시스템", "유기농 쌀", "스마트 양식장", "기능성 버섯", "과일 가공품", "한우 가공육", "산채 가공품", "식용 곤충 단백질"),
    ("코딩 교육 과정", "방문 돌봄 서비스", "비대면 건강 관리", "웹툰 콘텐츠", "생활 체육 프로그램", "두피 케어 서비스", "가전 수리 플랫폼", "지역 축제 기획"),
)
_TECH = (
    ("CNC 정밀 가공 기술", "바이오 소재 배합 기술", "공정 자동화 기술", "열처리 최적화 기술", "품질 검사 비전 기술", "저온 살균 공정", "천연 추출 공정", "사출 성형 금형 기술"),
    ("딥러닝 추천 알고리즘", "클라우드 네이티브 아키텍처", "실시간 데이터 처리 엔진", "블록체인 인증 기술", "자연어 처리 모델", "저전력 통신 프로토콜", "영상 인식 기술", "API 연동 모듈"),
    ("재고 관리 시스템", "온라인 판매 데이터 분석", "물류 연계 주문 처리", "라이브 커머스 운영 역량", "상품 소싱 네트워크", "고객 관계 관리 시스템", "정기 구독 모델", "간편 결제 연동"),
    ("레시피 표준화", "HACCP 위생 관리", "주방 자동화 설비", "예약 관리 시스템", "배달 플랫폼 연계", "원가 관리 노하우", "지역 식재료 조달망", "고객 리뷰 분석"),
    ("진단 방법론", "디자인 씽킹 프로세스", "시뮬레이션 해석 기술", "시험 분석 장비", "성과 측정 모델", "데이터 기반 마케팅", "공간 정보 처리 기술", "전문가 네트워크"),
    ("프리패브 시공 기술", "고단열 자재 적용", "BIM 기반 설계", "IoT 설비 제어", "안전 관리 시스템", "친환경 인증 노하우", "공정 관리 소프트웨어", "소음 저감 공법"),
    ("경로 최적화 알고리즘", "온도 이력 관리 기술", "창고 관리 시스템", "화물 추적 기술", "통관 자동화 시스템", "전기차 충전 관리", "배송 수요 예측", "무인 인수인계 기술"),
    ("환경 제어 센서", "친환경 재배 기술", "수질 관리 시스템", "저온 저장 기술", "가공 위생 공정", "이력 추적 시스템", "건조 가공 기술", "사육 자동화 장치"),
    ("맞춤형 커리큘럼", "돌봄 인력 관리 시스템", "건강 데이터 분석", "콘텐츠 제작 파이프라인", "회원 관리 플랫폼", "전문 케어 기법", "출장 수리 배정 시스템", "행사 운영 노하우"),
)
_CUSTOMER = (
    ("자동차 부품 협력사", "식품 제조사", "대형 유통사", "조선 기자재 업체", "가전 제조사", "해외 바이어", "OEM 발주처", "지역 제조 기업"),
    ("중소 제조기업", "공공기관", "온라인 쇼핑몰", "병원과 의원", "교육 기관", "물류 기업", "금융 회사", "소상공인"),
    ("20~30대 소비자", "1인 가구", "음식점 사업자", "해외 소비자", "반려 가구", "기업 구매 담당자", "지역 주민", "온라인 구매자"),
    ("직장인 고객", "관광객", "가족 단위 고객", "배달 이용 고객", "건강 관심 고객", "지역 단골 고객", "단체 예약 고객", "외국인 방문객"),
    ("중소기업 경영자", "공공 발주처", "브랜드 운영사", "연구 기관", "스타트업", "제조 현장", "지자체", "인증 수요 기업"),
    ("개인 건축주", "공공 발주처", "상가 소유주", "아파트 관리 주체", "시공사", "기업 사옥", "농촌 주택 수요자", "학교와 공공시설"),
    ("온라인 판매자", "식품 유통사", "제조 기업", "수출 기업", "지역 상인", "택배 이용 고객", "대형 마트", "공공 물류"),
    ("대형 마트", "학교 급식", "식품 가공업체", "온라인 소비자", "로컬 푸드 매장", "외식 업체", "해외 바이어", "건강식품 업체"),
    ("학부모", "고령 가구", "만성질환자", "콘텐츠 소비자", "지역 주민", "직장인", "1인 가구", "지자체"),
)
# Section headings in the styles applicants use; one style per plan.
_SECTIONS = (
    ("■ 사업 개요 ", " ■ 기술 및 제품 ", " ■ 시장 분석 ", " ■ 추진 계획 ", " ■ 기대 효과 "),
    ("1. 사업개요: ", " 2. 기술/제품: ", " 3. 시장: ", " 4. 추진일정: ", " 5. 기대효과: "),
    ("[개요] ", " [제품·서비스] ", " [목표시장] ", " [실행계획] ", " [성과] "),
    ("가. 사업의 목적 ", " 나. 보유 기술 ", " 다. 시장 현황 ", " 라. 세부 추진 내용 ", " 마. 파급 효과 "),
    ("", " ", " ", " ", " "),
    ("Ⅰ. 추진 배경 ", " Ⅱ. 핵심 역량 ", " Ⅲ. 고객과 경쟁 ", " Ⅳ. 사업화 방안 ", " Ⅴ. 활용 계획 "),
)

# Sentence specs: fragments are literal text, ("pool", options), ("ind", per-group options),
# ("num", lo, hi) or a firm variable ("firm", "region", "product"). Two sentences per section.
_SENTENCES: tuple[tuple, ...] = (
    (("firm",), ("pool", ("은(는) ", "(이하 당사)은(는) ", "은(는) 지난 ", "은(는) 설립 이후 ")), ("num", 3, 19),
     ("pool", ("년간 ", "년 동안 ", "년째 ")), ("region",), ("pool", ("에서 ", "지역을 기반으로 ", "을 거점으로 ", "에 본사를 두고 ")),
     ("ind", _BUSINESS), ("pool", ("을 영위하고 있습니다.", " 사업에 집중해 왔습니다.", " 분야의 전문성을 쌓아 왔습니다.", "에 주력하고 있습니다.", " 역량을 키워 왔습니다."))),
    (("pool", ("본 사업을 통해 ", "이번 지원으로 ", "이번 과제에서는 ", "당사는 앞으로 ", "금번 신청 사업으로 ")), ("product",),
     ("pool", ("의 상용화를 ", "의 고도화를 ", "의 양산 체계 구축을 ", "의 판로 확대를 ", "의 품질 개선을 ", "의 시장 검증을 ")),
     ("pool", ("최우선 목표로 합니다.", "추진하고자 합니다.", "완료할 계획입니다.", "본격화하려 합니다.", "단계적으로 달성하겠습니다."))),
    (("product",), ("pool", ("은(는) ", "의 핵심은 ", "에는 ", "은(는) 자체 개발한 ")), ("ind", _TECH),
     ("pool", ("을 적용하여 ", "에 기반해 ", "을 활용함으로써 ", "과 결합하여 ")),
     ("pool", ("원가를 ", "불량률을 ", "처리 시간을 ", "에너지 사용량을 ", "고객 대기 시간을 ", "운영 비용을 ")), ("num", 12, 48),
     ("pool", ("% 줄였습니다.", "% 절감합니다.", "% 개선하였습니다.", "% 낮출 수 있습니다."))),
    (("pool", ("경쟁 제품과 비교하면 ", "기존 방식 대비 ", "시험 결과 ", "현재까지 ")),
     ("pool", ("특허 ", "시제품 ", "인증 ", "고객 검증 ", "파일럿 ")), ("num", 1, 9),
     ("pool", ("건을 확보하였고 ", "건을 진행하였으며 ", "건의 성과를 거두었고 ", "차례 개선을 거쳤으며 ")),
     ("ind", _TECH), ("pool", (" 역량이 강점입니다.", "에서 차별성이 있습니다.", "의 완성도가 높습니다.", "을 추가로 고도화합니다."))),
    (("pool", ("국내 ", "목표 ", "관련 ", "전체 ")), ("ind", _BUSINESS),
     ("pool", (" 시장은 약 ", " 시장 규모는 ", " 분야 수요는 연간 ")), ("num", 2, 95),
     ("pool", ("천억 원이며 ", "조 원 수준이며 ", "백억 원 규모로 ")), ("pool", ("연평균 ", "매년 ", "최근 3년간 ")), ("num", 4, 21),
     ("pool", ("% 성장하고 있습니다.", "%씩 확대되는 추세입니다.", "% 이상 늘었습니다."))),
    (("pool", ("주요 고객은 ", "핵심 타깃은 ", "1차 목표 고객은 ", "초기 수요처는 ")), ("ind", _CUSTOMER),
     ("pool", ("이며 ", "으로 ", "이고 ")), ("ind", _CUSTOMER),
     ("pool", ("까지 확장할 계획입니다.", "와의 거래도 추진합니다.", "로 판로를 넓히겠습니다.", "를 2차 시장으로 설정하였습니다."))),
    (("pool", ("1단계로 ", "협약 후 ", "상반기에는 ", "사업 초기에 ")), ("num", 2, 6),
     ("pool", ("개월 안에 ", "개월 동안 ", "개월 이내에 ")), ("pool", ("시제품 제작", "설비 도입", "인력 채용", "시스템 구축", "인증 취득", "브랜드 개발")),
     ("pool", ("을 마치고 ", "을 완료한 뒤 ", "을 진행하며 ")), ("pool", ("전문 인력 ", "개발자 ", "영업 인력 ", "생산 인력 ")), ("num", 1, 7),
     ("pool", ("명을 채용합니다.", "명을 추가 배치합니다.", "명을 신규 고용합니다."))),
    (("pool", ("2단계에서는 ", "하반기에는 ", "이후 ", "사업 후반에는 ")), ("region",),
     ("pool", (" 지역 ", " 소재 ", " 인근 ")), ("ind", _CUSTOMER), ("pool", ("을 대상으로 ", "와 함께 ", "에 맞춰 ")),
     ("pool", ("시범 판매", "실증 사업", "온라인 마케팅", "전시회 참가", "공동 개발", "납품 테스트")),
     ("pool", ("를 추진합니다.", "를 실시하겠습니다.", "로 성과를 검증합니다.", "를 통해 매출을 확보합니다."))),
    (("pool", ("사업 완료 후 ", "지원 종료 시점에 ", "3년 내 ", "2년 후 ")), ("pool", ("연 매출 ", "매출액 ", "수출액 ")), ("num", 3, 88),
     ("pool", ("억 원 달성과 ", "억 원과 ", "억 원 이상 및 ")), ("pool", ("고용 ", "신규 일자리 ", "상시 근로자 ")), ("num", 2, 25),
     ("pool", ("명 창출을 기대합니다.", "명 증원을 목표로 합니다.", "명 확대가 예상됩니다."))),
    (("pool", ("아울러 ", "또한 ", "나아가 ")), ("firm",), ("pool", ("은(는) ", "의 성장은 ")), ("region",),
     ("pool", (" 지역 경제 활성화", " 청년 고용 확대", " 협력사 동반 성장", " 탄소 배출 저감", " 지역 상권 회복")),
     ("pool", ("에 기여하겠습니다.", "에 이바지할 것입니다.", "로 이어질 것으로 기대합니다."))),
)


# Lead-ins and hedges put in front of every sentence: cheap variety that keeps honest plans apart.
_LEADS = (
    "", "", "특히 ", "또한 ", "현재 ", "구체적으로 ", "무엇보다 ", "이에 ", "한편 ", "실제로 ", "우선 ", "더불어 ",
    "최근 ", "그동안 ", "향후 ", "이를 위해 ", "결과적으로 ", "기본적으로 ", "당사 분석에 따르면 ", "내부 검토 결과 ",
    "고객 의견을 반영하여 ", "시장 조사 결과 ", "올해 ", "내년부터 ", "지속적으로 ", "단계적으로 ", "중장기적으로 ",
    "필요시 ", "초기부터 ", "앞으로 ", "본격적으로 ", "자체적으로 ", "외부 전문가와 함께 ", "협력사와 함께 ",
    "정부 정책에 발맞춰 ", "경쟁 심화 속에서 ", "코로나 이후 ", "디지털 전환에 맞춰 ", "수요 증가에 대응해 ", "대표자 경험을 살려 ",
)


def _list_sql(items: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


_VARIANTS = 2048  # pre-built sentences per slot and industry group for honest plans


def _sentence_sql(i: int, spec: tuple, *, template: bool) -> str:
    """One sentence as a SQL concat of fragments, fragment j chosen by a hash of the sentence key k{i}.

    With ``template``, each fragment takes the template's choice (kt{i}) with probability keep_pct and
    the applicant's own otherwise, and names are filled in; without it, names are left as {F}, {R}
    and {P} placeholders (the sentence is a pre-built variant). Hashes take one argument: DuckDB's
    multi-argument hash mixes poorly.
    """
    parts = []
    for j, frag in enumerate((("pool", _LEADS),) + spec):
        key = f"CASE WHEN mix(application_id * 4096 + {i * 64 + j}) % 100 < keep_pct THEN kt{i} ELSE k{i} END" if template else f"k{i}"
        h = f"hash({key} * 64 + {j})"
        if frag[0] == "pool":
            parts.append(f"{_list_sql(frag[1])}[({h} % {len(frag[1])})::INTEGER + 1]")
        elif frag[0] == "ind":
            nested = "[" + ", ".join(_list_sql(g) for g in frag[1]) + "]"
            parts.append(f"{nested}[g + 1][({h} % {len(frag[1][0])})::INTEGER + 1]")
        elif frag[0] == "num":
            parts.append(f"({frag[1]} + {h} % {frag[2] - frag[1] + 1})::VARCHAR")
        elif template:  # firm name / region: always the applicant's own (the edits a copier makes)
            parts.append({"firm": "firm_name", "region": "region_name", "product": "product"}[frag[0]])
        else:
            parts.append({"firm": "'{F}'", "region": "'{R}'", "product": "'{P}'"}[frag[0]])
    return "concat(" + ", ".join(parts) + ")"


# Products by group, group-major, in _plan_variants.products: one product per firm (or template).
_PRODUCT_SQL = f"products[pg * {len(_PRODUCT[0])} + (hash(pkey * 64 + 63) % {len(_PRODUCT[0])})::INTEGER + 1]"
_HEADERS = [_list_sql(tuple(style[s] for style in _SECTIONS)) for s in range(5)]


def define_mix(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Create the macro ``mix(x)``: a seeded 52-bit hash of a BIGINT, safe to multiply by 64 again."""
    # The offset is 48 bits of a digest of the whole seed (any int, also negative or huge), so that
    # every seed gives its own values; x stays far below 2^62, so x + offset never overflows a BIGINT.
    offset = int.from_bytes(hashlib.blake2b(str(int(seed)).encode(), digest_size=6).digest(), "big")
    con.execute(f"CREATE OR REPLACE TEMP MACRO mix(x) AS (hash(x + {offset}) >> 12)::BIGINT")


def build_variants(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table _plan_variants: one row, column s{i} = list of sentence i variants (group-major)."""
    cols = ", ".join(f"list({_sentence_sql(i, spec, template=False)} ORDER BY v) AS s{i}" for i, spec in enumerate(_SENTENCES))
    keys = ", ".join(f"mix(v * 64 + {i}) AS k{i}" for i in range(len(_SENTENCES)))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _plan_variants AS
                    SELECT {cols}, {_list_sql(tuple(p for g in _PRODUCT for p in g))} AS products FROM (SELECT range AS v, (range // {_VARIANTS})::INTEGER AS g, {keys}
                                        FROM range({_VARIANTS * len(_PRODUCT)}))""")


def _key_sql(i: int) -> str:
    """Sentence key of an application: half the sentences are the firm's own (re-used across its
    applications), the others new for the application."""
    return (f"mix(CASE WHEN mix(application_id * 64 + {i}) % 2 = 0 THEN firm_id * 7 + 3 "
            f"ELSE application_id * 7 + 5 END * 64 + {i})")


def _register(text: str) -> str:
    """Half the plans (by heading style) are written 개조식, with noun endings (…함. …임. …음.)
    instead of …합니다: as real plans are, and it keeps honest plans further apart."""
    return (f"CASE WHEN style % 2 = 0 THEN replace(replace(replace({text}, '합니다.', '함.'), '입니다.', '임.'), '습니다.', '음.') "
            f"ELSE {text} END")


def _placeholders(i: int) -> tuple[str, ...]:
    return tuple(f[0] for f in _SENTENCES[i] if f[0] in ("firm", "region", "product"))


def plan_sqls(source: str) -> tuple[str, str, str]:
    """SQL selecting (application_id, plan_text) from ``source``: (honest plans, template copies,
    public-sample copies), each reading only its own rows.

    ``source`` must provide: application_id, firm_id, firm_name, region_name, grp (industry group of
    the firm), tmpl_key / tmpl_grp / keep_pct (NULL unless the plan copies a ring or franchise
    template), public_tpl (1-based index into PUBLIC_TEMPLATES or NULL) and public_verbatim.
    Needs the ``mix`` macro (:func:`define_mix`) and :func:`build_variants`.
    """
    n = len(_SENTENCES)
    heads = lambda i: f"{_HEADERS[i // 2]}[style], " if i % 2 == 0 else "' ', "  # noqa: E731
    fill = {"firm": ("{F}", "firm_name"), "region": ("{R}", "region_name"), "product": ("{P}", "product")}

    def own(i: int) -> str:  # the pre-built variant, with this applicant's names put in (short strings)
        expr = f"s{i}[g * {_VARIANTS} + (k{i} % {_VARIANTS})::INTEGER + 1]"
        for ph in sorted(set(_placeholders(i))):
            expr = f"replace({expr}, '{fill[ph][0]}', {fill[ph][1]})"
        return heads(i) + expr

    def keyed(where: str, tmpl: bool) -> str:
        kt = "".join(f", mix(tmpl_key * 64 + {i}) AS kt{i}" for i in range(n)) if tmpl else ""
        return f"""(SELECT *, {_PRODUCT_SQL} AS product,
                   (mix(coalesce(tmpl_key, application_id * 7 + 5) * 64 + 61) % {len(_SECTIONS)})::INTEGER + 1 AS style,
                   {", ".join(f"{_key_sql(i)} AS k{i}" for i in range(n))}{kt}
                   FROM (SELECT *, mix(coalesce(tmpl_key, firm_id * 7 + 3) * 64 + 62) AS pkey,
                                coalesce(tmpl_grp, grp) AS pg, coalesce(tmpl_grp, grp) AS g
                         FROM {source} WHERE {where}), _plan_variants)"""

    own_text = "concat(" + ", ".join(own(i) for i in range(n)) + ")"
    honest = f"SELECT application_id, {_register(own_text)} FROM {keyed('tmpl_key IS NULL AND public_tpl IS NULL', False)}"
    copied = ", ".join(f"{heads(i)}{_sentence_sql(i, s, template=True)}" for i, s in enumerate(_SENTENCES))
    template = f"SELECT application_id, {_register('concat(' + copied + ')')} FROM {keyed('tmpl_key IS NOT NULL', True)}"
    templates = _list_sql(PUBLIC_TEMPLATES)
    public = f"""SELECT application_id, CASE WHEN public_verbatim THEN {templates}[public_tpl]
                                           ELSE replace({templates}[public_tpl], '○○', firm_name) END
                 FROM {source} WHERE public_tpl IS NOT NULL AND tmpl_key IS NULL"""
    return honest, template, public


def group_case_sql(column: str) -> str:
    """SQL mapping a KSIC section column to its industry-group index."""
    whens = " ".join(f"WHEN '{s}' THEN {g}" for s, g in _GROUP_OF_SECTION.items())
    return f"CASE {column} {whens} ELSE 8 END"


def write_public_templates(con: duckdb.DuckDBPyConnection) -> None:
    """Publish the sample plans as reference data (``public_templates``), as a real deployment would
    import the samples K-Startup publishes; the detector learns of them only from that table."""
    con.executemany("INSERT INTO public_templates VALUES (?, ?)",
                    [[text, "synthetic sample plan (data.synth.plans)"] for text in PUBLIC_TEMPLATES])


def write_plans(con: duckdb.DuckDBPyConnection, source: str, *, lo: int, hi: int) -> None:
    """Insert the plans of applications with lo <= application_id < hi from ``source`` (see plan_sqls).

    Call :func:`define_mix` and :func:`build_variants` first (once per build). The plans are
    stored in application order, as a real intake appends them: a day's plans then lie together in
    the file, and screening them reads a few MB, not every row group of the chunk (at scale 10 the
    three kinds written one after another put a day's 5,000 plans across 1.3 GB of text)."""
    rows = f"(SELECT * FROM {source} WHERE application_id >= {int(lo)} AND application_id < {int(hi)})"
    con.execute(f"INSERT INTO business_plans SELECT * FROM ({' UNION ALL '.join(plan_sqls(rows))}) ORDER BY 1")

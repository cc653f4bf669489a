"""Labels of the overview page."""
LABELS: dict[str, tuple[str, str]] = {
    "overview.title": ("개요", "Overview"),
    "overview.synthetic_title": ("합성 데이터입니다", "This is synthetic data"),
    "overview.synthetic_body": (
        "이 데이터베이스의 기업, 신청, 설문 응답은 모두 가상으로 만든 것입니다. 신청 기업 단위의 실제 자료는 "
        "공개되어 있지 않기 때문에, 공개 통계(시도·규모별 중소기업 수, AI 활용률, 지원사업 수와 구비서류 등)에 "
        "맞추어 보정한 합성 데이터로 분석 방법을 보여 줍니다. 실제 기업이나 사람과 일치하는 것은 우연입니다.",
        "Every firm, application and survey answer in this database is made up. Applicant-level data is "
        "not public, so the app shows its methods on synthetic data calibrated to published figures (SMEs "
        "by region and size, AI adoption rates, the number of programs and required documents). Any match "
        "with a real firm or person is a coincidence."),
    "overview.imported": ("가져온 데이터입니다 (출처: {source}).", "Imported data (source: {source})."),
    "overview.loaded": ("불러온 데이터", "What is loaded"),
    "overview.firms": ("기업", "Firms"),
    "overview.firms_help": ("표본 기업 수. 가중치를 적용하면 전국 {weighted}개 기업을 대표합니다.",
                            "Firms in the sample; with their weights they stand for {weighted} firms nationwide."),
    "overview.firms_weighted": ("대표 기업 수 (가중)", "Firms represented (weighted)"),
    "overview.programs": ("지원사업", "Programs"),
    "overview.applications": ("신청", "Applications"),
    "overview.applications_help": ("{first} ~ {last} 접수, 신청 기업 {firms}개, 선정 {selected}건",
                                   "Submitted {first} to {last}; {firms} applicant firms; {selected} selected"),
    "overview.respondents": ("AI 활용 설문 응답", "AI survey respondents"),
    "overview.respondents_help": ("가중하면 {weighted}개 기업을 대표합니다.", "Weighted, they stand for {weighted} firms."),
    "overview.build": ("빌드 정보", "Build"),
    "overview.build_line": ("생성 {built_at} · 규모 {scale} · 시드 {seed} · 기준일 {as_of}",
                            "Built {built_at} · scale {scale} · seed {seed} · reference date {as_of}"),
    "overview.version": ("데이터 버전 {version}", "Data version {version}"),
    "overview.monthly": ("월별 신청과 선정 (필터 적용)", "Applications and selections per month (filtered)"),
    "overview.month": ("접수 월", "Month submitted"),
    "overview.count": ("건수", "Count"),
    "overview.selected": ("선정", "Selected"),
    "overview.coverage": ("시도 × 기업 규모별 신청 (필터 적용)", "Applications by region × firm size (filtered)"),
    "overview.col_region": ("시도", "Region"),
    "overview.col_size": ("규모", "Size"),
    "overview.col_firms": ("신청 기업", "Applicant firms"),
    "overview.col_rate": ("선정률", "Selection rate"),
    "overview.col_awarded": ("지원 금액", "Amount awarded"),
    "overview.empty": ("선택한 필터에 해당하는 신청이 없습니다. 사이드바에서 필터를 넓혀 보세요.",
                       "No applications match the filters; widen them in the sidebar."),
    "overview.no_applications": ("아직 신청 데이터가 없습니다. 관리자가 가져오기로 불러올 수 있습니다.",
                                 "No applications are loaded yet; an admin can import them."),
}

"""Labels of the AI-adoption view (pages/adoption.py, analytics/plots_adoption.py)."""
LABELS: dict[str, tuple[str, str]] = {
    "adoption.title": ("AI 활용 격차", "AI adoption gap"),
    "adoption.intro": (
        "기업 AI 활용 실태조사(가중치 적용)로 본 규모·지역·업종별 AI 활용률과 그 격차입니다. 모든 추정치에 95% 신뢰구간을 붙였습니다.",
        "AI use by firm size, region and industry from the enterprise AI survey (weighted), with 95% confidence intervals."),
    "adoption.filters_note": (
        "설문 자료에는 지원사업과 신청일이 없어 시도·규모·업종 필터만 적용됩니다 (기간·소관부처·수행기관·지원분야 필터는 적용되지 않음). 조사연도는 아래에서 고릅니다.",
        "The survey has no programs or application dates: only the region, size and industry filters apply (period, ministry, "
        "agency and support-field filters do not). Pick the survey year below."),
    "adoption.year": ("조사연도", "Survey year"),
    "adoption.view": ("보기", "View"),
    "adoption.by": ("구분", "Break down by"),
    "adoption.empty": ("선택한 조건에 응답 기업이 없습니다. 필터를 넓혀 보세요.",
                       "No survey respondents match these filters; widen them."),
    "adoption.low_n_note": ("† 응답 30개 미만: 추정이 불안정하므로 회색으로 표시합니다.",
                            "† fewer than 30 respondents: unstable estimate, shown in grey."),
    "adoption.hover_ci": ("{p} (95% CI {lo}–{hi}, 응답 {n})", "{p} (95% CI {lo}–{hi}, n = {n})"),
    # sections
    "adoption.view_estimates": ("활용률", "Adoption"),
    "adoption.view_gaps": ("격차 분해", "Gaps"),
    "adoption.view_map": ("지도", "Map"),
    "adoption.view_targets": ("2027 목표", "2027 target"),
    "adoption.view_barriers": ("애로·희망 지원", "Barriers and wishes"),
    "adoption.view_reach": ("지원 도달", "Support reach"),
    "adoption.view_published": ("공표 통계 비교", "Published figures"),
    # breakdowns
    "adoption.by_size_class": ("기업 규모", "Size class"),
    "adoption.by_size_group": ("대기업·중견·중소", "Large / mid-sized / SME"),
    "adoption.by_region_code": ("시도", "Region (시도)"),
    "adoption.by_capital_region": ("수도권·비수도권", "Capital vs non-capital"),
    "adoption.by_ksic_section": ("업종", "Industry"),
    "adoption.by_capital_region+size_class": ("수도권 여부 × 규모", "Capital region × size"),
    "adoption.by_region_code+size_class": ("시도 × 규모", "Region × size"),
    "adoption.by_size_group+ksic_section": ("규모 × 업종", "Size group × industry"),
    "adoption.by_region_code+ksic_section": ("시도 × 업종", "Region × industry"),
    # indicators
    "adoption.status_uses": ("활용 중", "Uses AI"),
    "adoption.status_plans": ("도입 계획", "Plans to"),
    "adoption.status_none": ("경험·계획 없음", "Neither"),
    "adoption.ind_uses": ("활용 중", "Uses AI"),
    "adoption.ind_plans": ("도입 계획", "Plans to"),
    "adoption.ind_none": ("경험·계획 없음", "Neither"),
    "adoption.ind_barrier_cost": ("비용 부담", "Cost"),
    "adoption.ind_barrier_skills": ("지식·인력 부족", "Knowledge or staff"),
    "adoption.ind_barrier_integration": ("기존 시스템 연동", "Integration"),
    "adoption.ind_barrier_security": ("보안 우려", "Security"),
    "adoption.ind_barrier_no_need": ("필요 없음", "No need"),
    "adoption.ind_wish_training": ("실습 교육", "Hands-on training"),
    "adoption.ind_wish_cases": ("성공 사례·정보", "Success cases"),
    "adoption.ind_wish_education": ("기초·실무 교육", "Basic education"),
    "adoption.ind_wish_funding": ("도입 자금", "Funding"),
    "adoption.ind_wish_consulting": ("컨설팅", "Consulting"),
    # table columns
    "adoption.col_domain": ("구분", "Group"),
    "adoption.col_indicator": ("항목", "Item"),
    "adoption.col_p": ("추정치", "Estimate"),
    "adoption.col_lo": ("95% 하한", "95% low"),
    "adoption.col_hi": ("95% 상한", "95% high"),
    "adoption.col_n": ("응답 수", "Respondents"),
    "adoption.col_n_eff": ("유효 표본", "Effective n"),
    "adoption.col_low_n": ("30 미만", "Under 30"),
    "adoption.col_published": ("공표치", "Published"),
    "adoption.col_reference": ("서울 소상공인 공표치", "Seoul merchants (published)"),
    # estimates
    "adoption.estimates_title": ("AI 활용 상태별 비중 (활용 중: 95% 신뢰구간)", "AI use status (uses AI: 95% interval)"),
    "adoption.published_mark": ("◆ 공표치가 있는 구분은 표의 '공표치' 열에 함께 보입니다.",
                                "◆ Where a published figure exists for a group it is shown in the 'Published' column."),
    # gaps
    "adoption.gap_size_a": ("대기업", "Large firms"),
    "adoption.gap_size_b": ("중소기업", "SMEs"),
    "adoption.gap_region_a": ("수도권", "Capital region"),
    "adoption.gap_region_b": ("비수도권", "Non-capital"),
    "adoption.gap_size_title": ("대기업 − 중소기업", "Large firms − SMEs"),
    "adoption.gap_region_title": ("수도권 − 비수도권", "Capital − non-capital"),
    "adoption.gap_metric": ("격차 (%p)", "Gap (pp)"),
    "adoption.gap_ci": ("95% 신뢰구간 {lo}~{hi}%p", "95% interval {lo} to {hi} pp"),
    "adoption.gap_missing": ("현재 필터로는 두 집단 중 하나에 응답이 없거나 5개 미만이어서 이 격차를 보여 줄 수 없습니다.",
                             "With these filters one of the two groups has no respondents or fewer than 5, so this gap is not shown."),
    "adoption.part_composition": ("구성 효과", "Composition"),
    "adoption.part_within": ("집단 내 효과", "Within groups"),
    "adoption.gap_chart_title": ("격차 {gap}%p (95% CI {lo}~{hi})", "Gap {gap} pp (95% CI {lo} to {hi})"),
    "adoption.gap_explain_size": (
        "{a}과 {b}의 활용률 차이 {gap}%p 가운데 {comp}%p는 두 집단의 업종 구성이 달라서 생긴 몫(구성 효과)이고, "
        "{within}%p는 같은 업종 안에서도 활용률이 달라서 생긴 몫(집단 내 효과)입니다. 두 몫을 더하면 격차와 정확히 같습니다.",
        "Of the {gap} pp gap between {a} and {b}, {comp} pp comes from their different industry mix (composition) and "
        "{within} pp from different rates within the same industry (within groups). "
        "The two parts add up to the gap exactly."),
    "adoption.gap_explain_region": (
        "{a}과 {b}의 활용률 차이 {gap}%p 가운데 {comp}%p는 업종·규모 구성이 달라서 생긴 몫(구성 효과)이고, "
        "{within}%p는 같은 업종·규모의 기업끼리 비교해도 남는 차이(집단 내 효과)입니다. 두 몫을 더하면 격차와 정확히 같습니다.",
        "Of the {gap} pp gap between {a} and {b}, {comp} pp comes from a different mix of industries and sizes "
        "(composition) and {within} pp remains when firms of the same industry and size are compared (within groups). "
        "The two parts add up to the gap exactly."),
    "adoption.gap_cells": ("집단 내 효과가 큰 칸", "Cells with the largest within-group part"),
    "adoption.col_share_a": ("비중 (가)", "Share (a)"),
    "adoption.col_share_b": ("비중 (나)", "Share (b)"),
    "adoption.col_p_a": ("활용률 (가)", "Rate (a)"),
    "adoption.col_p_b": ("활용률 (나)", "Rate (b)"),
    "adoption.col_composition": ("구성 효과 (%p)", "Composition (pp)"),
    "adoption.col_within": ("집단 내 효과 (%p)", "Within (pp)"),
    # map
    "adoption.map_title": ("시도별 AI 활용률 (마우스를 올리면 95% 신뢰구간)", "AI use by region (hover for the 95% interval)"),
    # targets
    "adoption.targets_title": ("중소기업 AI 활용률: 2024 기준 28% → 2027 목표 50%", "SME AI use: 28% in 2024 → 50% target in 2027"),
    "adoption.target_path": ("목표 경로 (매년 같은 폭)", "Target path (equal yearly steps)"),
    "adoption.target_all": ("중소기업 전체", "All SMEs"),
    "adoption.target_parts": ("시도·규모별 중소기업 (빨강: 경로 아래, 점선: 올해 경로, 파선: 목표)",
                              "SMEs by region and size (red: below the path; dotted: this year's path; dashed: target)"),
    "adoption.targets_note": (
        "목표 경로는 2024년 {base}에서 2027년 {goal}까지 해마다 {step}%p씩 오르는 직선입니다. {year}년 경로 값은 {path}입니다. "
        "'필요 증가폭'은 각 집단이 2027년까지 50%에 이르려면 해마다 올라야 하는 폭입니다.",
        "The path rises in equal steps of {step} pp a year from {base} in 2024 to {goal} in 2027; in {year} it stands at "
        "{path}. 'Needed per year' is the yearly rise each group needs to reach 50% by 2027."),
    "adoption.col_path": ("경로 값", "Path"),
    "adoption.col_gap_pp": ("경로 대비 (%p)", "Versus path (pp)"),
    "adoption.col_needed": ("필요 증가폭 (%p/년)", "Needed per year (pp)"),
    # barriers
    "adoption.barriers_title": ("AI 미도입 이유 (AI를 쓰지 않는 기업 기준)", "Reasons for not adopting AI (firms not using AI)"),
    "adoption.wishes_title": ("희망 지원 (전체 기업 기준)", "Wished-for support (all firms)"),
    "adoption.reference_mark": ("서울 소상공인 공표치 (중기중앙회 2025)", "Seoul small merchants, published (KBIZ 2025)"),
    # reach
    "adoption.reach_title": ("AI 활용률과 AI 지원사업 신청 (점선: 중앙값)", "AI use and AI-program applications (dotted: medians)"),
    "adoption.reach_apps": ("AI 지원사업 신청 (천 개 기업당, 연)", "AI-program applications per 1,000 firms a year"),
    "adoption.reach_awards": ("선정 (천 개 기업당, 연)", "Awards per 1,000 firms a year"),
    "adoption.reach_laggard": ("둘 다 낮음", "Low on both"),
    "adoption.reach_note": (
        "활용률과 신청률이 모두 중앙값보다 낮은 곳(빨간 점)을 맨 위에 보여 줍니다: 지원이 가장 필요한 곳에 닿지 않고 있을 수 있습니다.",
        "Places where both AI use and AI-program applications are below the median (red) are listed first: support may not "
        "be reaching those who need it most."),
    "adoption.reach_by_region_code": ("시도", "Region"),
    "adoption.reach_by_size_class": ("규모", "Size"),
    "adoption.reach_by_both": ("시도 × 규모", "Region × size"),
    "adoption.col_firms": ("기업 수 (추정)", "Firms (estimated)"),
    # published
    "adoption.published_intro": (
        "공표 통계(전국)와 이 데이터의 같은 집단 추정치를 나란히 놓았습니다. 공표치는 전국 수치이므로 사이드바 필터는 여기 적용되지 않습니다.",
        "Published (national) figures next to this data's estimate for the same group. Sidebar filters do not apply here, "
        "as the published figures are national."),
    "adoption.col_scope": ("공표 통계", "Published figure"),
    "adoption.col_source": ("출처", "Source"),
    "adoption.col_pub_year": ("공표 연도", "Published for"),
    "adoption.pub_ai_adoption_all_firms_2024": ("AI 활용 기업 비율: 전체 (n=500)", "Firms using AI: all (n=500)"),
    "adoption.pub_ai_adoption_large_firms": ("AI 활용 기업 비율: 대기업", "Firms using AI: large firms"),
    "adoption.pub_ai_adoption_midsize_firms": ("AI 활용 기업 비율: 중견기업", "Firms using AI: mid-sized"),
    "adoption.pub_ai_adoption_smes": ("AI 활용 기업 비율: 중소기업", "Firms using AI: SMEs"),
    "adoption.pub_ai_adoption_sme_2024": ("중소기업 AI 활용률 (2027 목표의 기준치)", "SME AI use (baseline of the 2027 target)"),
    "adoption.pub_ai_adoption_capital_region": ("AI 활용 기업 비율: 수도권", "Firms using AI: capital region"),
    "adoption.pub_ai_adoption_non_capital_region": ("AI 활용 기업 비율: 비수도권", "Firms using AI: outside the capital region"),
    "adoption.pub_ai_adoption_manufacturing": ("AI 활용 기업 비율: 제조업", "Firms using AI: manufacturing"),
    "adoption.pub_ai_adoption_finance": ("AI 활용 기업 비율: 금융", "Firms using AI: finance"),
    "adoption.pub_ai_adoption_it_services": ("AI 활용 기업 비율: IT 서비스 (정보통신업과 비교)", "Firms using AI: IT services (vs. KSIC J)"),
    "adoption.pub_seoul_merchants_using_ai": ("서울 소상공인: AI 활용 중", "Seoul small merchants: using AI"),
    "adoption.pub_seoul_merchants_planning_ai": ("서울 소상공인: 도입 계획", "Seoul small merchants: planning to"),
    "adoption.pub_seoul_merchants_no_ai": ("서울 소상공인: 경험·계획 없음", "Seoul small merchants: neither"),
    "adoption.pub_barrier_cost": ("서울 소상공인 미도입 이유: 비용 부담", "Seoul merchants, reason: cost"),
    "adoption.pub_barrier_skills": ("서울 소상공인 미도입 이유: 지식·인력 부족", "Seoul merchants, reason: knowledge or staff"),
    "adoption.pub_barrier_integration": ("서울 소상공인 미도입 이유: 기존 시스템 연동", "Seoul merchants, reason: integration"),
    "adoption.pub_wish_practical_training": ("서울 소상공인 희망 지원: 실습 교육", "Seoul merchants wish: hands-on training"),
    "adoption.pub_wish_success_cases": ("서울 소상공인 희망 지원: 성공 사례·정보", "Seoul merchants wish: success cases"),
    "adoption.pub_wish_basic_education": ("서울 소상공인 희망 지원: 기초·실무 교육", "Seoul merchants wish: basic education"),
    "adoption.col_diff": ("차이 (%p)", "Difference (pp)"),
    "adoption.col_inside": ("구간 안", "Inside CI"),
    "adoption.col_year": ("조사연도", "Survey year"),
    # methodology
    "adoption.method_title": ("방법", "Method"),
    "adoption.method_body": (
        "- **추정**: 설문 가중치를 쓴 비율 추정량(가중 응답 합 ÷ 가중 기준 합). 미도입 이유는 AI를 쓰지 않는 기업, 나머지는 전체 응답 기업이 기준입니다.\n"
        "- **95% 신뢰구간**: 테일러 선형화(Taylor linearisation) 분산. 층 = 조사의 설계 층(조사연도 × 시도 × 규모 × 업종), 응답 기업 하나가 "
        "표본 단위(층 안 복원추출 가정). 응답이 하나뿐인 층은 전체 평균을 중심으로 계산합니다(보수적). 구간 = 추정치 ± 1.96 × 표준오차, 0–100%로 자름.\n"
        "- **격차**: 두 집단은 서로 다른 층이라 독립이므로 분산을 더합니다. **분해**: 대칭 가중 shift-share — 구성 효과 = Σ(비중 차 × 평균 활용률), "
        "집단 내 효과 = Σ(활용률 차 × 평균 비중). 대기업·중소기업 격차는 업종 안에서, 수도권 격차는 업종 × 규모 안에서 비교합니다. "
        "한 집단에만 있는 칸은 모두 구성 효과로 봅니다.\n"
        "- **표시 기준**: 응답 30개 미만은 회색과 †로 표시, 정책담당 역할에는 5개 미만 칸을 '<5'로 가립니다. 유효 표본은 Kish의 (Σw)²/Σw².\n"
        "- **지원 도달**: AI 관련 지원사업(ai_related) 신청·선정 수를 기업 가중치로 모집단에 맞춰 천 개 기업당 연간 값으로 나타냅니다.\n"
        "- 기본 데이터는 공표 통계에 맞춘 **합성 데이터**입니다.",
        "- **Estimates**: survey-weighted ratio estimators (weighted answers ÷ weighted base). Reasons for not adopting use "
        "firms not using AI as their base; everything else uses all respondents.\n"
        "- **95% intervals**: Taylor-linearised variance with the survey's design strata (survey year × region × size × "
        "industry), each respondent a sampling unit drawn with replacement within its stratum. A stratum with one respondent "
        "is centred at the overall mean (conservative). Interval = estimate ± 1.96 × SE, clipped to 0–100%.\n"
        "- **Gaps**: the two groups are disjoint strata, hence independent, so variances add. **Decomposition**: symmetric "
        "shift-share — composition = Σ(share difference × mean rate), within = Σ(rate difference × mean share). Large vs SME "
        "is compared within industries, capital vs non-capital within industry × size. A cell seen in one group only counts "
        "as composition.\n"
        "- **Display**: under 30 respondents grey with †; for the policy role cells under 5 are shown as '<5'. Effective n "
        "is Kish's (Σw)²/Σw².\n"
        "- **Support reach**: applications to and awards from AI-related programs (ai_related), weighted by firm weights to "
        "the population, per 1,000 firms a year.\n"
        "- The default data are **synthetic**, calibrated to the published figures."),
}

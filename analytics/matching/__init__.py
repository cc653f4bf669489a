"""Program matching (맞춤형 지원사업 추천): eligibility (:mod:`.eligibility`), the learned ranker and its
reasons (:mod:`.rank`), the offline evaluation against strong baselines (:mod:`.evaluation`) and
blind spots (:mod:`.gaps`). The eligibility surface is re-exported here, so that
``from analytics import matching; matching.candidates(...)`` reads as before.
"""
from analytics.matching.eligibility import (
    CERTS, FIRM_ROLES, FIRM_SQL, LIMIT_CUTS_SQL, SALES_BANDS, SIZES, VIEW_ROLES, Profile, age_years, candidates,
    eligible_weight, find_firms, firm_profile, firm_queries, limit_classes, queries_frame, reference_date,
    sales_band)

__all__ = ["CERTS", "FIRM_ROLES", "FIRM_SQL", "LIMIT_CUTS_SQL", "SALES_BANDS", "SIZES", "VIEW_ROLES", "Profile",
           "age_years", "candidates", "eligible_weight", "find_firms", "firm_profile", "firm_queries",
           "limit_classes", "queries_frame", "reference_date", "sales_band"]

"""Program matching (맞춤형 지원사업 추천): eligible programs ranked for a firm, and blind spots.

Modules: :mod:`.eligibility` (profiles and the eligibility rules in SQL), :mod:`.rank` (the learned
ranker and its reasons), :mod:`.evaluation` (offline evaluation against baselines), :mod:`.gaps`
(groups and programs the matching leaves out).
"""
from analytics.matching.eligibility import Profile, candidates, firm_profile
from analytics.matching.rank import recommend

__all__ = ["Profile", "candidates", "firm_profile", "recommend"]

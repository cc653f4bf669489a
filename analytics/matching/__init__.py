"""Program matching (맞춤형 지원사업 추천): eligible programs ranked for a firm, and blind spots.

Modules: :mod:`.eligibility` (profiles and the eligibility rules in SQL), :mod:`.rank` (features
and the fitted ranker's reasons), :mod:`.baselines` (what a learned ranker must beat),
:mod:`.training` (time split, visit-day queries, learned rankers), :mod:`.evaluation` (every method
on the same candidates, paired bootstrap intervals), :mod:`.store` (the batch step's stored results,
``python -m analytics.matching evaluate``), :mod:`.recommend` (live recommendations) and
:mod:`.gaps` (groups and programs the matching leaves out).
"""
from analytics.matching.eligibility import Profile, candidates, firm_profile
from analytics.matching.recommend import recommend

__all__ = ["Profile", "candidates", "firm_profile", "recommend"]

"""Program uptake (지원사업 활용 현황): who applies, who is selected, reach, document burden.

Modules: :mod:`.summary` (headline, funnel, breakdowns over ``summary_uptake_*``), :mod:`.programs`
(documents, under-used budgets, program search and profile), :mod:`.reach` (penetration and
concentration), :mod:`.plots` (figures). Every public function checks the caller's role itself.
"""
from analytics.uptake.programs import documents, program_profile, search_programs
from analytics.uptake.reach import concentration
from analytics.uptake.summary import breakdown, funnel, headline

__all__ = ["breakdown", "concentration", "documents", "funnel", "headline", "program_profile", "search_programs"]

"""What is loaded: counts, build date and source, monthly applications (:mod:`.summary`; figure in :mod:`.plots`)."""
from analytics.overview.plots import plot_monthly
from analytics.overview.summary import coverage, meta, monthly

__all__ = ["coverage", "meta", "monthly", "plot_monthly"]

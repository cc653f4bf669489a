"""What is loaded: counts, build date and source, applications per period (:mod:`.summary`; figure in :mod:`.plots`)."""
from analytics.overview.plots import plot_activity
from analytics.overview.summary import Activity, activity, coverage, meta

__all__ = ["Activity", "activity", "coverage", "meta", "plot_activity"]

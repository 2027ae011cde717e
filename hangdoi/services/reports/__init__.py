"""Reports from the ticket timeline: figures (figures.py, from timeline.py) and their CSV/XLSX
tables (export.py)."""
from hangdoi.services.reports.figures import GROUPINGS, build_report, build_reports, parse_day

__all__ = ["GROUPINGS", "build_report", "build_reports", "parse_day"]

"""Summaries staff take back into a spreadsheet (CSV or XLSX)."""

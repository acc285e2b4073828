"""Imports: SIS attendance, i-Ready diagnostics, rosters and historical incidents, queued and
processed by the worker in batches that resume, with row-level errors and rollback."""

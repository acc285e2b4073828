"""What can be imported (the GraphQL enum ImportKind, the CLI's lowercase KIND)."""

from __future__ import annotations

import enum


class ImportKind(enum.StrEnum):
    ROSTER = "ROSTER"  # the seeds' student sheet, or OneRoster 1.1 users.csv
    ATTENDANCE = "ATTENDANCE"  # Aeries-style: one row per student and day
    IREADY = "IREADY"  # i-Ready Diagnostic Results, ELA and Math
    INCIDENTS = "INCIDENTS"  # historical behaviour

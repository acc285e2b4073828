"""Input contracts: the limits of every field that comes in from outside, declared once.

A contract is named (`Note`, `ExternalId`, `SchoolDate`, …) and says what a value may be:
the longest text, the range of a number, the window of a date, the most items of a list,
the depth and size of a JSON value. GraphQL input fields carry one each (app.graphql.contracts
puts it in the field's description and checks it before any resolver runs), and the same
contracts check CSV rows and webhook bodies. Every text also follows app.core.text's rule
(no control characters). Limits follow the columns they are stored in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.core.errors import ErrorCode, FieldError, text_errors
from app.core.pagination import MAX_CURSOR_LENGTH

# A plausible window for any date or instant a school records: older or later values are
# typing mistakes (0001-01-01, 9999-12-31) that would otherwise reach Postgres' limits or
# stay a student's "latest" day for ever. Services narrow it further where a rule applies
# (attendance: the org's school year; incidents: not in the future).
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class Contract:
    name: str
    max_length: int | None = None  # text
    low: float | None = None  # numbers
    high: float | None = None
    earliest: date | None = None  # dates and instants
    latest: date | None = None
    max_items: int | None = None  # lists
    max_depth: int | None = None  # JSON values
    max_entries: int | None = None  # JSON values: keys and list items, all levels

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of a number contract."""
        assert self.low is not None and self.high is not None, self.name
        return self.low, self.high

    @property
    def length(self) -> int:
        """The longest text of a text contract (for services checking rows themselves)."""
        assert self.max_length is not None, self.name
        return self.max_length

    @property
    def int_bounds(self) -> tuple[int, int]:
        low, high = self.bounds
        return int(low), int(high)

    def describe(self) -> str:
        """The limits, as they read in a field's description."""
        parts = []
        if self.max_length is not None:
            parts.append(f"at most {self.max_length} characters")
        if self.low is not None and self.high is not None:
            parts.append(f"{_num(self.low)} to {_num(self.high)}")
        if self.earliest is not None and self.latest is not None:
            parts.append(f"{self.earliest.isoformat()} to {self.latest.isoformat()}")
        if self.max_items is not None:
            parts.append(f"at most {self.max_items} items")
        if self.max_depth is not None:
            parts.append(f"nested at most {self.max_depth} deep")
        if self.max_entries is not None:
            parts.append(f"at most {self.max_entries} entries")
        return f"{self.name}: {', '.join(parts)}." if parts else f"{self.name}."

    def errors(self, value: Any, path: str) -> Iterator[FieldError]:
        """What is wrong with `value` (already of the field's type), naming `path`."""
        if value is None:
            return
        if isinstance(value, str):
            if bad := text_errors(value, path):
                yield from bad
            elif self.max_length is not None and len(value) > self.max_length:
                yield FieldError(
                    path, f"{path} must be at most {self.max_length} characters", ErrorCode.TOO_LONG
                )
        elif isinstance(value, bool):
            return
        elif isinstance(value, int | float | Decimal):
            low = -math.inf if self.low is None else self.low
            high = math.inf if self.high is None else self.high
            number = float(value)
            if not math.isfinite(number) or not low <= number <= high:
                yield FieldError(
                    path,
                    f"{path} must be between {_num(low)} and {_num(high)}",
                    ErrorCode.OUT_OF_RANGE,
                )
        elif isinstance(value, date) and self.earliest is not None and self.latest is not None:
            day = value.date() if isinstance(value, datetime) else value
            if not self.earliest <= day <= self.latest:
                yield FieldError(
                    path,
                    f"{path} must be between {self.earliest.isoformat()} and "
                    f"{self.latest.isoformat()}",
                    ErrorCode.OUT_OF_RANGE,
                )
        if isinstance(value, list) and self.max_items is not None and len(value) > self.max_items:
            yield FieldError(
                path, f"{path} takes at most {self.max_items} items", ErrorCode.OUT_OF_RANGE
            )
        if self.max_depth is not None and isinstance(value, dict | list):
            yield from self._json_errors(value, path)

    def _json_errors(self, value: Any, path: str) -> Iterator[FieldError]:
        depth, entries = _shape(value)
        if self.max_depth is not None and depth > self.max_depth:
            yield FieldError(
                path, f"{path} is nested deeper than {self.max_depth}", ErrorCode.OUT_OF_RANGE
            )
        elif self.max_entries is not None and entries > self.max_entries:
            yield FieldError(
                path, f"{path} has more than {self.max_entries} entries", ErrorCode.OUT_OF_RANGE
            )
        else:
            yield from text_errors(value, path)


def _shape(value: Any) -> tuple[int, int]:
    """(depth, entries) of a JSON value, iteratively: a hostile value cannot blow the stack."""
    depth = entries = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            depth, entries = max(depth, level), entries + len(item)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            depth, entries = max(depth, level), entries + len(item)
            stack.extend((v, level + 1) for v in item)
    return depth, entries


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "∞"
    return str(int(value)) if value == int(value) else f"{value:g}"


def text(name: str, max_length: int) -> Contract:
    return Contract(name, max_length=max_length)


def number(name: str, low: float, high: float) -> Contract:
    return Contract(name, low=low, high=high)


# Text (lengths follow the columns).
Name = text("Name", 200)
ExternalId = text("ExternalId", 64)
ClassCode = text("ClassCode", 32)
Campus = text("Campus", 100)
Category = text("Category", 100)
Note = text("Note", 10_000)
AbcNote = text("AbcNote", 5_000)
SessionId = text("SessionId", 100)
Label = text("Label", 100)  # a type, a subject, a kind of thing
Subject = text("Subject", 50)
Placement = text("Placement", 50)
RelativePlacement = text("RelativePlacement", 100)
Measure = text("Measure", 20)  # Lexile, Quantile
AcademicYear = text("AcademicYear", 9)
Code = text("Code", 16)
Description = text("Description", 200)
Person = text("Person", 200)  # an owner, an actor's subject
Reason = text("Reason", 500)
Consequence = text("Consequence", 200)
Action = text("Action", 100)
Search = text("Search", 200)  # a name filter: longer is no name
Cursor = text("Cursor", MAX_CURSOR_LENGTH)  # long names make long cursors
TimeZone = text("TimeZone", 64)
MonthDay = text("MonthDay", 5)
GlobalId = text("GlobalId", 200)
Topic = text("Topic", 64)  # an event topic, e.g. incident.logged
FileName = text("FileName", 255)  # an uploaded file's name
SearchQuery = text("SearchQuery", 500)  # what staff type into search
Url = text("Url", 2000)  # a webhook endpoint's address
GoalTitle = text("GoalTitle", 500)  # an IEP goal's statement
Narrative = text("Narrative", 4_000)  # a teacher's progress comment on a goal, one period
Unit = text("Unit", 50)  # what an IEP goal measures in: words a minute, % of trials

# Numbers (ranges follow the rules, within the columns).
Points = number("Points", -100, 100)
YearGroup = number("YearGroup", -1, 13)
SupportLevel = number("SupportLevel", 0, 3)
Tier = number("Tier", 1, 3)
Periods = number("Periods", 1, 20)
ScaleScore = number("ScaleScore", 0, 9_999)
Score = number("Score", 0, 999_999)  # numeric(8, 2)
Percentile = number("Percentile", 1, 99)
Growth = number("Growth", -1_000, 1_000)
PageSize = number("PageSize", 0, 1_000)
SearchFirst = number("SearchFirst", 1, 50)  # search hits per answer
SyncHours = number("SyncHours", 1, 168)  # a Google Sheets sync's interval
TrendDays = number("TrendDays", 1, 120)  # days of the dashboard's trend
GoalValue = number("GoalValue", -1_000_000_000, 1_000_000_000)  # numeric(12, 2)
TrajectoryWeeks = number("TrajectoryWeeks", 2, 52)  # weeks of a risk trajectory
RetentionYears = number("RetentionYears", 1, 100)
RetentionDays = number("RetentionDays", 1, 36_500)
OffTrackProbes = number("OffTrackProbes", 1, 20)  # IEP probes in a row off track

# The org policy's numbers (app.orgs.policy checks the rules between them, e.g. a severe
# absence threshold above the chronic one).
WindowHours = number("WindowHours", 1, 168)
NegativesPerStrike = number("NegativesPerStrike", 1, 10)
WindowDays = number("WindowDays", 1, 60)
Negatives = number("Negatives", 1, 50)
StrikeLevel = number("StrikeLevel", 1, 5)
AttendanceWindow = number("AttendanceWindow", 5, 200)
AbsencePercent = number("AbsencePercent", 0.1, 100)
GradeLevels = number("GradeLevels", 1, 6)
EnrolledDays = number("EnrolledDays", 1, 200)
GraceDays = number("GraceDays", 0, 120)
DomainScore = number("DomainScore", -1_000_000, 1_000_000)  # one value inside Scores
HousePoints = number("HousePoints", -100, 100)

# Dates and instants.
SchoolDate = Contract("SchoolDate", earliest=EARLIEST, latest=LATEST)
Instant = Contract("Instant", earliest=EARLIEST, latest=LATEST)

# Lists and JSON.
IncidentBatch = Contract("IncidentBatch", max_items=200)
ProbeBatch = Contract("ProbeBatch", max_items=500)
StudentIdList = Contract("StudentIdList", max_items=200)  # a caseload's students
DayBatch = Contract("DayBatch", max_items=1_000)
EventTypes = Contract("EventTypes", max_items=10)  # an endpoint's subscribed event types
PeriodList = Contract("PeriodList", max_items=20)
Ladder = Contract("Ladder", max_items=5)
Scores = Contract("Scores", max_depth=1, max_entries=50)

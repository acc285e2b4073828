"""The one user-error shape: {field, message, code}. Services raise it; GraphQL returns it."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.core.text import bad_text_paths, normalise


class ErrorCode(enum.StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    TOO_LONG = "TOO_LONG"
    DUPLICATE = "DUPLICATE"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CHARACTERS = "INVALID_CHARACTERS"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    CONFLICT = "CONFLICT"
    INVALID_CURSOR = "INVALID_CURSOR"
    RESUME_EXPIRED = "RESUME_EXPIRED"  # a `since` the event log no longer holds: refetch
    # A subscriber fell too far behind and was ended: subscribe again with `since`.
    SUBSCRIPTION_OVERFLOW = "SUBSCRIPTION_OVERFLOW"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Imports: a file that cannot be read as a table at all (the job fails, writing nothing).
    EMPTY_FILE = "EMPTY_FILE"
    BINARY_FILE = "BINARY_FILE"
    NO_DATA_ROWS = "NO_DATA_ROWS"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    # Search: the embeddings provider could not embed the query (endpoint down, misconfigured).
    SEARCH_UNAVAILABLE = "SEARCH_UNAVAILABLE"


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    code: ErrorCode


def text_errors(value: Any, path: str) -> list[FieldError]:
    """The text rule (app.core.text) as an error naming `path`: for a string, or the first
    bad string (or key) inside a JSON-like value; empty when the text is fine."""
    found = next(iter(bad_text_paths(value, path)), None)
    if found is None:
        return []
    where, char = found
    return [
        FieldError(
            where,
            f"{where} contains a control character ({char}) that text may not hold",
            ErrorCode.INVALID_CHARACTERS,
        )
    ]


class ServiceError(Exception):
    """Bad input or a broken business rule; nothing of the operation was written."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, field: str | None, message: str, code: ErrorCode) -> ServiceError:
        return cls([FieldError(field, message, code)])


class Validator:
    """Collects every problem with an input before anything is written."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str, code: ErrorCode) -> None:
        self.errors.append(FieldError(f"{self.prefix}{field}", message, code))

    def text(
        self, field: str, value: str | None, *, max_length: int, required: bool = False
    ) -> str | None:
        if value is not None and (bad := text_errors(value, f"{self.prefix}{field}")):
            self.errors.extend(bad)
            return None
        cleaned = normalise(value).strip() if value is not None else None
        if not cleaned:
            if required:
                self.add(field, f"{field} is required", ErrorCode.REQUIRED)
            return None
        if len(cleaned) > max_length:
            self.add(field, f"{field} must be at most {max_length} characters", ErrorCode.TOO_LONG)
        return cleaned

    def scores(
        self,
        field: str,
        value: object,
        *,
        max_items: int,
        max_length: int,
        bounds: tuple[float, float],
    ) -> dict[str, float | str | None]:
        """A flat object of names to numbers (or short text, or null), such as i-Ready's
        domain scores: `{"Phonics": 512, "Vocabulary": "Mid 4"}`. The limits are the
        caller's contracts (app.core.contracts)."""
        low, high = bounds
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(field, f"{field} must be an object of names to scores", ErrorCode.INVALID)
            return {}
        if len(value) > max_items:
            self.add(field, f"{field} has at most {max_items} entries", ErrorCode.OUT_OF_RANGE)
            return {}
        cleaned: dict[str, float | str | None] = {}
        for key, item in value.items():
            name = self.text(f"{field}.{key}", str(key), max_length=max_length, required=True)
            path = f"{field}.{name or key}"
            if item is None or isinstance(item, bool):
                if isinstance(item, bool):
                    self.add(path, f"{path} must be a number or text", ErrorCode.INVALID)
                cleaned[name or str(key)] = None
            elif isinstance(item, int | float):
                if not math.isfinite(item) or not low <= item <= high:
                    self.add(
                        path, f"{path} must be between {low:g} and {high:g}", ErrorCode.OUT_OF_RANGE
                    )
                cleaned[name or str(key)] = item
            elif isinstance(item, str):
                cleaned[name or str(key)] = self.text(path, item, max_length=max_length)
            else:
                self.add(path, f"{path} must be a number or text", ErrorCode.INVALID)
        return cleaned

    def int_range(self, field: str, value: int | None, low: int, high: int) -> None:
        if value is not None and not low <= value <= high:
            self.add(field, f"{field} must be between {low} and {high}", ErrorCode.OUT_OF_RANGE)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ServiceError(self.errors)

"""The one user-error shape: {field, message, code}. Services raise it; GraphQL returns it."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.text import control_character, normalise


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


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    code: ErrorCode


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
        if value is not None and (char := control_character(value)) is not None:
            self.add(
                field,
                f"{field} contains a control character ({char}) that text may not hold",
                ErrorCode.INVALID_CHARACTERS,
            )
            return None
        cleaned = normalise(value).strip() if value is not None else None
        if not cleaned:
            if required:
                self.add(field, f"{field} is required", ErrorCode.REQUIRED)
            return None
        if len(cleaned) > max_length:
            self.add(field, f"{field} must be at most {max_length} characters", ErrorCode.TOO_LONG)
        return cleaned

    def int_range(self, field: str, value: int | None, low: int, high: int) -> None:
        if value is not None and not low <= value <= high:
            self.add(field, f"{field} must be between {low} and {high}", ErrorCode.OUT_OF_RANGE)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ServiceError(self.errors)

"""Relay plumbing: the Node interface, global IDs, and generic keyset connections."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import Page

T = TypeVar("T")
M = TypeVar("M")


def to_global_id(type_name: str, raw_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode())


def from_global_id(global_id: str) -> tuple[str, uuid.UUID] | None:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_id(global_id: str, expected: str, field: str) -> uuid.UUID:
    """The UUID inside a global ID of type `expected`, or a user error naming `field`."""
    parsed = from_global_id(global_id)
    if parsed is None or parsed[0] != expected:
        raise ServiceError.single(field, f"not a {expected} id", ErrorCode.INVALID)
    return parsed[1]


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str = strawberry.field(
        description="Opaque: pass it as `after` to this same list for the rows after this one. "
        "Any other value (altered, or a cursor of another list) is refused with INVALID_CURSOR."
    )


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of this page, without their cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection_from_page(page: Page[M], convert: Callable[[M], T]) -> Connection[T]:
    edges: Sequence[Edge[T]] = [
        Edge(node=convert(item), cursor=cursor)
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=list(edges),
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )

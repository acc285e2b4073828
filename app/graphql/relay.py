"""Relay plumbing: the Node interface, global IDs, and generic keyset connections."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest, page_request
from app.graphql.contracts import limited_argument
from app.graphql.cost import PAGE_DEFAULT

if TYPE_CHECKING:
    from app.graphql.context import Info

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
        description="Opaque: pass it as `after` to this same list for the rows after this one, "
        "or as `before` for the rows before it. Any other value (altered, or a cursor of "
        "another list) is refused with INVALID_CURSOR."
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


# A connection's page arguments (Relay): `first` rows after `after`, or the `last` rows
# before `before`; neither size gives the field's default page, first to last.
First = Annotated[
    int | None,
    limited_argument(
        C.PageSize,
        description="Rows from the start (not with last). Neither first nor last: the default "
        "page, 20 rows unless the field says otherwise.",
    ),
]
After = Annotated[str | None, limited_argument(C.Cursor, description="Only rows after this.")]
Last = Annotated[
    int | None, limited_argument(C.PageSize, description="Rows from the end, nearest `before`.")
]
Before = Annotated[str | None, limited_argument(C.Cursor, description="Only rows before this.")]


PAGE_ARGUMENTS = ("first", "after", "last", "before")


def page_for(
    field: StrawberryField,
    max_page_size: int,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> PageRequest:
    """The page a connection field's arguments ask for, its default page (neither first nor
    last) from the field's PAGE_DEFAULT metadata: the one reading of page arguments, for
    the resolvers (`page_from`) and the compiled binding alike."""
    metadata: Mapping[str, object] = field.metadata or {}
    default = metadata.get(PAGE_DEFAULT, DEFAULT_PAGE_SIZE)
    assert isinstance(default, int)
    return page_request(
        first=first,
        after=after,
        last=last,
        before=before,
        max_page_size=max_page_size,
        default=default,
    )


def page_from(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    """`page_for` in a connection's resolver: the field being resolved, the caller's limit."""
    return page_for(info._field, info.context.settings.max_page_size, first, after, last, before)

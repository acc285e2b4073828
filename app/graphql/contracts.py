"""Input contracts in the GraphQL layer: declared on each input field and argument (its
description shows the limits), and checked for every field with arguments before its
resolver runs. A mutation answers with its payload's `errors` (every problem, each naming
its field); a query answers with a GraphQL error carrying `field` and `code`.

Declare: `note: str | None = limited(contracts.Note, default=None)` on an input, and
`first: Annotated[int | None, limited_argument(contracts.PageSize)] = 20` on an argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField

from app.core.contracts import Contract
from app.core.errors import FieldError, ServiceError, text_errors
from app.graphql.errors import user_errors
from app.graphql.permissions import role_errors

CONTRACT = "schoolgraph.contract"


def _describe(contract: Contract, description: str | None) -> str:
    return f"{description} {contract.describe()}" if description else contract.describe()


def limited(
    contract: Contract, *, description: str | None = None, name: str | None = None, **kw: Any
) -> Any:
    """An input field with its contract (pass `default=` or `default_factory=` as usual)."""
    return strawberry.field(
        description=_describe(contract, description),
        name=name,
        metadata={CONTRACT: contract},
        **kw,
    )


def limited_argument(
    contract: Contract, *, description: str | None = None, name: str | None = None
) -> Any:
    return strawberry.argument(
        description=_describe(contract, description), name=name, metadata={CONTRACT: contract}
    )


def contract_of(field_or_argument: Any) -> Contract | None:
    found = (getattr(field_or_argument, "metadata", None) or {}).get(CONTRACT)
    return found if isinstance(found, Contract) else None


def value_errors(value: Any, contract: Contract | None, path: str) -> Iterator[FieldError]:
    """Everything wrong with one argument or input field's value, nested inputs included."""
    if value is None or value is strawberry.UNSET:
        return
    definition = getattr(value, "__strawberry_definition__", None)
    if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
        for field in definition.fields:
            inner = getattr(value, field.python_name, None)
            yield from value_errors(inner, contract_of(field), f"{path}.{_name(field)}")
        return
    if contract is None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from value_errors(item, None, f"{path}[{i}]")
        else:
            yield from text_errors(value, path)
        return
    yield from contract.errors(value, path)
    if isinstance(value, list) and contract.max_depth is None:  # a list, not a JSON value
        for i, item in enumerate(value):
            # The list's contract bounds its length; a scalar item meets the same contract.
            scalar = not isinstance(
                getattr(item, "__strawberry_definition__", None), StrawberryObjectDefinition
            )
            yield from value_errors(item, contract if scalar else None, f"{path}[{i}]")


def _name(field: Any) -> str:
    name = getattr(field, "graphql_name", None)
    if name:
        return str(name)
    first, *rest = str(field.python_name).rstrip("_").split("_")
    return first + "".join(part.title() for part in rest)


def argument_errors(field: StrawberryField, kwargs: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for argument in field.arguments:
        value = kwargs.get(argument.python_name)
        errors.extend(value_errors(value, contract_of(argument), _name(argument)))
    return errors


class EnforceContracts(FieldExtension):
    """Checks a field's arguments before the resolver runs: for a mutation, first the write
    roles of guarded input fields (app.graphql.permissions.guarded), then every contract."""

    def __init__(self, *, in_payload: bool) -> None:
        self.in_payload = in_payload
        self.field: StrawberryField | None = None
        self.refusal: Callable[[list[FieldError]], Any] | None = None

    def apply(self, field: StrawberryField) -> None:
        self.field = field
        if self.in_payload:
            self.refusal = refusal_payload(field)

    def _refuse(self, info: Any, kwargs: dict[str, Any]) -> Any:
        assert self.field is not None
        errors = role_errors(info, kwargs) if self.in_payload else []
        if not errors:
            errors = argument_errors(self.field, kwargs)
        if not errors:
            return None
        if self.refusal is not None:
            # A mutation's only argument is `input`: its errors name the fields inside it,
            # as the services' errors do (`items[3].note`, not `input.items[3].note`).
            return self.refusal([_strip_input(e) for e in errors])
        raise ServiceError(errors)

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        refused = self._refuse(info, kwargs)
        return refused if refused is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        refused = self._refuse(info, kwargs)
        if refused is not None:
            return refused
        return await next_(source, info, **kwargs)


def _strip_input(error: FieldError) -> FieldError:
    field = error.field or ""
    stripped = field.removeprefix("input.")
    return FieldError(stripped, error.message.replace(field, stripped, 1), error.code)


def refusal_payload(field: StrawberryField) -> Callable[[list[FieldError]], Any]:
    """How to answer `field` (a mutation) with its payload holding only errors: its results
    None or empty, defaults kept. Checked when the schema is built."""
    payload: Any = field.type
    definition = getattr(payload, "__strawberry_definition__", None)
    names = {f.python_name for f in getattr(definition, "fields", ())}
    if not isinstance(definition, StrawberryObjectDefinition) or "errors" not in names:
        raise TypeError(f"{field.python_name}: a mutation's payload needs `errors`")
    empty: dict[str, Any] = {}
    for item in definition.fields:
        if item.python_name == "errors":
            continue
        if (
            item.default is not dataclasses.MISSING
            or item.default_factory is not dataclasses.MISSING
        ):
            continue
        if isinstance(item.type, StrawberryOptional):
            empty[item.python_name] = None
        elif isinstance(item.type, StrawberryList):
            empty[item.python_name] = []
        else:
            raise TypeError(
                f"{field.python_name}: payload field {item.python_name} must be optional, "
                "a list, or have a default, so that the payload can carry errors alone"
            )
    return lambda errors: payload(**empty, errors=user_errors(errors))


def install(types: list[Any], *, mutation: Any) -> None:
    """Give every field with arguments, on every type reachable from `types`, the check
    (once: build_schema may run many times in one process)."""
    mutation_fields = {id(f) for f in mutation.__strawberry_definition__.fields}
    seen: set[int] = set()
    stack = list(types)
    while stack:
        cls = stack.pop()
        definition = getattr(cls, "__strawberry_definition__", None)
        if definition is None or id(cls) in seen:
            continue
        seen.add(id(cls))
        for field in definition.fields:
            if field.arguments and not any(
                isinstance(e, EnforceContracts) for e in field.extensions
            ):
                field.extensions.append(EnforceContracts(in_payload=id(field) in mutation_fields))
            stack.extend(_types_of(field.type))


def _types_of(type_: Any) -> Iterator[Any]:
    while isinstance(type_, StrawberryOptional | StrawberryList):
        type_ = type_.of_type
    yield type_

"""One encoding per event for the subscribers who share its result.

SharedEventExecution hands every subscriber of an event who asked the same thing the same
result, its data marked `SharedData`; without more, each of their sockets would still
serialise it again. The view's encoder keeps the JSON text on the shared data itself the
first time it is encoded, and splices it into each subscriber's own `next` (or legacy
`data`) message. Anything else (results with errors, HTTP answers, results not shared) is
encoded as before, and nothing is kept beyond the result's own life.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_RESULT_TYPES = frozenset({"next", "data"})


class SharedData(dict[str, Any]):
    """A result's data that several subscribers receive: its text, once encoded, with it."""

    __slots__ = ("text",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.text: str | None = None


def message_text(message: object, encode: Callable[[object], str]) -> str:
    """`message` as JSON text, as `encode` writes it; a shared result's payload encoded once
    however many subscribers it goes to."""
    data = _shared(message)
    if data is None:
        return encode(message)
    assert isinstance(message, dict)
    if data.text is None:
        data.text = encode({"data": data})  # as a response: compiled fields spliced in
    return f'{{"id":{json.dumps(message["id"])},"type":"{message["type"]}","payload":{data.text}}}'


def _shared(message: object) -> SharedData | None:
    """The shared data of a subscription result carrying nothing else (no errors, no
    extensions)."""
    if not isinstance(message, dict) or message.get("type") not in _RESULT_TYPES:
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or payload.keys() != {"data"}:
        return None
    data = payload["data"]
    return data if isinstance(data, SharedData) else None

"""One encoding per event for the subscribers who share its result.

SharedEventExecution hands every subscriber of an event who asked the same thing the same
result object; without more, each of their sockets would still serialise it again. The
view's encoder keeps the JSON text of recently sent `data` objects, keyed by identity
(holding each one, so its id cannot be reused while it is kept), and splices it into each
subscriber's own `next` (or legacy `data`) message. Results that are not shared (a
dashboard snapshot executed per subscriber) only pass through: they are encoded as before,
and evicted in turn.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_RESULT_TYPES = frozenset({"next", "data"})


class SharedEncodings:
    def __init__(self, encode: Callable[[object], str], capacity: int = 1024) -> None:
        self.encode = encode
        self.capacity = capacity
        self._kept: OrderedDict[int, tuple[object, str]] = OrderedDict()

    def message(self, message: object) -> str:
        """`message` as JSON text; a result's data encoded once however many get it."""
        data = _shareable(message)
        if data is None:
            return self.encode(message)
        assert isinstance(message, dict)
        payload = self._payload(data)
        return (
            f'{{"id":{json.dumps(message["id"])},"type":"{message["type"]}","payload":{payload}}}'
        )

    def _payload(self, data: object) -> str:
        key = id(data)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is data:
            self._kept.move_to_end(key)
            return kept[1]
        text = self.encode({"data": data})  # as a response: compiled fields spliced in
        self._kept[key] = (data, text)
        if len(self._kept) > self.capacity:
            self._kept.popitem(last=False)
        return text


def _shareable(message: object) -> Any:
    """The data of a subscription result carrying nothing else (no errors, no extensions)."""
    if not isinstance(message, dict) or message.get("type") not in _RESULT_TYPES:
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or payload.keys() != {"data"}:
        return None
    data = payload["data"]
    return data if isinstance(data, dict) else None

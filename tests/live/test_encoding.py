"""The view's encoder for subscription results: a result shared by many sockets is encoded
once, and every socket still gets exactly the message it would have got."""

from __future__ import annotations

import json
from typing import Any

from app.graphql.compiled.extension import encode_response
from app.graphql.events.encoding import SharedEncodings


class Counting:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def __call__(self, value: object) -> str:
        self.calls.append(value)
        return encode_response(value)


def _next(op_id: str, payload: dict[str, Any], kind: str = "next") -> dict[str, Any]:
    return {"id": op_id, "type": kind, "payload": payload}


def test_a_shared_result_is_encoded_once_and_each_message_is_the_usual_one() -> None:
    encode = Counting()
    shared = SharedEncodings(encode)
    data = {"incidentLogged": {"id": "7:1", "incident": {"id": "SW5j", "note": 'a "b" \u00e9'}}}
    for op_id in ("1", "2", 'odd "id"'):
        message = _next(op_id, {"data": data})
        assert shared.message(message) == encode_response(message)
    assert encode.calls == [{"data": data}]  # once


def test_the_legacy_protocols_data_messages_are_shared_too() -> None:
    encode = Counting()
    shared = SharedEncodings(encode)
    data = {"dashboard": {"eventId": None}}
    texts = {shared.message(_next(i, {"data": data}, kind="data")) for i in ("a", "b")}
    assert [json.loads(t) for t in sorted(texts)] == [
        {"id": i, "type": "data", "payload": {"data": data}} for i in ("a", "b")
    ]
    assert len(encode.calls) == 1


def test_equal_but_distinct_results_are_each_encoded() -> None:
    encode = Counting()
    shared = SharedEncodings(encode)
    first, second = {"x": 1}, {"x": 1}
    shared.message(_next("1", {"data": first}))
    shared.message(_next("1", {"data": second}))
    assert len(encode.calls) == 2


def test_messages_with_errors_or_other_shapes_pass_through_unshared() -> None:
    encode = Counting()
    shared = SharedEncodings(encode)
    data = {"x": 1}
    with_errors = _next("1", {"data": data, "errors": [{"message": "no"}]})
    others: list[Any] = [
        with_errors,
        {"type": "complete", "id": "1"},
        {"data": data},  # an HTTP response
        _next("1", {"data": None}),
        [1, 2],
    ]
    for message in others:
        assert shared.message(message) == encode_response(message)
    assert encode.calls == others


def test_the_cache_holds_at_most_its_capacity_and_stays_correct() -> None:
    encode = Counting()
    shared = SharedEncodings(encode, capacity=2)
    results = [{"n": n} for n in range(3)]
    for data in results:
        shared.message(_next("1", {"data": data}))
    assert len(shared._kept) == 2
    # The evicted first result is encoded again, correctly.
    assert json.loads(shared.message(_next("9", {"data": results[0]})))["payload"] == {
        "data": {"n": 0}
    }
    assert len(encode.calls) == 4

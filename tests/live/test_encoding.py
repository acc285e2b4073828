"""The view's encoder for subscription results: a result shared by many sockets is encoded
once, and every socket still gets exactly the message it would have got."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.db import Database
from app.graphql import view
from app.graphql.compiled.extension import encode_response
from app.graphql.events.encoding import SharedData, message_text
from app.orgs.models import Role
from tests.conftest import Org
from tests.factories import log, make_student
from tests.live.wsclient import Subscription


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
    data = SharedData(
        {"incidentLogged": {"id": "7:1", "incident": {"id": "SW5j", "note": 'a "b" \u00e9'}}}
    )
    for op_id in ("1", "2", 'odd "id"'):
        message = _next(op_id, {"data": data})
        assert message_text(message, encode) == encode_response(message)
    assert encode.calls == [{"data": data}]  # once


def test_the_legacy_protocols_data_messages_are_shared_too() -> None:
    encode = Counting()
    data = SharedData({"dashboard": {"eventId": None}})
    texts = {message_text(_next(i, {"data": data}, kind="data"), encode) for i in ("a", "b")}
    assert [json.loads(t) for t in sorted(texts)] == [
        {"id": i, "type": "data", "payload": {"data": dict(data)}} for i in ("a", "b")
    ]
    assert len(encode.calls) == 1


def test_results_not_marked_shared_are_encoded_each_time() -> None:
    encode = Counting()
    plain = {"x": 1}
    for _ in range(2):
        assert message_text(_next("1", {"data": plain}), encode) == encode_response(
            _next("1", {"data": plain})
        )
    assert len(encode.calls) == 2


def test_messages_with_errors_or_other_shapes_pass_through() -> None:
    encode = Counting()
    data = SharedData({"x": 1})
    with_errors = _next("1", {"data": data, "errors": [{"message": "no"}]})
    others: list[Any] = [
        with_errors,
        {"type": "complete", "id": "1"},
        {"data": data},  # an HTTP response
        _next("1", {"data": None}),
        [1, 2],
    ]
    for message in others:
        assert message_text(message, encode) == encode_response(message)
    assert encode.calls == others
    assert data.text is None  # none of them was taken for the shared result


async def test_subscribers_of_one_event_share_one_encoding_over_real_sockets(
    ws_url: str, app_db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "subscription { incidentLogged { id incident { id kind } } }"
    encode = Counting()
    monkeypatch.setattr(view, "encode_response", encode)
    student = await make_student(app_db, org)
    subs = [await Subscription.open(ws_url, org.token(Role.TEACHER), query) for _ in range(3)]
    try:
        await log(app_db, org, student.id)
        texts = [await s.ws.recv() for s in subs]
        assert len({json.loads(t)["payload"]["data"]["incidentLogged"]["id"] for t in texts}) == 1
        shared = [c for c in encode.calls if isinstance(c, dict) and "data" in c]
        assert len(shared) == 1 and isinstance(shared[0]["data"], SharedData)
    finally:
        for s in subs:
            await s.close()

"""HTTP at the door: a bounded request body (size and JSON depth), and the headers every
answer carries."""

from __future__ import annotations

import json
from itertools import accumulate
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_JSON_DEPTH = 64
# The query-string parameters Strawberry decodes as JSON (GET requests).
_JSON_PARAMETERS = ("variables", "extensions")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_CHUNK = 65_536


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep, found without
    parsing it: the parser recurses once per level, and a deep enough document exhausts the
    stack (a RecursionError, so a 500). Brackets count outside strings, escapes honoured.

    Text that is not JSON may be judged either way, but never so that a parser recurses
    deeper than `limit`: it stops reading at a closing bracket with nothing open, at the
    latest, and so does the count."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep, strings or not
    # Without escaped backslashes, then without escaped quotes, every quote left opens or
    # closes a string, so the even pieces between quotes are what lies outside strings.
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(unescaped.split('"')[::2])
    brackets = outside.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(brackets), _CHUNK):
        chunk = brackets[start : start + _CHUNK]
        levels = list(accumulate(map(_STEP.__getitem__, chunk), initial=depth))
        if max(levels) > limit:
            return True
        if min(levels) < 0:
            return False
        depth = levels[-1]
    return False


def _json_text(body: bytes) -> str | None:
    """The body as `json.loads` reads bytes (UTF-8, -16 or -32), or None if it cannot be."""
    try:
        return body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return None


def _is_json(scope: Scope) -> bool:
    """Bodies that something may parse as JSON: a JSON media type, or none given."""
    content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
    return not content_type.strip() or b"json" in content_type.lower()


class BodyLimitMiddleware:
    """Refuses, before anything parses it:

    - a body over `max_bytes` with 413, at once when Content-Length says so, else while
      counting the stream;
    - JSON nested more than `max_json_depth` deep with 400, in a JSON body (a JSON media
      type, or none) or in the `variables` and `extensions` query parameters of a GET, and a
      JSON body that is not text in UTF-8, -16 or -32 with 400.

    The accepted body is then replayed to the app, which would buffer it whole anyway."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_depth = max_json_depth
        self.max_upload_bytes = max_upload_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (parameter := self._deep_parameter(scope)) is not None:
            await _refuse(
                send,
                400,
                f"The `{parameter}` parameter is nested more than {self.max_json_depth} "
                "levels deep (MAX_JSON_DEPTH)",
                "JSON_TOO_DEEP",
            )
            return
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length")
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
            await self._upload(scope, receive, send, declared)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(scope):
            text = _json_text(body)
            if text is None:
                await _refuse(
                    send,
                    400,
                    "Request body is not JSON text in UTF-8, UTF-16 or UTF-32",
                    "BAD_REQUEST",
                )
                return
            if json_depth_exceeds(text, self.max_json_depth):
                await _refuse(
                    send,
                    400,
                    f"Request body is JSON nested more than {self.max_json_depth} levels "
                    "deep (MAX_JSON_DEPTH)",
                    "JSON_TOO_DEEP",
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _upload(
        self, scope: Scope, receive: Receive, send: Send, declared: bytes | None
    ) -> None:
        """A multipart upload (up to max_upload_bytes) streams through, counted, never
        buffered here: the form parser spools its files to disk."""
        limit = self.max_upload_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            return
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:  # a lying Content-Length: the parse is cut short
                return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)

    def _deep_parameter(self, scope: Scope) -> str | None:
        """The first JSON query parameter nested too deep, read as Starlette reads it."""
        query: bytes = scope.get("query_string", b"")
        if not query:
            return None
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name in _JSON_PARAMETERS and json_depth_exceeds(value, self.max_json_depth):
                return name
        return None

    async def _too_large(self, send: Send, upload_limit: int | None = None) -> None:
        limit, name = (
            (self.max_bytes, "MAX_BODY_BYTES")
            if upload_limit is None
            else (upload_limit, "IMPORT_MAX_FILE_BYTES")
        )
        await _refuse(
            send, 413, f"Request body is larger than {limit} bytes ({name})", "PAYLOAD_TOO_LARGE"
        )


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    payload = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# Answers on these paths carry student records: no browser or proxy may keep them.
_NO_STORE_PATHS = ("/graphql",)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope.get("path", "").startswith(_NO_STORE_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in _ALWAYS if k not in present]
                headers = list(message.get("headers", ()))
                if no_store:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Bearer-token checks for plain HTTP routes (downloads): the caller, or the answer that
refuses them (401 bad token, 503 the database cannot check it, 403 a role not allowed)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.auth.principal import Principal
from app.auth.service import Authenticator
from app.auth.tokens import AuthUnavailable, InvalidToken
from app.orgs.models import Role


async def caller_or_refusal(
    auth: Authenticator, request: Request, roles: Collection[Role]
) -> Principal | JSONResponse:
    try:
        actor = await auth.authenticate(request.headers.get("authorization"))
    except InvalidToken as exc:
        return JSONResponse({"error": str(exc)}, status_code=401)
    except AuthUnavailable as exc:
        return JSONResponse({"error": "unavailable", "errorId": exc.error_id}, 503)
    if actor.role not in roles:
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return actor

"""The caller of a request: its bearer token, checked for scope and per-token rate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.ratelimit import TokenRateLimiter
from app.auth.service import Principal, authenticate
from app.auth.tokens import Scope
from app.kit.deps import PrimarySession

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OrchardToken",
    description="An Orchard API token (`orch_…`), created with `orchard token create`.",
)


def get_rate_limiter(request: Request) -> TokenRateLimiter:
    limiter: TokenRateLimiter = request.app.state.rate_limiter
    return limiter


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        session: PrimarySession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        limiter: Annotated[TokenRateLimiter, Depends(get_rate_limiter)],
    ) -> Principal:
        principal = await authenticate(session, credentials.credentials if credentials else None)
        refusal = await limiter.spend(session, principal.token_id)
        # authenticate() may record last use and the limiter take an allowance: keep both out
        # of the handler's transaction (and keep them when the request is refused).
        await session.commit()
        if refusal is not None:
            raise refusal
        principal.require(scope)
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]

"""The caller of a request: its bearer token, checked for scope and per-token rate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.ratelimit import TokenRateLimiter
from app.auth.service import Principal, authenticate
from app.auth.tokens import Scope
from app.kit.deps import PrimarySession

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OrchardToken",
    description="An Orchard API token (`orch_…`), created with `orchard token create`.",
)


async def get_rate_limiter(request: Request) -> TokenRateLimiter:
    limiter: TokenRateLimiter = request.app.state.rate_limiter
    return limiter


async def admit(
    session: AsyncSession, secret: str | None, limiter: TokenRateLimiter, scope: Scope
) -> Principal:
    """The caller of ``secret``, within its request budget and holding ``scope`` (``session``
    must be the primary's: authentication writes)."""
    principal = await authenticate(session, secret)
    refusal = await limiter.spend(session, principal.token_id)
    # authenticate() may record last use and the limiter take an allowance: keep both out of
    # the handler's transaction (and keep them when the request is refused).
    await session.commit()
    if refusal is not None:
        raise refusal
    principal.require(scope)
    return principal


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        session: PrimarySession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        limiter: Annotated[TokenRateLimiter, Depends(get_rate_limiter)],
    ) -> Principal:
        return await admit(
            session, credentials.credentials if credentials else None, limiter, scope
        )

    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]

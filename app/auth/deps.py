"""The caller of a request: its bearer token, checked for scope and per-token rate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.ratelimit import TokenRateLimiter
from app.auth.repository import WROTE
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
    session: AsyncSession,
    secret: str | None,
    limiter: TokenRateLimiter,
    scope: Scope,
    *,
    end_reads: bool = True,
) -> Principal:
    """The caller of ``secret``, within its request budget and holding ``scope`` (``session``
    must be the primary's: authentication writes). ``end_reads=False``: when authenticating
    only read, the transaction is left open for the route (its session is this one)."""
    principal = await authenticate(session, secret)
    refusal = await limiter.spend(session, principal.token_id)
    # authenticate() may record last use and the limiter take an allowance: keep both out of
    # the handler's transaction (and keep them when the request is refused). A request that
    # only read (the token held, the allowance kept in memory: nearly every one) goes on in
    # the same transaction: committing cost a COMMIT, then the route's checkout pre-pinged
    # the connection again (BEGIN, a query, ROLLBACK) and began anew — 5 of a kept sales
    # answer's 12 round trips (7 now), each a wake-up of PostgreSQL's process on a busy machine.
    if session.info.pop(WROTE, False) or end_reads:
        await session.commit()
    if refusal is not None:
        raise refusal
    principal.require(scope)
    return principal


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request,
        session: PrimarySession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        limiter: Annotated[TokenRateLimiter, Depends(get_rate_limiter)],
    ) -> Principal:
        # With a read replica a GET route reads there: release the primary's connection.
        replica = getattr(request.app.state, "read_sessionmaker", None) is not None
        return await admit(
            session,
            credentials.credentials if credentials else None,
            limiter,
            scope,
            end_reads=replica,
        )

    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]

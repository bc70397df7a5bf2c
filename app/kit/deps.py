"""FastAPI dependencies shared by every router: the database session and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal, authenticate
from app.auth.tokens import Scope

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OrchardToken",
    description="An Orchard API token (`orch_…`), created with `orchard token create`.",
)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Routers commit explicitly; anything uncommitted rolls back."""
    async with request.app.state.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request,
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = await authenticate(session, credentials.credentials if credentials else None)
        # authenticate() may record last use; keep that out of the handler's transaction.
        await session.commit()
        request.app.state.rate_limiter.check(principal.token_id)
        principal.require(scope)
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]

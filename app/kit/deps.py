"""FastAPI dependencies shared by every router: the database session, the settings, and the
process-wide parts the app was built with (engine, session factory, metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.kit.metrics import Metrics


async def get_primary_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request on the primary, committed at the edge: after the route
    returned and before the response is sent (a failed commit is the caller's error, never a
    lost write). A route that raises leaves nothing behind: its transaction rolls back."""
    async with request.app.state.sessionmaker() as session:
        yield session
        await session.commit()


#: ``scope="function"``: the commit runs when the route function returns, before the response
#: goes out, not after it was sent. Authentication uses this one on every route.
PrimarySession = Annotated[AsyncSession, Depends(get_primary_session, scope="function")]


async def get_session(request: Request, primary: PrimarySession) -> AsyncIterator[AsyncSession]:
    """The route's session: the primary's, or for GET and HEAD a read-only session on the
    read replica when ``ORCHARD_DATABASE_READ_URL`` is set (a replica may lag the primary by
    its replication delay; writes and what they answer always use the primary)."""
    replica: async_sessionmaker[AsyncSession] | None = getattr(
        request.app.state, "read_sessionmaker", None
    )
    if replica is None or request.method not in ("GET", "HEAD"):
        yield primary
        return
    async with replica() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


# The app-state getters below are ``async def``: FastAPI runs a plain ``def`` dependency in
# its thread pool, a hop to a worker thread and back on every request (measured: about a
# tenth of the API process's samples for a kept sales answer at concurrency 32); these only
# read an attribute.


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work outside the request's own transaction (e.g. a bounded side query)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


Engine = Annotated[AsyncEngine, Depends(get_engine)]
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
AppMetrics = Annotated[Metrics, Depends(get_metrics)]

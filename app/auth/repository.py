"""SQL for workspaces and consumer tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiRequestBudget, ApiToken, FxWorkspaceSettings, Workspace


async def add_workspace(session: AsyncSession, name: str) -> Workspace:
    workspace = Workspace(id=uuid.uuid4(), name=name)
    session.add(workspace)
    await session.flush()
    return workspace


async def workspace_by_name(session: AsyncSession, name: str) -> Workspace | None:
    result = await session.scalars(select(Workspace).where(Workspace.name == name))
    return result.one_or_none()


async def list_workspaces(session: AsyncSession) -> list[Workspace]:
    return list(await session.scalars(select(Workspace).order_by(Workspace.name)))


async def add_token(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    name: str,
    token_hash: str,
    display_prefix: str,
    scopes: list[str],
) -> ApiToken:
    token = ApiToken(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        name=name,
        token_hash=token_hash,
        display_prefix=display_prefix,
        scopes=scopes,
    )
    session.add(token)
    await session.flush()
    await session.refresh(token)
    return token


async def active_token_by_hash(
    session: AsyncSession, token_hash: str
) -> tuple[ApiToken, str | None] | None:
    """The active token of ``token_hash`` and its workspace's default reporting currency,
    read in the same statement (every converted read needs it; issue 21 item 3)."""
    result = await session.execute(
        select(ApiToken, FxWorkspaceSettings.reporting_currency)
        .outerjoin(FxWorkspaceSettings, FxWorkspaceSettings.workspace_id == ApiToken.workspace_id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    )
    found = result.one_or_none()
    return None if found is None else (found[0], found[1])


async def list_tokens(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    include_revoked: bool,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.workspace_id == workspace_id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    if after is not None:
        query = query.where(tuple_(ApiToken.created_at, ApiToken.id) > tuple_(*after))
    query = query.order_by(ApiToken.created_at, ApiToken.id).limit(limit)
    return list(await session.scalars(query))


async def token_in_workspace(
    session: AsyncSession, workspace_id: uuid.UUID | None, token_id: uuid.UUID
) -> ApiToken | None:
    """A token by id; ``workspace_id=None`` is for the operator's CLI, which sees every tenant."""
    query = select(ApiToken).where(ApiToken.id == token_id)
    if workspace_id is not None:
        query = query.where(ApiToken.workspace_id == workspace_id)
    result = await session.scalars(query)
    return result.one_or_none()


async def mark_revoked(session: AsyncSession, token: ApiToken, when: datetime) -> None:
    token.revoked_at = when
    await session.flush()


#: ``session.info`` key, set by the writes authenticating a request may make (a token's last
#: use, a rate allowance taken): ``app.auth.deps.admit`` commits them apart only then.
WROTE = "orchard_auth_wrote"


async def touch_last_used(session: AsyncSession, token_id: uuid.UUID, when: datetime) -> None:
    session.info[WROTE] = True
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when))


# Refill the shared bucket for the time since its last refill (plus what the caller gives back,
# capped at the burst), then take half of what is there, at most ``want`` and at least one
# request when one is left: near the end of a budget processes take one request at a time.
_TAKE_ALLOWANCE = text(
    """
    WITH refilled AS (
        SELECT token_id,
               LEAST(:burst, tokens + :give_back + :rate * GREATEST(0,
                     EXTRACT(EPOCH FROM clock_timestamp() - refilled_at))) AS available
        FROM api_request_budgets WHERE token_id = :token FOR UPDATE
    ), taken AS (
        SELECT token_id, available,
               LEAST(:want, GREATEST(FLOOR(available / 2), LEAST(FLOOR(available), 1))) AS n
        FROM refilled
    )
    UPDATE api_request_budgets AS b
    SET tokens = t.available - t.n, refilled_at = clock_timestamp()
    FROM taken AS t WHERE b.token_id = t.token_id
    RETURNING t.n AS taken, b.tokens AS left
    """
)


async def take_request_allowance(
    session: AsyncSession,
    token_id: uuid.UUID,
    *,
    rate_per_second: float,
    burst: float,
    want: int,
    give_back: int,
) -> tuple[int, float]:
    """Take up to ``want`` requests from the token's shared budget: (taken, left over)."""
    session.info[WROTE] = True
    params = {
        "token": token_id,
        "rate": rate_per_second,
        "burst": burst,
        "want": want,
        "give_back": give_back,
    }
    row = (await session.execute(_TAKE_ALLOWANCE, params)).one_or_none()
    if row is None:  # the token's first request since the budgets began: a full bucket
        await session.execute(
            insert(ApiRequestBudget)
            .values(token_id=token_id, tokens=burst, refilled_at=func.clock_timestamp())
            .on_conflict_do_nothing(index_elements=["token_id"])
        )
        row = (await session.execute(_TAKE_ALLOWANCE, params)).one()
    return int(row.taken), float(row.left)

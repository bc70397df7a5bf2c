"""Tenancy and consumer-token rules. No FastAPI here: the CLI uses the same functions."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.schemas import TokenRead
from app.auth.tokens import (
    Scope,
    display_prefix,
    generate_token,
    grants,
    hash_token,
    looks_like_token,
)
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from app.kit import cursors
from app.kit.pagination import Page, PageRequest
from app.models import ApiToken, Workspace

WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Writing last_used_at on every request would make every read a write; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token of one workspace with its scopes, and the workspace's default
    reporting currency (``PUT /v1/fx/settings``; None: no conversion by default), loaded with
    the token so a converted read does not look it up again."""

    workspace_id: uuid.UUID
    token_id: uuid.UUID
    scopes: tuple[str, ...]
    reporting_currency: str | None = None

    def require(self, scope: Scope) -> None:
        if not grants(self.scopes, scope):
            raise Forbidden(
                f"this token lacks the '{scope.value}' scope",
                extensions={"required_scope": scope.value},
            )


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_workspace(session: AsyncSession, name: str) -> tuple[Workspace, IssuedToken]:
    """Create a workspace and its first admin token."""
    if not WORKSPACE_NAME.match(name):
        raise ValidationFailed.single(
            "name", "use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if await repository.workspace_by_name(session, name) is not None:
        raise Conflict(f"a workspace named '{name}' already exists")
    workspace = await repository.add_workspace(session, name)
    issued = await create_token(session, workspace.id, name="initial admin", scopes=[Scope.ADMIN])
    return workspace, issued


async def workspace_by_name(session: AsyncSession, name: str) -> Workspace:
    workspace = await repository.workspace_by_name(session, name)
    if workspace is None:
        raise NotFound(f"no workspace named '{name}'")
    return workspace


async def create_token(
    session: AsyncSession, workspace_id: uuid.UUID, *, name: str, scopes: list[Scope]
) -> IssuedToken:
    secret = generate_token()
    token = await repository.add_token(
        session,
        workspace_id=workspace_id,
        name=name,
        token_hash=hash_token(secret),
        display_prefix=display_prefix(secret),
        scopes=sorted({scope.value for scope in scopes}),
    )
    return IssuedToken(token=token, secret=secret)


async def list_tokens(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    include_revoked: bool = False,
    paging: PageRequest,
) -> Page[TokenRead]:
    """A page of tokens, oldest first, and the cursor of the next page."""
    after = paging.after(cursors.moment, cursors.UUID)
    tokens = await repository.list_tokens(
        session, workspace_id, include_revoked=include_revoked, after=after, limit=paging.fetch
    )
    return paging.page_of(tokens, lambda t: [t.created_at.isoformat(), str(t.id)], TokenRead)


async def revoke_token(
    session: AsyncSession, workspace_id: uuid.UUID | None, token_id: uuid.UUID
) -> ApiToken:
    token = await repository.token_in_workspace(session, workspace_id, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}")
    if token.revoked_at is None:
        await repository.mark_revoked(session, token, datetime.now(UTC))
    return token


async def authenticate(session: AsyncSession, secret: str | None) -> Principal:
    if not secret:
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    if not looks_like_token(secret):
        raise Unauthorized("the bearer token is not an Orchard token")
    found = await repository.active_token_by_hash(session, hash_token(secret))
    if found is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    token, reporting_currency = found
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        await repository.touch_last_used(session, token.id, now)
    return Principal(
        workspace_id=token.workspace_id,
        token_id=token.id,
        scopes=tuple(token.scopes),
        reporting_currency=reporting_currency,
    )

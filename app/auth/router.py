"""Consumer tokens of the caller's workspace (admin scope)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from app.auth import service
from app.auth.deps import Admin
from app.auth.schemas import TokenCreate, TokenCreated, TokenRead
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*AUTHED, 400, 413),
)
async def create_token(body: TokenCreate, principal: Admin, session: Session) -> TokenCreated:
    """Create a token in the caller's workspace. The response carries the secret, once."""
    issued = await service.create_token(
        session, principal.workspace_id, name=body.name, scopes=body.scopes
    )
    return TokenCreated(**TokenRead.model_validate(issued.token).model_dump(), token=issued.secret)


@router.get(
    "",
    responses=problem_responses(*AUTHED),
)
async def list_tokens(
    principal: Admin,
    session: Session,
    include_revoked: bool = Query(False, description="Also list revoked tokens."),
    *,
    paging: Paging,
) -> Page[TokenRead]:
    """List the workspace's tokens (never their secrets), oldest first."""
    return await service.list_tokens(
        session,
        principal.workspace_id,
        include_revoked=include_revoked,
        paging=paging,
    )


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTHED, 404),
)
async def revoke_token(token_id: uuid.UUID, principal: Admin, session: Session) -> None:
    """Revoke a token of the caller's workspace. Revoking twice is harmless."""
    await service.revoke_token(session, principal.workspace_id, token_id)

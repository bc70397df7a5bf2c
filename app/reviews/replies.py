"""Replying to reviews: App Store Connect first, Orchard's copy only after Apple accepted.

A reply is written inside the request's transaction with the review row locked, so replies
to one review are serialised and a failure at Apple leaves nothing changed locally (the
transaction simply never writes). ``POST /v1/customerReviewResponses`` overwrites the
review's reply, so it is sent as an idempotent write: the client may retry it after a 5xx
or a timeout without creating anything twice.

``Idempotency-Key`` makes a retried PUT safe end to end: the first answer is stored with a
fingerprint of the request for :data:`IDEMPOTENCY_WINDOW`; the same key with the same
request replays that answer without calling Apple again, with a different request it is a
422. A retry arriving while the first attempt is still running waits for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.client import AscClient
from app.asc.errors import AscError, AscNotFound
from app.credentials.clients import AscClientFactory
from app.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.models import AscAccount
from app.reviews import apple, events, repository
from app.reviews.apple import ReplyRecord
from app.reviews.errors import AppleFailed, IdempotencyKeyReused, apple_problem
from app.reviews.repository import ReviewRow
from app.reviews.schemas import MAX_REPLY_LENGTH, ReviewReplyRead

IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)


def _validated_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise ValidationFailed.single("body.body", "must not be blank", "blank")
    if len(text) > MAX_REPLY_LENGTH:
        raise ValidationFailed.single(
            "body.body", f"at most {MAX_REPLY_LENGTH} characters (Apple's limit)", "too_long"
        )
    return text


def fingerprint(review_id: uuid.UUID, body: str) -> str:
    canonical = json.dumps({"op": "put_reply", "review": str(review_id), "body": body})
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _locked_review(
    session: AsyncSession, workspace_id: uuid.UUID, review_id: uuid.UUID
) -> ReviewRow:
    row = await repository.get_review(session, workspace_id, review_id, lock=True)
    if row is None:
        raise NotFound(f"no review with id {review_id}")
    return row


async def _client(session: AsyncSession, factory: AscClientFactory, row: ReviewRow) -> AscClient:
    account = await session.get(AscAccount, row.review.account_id)
    if account is None or account.encrypted_private_key is None:
        raise Conflict(
            "the review's App Store Connect account was unlinked, so Orchard holds no key to "
            "reply with; link the account again"
        )
    return factory.for_account(account)


async def put_reply(
    session: AsyncSession,
    factory: AscClientFactory,
    workspace_id: uuid.UUID,
    review_id: uuid.UUID,
    body: str,
    *,
    idempotency_key: str | None,
) -> ReviewReplyRead:
    """Create or replace the reply in App Store Connect, then store Apple's answer."""
    text = _validated_body(body)
    row = await _locked_review(session, workspace_id, review_id)
    request_print = fingerprint(review_id, body)
    if idempotency_key is not None:
        await repository.lock_idempotency_key(session, workspace_id, idempotency_key)
        earlier = await repository.find_reply_request(
            session,
            workspace_id,
            idempotency_key,
            newer_than=dt.datetime.now(dt.UTC) - IDEMPOTENCY_WINDOW,
        )
        if earlier is not None:
            if earlier.fingerprint != request_print:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used with a different request",
                    [
                        FieldError(
                            field="header.idempotency-key",
                            message="already used with a different review or body",
                            type="idempotency_key_reused",
                        )
                    ],
                )
            return ReviewReplyRead.model_validate(earlier.response)

    client = await _client(session, factory, row)
    review = row.review
    try:
        document = await client.post_document(
            apple.REVIEW_RESPONSES_PATH,
            apple.reply_request(review.apple_id, text),
            idempotent=True,
        )
    except AscError as error:
        raise apple_problem(error, "save the reply") from None
    resources = document.resources()
    if not resources:
        raise AppleFailed(
            "App Store Connect answered without the reply it saved; try again (a repeated "
            "reply replaces the first)"
        )
    reply = apple.parse_reply(resources[0]) or ReplyRecord(
        apple_id=resources[0].id,
        body=text,
        state="PENDING_PUBLISH",
        last_modified_at=dt.datetime.now(dt.UTC),
    )
    seen = (review.response_apple_id, review.response_body, review.response_state)
    await repository.store_reply(session, review.id, reply)
    if reply.state == events.PUBLISHED and seen != (reply.apple_id, reply.body, reply.state):
        await events.publish_reply(
            session, workspace_id, review.account_id, review.apple_id, dt.datetime.now(dt.UTC)
        )
    result = ReviewReplyRead(
        review_id=review.id,
        apple_id=reply.apple_id,
        body=reply.body,
        state=reply.state,
        last_modified_at=reply.last_modified_at,
    )
    if idempotency_key is not None:
        await repository.save_reply_request(
            session,
            workspace_id=workspace_id,
            review_id=review.id,
            key=idempotency_key,
            fingerprint=request_print,
            status_code=200,
            response=result.model_dump(mode="json"),
        )
    return result


async def delete_reply(
    session: AsyncSession,
    factory: AscClientFactory,
    workspace_id: uuid.UUID,
    review_id: uuid.UUID,
) -> None:
    """Delete the reply in App Store Connect, then forget it locally."""
    row = await _locked_review(session, workspace_id, review_id)
    client = await _client(session, factory, row)
    review = row.review
    response_id = review.response_apple_id
    try:
        if response_id is None:
            # A reply written elsewhere since the last sync is unknown here: ask Apple.
            try:
                document = await client.get_document(
                    f"/v1/customerReviews/{review.apple_id}/response",
                    {"fields[customerReviewResponses]": "state"},
                )
            except AscNotFound:
                raise NotFound("the review has no reply to delete") from None
            found = document.resources()
            if not found:
                raise NotFound("the review has no reply to delete")
            response_id = found[0].id
        # Gone already (deleted elsewhere, or by an earlier attempt): the goal is reached.
        await client.delete(f"{apple.REVIEW_RESPONSES_PATH}/{response_id}", missing_ok=True)
    except AscError as error:
        raise apple_problem(error, "delete the reply") from None
    await repository.clear_reply(session, review.id)

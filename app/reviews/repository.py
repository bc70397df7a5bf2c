"""SQL behind the reviews API: listing, search, ratings, and storing replies."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import App, CustomerReview, ReviewReplyRequest
from app.reviews.apple import ReplyRecord
from app.reviews.schemas import ReviewFilter, ReviewSort

PACIFIC = "America/Los_Angeles"
ReviewSelect = Select[CustomerReview, str]
_MAX_SEARCH_WORDS = 12
# Scripts written without spaces between words: the text-search parser keeps a whole run
# as one lexeme, so a word inside it is only found by a substring match.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class ReviewRow:
    review: CustomerReview
    app_name: str


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(query: str) -> ColumnElement[bool]:
    """Every word of ``query`` as a prefix of a word in the title or body (``simple``
    configuration, see ``app.models.reviews``), or a substring for unspaced scripts."""
    words = re.findall(r"\w+", query.lower())[:_MAX_SEARCH_WORDS]
    conditions: list[ColumnElement[bool]] = []
    if words:
        # \w+ words hold no quote or operator characters, so quoting them is enough.
        tsquery = " & ".join(f"'{word}':*" for word in words)
        conditions.append(
            CustomerReview.search_vector.op("@@")(
                func.to_tsquery(literal_column("'simple'::regconfig"), tsquery)
            )
        )
    if _UNSPACED.search(query):
        document = (
            func.coalesce(CustomerReview.title, "") + " " + func.coalesce(CustomerReview.body, "")
        )
        conditions.append(document.ilike(_like_pattern(query.strip())))
    if not conditions:
        return literal_column("false")
    return or_(*conditions)


def _apply_filter(statement: ReviewSelect, filters: ReviewFilter) -> ReviewSelect:
    review = CustomerReview
    if filters.account_id is not None:
        statement = statement.where(review.account_id == filters.account_id)
    if filters.app_id is not None:
        statement = statement.where(review.app_id == filters.app_id)
    if filters.ratings:
        statement = statement.where(review.rating.in_(filters.ratings))
    if filters.territory is not None:
        statement = statement.where(review.territory == filters.territory)
    if filters.has_response is not None:
        has = review.response_apple_id.is_not(None)
        statement = statement.where(has if filters.has_response else ~has)
    if filters.created_from is not None:
        statement = statement.where(review.created_at >= filters.created_from)
    if filters.created_to is not None:
        statement = statement.where(review.created_at < filters.created_to)
    if filters.query:
        statement = statement.where(search_condition(filters.query))
    if not filters.include_removed:
        statement = statement.where(review.removed_at.is_(None))
    return statement


def _order_and_after(
    statement: ReviewSelect, sort: ReviewSort, after: tuple[int, dt.datetime, uuid.UUID] | None
) -> ReviewSelect:
    review = CustomerReview
    if sort is ReviewSort.OLDEST:
        if after is not None:
            statement = statement.where(
                tuple_(review.created_at, review.id) > tuple_(after[1], after[2])
            )
        return statement.order_by(review.created_at, review.id)
    if after is not None:
        rating, created, review_id = after
        older = tuple_(review.created_at, review.id) < tuple_(created, review_id)
        if sort is ReviewSort.NEWEST:
            statement = statement.where(older)
        else:
            beyond = (
                review.rating < rating if sort is ReviewSort.HIGHEST else review.rating > rating
            )
            statement = statement.where(or_(beyond, and_(review.rating == rating, older)))
    newest_first = (review.created_at.desc(), review.id.desc())
    if sort is ReviewSort.HIGHEST:
        return statement.order_by(review.rating.desc(), *newest_first)
    if sort is ReviewSort.LOWEST:
        return statement.order_by(review.rating, *newest_first)
    return statement.order_by(*newest_first)


async def list_reviews(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: ReviewFilter,
    *,
    sort: ReviewSort,
    after: tuple[int, dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[ReviewRow]:
    """Reviews of the workspace in ``sort`` order (ties broken newest first, then by id)."""
    statement = (
        select(CustomerReview, App.name)
        .join(App, App.id == CustomerReview.app_id)
        .where(CustomerReview.workspace_id == workspace_id)
    )
    statement = _order_and_after(_apply_filter(statement, filters), sort, after).limit(limit)
    rows = await session.execute(statement)
    return [ReviewRow(review, name) for review, name in rows.all()]


async def get_review(
    session: AsyncSession, workspace_id: uuid.UUID, review_id: uuid.UUID, *, lock: bool = False
) -> ReviewRow | None:
    statement = (
        select(CustomerReview, App.name)
        .join(App, App.id == CustomerReview.app_id)
        .where(CustomerReview.id == review_id, CustomerReview.workspace_id == workspace_id)
    )
    if lock:
        # Serialises replies to one review for the length of the Apple call.
        statement = statement.with_for_update(of=CustomerReview)
    row = (await session.execute(statement)).first()
    return None if row is None else ReviewRow(row[0], row[1])


async def reviews_by_apple_id(
    session: AsyncSession, account_id: uuid.UUID, apple_ids: list[str]
) -> list[ReviewRow]:
    """The account's reviews with these Apple ids as stored now, oldest first."""
    statement = (
        select(CustomerReview, App.name)
        .join(App, App.id == CustomerReview.app_id)
        .where(CustomerReview.account_id == account_id, CustomerReview.apple_id.in_(apple_ids))
        .order_by(CustomerReview.created_at, CustomerReview.id)
        .execution_options(populate_existing=True)
    )
    rows = await session.execute(statement)
    return [ReviewRow(review, name) for review, name in rows.all()]


async def rating_counts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    *,
    from_date: dt.date | None,
    to_date: dt.date | None,
    territory: str | None,
) -> list[tuple[dt.date, int, int]] | None:
    """``(Pacific day, rating, count)`` of the app's listed reviews, oldest day first; None
    when the workspace has no such app (one statement answers both)."""
    rows = await session.execute(
        text(
            """
            SELECT c.day, c.rating, c.n
            FROM apps AS a
            LEFT JOIN LATERAL (
                SELECT CAST(r.created_at AT TIME ZONE :tz AS date) AS day, r.rating,
                       count(*) AS n
                FROM customer_reviews AS r
                WHERE r.workspace_id = a.workspace_id AND r.app_id = a.id
                  AND r.removed_at IS NULL
                  AND (CAST(:from_date AS date) IS NULL
                       OR r.created_at >= CAST(:from_date AS date)::timestamp AT TIME ZONE :tz)
                  AND (CAST(:to_date AS date) IS NULL
                       OR r.created_at < (CAST(:to_date AS date) + 1)::timestamp AT TIME ZONE :tz)
                  AND (CAST(:territory AS text) IS NULL OR r.territory = :territory)
                GROUP BY 1, 2
            ) AS c ON true
            WHERE a.id = :app AND a.workspace_id = :ws
            ORDER BY c.day, c.rating
            """
        ),
        {
            "ws": workspace_id,
            "app": app_id,
            "tz": PACIFIC,
            "from_date": from_date,
            "to_date": to_date,
            "territory": territory,
        },
    )
    found = rows.all()
    if not found:
        return None
    return [(row[0], int(row[1]), int(row[2])) for row in found if row[0] is not None]


async def store_reply(session: AsyncSession, review_id: uuid.UUID, reply: ReplyRecord) -> None:
    await session.execute(
        text(
            "UPDATE customer_reviews SET response_apple_id = :rid, response_body = :body, "
            "response_state = :state, response_last_modified_at = :modified, "
            "reply_changed_at = clock_timestamp() WHERE id = :id"
        ),
        {
            "id": review_id,
            "rid": reply.apple_id,
            "body": reply.body,
            "state": reply.state,
            "modified": reply.last_modified_at,
        },
    )


async def clear_reply(session: AsyncSession, review_id: uuid.UUID) -> None:
    await session.execute(
        text(
            "UPDATE customer_reviews SET response_apple_id = NULL, response_body = NULL, "
            "response_state = NULL, response_last_modified_at = NULL, "
            "reply_changed_at = clock_timestamp() WHERE id = :id"
        ),
        {"id": review_id},
    )


async def lock_idempotency_key(session: AsyncSession, workspace_id: uuid.UUID, key: str) -> None:
    """Hold the key until this transaction ends, so a retry sent while the first attempt is
    still talking to Apple waits for it and then replays its answer."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('review-reply'), hashtext(:k))"),
        {"k": f"{workspace_id}:{key}"},
    )


async def find_reply_request(
    session: AsyncSession, workspace_id: uuid.UUID, key: str, *, newer_than: dt.datetime
) -> ReviewReplyRequest | None:
    found = await session.scalars(
        select(ReviewReplyRequest).where(
            ReviewReplyRequest.workspace_id == workspace_id,
            ReviewReplyRequest.idempotency_key == key,
            ReviewReplyRequest.created_at > newer_than,
        )
    )
    return found.one_or_none()


async def save_reply_request(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    review_id: uuid.UUID,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Remember the answer for ``key`` (replacing an expired use of the same key)."""
    statement = insert(ReviewReplyRequest).values(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        review_id=review_id,
        idempotency_key=key,
        fingerprint=fingerprint,
        status_code=status_code,
        response=response,
        created_at=func.now(),
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_review_reply_requests_workspace_id_idempotency_key",
            set_={
                "review_id": statement.excluded.review_id,
                "fingerprint": statement.excluded.fingerprint,
                "status_code": statement.excluded.status_code,
                "response": statement.excluded.response,
                "created_at": statement.excluded.created_at,
            },
        )
    )

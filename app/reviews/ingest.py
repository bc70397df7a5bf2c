"""SQL for the reviews sync: bulk upserts, removals and per-app sync state."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reviews.apple import ReplyRecord, ReviewRecord

_REPLY_COLUMNS = (
    "response_apple_id",
    "response_body",
    "response_state",
    "response_last_modified_at",
)
# A reply Orchard wrote or deleted after this sync's transaction began is newer than what
# the sync fetched: keep it (the next pass that sees the review reconciles with Apple).
_KEEP_LOCAL_REPLY = "customer_reviews.reply_changed_at > transaction_timestamp()"
_REPLY_UPDATES = ",\n    ".join(
    f"{column} = CASE WHEN {_KEEP_LOCAL_REPLY} THEN customer_reviews.{column} "
    f"ELSE EXCLUDED.{column} END"
    for column in _REPLY_COLUMNS
)

# Only the constant column names above are interpolated; every value is a bind parameter.
_UPSERT = text(
    f"""
INSERT INTO customer_reviews (
    id, workspace_id, account_id, app_id, app_apple_id, apple_id, rating, title, body,
    reviewer_nickname, territory, country_code, created_at, first_seen_at, last_seen_at,
    response_apple_id, response_body, response_state, response_last_modified_at)
SELECT gen_random_uuid(), :ws, :account, :app_id, :app_apple_id, r.apple_id, r.rating,
       r.title, r.body, r.nickname, r.territory, r.country, r.created, :seen, :seen,
       r.reply_id, r.reply_body, r.reply_state, r.reply_modified
FROM unnest(CAST(:ids AS text[]), CAST(:ratings AS smallint[]), CAST(:titles AS text[]),
            CAST(:bodies AS text[]), CAST(:nicknames AS text[]),
            CAST(:territories AS text[]), CAST(:countries AS text[]),
            CAST(:created AS timestamptz[]), CAST(:reply_ids AS text[]),
            CAST(:reply_bodies AS text[]), CAST(:reply_states AS text[]),
            CAST(:reply_modified AS timestamptz[]))
     AS r(apple_id, rating, title, body, nickname, territory, country, created,
          reply_id, reply_body, reply_state, reply_modified)
ON CONFLICT (account_id, apple_id) DO UPDATE SET
    app_id = EXCLUDED.app_id, app_apple_id = EXCLUDED.app_apple_id,
    rating = EXCLUDED.rating, title = EXCLUDED.title, body = EXCLUDED.body,
    reviewer_nickname = EXCLUDED.reviewer_nickname, territory = EXCLUDED.territory,
    country_code = EXCLUDED.country_code, created_at = EXCLUDED.created_at,
    last_seen_at = EXCLUDED.last_seen_at, removed_at = NULL,
    {_REPLY_UPDATES}
"""  # noqa: S608
)


async def upsert_reviews(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    app_id: uuid.UUID,
    app_apple_id: str,
    reviews: list[ReviewRecord],
    seen_at: dt.datetime,
) -> None:
    """Insert or refresh one page of reviews in one statement (a review seen again comes back
    from ``removed_at``). The caller de-duplicates: one row may not be updated twice."""
    if not reviews:
        return
    await session.execute(
        _UPSERT,
        {
            "ws": workspace_id,
            "account": account_id,
            "app_id": app_id,
            "app_apple_id": app_apple_id,
            "seen": seen_at,
            "ids": [r.apple_id for r in reviews],
            "ratings": [r.rating for r in reviews],
            "titles": [r.title for r in reviews],
            "bodies": [r.body for r in reviews],
            "nicknames": [r.reviewer_nickname for r in reviews],
            "territories": [r.territory for r in reviews],
            "countries": [r.country_code for r in reviews],
            "created": [r.created_at for r in reviews],
            "reply_ids": [r.reply.apple_id if r.reply else None for r in reviews],
            "reply_bodies": [r.reply.body if r.reply else None for r in reviews],
            "reply_states": [r.reply.state if r.reply else None for r in reviews],
            "reply_modified": [r.reply.last_modified_at if r.reply else None for r in reviews],
        },
    )


async def mark_removed(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    app_apple_id: str,
    listed: set[str],
    now: dt.datetime,
) -> int:
    """After a full pass: every stored review of the app Apple did not list is removed."""
    result = await session.execute(
        text(
            "UPDATE customer_reviews SET removed_at = :now "
            "WHERE account_id = :account AND app_apple_id = :app AND removed_at IS NULL "
            "AND NOT (apple_id = ANY(CAST(:listed AS text[])))"
        ),
        {"account": account_id, "app": app_apple_id, "listed": sorted(listed), "now": now},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def newest_created_at(
    session: AsyncSession, account_id: uuid.UUID, app_apple_id: str
) -> dt.datetime | None:
    value = await session.scalar(
        text(
            "SELECT max(created_at) FROM customer_reviews "
            "WHERE account_id = :account AND app_apple_id = :app AND removed_at IS NULL"
        ),
        {"account": account_id, "app": app_apple_id},
    )
    return value if isinstance(value, dt.datetime) else None


@dataclass(frozen=True)
class ListedApp:
    id: uuid.UUID
    apple_id: str


async def listed_app(
    session: AsyncSession, account_id: uuid.UUID, apple_id: str
) -> ListedApp | None:
    """The account's app with this Apple id, unless App Store Connect stopped listing it."""
    row = (
        await session.execute(
            text(
                "SELECT id, apple_id FROM apps WHERE account_id = :account "
                "AND apple_id = :apple_id AND removed_at IS NULL"
            ),
            {"account": account_id, "apple_id": apple_id},
        )
    ).first()
    return None if row is None else ListedApp(row[0], row[1])


async def last_full_pass(
    session: AsyncSession, account_id: uuid.UUID, app_apple_id: str
) -> dt.datetime | None:
    value = await session.scalar(
        text(
            "SELECT last_full_pass_at FROM review_sync_states "
            "WHERE account_id = :account AND app_apple_id = :app"
        ),
        {"account": account_id, "app": app_apple_id},
    )
    return value if isinstance(value, dt.datetime) else None


async def record_pass(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    app_apple_id: str,
    now: dt.datetime,
    full: bool,
    requests: int,
    reviews: int,
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO review_sync_states (id, workspace_id, account_id, app_apple_id,
                last_pass_at, last_full_pass_at, last_pass_requests, last_pass_reviews)
            VALUES (gen_random_uuid(), :ws, :account, :app, :now,
                    CASE WHEN :full THEN CAST(:now AS timestamptz) END, :requests, :reviews)
            ON CONFLICT (account_id, app_apple_id) DO UPDATE SET
                last_pass_at = EXCLUDED.last_pass_at,
                last_full_pass_at = coalesce(EXCLUDED.last_full_pass_at,
                                             review_sync_states.last_full_pass_at),
                last_pass_requests = EXCLUDED.last_pass_requests,
                last_pass_reviews = EXCLUDED.last_pass_reviews
            """
        ),
        {
            "ws": workspace_id,
            "account": account_id,
            "app": app_apple_id,
            "now": now,
            "full": full,
            "requests": requests,
            "reviews": reviews,
        },
    )


@dataclass(frozen=True)
class StoredReview:
    """What a review looked like before this page was stored (to tell what changed)."""

    rating: int
    title: str | None
    body: str | None
    response_apple_id: str | None
    response_body: str | None
    response_state: str | None
    #: Orchard wrote or deleted the reply after this sync began: the sync keeps it.
    reply_kept: bool


async def stored_reviews(
    session: AsyncSession, account_id: uuid.UUID, apple_ids: list[str]
) -> dict[str, StoredReview]:
    rows = await session.execute(
        text(
            """
            SELECT apple_id, rating, title, body, response_apple_id, response_body,
                   response_state,
                   coalesce(reply_changed_at > transaction_timestamp(), false)
            FROM customer_reviews
            WHERE account_id = :account AND apple_id = ANY(CAST(:ids AS text[]))
            """
        ),
        {"account": account_id, "ids": apple_ids},
    )
    return {str(row[0]): StoredReview(*row[1:]) for row in rows}


@dataclass(frozen=True)
class PendingReply:
    review_apple_id: str
    response_apple_id: str | None


async def pending_replies(
    session: AsyncSession,
    account_id: uuid.UUID,
    app_apple_id: str,
    *,
    skip: set[str],
    limit: int,
) -> list[PendingReply]:
    """Reviews of the app whose stored reply is still ``PENDING_PUBLISH`` (oldest reply first),
    except those in ``skip`` (re-read by this pass already) and replies Orchard changed after
    this pass began."""
    rows = await session.execute(
        text(
            """
            SELECT apple_id, response_apple_id FROM customer_reviews
            WHERE account_id = :account AND app_apple_id = :app
              AND response_state = 'PENDING_PUBLISH' AND removed_at IS NULL
              AND apple_id <> ALL(CAST(:skip AS text[]))
              AND NOT coalesce(reply_changed_at > transaction_timestamp(), false)
            ORDER BY response_last_modified_at NULLS FIRST, apple_id
            LIMIT :limit
            """
        ),
        {"account": account_id, "app": app_apple_id, "skip": sorted(skip), "limit": limit},
    )
    return [PendingReply(str(row[0]), row[1]) for row in rows]


async def set_reply(
    session: AsyncSession, account_id: uuid.UUID, review_apple_id: str, reply: ReplyRecord | None
) -> None:
    """Store what Apple says a review's reply is now (None: it has none any more)."""
    await session.execute(
        text(
            """
            UPDATE customer_reviews SET response_apple_id = :id, response_body = :body,
                   response_state = :state, response_last_modified_at = :modified
            WHERE account_id = :account AND apple_id = :review
              AND NOT coalesce(reply_changed_at > transaction_timestamp(), false)
            """
        ),
        {
            "account": account_id,
            "review": review_apple_id,
            "id": reply.apple_id if reply else None,
            "body": reply.body if reply else None,
            "state": reply.state if reply else None,
            "modified": reply.last_modified_at if reply else None,
        },
    )

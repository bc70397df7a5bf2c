"""The ``reviews`` dataset: customer reviews (with developer responses) of every listed app.

Units: one per listed app (the ``apps`` dataset keeps that list), keyed by Apple's app id and
planned straight from the database; an account whose apps are not listed yet gets its units
at the scheduler's next round after its first ``apps`` unit.

An app unit pages ``GET /v1/apps/{id}/customerReviews?sort=-createdDate&include=response``:

* **incremental** (the routine pass): newest first, stopping after the page that reaches
  :data:`OVERLAP` before the newest review already stored. Apple has no created-date filter,
  so this is how a pass costs one request for a quiet app; the overlap re-reads recent
  reviews, catching customers' edits and reviews that Apple lists late.
* **pending replies** (every incremental pass): a reply still ``PENDING_PUBLISH`` on a review
  older than the pages read is re-read on its own until it is published or gone.
* **full** (the first pass, then every :data:`FULL_PASS_EVERY`): every page. Reviews Apple
  no longer lists are marked ``removed_at`` (never deleted), and older reviews' responses
  (written, changed or deleted elsewhere) are refreshed.
"""

from __future__ import annotations

import datetime as dt

from app.asc.errors import AscNotFound
from app.resources.units import plan_per_listed_app
from app.reviews import apple, events, ingest
from app.reviews.apple import ReviewRecord
from app.sync.contract import Dataset, UnitContext, UnitResult, account_planner

DATASET = "reviews"
CADENCE = dt.timedelta(hours=1)
FULL_PASS_EVERY = dt.timedelta(days=7)
OVERLAP = dt.timedelta(days=3)
PAGE_LIMIT = 200
#: Pending replies re-read per app and pass (oldest first; the rest wait for the next pass).
MAX_PENDING_RECHECKS = 20


async def run_reviews(ctx: UnitContext) -> UnitResult:
    return await sync_app_reviews(ctx, ctx.unit_key)


async def sync_app_reviews(ctx: UnitContext, app_apple_id: str) -> UnitResult:
    account = ctx.account
    app = await ingest.listed_app(ctx.session, account.id, app_apple_id)
    if app is None:
        return UnitResult(detail="App Store Connect no longer lists this app")
    last_full = await ingest.last_full_pass(ctx.session, account.id, app_apple_id)
    newest = await ingest.newest_created_at(ctx.session, account.id, app_apple_id)
    full = newest is None or last_full is None or ctx.now - last_full >= FULL_PASS_EVERY
    boundary = None if full or newest is None else newest - OVERLAP
    # The app's first pass stores its history without events; later passes tell what changed
    # (when anyone subscribed to it).
    changes = None
    if last_full is not None and await events.subscribed(ctx.session, account.workspace_id):
        changes = events.ReviewChanges()

    requests_before = ctx.client.request_count
    listed: set[str] = set()
    stored = skipped = pages_done = 0
    pages = ctx.client.paginate(
        apple.reviews_path(app_apple_id),
        {"sort": "-createdDate", "include": "response", "limit": PAGE_LIMIT},
    )
    try:
        # Stopping early is just a break: the pager holds no open response between pages.
        async for page in pages:
            pages_done += 1
            records, unreadable = apple.parse_page(page)
            skipped += unreadable
            listed.update(r.id for r in page.resources() if r.type == "customerReviews")
            fresh = _dedupe(records)
            if changes is not None:
                before = await ingest.stored_reviews(
                    ctx.session, account.id, [r.apple_id for r in fresh]
                )
                changes.add(fresh, before)
            await ingest.upsert_reviews(
                ctx.session,
                workspace_id=account.workspace_id,
                account_id=account.id,
                app_id=app.id,
                app_apple_id=app_apple_id,
                reviews=fresh,
                seen_at=ctx.now,
            )
            stored += len(fresh)
            if boundary is not None and any(r.created_at < boundary for r in records):
                break
    except AscNotFound:
        if pages_done:
            raise  # a page vanished mid-listing: fail rather than trust half a listing
        # The app is gone from App Store Connect; the next `apps` refresh marks it removed.
        return UnitResult(detail="App Store Connect does not know this app (any more)")
    rechecked = 0 if full else await recheck_pending_replies(ctx, app_apple_id, listed)
    removed = 0
    if full:
        removed = await ingest.mark_removed(
            ctx.session,
            account_id=account.id,
            app_apple_id=app_apple_id,
            listed=listed,
            now=ctx.now,
        )
    requests = ctx.client.request_count - requests_before
    await ingest.record_pass(
        ctx.session,
        workspace_id=account.workspace_id,
        account_id=account.id,
        app_apple_id=app_apple_id,
        now=ctx.now,
        full=full,
        requests=requests,
        reviews=stored,
    )
    if changes is not None:
        await events.publish_changes(
            ctx.session, account.workspace_id, account.id, changes, ctx.now
        )
    if skipped:
        ctx.log.warning("skipped unreadable reviews", extra={"skipped": skipped})
    mode = "full" if full else "incremental"
    return UnitResult(
        rows=stored,
        detail=f"{mode} pass: {stored} reviews in {requests} requests, {removed} removed, "
        f"{rechecked} pending replies re-read",
    )


async def recheck_pending_replies(ctx: UnitContext, app_apple_id: str, seen: set[str]) -> int:
    """Re-read replies still ``PENDING_PUBLISH`` that this incremental pass did not list
    (older reviews), one ``GET /v1/customerReviews/{id}/response`` each, until Apple says they
    are published or gone — instead of waiting for the weekly full pass (FACTS §4.4)."""
    pending = await ingest.pending_replies(
        ctx.session, ctx.account.id, app_apple_id, skip=seen, limit=MAX_PENDING_RECHECKS
    )
    for item in pending:
        try:
            document = await ctx.client.get_document(
                apple.review_response_path(item.review_apple_id)
            )
        except AscNotFound:
            await ingest.set_reply(ctx.session, ctx.account.id, item.review_apple_id, None)
            continue
        resource = document.resources()[0] if document.resources() else None
        reply = apple.parse_reply(resource) if resource is not None else None
        await ingest.set_reply(ctx.session, ctx.account.id, item.review_apple_id, reply)
    return len(pending)


def _dedupe(records: list[ReviewRecord]) -> list[ReviewRecord]:
    """One record per review id: a page that repeats one would make the upsert fail."""
    by_id = {record.apple_id: record for record in records}
    return list(by_id.values())


REVIEWS = Dataset(
    name=DATASET,
    capability="reviews",
    cadence=CADENCE,
    plan=account_planner(plan_per_listed_app),
    plan_many=plan_per_listed_app,
    run=run_reviews,
)

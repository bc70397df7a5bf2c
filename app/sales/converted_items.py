"""Kept converted items: a whole-workspace day report by storefront in the workspace's default
reporting currency, read as kept text like the unconverted one (``item_sql``), not converted
and written per request.

The unconverted items are kept at ingest, in the unit's transaction. Converted ones depend on
the rates too, which change late and apart from the sales (a day's ECB rate published after
its report, a revision, a manual upload), and are kept per currency: so they are kept by the
worker instead, every :data:`EVERY_SECONDS`, for each workspace's reporting currency, and
each day says what it was converted with (``…_converted_days``: the rates version and the
maximum rate age). A request uses them only when every day of its span that has items is
kept at the current rates (``repository.converted_current``, read in the route's first
statement, and checked again by ``repository.aggregate_written``'s page); otherwise it
converts and writes the items itself, as before. So a kept converted answer is never older
than what it reads:

* a day whose sales change loses its converted items and mark in the same transaction (a
  trigger on the unconverted kept items, migration ``17_kept_converted_items``);
* a rate written anywhere changes ``fx_data_version``, so no mark is current until the
  worker converts again;
* the worker converts a span under the (workspace, day) locks ``rollups.rebuild_days``
  takes, read after taking them: a unit changing those days waits for it, or it for the
  unit.

Every worker process runs the task; a span another pass kept while this one waited for its
locks is found current once they are taken, and left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.fx import in_sql, kept
from app.sales import repository, rollups
from app.sync.worker import DomainTask

log = logging.getLogger(__name__)

#: How often the worker looks for days to convert (a rate published, a day ingested).
EVERY_SECONDS = 30.0
#: Days converted per transaction: the locks it holds, and the rates it reads at once.
SPAN_DAYS = 31


def spans(days: list[dt.date], most: int = SPAN_DAYS) -> list[tuple[dt.date, dt.date]]:
    """``days`` (ascending) as spans of at most ``most`` calendar days each."""
    found: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if found and (day - found[-1][0]).days < most:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


async def keep_workspace(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: uuid.UUID,
    currency: str,
    max_rate_age_days: int,
) -> int:
    """Convert the workspace's days that are not kept at the current rates (each span in a
    transaction of its own). Returns the days kept."""
    async with sessionmaker() as session, session.begin():
        days = await repository.converted_days_to_keep(
            session, workspace_id, currency=currency, max_rate_age_days=max_rate_age_days
        )
    kept_days = 0
    for first, last in spans(days):
        async with sessionmaker() as session, session.begin():
            span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
            await rollups.lock_workspace_days(session, workspace_id, span)
            # Another worker's pass may have kept them while this one waited for the locks.
            if not await repository.converted_days_to_keep(
                session,
                workspace_id,
                currency=currency,
                max_rate_age_days=max_rate_age_days,
                within=(first, last),
            ):
                continue
            version, book = await kept.versioned_book(
                session,
                workspace_id,
                target=currency,
                start=first,
                end=last,
                max_age_days=max_rate_age_days,
            )
            if version is None:  # no rates version to check them against later
                return kept_days
            kept_days += await repository.keep_converted_items(
                session,
                workspace_id,
                first=first,
                last=last,
                fx=in_sql.kept_table(book, first, last),
                fx_version=version,
            )
    return kept_days


async def keep_all(
    sessionmaker: async_sessionmaker[AsyncSession], max_rate_age_days: int
) -> dict[uuid.UUID, int]:
    """:func:`keep_workspace` for every workspace with a reporting currency and something to
    convert; the days kept per workspace (those with any)."""
    async with sessionmaker() as session:
        workspaces = await repository.workspaces_to_convert(session, max_rate_age_days)
    kept_days = {}
    for workspace_id, currency in workspaces:
        count = await keep_workspace(sessionmaker, workspace_id, currency, max_rate_age_days)
        if count:
            kept_days[workspace_id] = count
            log.info(
                "kept converted sales items",
                extra={"workspace_id": str(workspace_id), "currency": currency, "days": count},
            )
    return kept_days


def keeping_task(settings: Settings) -> DomainTask:
    """The worker's task keeping converted items current."""

    async def run(
        sessionmaker: async_sessionmaker[AsyncSession], factory: AscClientFactory
    ) -> dict[uuid.UUID, int]:
        return await keep_all(sessionmaker, settings.fx_max_rate_age_days)

    return DomainTask("keep_converted_sales_items", run, EVERY_SECONDS)

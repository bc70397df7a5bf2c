"""Availability of App Analytics per app × report × date, for
``GET /v1/accounts/{id}/availability?dataset=analytics_instances``.

A date with no row is never a zero: Apple publishes a daily instance one or two days after the
date (``not_yet_published`` meanwhile), restates it inside its completeness window (the entry
says how many vintages Orchard holds), and does not generate a usage report for a day with
fewer than 5 users (``withheld`` once later dates are final) (ANALYTICS §4, §8).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import repository
from app.sync.contract import DatedState

WITHHELD = (
    "Apple published later dates of this report but not this one, past its {days}-day "
    "completeness window: it withholds a period with fewer than 5 users (privacy threshold), "
    "or left a gap. Unknown, not zero."
)
NOT_COVERED = (
    "before the first date Apple published for this report to this account (its history "
    "does not reach back, or its instances expired after 35 days)"
)
NOT_YET = "Apple publishes a date's instance one or two days later; none carries it yet"
PROVISIONAL = "provisional: inside Apple's {days}-day completeness window, Apple may restate it"


def entry_state(row: repository.AvailabilityRow) -> tuple[str, str | None]:
    """(state, detail) of one app × report × date."""
    day, window = row.report_date, row.completeness
    if row.processing_date is not None:
        notes = []
        if (row.processing_date - day).days < window:
            notes.append(PROVISIONAL.format(days=window))
        if row.vintages and row.vintages > 1:
            notes.append(
                f"restated: {row.vintages} vintages, served as processed on "
                f"{row.processing_date.isoformat()}"
            )
        return "published", "; ".join(notes) or None
    final = row.newest_processed is not None and row.newest_processed >= day + dt.timedelta(
        days=window
    )
    if row.first_date is None or day < row.first_date:
        return ("not_covered", NOT_COVERED) if final else ("not_yet_published", NOT_YET)
    if final:
        return "withheld", WITHHELD.format(days=window)
    return "not_yet_published", NOT_YET


async def list_availability(
    session: AsyncSession, account_id: uuid.UUID, start: dt.date, end: dt.date
) -> list[DatedState]:
    entries = []
    for row in await repository.availability(session, account_id, start, end):
        state, detail = entry_state(row)
        entries.append(
            DatedState(
                report_date=row.report_date,
                state=state,
                fetched_at=row.loaded_at,
                row_count=row.rows,
                detail=detail,
                app_id=row.app_id,
                report=row.report,
                processing_date=row.processing_date,
                vintages=row.vintages,
            )
        )
    return entries

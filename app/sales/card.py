"""An app's dashboard card (``/v1/apps/{id}/sales/summary``) without a reporting currency,
its measures written as JSON by PostgreSQL (``repository.app_days_written``), as a report's
items are (``app.sales.report_json``): the API process only puts each day's measures after
its date and state, byte for byte the document ``service.app_summary`` builds from the
aggregate's rows (``tests/sales/test_written_card.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic_core
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports import calendar, query
from app.reports.query import DateRange
from app.sales import report_json, repository

#: A day without rows: every count zero, no money (``service._merged([])``), as members.
_NO_MEASURES = pydantic_core.to_json(
    {
        **dict.fromkeys((c for c in repository.COUNTS if c != "partial_refunds"), 0),
        "proceeds": [],
        "customer_sales": [],
        "partial_refunds": {"rows": 0, "proceeds": [], "customer_amounts": []},
    }
).decode()[1:-1]


async def written_summary(
    session: AsyncSession, workspace_id: uuid.UUID, app: query.AppDays, span: DateRange
) -> dict[str, Any]:
    """The unconverted `AppSalesSummary` document of ``app`` (its days' states read), with its
    totals and series already written (encode it with ``report_json.encode``)."""
    written = await repository.app_days_written(
        session, workspace_id, app.app_id, span.start, span.end
    )
    days, states = written.days, app.states
    series = ",".join(
        f'{{"report_date":"{day.isoformat()}","state":"{states[day].value}",'
        f"{days.get(day, _NO_MEASURES)}}}"
        for day in calendar.days(span.start, span.end)
    )
    return {
        "currency": None,
        "app_id": app.app_id,
        "app_name": app.name,
        "from": span.start,
        "to": span.end,
        "totals": report_json.Encoded(("{" + written.totals + "}").encode()),
        "series": report_json.Encoded(("[" + series + "]").encode()),
        "incomplete_dates": [
            {"report_date": day, "account_id": app.account_id, "state": state}
            for day, state in states.items()
            if state not in query.COMPLETE
        ],
    }

"""SQL for on-demand sync requests: the request row and its progress, read from its units."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: What a request's unit is doing, as the API reports it.
PROGRESS_STATES = ("queued", "running", "paused", "succeeded", "failed")


async def create(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID | None,
    datasets: list[str],
) -> uuid.UUID:
    request_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO sync_requests (id, workspace_id, account_id, datasets, created_at) "
            "VALUES (:id, :w, :a, CAST(:d AS jsonb), now())"
        ),
        {"id": request_id, "w": workspace_id, "a": account_id, "d": json.dumps(datasets)},
    )
    return request_id


@dataclass
class Progress:
    id: uuid.UUID
    account_id: uuid.UUID | None
    datasets: list[str]
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    #: dataset -> progress state -> units
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


async def progress(
    session: AsyncSession, workspace_id: uuid.UUID, request_id: uuid.UUID
) -> Progress | None:
    """The request's units by state (None: no such request in this workspace).

    A pending unit is ``running`` once a run that started after the request is under way,
    ``paused`` while its account's credentials are broken, else ``queued`` (a run that began
    before the request does not count: the unit runs again after it). A unit whose job is gone
    (its account was unlinked) is ``failed``."""
    head = (
        await session.execute(
            text(
                "SELECT id, account_id, datasets, created_at FROM sync_requests "
                "WHERE id = :id AND workspace_id = :w"
            ),
            {"id": request_id, "w": workspace_id},
        )
    ).first()
    if head is None:
        return None
    result = Progress(
        id=head.id,
        account_id=head.account_id,
        datasets=list(head.datasets),
        created_at=head.created_at,
    )
    rows = await session.execute(
        text(
            """
            SELECT u.dataset,
                   CASE WHEN u.state <> 'pending' THEN u.state
                        WHEN j.id IS NULL THEN 'failed'
                        WHEN j.state = 'running' AND j.started_at >= u.requested_at
                        THEN 'running'
                        WHEN j.state = 'paused' THEN 'paused'
                        ELSE 'queued' END AS progress,
                   count(*) AS n, max(u.finished_at) AS finished_at,
                   bool_or(u.state = 'pending') AS open
            FROM sync_request_units u LEFT JOIN sync_jobs j ON j.id = u.job_id
            WHERE u.request_id = :id
            GROUP BY 1, 2
            """
        ),
        {"id": request_id},
    )
    finished: dt.datetime | None = None
    still_open = False
    for row in rows:
        result.counts.setdefault(row.dataset, {})[row.progress] = int(row.n)
        still_open = still_open or bool(row.open and row.progress != "failed")
        if row.finished_at is not None and (finished is None or row.finished_at > finished):
            finished = row.finished_at
    if not still_open:
        result.finished_at = finished or result.created_at
    return result

"""The sync engine's webhook events: a dataset of an account started failing (a unit ran out
of attempts) or recovered (a unit succeeded after that). ``data`` is the dataset's entry of
``GET /v1/sync-status`` at that moment, written in the transaction that changed it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AscAccount
from app.outbox.catalogue import EventTypeSpec
from app.outbox.writer import OutboxEvent, publish
from app.sync import status
from app.sync.contract import Dataset, DatasetRegistry
from app.sync.schemas import SyncStatusEntry

DATASET_FAILING = "sync.dataset_failing"
DATASET_RECOVERED = "sync.dataset_recovered"

EVENT_TYPES = [
    EventTypeSpec(
        name=DATASET_FAILING,
        summary="A dataset of an account is failing",
        description="A unit of the dataset (a report date, an app) failed after its retries, "
        "and no unit of the dataset succeeded since. `data` is the dataset's entry of `GET "
        "/v1/sync-status`, with the error in `last_error`.",
        data=SyncStatusEntry,
    ),
    EventTypeSpec(
        name=DATASET_RECOVERED,
        summary="A failing dataset recovered",
        description="A unit of a dataset that was failing succeeded. `data` is the dataset's "
        "entry of `GET /v1/sync-status`.",
        data=SyncStatusEntry,
    ),
]


async def publish_dataset_state(
    session: AsyncSession, account: AscAccount, dataset: Dataset, event_type: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    entries = await status.sync_status(session, DatasetRegistry([dataset]), [account], now)
    await publish(
        session,
        account.workspace_id,
        [
            OutboxEvent(
                type=event_type,
                data=entries[0].model_dump(mode="json"),
                occurred_at=now,
                account_id=account.id,
            )
        ],
    )

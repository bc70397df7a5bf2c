"""What every report query shares: the date range, ``group_by`` parsing, the accounts and app
in scope, and which dates are not complete yet (a day Apple has not published is not a zero).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.models import App
from app.reports import repository
from app.sync.schemas import AvailabilityState

D = TypeVar("D", bound=StrEnum)

#: Availability states that are facts: the day's file was stored, or Apple said "no data".
COMPLETE = frozenset({AvailabilityState.PUBLISHED, AvailabilityState.NO_DATA})


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def date_range(start: dt.date, end: dt.date, max_days: int) -> DateRange:
    """``from``/``to`` of a query, checked: in order and at most ``max_days`` long."""
    if start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    if (end - start).days + 1 > max_days:
        raise ValidationFailed.single(
            "query.to", f"the range may span at most {max_days} days", "out_of_range"
        )
    return DateRange(start, end)


def parse_dimensions(values: Iterable[str] | None, kind: type[D]) -> list[D]:
    """``group_by`` given comma-separated, repeated, or both; deduplicated, in the enum's
    canonical order so groups sort the same way however the caller spelled them."""
    chosen: set[D] = set()
    known = ", ".join(d.value for d in kind)
    for value in values or []:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            try:
                chosen.add(kind(name))
            except ValueError:
                raise ValidationFailed.single(
                    "query.group_by", f"unknown dimension '{name[:40]}' (known: {known})", "enum"
                ) from None
    return [d for d in kind if d in chosen]


async def get_app(session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID) -> App:
    """The workspace's app; another workspace's app is simply not found."""
    app = await repository.find_app(session, workspace_id, app_id)
    if app is None:
        raise NotFound(f"no app with id {app_id}")
    return app


async def accounts_in_scope(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    account_ids: Iterable[uuid.UUID] = (),
    app_ids: Iterable[uuid.UUID] = (),
) -> list[uuid.UUID]:
    """The accounts whose report dates a query covers: those named (directly or through their
    apps), else every linked account of the workspace."""
    return await repository.accounts_in_scope(
        session, workspace_id, account_ids=list(account_ids), app_ids=list(app_ids)
    )


def day_state(day: dt.date, state: str | None, newest: dt.date) -> AvailabilityState:
    """A stored availability state, or for a date never asked: not published yet when Apple
    cannot have published it by now, else a gap in Orchard's sync."""
    if state is not None:
        return AvailabilityState(state)
    return AvailabilityState.NOT_YET_PUBLISHED if day > newest else AvailabilityState.NOT_FETCHED


async def scope_day_states_and(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    dataset: str,
    span: DateRange,
    newest: dt.date,
    *,
    account_ids: Iterable[uuid.UUID] = (),
    app_ids: Iterable[uuid.UUID] = (),
    incomplete_only: bool = False,
    also: repository.Also | None,
) -> tuple[Any, list[tuple[dt.date, uuid.UUID, AvailabilityState]]]:
    """(``also``'s value, the ``day_states`` of the accounts in scope —
    ``accounts_in_scope``), read together with them in one statement."""
    value, rows = await repository.scope_report_states_and(
        session,
        workspace_id,
        account_ids=list(account_ids),
        app_ids=list(app_ids),
        dataset=dataset,
        start=span.start,
        end=span.end,
        incomplete_only=incomplete_only,
        also=also,
    )
    return value, [(day, account, day_state(day, state, newest)) for day, account, state in rows]


@dataclass(frozen=True)
class AppDays:
    """One app of the workspace and the state of each date of a range for its account."""

    app_id: uuid.UUID
    name: str
    account_id: uuid.UUID
    states: dict[dt.date, AvailabilityState]


async def app_day_states_and(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    dataset: str,
    span: DateRange,
    newest: dt.date,
    also: repository.Also | None,
) -> tuple[Any, AppDays]:
    """(``also``'s value, ``get_app`` and the ``day_states`` of its account), in one
    statement; another workspace's app is simply not found."""
    value, found = await repository.app_report_states_and(
        session, workspace_id, app_id, dataset, span.start, span.end, also
    )
    if found is None:
        raise NotFound(f"no app with id {app_id}")
    states = {day: day_state(day, state, newest) for day, state in found.states}
    return value, AppDays(found.app_id, found.name, found.account_id, states)


async def day_states(
    session: AsyncSession,
    accounts: list[uuid.UUID],
    dataset: str,
    span: DateRange,
    newest: dt.date,
    *,
    incomplete_only: bool = False,
) -> list[tuple[dt.date, uuid.UUID, AvailabilityState]]:
    """(date, account, state) for every date of ``span`` and account, by date then account;
    ``newest`` is the newest date Apple should have published by now."""
    rows = await repository.report_states(
        session, accounts, dataset, span.start, span.end, incomplete_only=incomplete_only
    )
    return [(day, account, day_state(day, state, newest)) for day, account, state in rows]
